"""Helpers for the Engine.IO server tests: a server harness and raw HTTP/WebSocket clients.

The server under test runs in this process, in a thread of its own: under gevent that thread
owns the gevent hub (nothing is monkey-patched, so the tests' blocking clients and the
python-engineio client run in ordinary threads); under threading it runs the Werkzeug server.
``Harness.call(fn, ...)`` runs a server-side function in the server's own context (the hub's
thread under gevent), which is where application code runs in production.
"""

from __future__ import annotations

import base64
import json
import os
import queue
import socket
import threading
import time
from typing import Any, Callable

from hub_call import call_in_hub

from fastsock import engineio
from fastsock._kernels import ws

_MASK = b"\x11\x22\x33\x44"


class Harness:
    """One Engine.IO server (``eio``) behind ``make_server`` on 127.0.0.1, port 0.

    Records ``('connect', sid)``, ``('message', sid, data)`` and ``('disconnect', sid,
    reason)`` in ``events``. Messages are echoed back unless ``echo=False``; a message
    ``'__close__'`` makes the server disconnect the client.
    """

    def __init__(self, async_mode: str, echo: bool = True, **options: Any) -> None:
        self.async_mode = async_mode
        self.echo = echo
        self.options = options
        self.events: queue.Queue = queue.Queue()
        self.eio: engineio.Server | None = None
        self.web: Any = None
        self._thread: threading.Thread | None = None
        self._hub: Any = None

    # -- life cycle ------------------------------------------------------------------------

    def _build(self) -> None:
        eio = self.eio = engineio.Server(async_mode=self.async_mode, **self.options)

        @eio.on("connect")
        def connect(sid, environ):
            self.events.put(("connect", sid))

        @eio.on("message")
        def message(sid, data):
            self.events.put(("message", sid, data))
            if data == "__close__":
                eio.disconnect(sid)
            elif self.echo:
                eio.send(sid, data)

        @eio.on("disconnect")
        def disconnect(sid, reason):
            self.events.put(("disconnect", sid, reason))

        self.web = engineio.make_server(engineio.WSGIApp(eio), port=0, async_mode=self.async_mode)

    def start(self) -> Harness:
        ready = threading.Event()
        errors: list = []

        def run() -> None:
            try:
                if self.async_mode == "gevent":
                    import gevent

                    self._hub = gevent.get_hub()
                self._build()
            except BaseException as exc:  # reported to the starting thread
                errors.append(exc)
                ready.set()
                raise
            ready.set()
            self.web.serve_forever()

        self._thread = threading.Thread(target=run, daemon=True)
        self._thread.start()
        ready.wait(10)
        if errors:
            raise errors[0]
        return self

    def stop(self) -> None:
        if self.web is None or not self._thread.is_alive():  # never started, or stopped
            return
        try:
            self.call(self.eio.shutdown, timeout=5)
            self.call(self.web.stop, timeout=5)
        except TimeoutError:
            pass
        self._thread.join(5)

    @property
    def port(self) -> int:
        return self.web.server_port

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def call(self, fn: Callable, *args: Any, timeout: float = 5.0) -> Any:
        """Run ``fn(*args)`` in the server's context and return its result."""
        if self.async_mode != "gevent":
            return fn(*args)
        return call_in_hub(self._hub, fn, *args, timeout=timeout)

    # -- observations ----------------------------------------------------------------------

    def wait_event(self, kind: str, timeout: float = 5.0, sid: str | None = None) -> tuple:
        """The next recorded event of ``kind`` (others of other kinds are dropped)."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"no {kind!r} event within {timeout} s")
            try:
                event = self.events.get(timeout=left)
            except queue.Empty:
                continue
            if event[0] == kind and (sid is None or event[1] == sid):
                return event


# -- raw HTTP (polling) ---------------------------------------------------------------------


def eio_path(query: str) -> str:
    return f"/engine.io/?{query}"


def http_request(
    port: int,
    method: str,
    path: str,
    body: bytes = b"",
    headers: dict | None = None,
    timeout: float = 5.0,
) -> tuple[int, dict, bytes]:
    """One HTTP/1.1 request on a fresh connection: ``(status, headers, body)``."""
    import http.client

    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(method, path, body=body or None, headers=headers or {})
        resp = conn.getresponse()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
    finally:
        conn.close()


def polling_handshake(port: int, headers: dict | None = None) -> tuple[str, dict]:
    """Open a polling session; returns ``(sid, open packet data)``."""
    status, _, body = http_request(
        port, "GET", eio_path("EIO=4&transport=polling"), headers=headers
    )
    assert status == 200, body
    assert body[:1] == b"0", body
    data = json.loads(body[1:].split(b"\x1e")[0])
    return data["sid"], data


# -- raw WebSocket --------------------------------------------------------------------------


class RawWebSocket:
    """A minimal blocking WebSocket client speaking raw frames (for error-path tests)."""

    def __init__(
        self,
        port: int,
        query: str = "EIO=4&transport=websocket",
        headers: dict | None = None,
        timeout: float = 5.0,
        rcvbuf: int | None = None,
    ) -> None:
        self.sock = socket.socket()
        if rcvbuf is not None:  # before connecting, so the advertised window stays small
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.sock.settimeout(timeout)
        self.sock.connect(("127.0.0.1", port))
        self.key = base64.b64encode(os.urandom(16)).decode()
        fields = {
            "Host": f"127.0.0.1:{port}",
            "Upgrade": "websocket",
            "Connection": "Upgrade",
            "Sec-WebSocket-Key": self.key,
            "Sec-WebSocket-Version": "13",
        }
        fields.update(headers or {})
        lines = [f"GET /engine.io/?{query} HTTP/1.1"]
        lines += [f"{k}: {v}" for k, v in fields.items()]
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        self.parser = ws.FrameParser(1 << 30, require_mask=False)
        self.pending: list = []
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = self.sock.recv(4096)
            if not chunk:
                break
            head += chunk
        head, _, rest = head.partition(b"\r\n\r\n")
        self.status_line = head.split(b"\r\n")[0].decode()
        self.status = int(self.status_line.split()[1]) if self.status_line else 0
        self.headers = {}
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.decode().partition(":")
            self.headers[name.strip().lower()] = value.strip()
        self.body = b""
        if self.status != 101:
            length = int(self.headers.get("content-length", "0"))
            while len(rest) < length:
                chunk = self.sock.recv(4096)
                if not chunk:
                    break
                rest += chunk
            self.body = rest
        if self.status == 101 and rest:
            self.pending.extend(self.parser.feed(rest))

    def send_frame(
        self, opcode: int, payload: bytes | str = b"", fin: bool = True, masked: bool = True
    ) -> None:
        self.sock.sendall(ws.build_frame(opcode, payload, fin=fin, mask=_MASK if masked else None))

    def send_raw(self, data: bytes) -> None:
        self.sock.sendall(data)

    def send_text(self, text: str) -> None:
        self.send_frame(ws.TEXT, text)

    def recv(self, timeout: float = 5.0) -> tuple[int, Any]:
        """The next frame item ``(opcode, payload)``; ``(None, None)`` on EOF."""
        deadline = time.monotonic() + timeout
        while not self.pending:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("no frame received")
            self.sock.settimeout(left)
            try:
                data = self.sock.recv(65536)
            except ConnectionResetError:
                data = b""
            if not data:
                return None, None
            self.pending.extend(self.parser.feed(data))
        return self.pending.pop(0)

    def recv_text(self, timeout: float = 5.0, skip_pings: bool = True) -> str:
        """The next Engine.IO text packet (server pings answered and skipped)."""
        while True:
            opcode, payload = self.recv(timeout)
            if opcode == ws.TEXT and skip_pings and payload == "2":
                self.send_text("3")
                continue
            if opcode != ws.TEXT:
                raise AssertionError(f"expected a text frame, got {(opcode, payload)}")
            return payload

    def recv_close(self, timeout: float = 5.0) -> int | None:
        """Read until the server's close frame; returns its code (``None`` on bare EOF)."""
        while True:
            opcode, payload = self.recv(timeout)
            if opcode is None:
                return None
            if opcode == ws.CLOSE:
                return payload[0]

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass
