"""Helpers shared by the Socket.IO server tests.

``VClient`` drives a :class:`fastsock.socketio.Server` through an in-process virtual Engine.IO
connection (``eio.connect_virtual``): it encodes real Socket.IO packets, and decodes every
message the server delivers, so these tests see exactly what a client would receive.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

from fastsock.socketio import Server

HERE = os.path.dirname(os.path.abspath(__file__))

CONNECT, DISCONNECT, EVENT, ACK, CONNECT_ERROR, BINARY_EVENT, BINARY_ACK = range(7)


def make_environ(query: str = "") -> dict:
    """A minimal WSGI environ of a connection request."""
    return {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": "/socket.io/",
        "QUERY_STRING": query,
        "SERVER_NAME": "localhost",
        "SERVER_PORT": "80",
        "wsgi.url_scheme": "http",
        "HTTP_HOST": "localhost",
    }


class VClient:
    """A Socket.IO client over a virtual Engine.IO connection of ``server``."""

    def __init__(self, server: Server, environ: dict | None = None, packet_class=None) -> None:
        self.server = server
        self.packet_class = packet_class or server.packet_class
        self.messages: list = []  # raw Engine.IO messages, as delivered
        self.packets: list = []  # decoded Socket.IO packets
        self._partial = None
        self.eio_sid = server.eio.connect_virtual(environ or make_environ(), self._deliver)
        assert self.eio_sid is not None

    def _deliver(self, data) -> None:
        assert isinstance(data, (str, bytes)), data
        self.messages.append(data)
        if self._partial is not None:
            if self._partial.add_attachment(data):
                self.packets.append(self._partial)
                self._partial = None
            return
        pkt = self.packet_class(encoded_packet=data)
        if pkt.attachment_count:
            self._partial = pkt
        else:
            self.packets.append(pkt)

    # -- sending ----------------------------------------------------------------------------
    def send(self, packet_type, data=None, namespace=None, id=None) -> None:
        encoded = self.packet_class(packet_type, data=data, namespace=namespace, id=id).encode()
        for part in encoded if isinstance(encoded, list) else [encoded]:
            self.server.eio.receive_virtual(self.eio_sid, part)

    def connect(self, namespace="/", auth=None):
        """Send CONNECT; returns the CONNECT or CONNECT_ERROR packet the server answered."""
        self.send(CONNECT, auth, namespace=namespace)
        return self.last(namespace, CONNECT, CONNECT_ERROR, DISCONNECT)

    def emit(self, event, *args, namespace="/", id=None) -> None:
        self.send(EVENT, [event, *args], namespace=namespace, id=id)

    def sid(self, namespace="/"):
        return self.server.manager.sid_from_eio_sid(self.eio_sid, namespace)

    # -- reading ----------------------------------------------------------------------------
    def last(self, namespace="/", *types):
        for pkt in reversed(self.packets):
            if (pkt.namespace or "/") == namespace and (not types or pkt.packet_type in types):
                return pkt
        return None

    def events(self, namespace="/") -> list:
        """``[event, *args]`` of every event received in ``namespace``, oldest first."""
        return [
            list(p.data)
            for p in self.packets
            if p.packet_type in (EVENT, BINARY_EVENT) and (p.namespace or "/") == namespace
        ]

    def acks(self, namespace="/") -> list:
        return [
            (p.id, list(p.data))
            for p in self.packets
            if p.packet_type in (ACK, BINARY_ACK) and (p.namespace or "/") == namespace
        ]

    def types(self, namespace="/") -> list:
        return [p.packet_type for p in self.packets if (p.namespace or "/") == namespace]


class ServerProcess:
    """``e2e_app.py`` served in a subprocess (gevent or threading), on an ephemeral port."""

    def __init__(self, async_mode: str, port: int = 0, *options: str) -> None:
        self.async_mode = async_mode
        self.options = options
        self.proc = subprocess.Popen(
            [sys.executable, os.path.join(HERE, "e2e_app.py"), async_mode, str(port), *options],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=HERE,
        )
        line = self.proc.stdout.readline()
        if not line.strip().isdigit():
            self.proc.kill()
            raise RuntimeError(f"server did not start: {line}{self.proc.stderr.read()}")
        self.port = int(line)
        self.url = f"http://127.0.0.1:{self.port}"

    def stop(self) -> str:
        """Stop the server; returns what it wrote on stderr."""
        self.proc.terminate()
        try:
            _, err = self.proc.communicate(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            _, err = self.proc.communicate()
        return err

    def restart(self) -> None:
        """Stop it and serve again on the same port."""
        self.stop()
        for _ in range(50):  # the port may take a moment to be free again
            try:
                self.__init__(self.async_mode, self.port, *self.options)
                return
            except RuntimeError:
                time.sleep(0.1)
        raise RuntimeError("could not restart the server on its port")
