"""The Flask layer of fastsock: a drop-in for Flask-SocketIO.

``SocketIO`` (the extension), ``Namespace`` (class-based handlers), the context functions used
inside handlers (``emit``, ``send``, ``call``, ``join_room``, ``leave_room``, ``close_room``,
``rooms``, ``disconnect``), ``ConnectionRefusedError`` and ``SocketIOTestClient``, built on
:class:`fastsock.socketio.Server`.
"""

from ..socketio.exceptions import ConnectionRefusedError
from .context import call, close_room, disconnect, emit, join_room, leave_room, rooms, send
from .extension import SocketIO
from .namespace import Namespace
from .test_client import SocketIOTestClient

__all__ = [
    "ConnectionRefusedError",
    "Namespace",
    "SocketIO",
    "SocketIOTestClient",
    "call",
    "close_room",
    "disconnect",
    "emit",
    "join_room",
    "leave_room",
    "rooms",
    "send",
]
