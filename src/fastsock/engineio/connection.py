"""One WebSocket connection's reader: frames in, Engine.IO packets to the session.

Two ways to drive it, with the same frame and packet handling:

- *blocking* (threading mode, and gevent under servers other than ours): the reader loops in
  the greenlet or thread the web server gave the request, for the lifetime of the connection;
- *evented* (gevent with fastsock's pywsgi handler, which detaches the socket): a read watcher
  on the hub calls back when bytes arrive, and only then a greenlet is spawned to process them
  (handlers may block). An idle connection has no greenlet, stack or request objects at all.
  The watcher is stopped while a chunk is processed, so a client sending faster than its
  handlers run is slowed down by TCP, not buffered without bound.

Writes never happen here except replies to control frames: everything goes through the
connection's :class:`~.writer.Output`.

States: ``_PROBE`` and ``_AWAIT_UPGRADE`` for an upgrade from polling (``2probe`` → ``3probe``,
a NOOP releases the pending GET, then ``5`` switches the session over with every packet still
queued for polling moved, in order, to the WebSocket); ``_OPEN`` while attached to the
session; ``_CLOSING`` once either side started closing (frames are then read and dropped until
the peer closes TCP or the linger timer cuts the connection).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from .._kernels import eio, ws
from ..exceptions import PacketError, WebSocketError
from .websocket import RawConnection, handshake_response

if TYPE_CHECKING:  # pragma: no cover
    from .server import Server
    from .socket import Socket

logger = logging.getLogger("fastsock.engineio")

_PROBE, _AWAIT_UPGRADE, _OPEN, _CLOSING = range(4)
_RECV_SIZE = 65536
_PROBE_REPLY = ws.build_frame(ws.TEXT, b"3probe")
#: While an upgrade waits for UPGRADE, a waiting GET is answered with a NOOP this often, for at
#: most this many times (10 s, the JavaScript server's upgrade timeout).
_UPGRADE_NUDGE_INTERVAL = 0.1
_UPGRADE_NUDGES = 100
_TEXT, _BINARY, _CLOSE, _PING = ws.TEXT, ws.BINARY, ws.CLOSE, ws.PING
_MESSAGE = eio.MESSAGE
_decode_packet = eio.decode_packet


def serve_websocket(
    server: Server,
    environ: dict,
    sock: Socket,
    raw: RawConnection,
    upgrade: bool,
    headers: list[tuple[str, str]] = (),
) -> Any:
    """Run a WebSocket connection for session ``sock`` until it ends; returns what the WSGI
    application returns (or raises what it raises) for the request."""
    out = server._driver.make_output(raw.sock, server.max_write_buffer_size)
    # The 101 goes through the output too, so the OPEN packet and anything the connect
    # handler sent leave in the same send() right behind it.
    out.write(handshake_response(environ, headers))
    if upgrade:
        sock.upgrading = True
        state = _PROBE
    else:
        sock.switch_to_websocket(out)
        server._heartbeat.start(sock)
        state = _OPEN
    if raw.evented:
        _EventedReader(server, sock, out, state, raw).start(raw.leftover)
        return raw.finish()
    reader = _Reader(server, sock, out, state)
    try:
        reader.run(raw.sock, raw.leftover)
    finally:
        reader.finish()
    return raw.finish()


class _Reader:
    __slots__ = ("attached", "error", "out", "parser", "server", "sock", "state")

    def __init__(self, server: Server, sock: Socket, out: Any, state: int) -> None:
        self.server = server
        self.sock = sock
        self.out = out
        self.state = state
        self.attached = state == _OPEN
        self.error: str | None = None
        self.parser = ws.FrameParser(server.max_http_buffer_size, True)

    def run(self, conn: Any, data: bytes) -> None:
        """The blocking loop: read and consume until EOF."""
        recv = conn.recv
        try:
            while True:
                if data:
                    self.consume(data)
                data = recv(_RECV_SIZE)
                if not data:
                    return
        except OSError:
            return  # reset by the peer, or shut down by us (abort, linger timeout)

    def consume(self, data: bytes) -> None:
        """Parse bytes from the peer and act on the complete frames."""
        if self.state == _CLOSING:
            return
        try:
            items = self.parser.feed(data)
        except WebSocketError as exc:
            # Items completed before the violation still count; bytes after a CLOSE frame
            # do not matter any more.
            self._handle(getattr(exc, "items", None) or [])
            if self.state != _CLOSING:
                self._fail(str(exc), exc.close_code)
        else:
            self._handle(items)
        if self.sock.closed and self.state != _CLOSING:
            self._closing()

    def finish(self) -> None:
        """The connection is over (EOF, reset or cut): settle the session's state."""
        sock, out = self.sock, self.out
        if self.state == _PROBE or self.state == _AWAIT_UPGRADE:
            sock.upgrading = False  # the session goes on over polling
        elif self.attached:
            error = self.error or out.error
            reason = self.server.reason
            sock.close(
                reason.TRANSPORT_ERROR if error else reason.TRANSPORT_CLOSE, abort=True, error=error
            )
        out.release()

    def _closing(self) -> None:
        # The session was closed by someone else (server disconnect, ping timeout, client
        # CLOSE packet): Socket.close already sent the close frame. Keep reading until the
        # peer closes TCP; the linger timer bounds the wait.
        if not self.attached:
            self.out.write(ws.build_close(1000))
            self.out.close()
            self.server._heartbeat.linger(self.out.abort)
        self.state = _CLOSING

    def _fail(self, error: str, close_code: int) -> None:
        logger.info("%s: WebSocket error: %s", self.sock.sid, error)
        self.error = error
        self.out.write(ws.build_close(close_code))
        self.out.close()
        self.server._heartbeat.linger(self.out.abort)
        if self.attached:
            self.sock.close(self.server.reason.TRANSPORT_ERROR, abort=True, error=error)
        self.state = _CLOSING

    def _handle(self, items: list) -> None:
        sock = self.sock
        for opcode, payload in items:
            if self.state == _CLOSING:
                return
            if opcode == _TEXT or opcode == _BINARY:
                try:
                    if opcode == _TEXT:
                        packet_type, data = _decode_packet(payload)
                    else:
                        packet_type, data = _MESSAGE, payload
                except PacketError as exc:
                    self._fail(f"bad Engine.IO packet: {exc}", 1002)
                    return
                if self.state == _OPEN:
                    if not sock.closed:
                        sock.receive(packet_type, data)
                else:
                    self._upgrade_step(packet_type, data)
            elif opcode == _PING:
                self.out.write(ws.build_frame(ws.PONG, payload))
            elif opcode == _CLOSE:
                code = payload[0]
                self.out.write(ws.build_close(code if code is not None else 1000))
                self.out.close()
                self.server._heartbeat.linger(self.out.abort)
                if self.attached:
                    sock.close(self.server.reason.TRANSPORT_CLOSE, abort=True)
                self.state = _CLOSING
            # PONG frames need no answer.

    def _upgrade_step(self, packet_type: int, data: Any) -> None:
        sock = self.sock
        if self.state == _PROBE and packet_type == eio.PING and data == "probe":
            self.out.write(_PROBE_REPLY)
            # Release the pending GET so the client can pause polling and send UPGRADE.
            sock._send_control(b"6")
            self.state = _AWAIT_UPGRADE
            self.server.start_background_task(self._release_polls)
        elif self.state == _AWAIT_UPGRADE and packet_type == eio.UPGRADE:
            if sock.closed:
                self._closing()
                return
            sock.switch_to_websocket(self.out)
            self.attached = True
            self.state = _OPEN
        elif self.state == _AWAIT_UPGRADE and packet_type == eio.PING and data == "probe":
            self.out.write(_PROBE_REPLY)
        else:
            self._fail(f"unexpected packet {packet_type} during the upgrade", 1002)


    def _release_polls(self) -> None:
        # As the JavaScript server does: a GET the client sent after the first NOOP was taken
        # would otherwise wait for the next ping, and the client cannot pause polling (and so
        # send UPGRADE) until that GET returns. Bounded like the reference's upgrade timeout.
        sock = self.sock
        for _ in range(_UPGRADE_NUDGES):
            self.server.sleep(_UPGRADE_NUDGE_INTERVAL)
            if self.state != _AWAIT_UPGRADE or sock.closed:
                return
            sock.release_poll()


