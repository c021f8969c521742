"""Exceptions of the Socket.IO layer, with python-socketio's names and meaning."""

from __future__ import annotations

import builtins
from typing import Any


class SocketIOError(Exception):
    """Base class of the Socket.IO layer's exceptions."""


class ConnectionError(SocketIOError):
    """A Socket.IO connection could not be established or was lost."""


class ConnectionRefusedError(ConnectionError):
    """Raise this in a connect handler to refuse the connection.

    The client receives a CONNECT_ERROR packet whose payload is ``{"message": str(args[0])}``,
    plus ``"data"`` when more arguments are given (one extra argument as is, several as a list)::

        @sio.on('connect')
        def connect(sid, environ, auth):
            if not auth or auth.get('token') != SECRET:
                raise ConnectionRefusedError('unauthorized', {'retry': False})
    """

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        if not args:
            self.error_args: dict = {"message": "Connection rejected by server"}
        else:
            self.error_args = {"message": str(args[0])}
            if len(args) == 2:
                self.error_args["data"] = args[1]
            elif len(args) > 2:
                self.error_args["data"] = list(args[1:])


class TimeoutError(SocketIOError, builtins.TimeoutError):
    """``call()`` got no acknowledgement within its timeout.

    Also a builtin :class:`TimeoutError`, so either ``except`` clause catches it.
    """


class BadNamespaceError(SocketIOError):
    """The namespace is not connected or not accepted."""


class DisconnectedError(SocketIOError):
    """The client is not connected."""
