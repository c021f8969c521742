"""Class-based namespaces for the framework-agnostic Socket.IO server."""

from __future__ import annotations

from typing import Any, Callable

from .dispatch import call_legacy


class Namespace:
    """Base class for class-based namespaces: the handlers of one namespace as methods.

    Events go to methods named ``on_<event>`` (``on_connect``, ``on_disconnect``,
    ``on_my_event``, ...) with the same arguments as function handlers; the other methods are
    those of :class:`Server` with ``namespace`` defaulting to this one::

        class Chat(Namespace):
            def on_connect(self, sid, environ, auth):
                self.enter_room(sid, 'lobby')

            def on_message(self, sid, data):
                self.emit('message', data, to='lobby', skip_sid=sid)

        sio.register_namespace(Chat('/chat'))

    :param namespace: the namespace served by this class; ``'/'`` when omitted, ``'*'`` for
                      every namespace (its handlers then get the namespace first).
    """

    def __init__(self, namespace: str | None = None) -> None:
        self.namespace = namespace or "/"
        self.server: Any = None

    def _set_server(self, server: Any) -> None:
        self.server = server

    def is_asyncio_based(self) -> bool:
        """Always False: this namespace runs under gevent or threads, not asyncio."""
        return False

    def trigger_event(self, event: str, *args: Any) -> Any:
        """Call the ``on_<event>`` method for ``event`` with ``args``; None if there is none.

        ``on_connect`` and ``on_disconnect`` may leave out their last argument (``auth``,
        ``reason``). Override this to route events differently.
        """
        handler = getattr(self, "on_" + (event or ""), None)
        if handler is None:
            return None
        if event == "connect" or event == "disconnect":
            return call_legacy(handler, args)
        return handler(*args)

    def emit(
        self,
        event: str,
        data: Any = None,
        to: Any = None,
        room: Any = None,
        skip_sid: Any = None,
        namespace: str | None = None,
        callback: Callable | None = None,
        ignore_queue: bool = False,
    ) -> None:
        """:meth:`Server.emit` in this namespace unless ``namespace`` is given."""
        return self.server.emit(
            event,
            data=data,
            to=to,
            room=room,
            skip_sid=skip_sid,
            namespace=namespace or self.namespace,
            callback=callback,
            ignore_queue=ignore_queue,
        )

    def send(
        self,
        data: Any,
        to: Any = None,
        room: Any = None,
        skip_sid: Any = None,
        namespace: str | None = None,
        callback: Callable | None = None,
        ignore_queue: bool = False,
    ) -> None:
        """:meth:`Server.send` in this namespace unless ``namespace`` is given."""
        return self.server.send(
            data,
            to=to,
            room=room,
            skip_sid=skip_sid,
            namespace=namespace or self.namespace,
            callback=callback,
            ignore_queue=ignore_queue,
        )

    def call(
        self,
        event: str,
        data: Any = None,
        to: str | None = None,
        sid: str | None = None,
        namespace: str | None = None,
        timeout: float | None = 60,
        ignore_queue: bool = False,
    ) -> Any:
        """:meth:`Server.call` in this namespace unless ``namespace`` is given."""
        return self.server.call(
            event,
            data=data,
            to=to,
            sid=sid,
            namespace=namespace or self.namespace,
            timeout=timeout,
            ignore_queue=ignore_queue,
        )

    def enter_room(self, sid: str, room: Any, namespace: str | None = None) -> None:
        """:meth:`Server.enter_room` in this namespace unless ``namespace`` is given."""
        return self.server.enter_room(sid, room, namespace=namespace or self.namespace)

    def leave_room(self, sid: str, room: Any, namespace: str | None = None) -> None:
        """:meth:`Server.leave_room` in this namespace unless ``namespace`` is given."""
        return self.server.leave_room(sid, room, namespace=namespace or self.namespace)

    def close_room(self, room: Any, namespace: str | None = None) -> None:
        """:meth:`Server.close_room` in this namespace unless ``namespace`` is given."""
        return self.server.close_room(room, namespace=namespace or self.namespace)

    def rooms(self, sid: str, namespace: str | None = None) -> list:
        """:meth:`Server.rooms` in this namespace unless ``namespace`` is given."""
        return self.server.rooms(sid, namespace=namespace or self.namespace)

    def get_session(self, sid: str, namespace: str | None = None) -> dict:
        """:meth:`Server.get_session` in this namespace unless ``namespace`` is given."""
        return self.server.get_session(sid, namespace=namespace or self.namespace)

    def save_session(self, sid: str, session: dict, namespace: str | None = None) -> None:
        """:meth:`Server.save_session` in this namespace unless ``namespace`` is given."""
        return self.server.save_session(sid, session, namespace=namespace or self.namespace)

    def session(self, sid: str, namespace: str | None = None):
        """:meth:`Server.session` in this namespace unless ``namespace`` is given."""
        return self.server.session(sid, namespace=namespace or self.namespace)

    def disconnect(self, sid: str, namespace: str | None = None) -> None:
        """:meth:`Server.disconnect` in this namespace unless ``namespace`` is given."""
        return self.server.disconnect(sid, namespace=namespace or self.namespace)
