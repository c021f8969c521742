"""``make_server``: a web server that can hand WebSocket sockets to the Engine.IO server.

gevent: ``gevent.pywsgi`` with fastsock's :class:`~.gevent_handler.WebSocketHandler`.
threading: the Werkzeug development server (``werkzeug.socket``), one thread per connection.
Both set ``TCP_NODELAY`` on accepted connections.
"""

from __future__ import annotations

import socket
import threading
from typing import Any, Callable


def _detect_async_mode(wsgi_app: Any) -> str | None:
    for candidate in (wsgi_app, getattr(wsgi_app, "engineio_app", None)):
        mode = getattr(candidate, "async_mode", None)
        if isinstance(mode, str):
            return mode
    return None


def make_server(
    wsgi_app: Callable,
    host: str = "127.0.0.1",
    port: int = 5000,
    async_mode: str | None = None,
    log_output: bool = False,
    **kwargs: Any,
) -> Any:
    """Create (and bind, so ``server_port`` is known with ``port=0``) a web server for
    ``wsgi_app``; returns an object with ``server_port``, ``serve_forever()`` and ``stop()``.

    ``async_mode`` defaults to the application's (``wsgi_app.engineio_app.async_mode``), else
    gevent when installed, else threading. Extra ``kwargs`` go to the underlying server.
    """
    mode = async_mode or _detect_async_mode(wsgi_app)
    if mode is None:
        try:
            import gevent  # noqa: F401

            mode = "gevent"
        except ImportError:
            mode = "threading"
    if mode == "gevent":
        return GeventWebServer(wsgi_app, host, port, log_output, **kwargs)
    if mode == "threading":
        return ThreadingWebServer(wsgi_app, host, port, log_output, **kwargs)
    raise ValueError(f"make_server does not support async_mode {mode!r}")


class GeventWebServer:
    """``gevent.pywsgi.WSGIServer`` with fastsock's WebSocket-capable handler."""

    def __init__(
        self, wsgi_app: Callable, host: str, port: int, log_output: bool, **kwargs: Any
    ) -> None:
        from gevent import pywsgi

        from .gevent_handler import WebSocketHandler

        kwargs.setdefault("handler_class", WebSocketHandler)
        kwargs.setdefault("backlog", 1024)
        if not log_output:
            kwargs.setdefault("log", None)
        self.server = pywsgi.WSGIServer((host, port), wsgi_app, **kwargs)
        self.server.init_socket()

    @property
    def server_port(self) -> int:
        """The bound TCP port."""
        return self.server.server_port

    def serve_forever(self) -> None:
        """Serve until :meth:`stop`."""
        self.server.serve_forever()

    def stop(self, timeout: float = 1.0) -> None:
        """Close the listening socket and end the connections (after ``timeout`` seconds).

        WebSocket connections detached by fastsock's handler are closed too, here, with their
        sessions' disconnect handlers (TRANSPORT_CLOSE): the hub may not run again after this.
        """
        self.server.stop(timeout=timeout)
        for conn in list(self.server.__dict__.get("fastsock_connections", ())):
            if conn.abort is not None:
                conn.abort()


class ThreadingWebServer:
    """The Werkzeug development server, threaded, with ``TCP_NODELAY`` and optional logs."""

    def __init__(
        self, wsgi_app: Callable, host: str, port: int, log_output: bool, **kwargs: Any
    ) -> None:
        from werkzeug.serving import WSGIRequestHandler, make_server

        class Handler(WSGIRequestHandler):
            def setup(self) -> None:
                super().setup()
                try:
                    self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                except (OSError, AttributeError):
                    pass

            def log_request(self, *args: Any, **kw: Any) -> None:
                if log_output:
                    super().log_request(*args, **kw)

        kwargs.setdefault("threaded", True)
        kwargs.setdefault("request_handler", Handler)
        self.server = make_server(host, port, wsgi_app, **kwargs)
        self.server.daemon_threads = True
        self._serving = threading.Event()

    @property
    def server_port(self) -> int:
        """The bound TCP port."""
        return self.server.server_port

    def serve_forever(self) -> None:
        """Serve until :meth:`stop`."""
        self._serving.set()
        try:
            self.server.serve_forever()
        finally:
            self._serving.clear()

    def stop(self) -> None:
        """Stop accepting and close the listening socket (open connections end on their own)."""
        if self._serving.is_set():
            self.server.shutdown()
        self.server.server_close()
