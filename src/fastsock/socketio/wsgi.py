"""WSGI application serving a Socket.IO server, optionally in front of another WSGI app."""

from __future__ import annotations

from typing import Any, Callable

from .. import engineio


class WSGIApp(engineio.WSGIApp):
    """WSGI middleware for a Socket.IO server.

    Requests under ``/<socketio_path>/`` go to ``socketio_app``; the others to ``wsgi_app``
    (a 404 without one), or to ``static_files`` (the mapping format of python-engineio).

    :param socketio_app: a :class:`fastsock.socketio.Server`.
    :param wsgi_app: the WSGI application receiving all other traffic.
    :param static_files: static file mapping rules.
    :param socketio_path: where the server is mounted, ``'socket.io'`` by default.

    Example::

        sio = fastsock.socketio.Server(async_mode='gevent')
        app = fastsock.socketio.WSGIApp(sio, flask_app)
    """

    def __init__(
        self,
        socketio_app: Any,
        wsgi_app: Callable | None = None,
        static_files: dict | None = None,
        socketio_path: str = "socket.io",
    ) -> None:
        super().__init__(
            socketio_app, wsgi_app, static_files=static_files, engineio_path=socketio_path
        )


class Middleware(WSGIApp):
    """The older name of :class:`WSGIApp`."""

    def __init__(
        self, socketio_app: Any, wsgi_app: Callable | None = None, socketio_path: str = "socket.io"
    ) -> None:
        super().__init__(socketio_app, wsgi_app, socketio_path=socketio_path)
