"""fastsock's ``gevent.pywsgi`` request handler: hands WebSocket sockets to the Engine.IO server.

No gevent-websocket or simple-websocket: the handler lets the application take the
connection's socket (``environ['fastsock.takeover']``), detached from pywsgi, and then stays
out of the way — no response is written after the application returns. The request's greenlet
then ends; the Engine.IO server reads the socket through a watcher on the hub, so an idle
WebSocket costs no greenlet at all. ``TCP_NODELAY`` is set on every connection.
"""

from __future__ import annotations

import _socket
import socket
from typing import Any

from gevent import pywsgi

from .websocket import RawConnection, _drain_buffered


class WebSocketHandler(pywsgi.WSGIHandler):
    """A ``pywsgi.WSGIHandler`` whose application may take over the connection's socket."""

    _taken_over = False

    def handle(self) -> None:
        """Serve the connection (with ``TCP_NODELAY``: small polling responses leave at once)."""
        try:
            self.socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except (OSError, AttributeError):
            pass
        super().handle()

    def get_environ(self) -> dict:
        """The WSGI environ, plus ``fastsock.takeover`` on WebSocket upgrade requests."""
        environ = super().get_environ()
        if environ.get("HTTP_UPGRADE", "").lower() == "websocket":
            environ["fastsock.takeover"] = self._take_over
        return environ

    def _take_over(self, environ: dict) -> RawConnection:
        """Detach the socket; ``environ`` is the one the application got (maybe a copy)."""
        self._taken_over = True
        self.close_connection = True
        leftover = _drain_buffered(self.rfile, self.socket)
        # What parsed the HTTP request is not needed any more, while the connection may live
        # for days: the read buffer, the parsed headers (the environ has them) and the body
        # stream (kept alive by the environ, which the Socket.IO layer keeps) are released.
        rfile, self.rfile = self.rfile, _RELEASED
        try:
            rfile.close()
        except OSError:
            pass
        self.wsgi_input = _RELEASED
        self.environ["wsgi.input"] = environ["wsgi.input"] = _RELEASED
        self.__dict__.pop("headers", None)  # back to the class's empty default
        # Detach the file descriptor from the gevent socket (pywsgi's close of it is then a
        # no-op) so this greenlet can end: the Engine.IO reader watches the socket itself.
        gsock = self.socket
        family, type_, proto = gsock.family, gsock.type, gsock.proto
        raw = _socket.socket(family, type_, proto, gsock.detach())
        raw.setblocking(False)
        # The pywsgi server no longer sees this connection: keep it findable for stop().
        live = self.server.__dict__.setdefault("fastsock_connections", set())
        conn = RawConnection(raw, leftover, ours=True, evented=True)
        conn._on_closed = lambda: live.discard(conn)
        live.add(conn)
        return conn

    def run_application(self) -> None:
        """Run the application; after a takeover, write nothing back."""
        if self.environ.get("fastsock.takeover") is None:
            super().run_application()
            return
        try:
            self.result = self.application(self.environ, self.start_response)
            if not self._taken_over:
                self.process_result()
        finally:
            close = getattr(self.result, "close", None)
            self.result = None
            if close is not None:
                close()

    def log_request(self) -> None:
        """Log like pywsgi, except for taken-over WebSocket connections (no status to log)."""
        if not self._taken_over:
            super().log_request()


class _Released:
    """Stands in for the released request reader and body stream of a taken-over connection:
    pywsgi only checks ``closed`` and calls ``_discard()`` afterwards; nothing reads it."""

    closed = True

    def close(self) -> None:
        pass

    def _discard(self) -> None:
        pass

    def read(self, *args: Any) -> bytes:
        return b""


#: stateless, so one stands in for every taken-over connection
_RELEASED = _Released()
