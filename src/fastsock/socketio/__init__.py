"""The framework-agnostic Socket.IO v5 server: python-socketio's ``socketio.Server`` API.

::

    from fastsock.socketio import Server, WSGIApp

    sio = Server(async_mode='gevent')

    @sio.event
    def chat(sid, text):
        sio.emit('chat', text, skip_sid=sid)

    app = WSGIApp(sio)
"""

from .exceptions import (
    BadNamespaceError,
    ConnectionError,
    ConnectionRefusedError,
    DisconnectedError,
    SocketIOError,
    TimeoutError,
)
from .manager import Manager
from .namespace import Namespace
from .server import Server
from .wsgi import Middleware, WSGIApp

__all__ = [
    "BadNamespaceError",
    "ConnectionError",
    "ConnectionRefusedError",
    "DisconnectedError",
    "Manager",
    "Middleware",
    "Namespace",
    "Server",
    "SocketIOError",
    "TimeoutError",
    "WSGIApp",
]