class _EventedReader(_Reader):
    """The evented driver (see the module docstring): no greenlet while the connection idles."""

    __slots__ = ("_conn", "_ended", "_raw", "_watcher")

    def __init__(
        self, server: Server, sock: Socket, out: Any, state: int, raw: RawConnection
    ) -> None:
        super().__init__(server, sock, out, state)
        self._raw = raw
        self._conn = raw.sock  # a non-blocking ``_socket.socket`` this reader owns
        self._ended = False
        raw.abort = self._end

    def start(self, leftover: bytes) -> None:
        import gevent

        self._watcher = gevent.get_hub().loop.io(self._conn.fileno(), 1)
        if leftover:
            gevent.spawn_raw(self._process, leftover)
        else:
            self._watcher.start(self._on_readable)

    def _on_readable(self) -> None:
        # In the hub: read what is there, then hand it to a greenlet, since handlers may block.
        try:
            data = self._conn.recv(_RECV_SIZE)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        self._watcher.stop()
        import gevent

        gevent.spawn_raw(self._process, data)

    def _process(self, data: bytes) -> None:
        try:
            if data:
                self.consume(data)
                if not self._ended:
                    self._watcher.start(self._on_readable)
                return
        except Exception:  # a bug here must not leak the connection
            logger.exception("%s: error processing WebSocket input", self.sock.sid)
        self._end()

    def _end(self) -> None:
        if self._ended:
            return
        self._ended = True
        self._watcher.stop()
        try:
            self.finish()
        finally:
            self._watcher.close()
            self._conn.close()
            self._raw.closed()
