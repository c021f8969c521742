"""Class-based namespaces for the Flask extension."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

from .. import socketio as _sio
from ..socketio.exceptions import ConnectionRefusedError
from .events import OPTIONAL_ARGUMENT_EVENTS, accepts_argument, run_handler

if TYPE_CHECKING:
    from .extension import SocketIO


class Namespace(_sio.Namespace):
    """Base class for class-based namespaces.

    Event handlers are the methods named ``on_<event>`` (``on_connect``, ``on_disconnect``,
    ``on_message``, ``on_json``, ``on_my_event``, ...); they run in Flask context exactly like
    handlers registered with :meth:`SocketIO.on`. An optional ``error(self, exc)`` method receives
    the exceptions of this namespace's handlers that no ``SocketIO.on_error`` handler took; its
    return value is sent as the acknowledgement. Register an instance with
    :meth:`SocketIO.on_namespace`.

    :param namespace: The Socket.IO namespace of the handlers, ``'/'`` by default; ``'*'`` makes
                      this a catch-all namespace.
    """

    def __init__(self, namespace: str | None = None) -> None:
        super().__init__(namespace)
        self.socketio: SocketIO | None = None
        self._takes_argument: dict = {}

    def _set_socketio(self, socketio: SocketIO) -> None:
        self.socketio = socketio
        for event in OPTIONAL_ARGUMENT_EVENTS:
            handler = getattr(self, "on_" + event, None)
            if handler is not None:
                self._takes_argument[event] = accepts_argument(handler)

    def trigger_event(self, event: str, *args: Any) -> Any:
        """Dispatch an event to the ``on_<event>`` method, in Flask context.

        Rarely overridden: it routes events to methods. Events without a method are ignored.
        """
        handler = getattr(self, "on_" + (event or ""), None)
        if handler is None:
            return None
        if self.namespace == "*":
            # a catch-all namespace receives the real namespace before the sid
            namespace, args = args[0], args[1:]
        else:
            namespace = self.namespace
        takes_argument = self._takes_argument.get(event, True)
        try:
            return run_handler(
                self.socketio, handler, event, namespace, args[0], args[1:], takes_argument
            )
        except ConnectionRefusedError:
            raise
        except Exception as exc:
            error = getattr(self, "error", None)
            if error is None:
                raise
            return error(exc)

    def emit(
        self,
        event: str,
        data: Any = None,
        room: Any = None,
        include_self: bool = True,
        namespace: str | None = None,
        callback: Callable | None = None,
        to: Any = None,
        skip_sid: Any = None,
        ignore_queue: bool = False,
    ) -> None:
        """Emit a custom event to one or more connected clients (this namespace by default)."""
        return self.socketio.emit(
            event,
            data,
            to=to or room,
            include_self=include_self,
            skip_sid=skip_sid,
            namespace=namespace or self.namespace,
            callback=callback,
            ignore_queue=ignore_queue,
        )

    def send(
        self,
        data: Any,
        room: Any = None,
        include_self: bool = True,
        namespace: str | None = None,
        callback: Callable | None = None,
        to: Any = None,
        skip_sid: Any = None,
        ignore_queue: bool = False,
    ) -> None:
        """Send a message to one or more connected clients (this namespace by default)."""
        return self.socketio.send(
            data,
            to=to or room,
            include_self=include_self,
            skip_sid=skip_sid,
            namespace=namespace or self.namespace,
            callback=callback,
            ignore_queue=ignore_queue,
        )

    def close_room(self, room: str, namespace: str | None = None) -> None:
        """Close a room (of this namespace by default)."""
        return self.socketio.close_room(room=room, namespace=namespace or self.namespace)
