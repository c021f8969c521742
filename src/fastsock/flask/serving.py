"""Serving a Flask app with its Socket.IO server: the WSGI middleware, ``run()`` and ``stop()``."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any, Callable

import flask

from .. import socketio as _sio
from ..engineio import make_server

if TYPE_CHECKING:
    from .extension import SocketIO


class SocketIOMiddleware(_sio.WSGIApp):
    """WSGI middleware sending the Socket.IO path to the server and the rest to Flask.

    Every request's environ gets ``'flask.app'``, the app Socket.IO handlers run in. The environ
    is copied first: the Socket.IO server keeps a connection's environ for its whole life.
    """

    def __init__(self, socketio_app: Any, flask_app: flask.Flask,
                 socketio_path: str = "socket.io") -> None:
        self.flask_app = flask_app
        super().__init__(socketio_app, flask_app.wsgi_app, socketio_path=socketio_path)

    def __call__(self, environ: dict, start_response: Callable) -> Any:
        environ = environ.copy()
        environ["flask.app"] = self.flask_app
        return super().__call__(environ, start_response)


def _default_port(app: flask.Flask) -> int:
    server_name = app.config.get("SERVER_NAME")
    if server_name and ":" in server_name:
        return int(server_name.rsplit(":", 1)[1])
    return 5000


def run_app(socketio: SocketIO, app: flask.Flask, host: str | None = None,
            port: int | None = None, **kwargs: Any) -> None:
    """Serve ``app`` until stopped; the implementation of :meth:`SocketIO.run`."""
    if host is None:
        host = "127.0.0.1"
    if port is None:
        port = _default_port(app)
    debug = kwargs.pop("debug", app.debug)
    log_output = kwargs.pop("log_output", debug)
    use_reloader = kwargs.pop("use_reloader", debug)
    extra_files = kwargs.pop("extra_files", None)
    reloader_options = dict(kwargs.pop("reloader_options", None) or {})
    if extra_files:
        reloader_options["extra_files"] = extra_files
    allow_unsafe_werkzeug = kwargs.pop("allow_unsafe_werkzeug", False)

    app.debug = debug
    if app.debug and socketio.sockio_mw is not None:
        from werkzeug.debug import DebuggedApplication

        # between the Socket.IO middleware and the Flask app, so Socket.IO traffic skips it
        socketio.sockio_mw.wsgi_app = DebuggedApplication(socketio.sockio_mw.wsgi_app,
                                                          evalex=True)

    async_mode = socketio.server.eio.async_mode
    if async_mode == "threading" and (not sys.stdin or not sys.stdin.isatty()):
        if not allow_unsafe_werkzeug:
            raise RuntimeError(
                "The Werkzeug web server is not designed to run in production. Pass "
                "allow_unsafe_werkzeug=True to the run() method to disable this error."
            )
        from werkzeug._internal import _log

        _log("warning", "Werkzeug appears to be used in a production deployment. Consider "
                        "switching to a production web server instead.")

    def serve() -> None:
        # built here, not before: under the reloader only the child process may bind the port
        socketio.wsgi_server = make_server(app, host=host, port=port, async_mode=async_mode,
                                           log_output=log_output, **kwargs)
        try:
            socketio.wsgi_server.serve_forever()
        finally:
            socketio.wsgi_server = None

    if use_reloader:
        from werkzeug._reloader import run_with_reloader

        if async_mode == "gevent":
            # the reloader's file watcher is a thread that must cooperate with the hub
            from gevent import monkey

            monkey.patch_thread()
            monkey.patch_time()
        run_with_reloader(serve, **reloader_options)
    else:
        serve()


def stop_server(socketio: SocketIO) -> None:
    """Stop the server started by :func:`run_app`; the implementation of :meth:`SocketIO.stop`."""
    if socketio.wsgi_server is None:
        raise RuntimeError("Cannot stop unknown web server")
    socketio.wsgi_server.stop()
