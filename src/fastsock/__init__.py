"""fastsock: a drop-in, high-throughput replacement for Flask-SocketIO.

Flask applications import the same names they imported from ``flask_socketio``::

    from fastsock import SocketIO, emit, join_room

The framework-agnostic Socket.IO server is ``fastsock.Server`` + ``fastsock.WSGIApp``
(python-socketio's ``socketio.Server`` API); the Engine.IO server is ``fastsock.engineio``.
``fastsock.COMPILED`` tells whether the compiled kernels are in use.
"""

from . import engineio, socketio
from ._kernels import COMPILED, COMPILED_KERNELS
from .exceptions import PacketError, WebSocketError
from .flask import (
    ConnectionRefusedError,
    Namespace,
    SocketIO,
    SocketIOTestClient,
    call,
    close_room,
    disconnect,
    emit,
    join_room,
    leave_room,
    rooms,
    send,
)
from .socketio import Server, WSGIApp

__version__ = "0.1.0"

__all__ = [
    "COMPILED",
    "COMPILED_KERNELS",
    "ConnectionRefusedError",
    "Namespace",
    "PacketError",
    "Server",
    "SocketIO",
    "SocketIOTestClient",
    "WSGIApp",
    "WebSocketError",
    "__version__",
    "call",
    "close_room",
    "disconnect",
    "emit",
    "engineio",
    "join_room",
    "leave_room",
    "rooms",
    "send",
    "socketio",
]
