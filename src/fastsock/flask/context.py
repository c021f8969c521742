"""Functions for use inside a Socket.IO handler: they act on the client of the current event.

The client (``request.sid``) and namespace (``request.namespace``) come from the request context
the handler runs in, and the ``SocketIO`` object from ``current_app.extensions['socketio']``.
"""

from __future__ import annotations

from typing import Any, Callable

import flask


def _socketio() -> Any:
    return flask.current_app.extensions["socketio"]


def emit(
    event: str,
    *args: Any,
    namespace: str | None = None,
    callback: Callable | None = None,
    broadcast: bool = False,
    to: Any = None,
    room: Any = None,
    include_self: bool = True,
    skip_sid: Any = None,
    ignore_queue: bool = False,
) -> None:
    """Emit a SocketIO event from inside an event handler. Example::

        @socketio.on('my event')
        def handle_my_custom_event(json):
            emit('my response', {'data': 42})

    :param event: The name of the user event to emit.
    :param args: The payload (a tuple is sent as several arguments).
    :param namespace: The namespace of the event; the one of the current event by default
                      (``'/'`` addresses the global namespace explicitly).
    :param callback: Called with the client's acknowledgement arguments.
    :param broadcast: ``True`` to send to every client of the namespace instead of only the
                      sender of the current event.
    :param to: A sid, a room or a list of rooms to send to (instead of the sender).
    :param room: Alias of ``to``.
    :param include_self: ``False`` to leave the sender out of a broadcast or room.
    :param skip_sid: A sid, or a list of sids, to leave out.
    :param ignore_queue: Emit directly, bypassing a configured message queue.
    """
    namespace, to = _recipient(namespace, to, room, broadcast)
    return _socketio().emit(
        event,
        *args,
        namespace=namespace,
        to=to,
        include_self=include_self,
        skip_sid=skip_sid,
        callback=callback,
        ignore_queue=ignore_queue,
    )


def call(
    event: str,
    *args: Any,
    namespace: str | None = None,
    to: Any = None,
    room: Any = None,
    timeout: float = 60,
    ignore_queue: bool = False,
) -> Any:
    """Emit a SocketIO event to one client (the sender by default) and wait for its response.

    Raises a ``TimeoutError`` if the client does not acknowledge within ``timeout`` seconds.
    Example::

        def get_status(client, data):
            status = call('status', {'data': data}, to=client)
    """
    namespace, to = _recipient(namespace, to, room)
    return _socketio().call(
        event, *args, namespace=namespace, to=to, timeout=timeout, ignore_queue=ignore_queue
    )


def send(
    message: Any,
    json: bool = False,
    namespace: str | None = None,
    callback: Callable | None = None,
    broadcast: bool = False,
    to: Any = None,
    room: Any = None,
    include_self: bool = True,
    skip_sid: Any = None,
    ignore_queue: bool = False,
) -> None:
    """Send a SocketIO message (a string, or a JSON blob with ``json=True``) from inside an event
    handler; the other arguments are those of :func:`emit`."""
    namespace, to = _recipient(namespace, to, room, broadcast)
    return _socketio().send(
        message,
        json=json,
        namespace=namespace,
        to=to,
        include_self=include_self,
        skip_sid=skip_sid,
        callback=callback,
        ignore_queue=ignore_queue,
    )


def join_room(room: Any, sid: str | None = None, namespace: str | None = None) -> None:
    """Put the client (the sender of the current event by default) in ``room``. Example::

        @socketio.on('join')
        def on_join(data):
            join_room(data['room'])
            send(session['username'] + ' has entered the room.', to=data['room'])
    """
    _socketio().server.enter_room(
        sid or flask.request.sid, room, namespace=namespace or flask.request.namespace
    )


def leave_room(room: Any, sid: str | None = None, namespace: str | None = None) -> None:
    """Take the client (the sender of the current event by default) out of ``room``."""
    _socketio().server.leave_room(
        sid or flask.request.sid, room, namespace=namespace or flask.request.namespace
    )


def close_room(room: Any, namespace: str | None = None) -> None:
    """Remove every client from ``room`` and delete it (in the current namespace by default)."""
    _socketio().server.close_room(room, namespace=namespace or flask.request.namespace)


def rooms(sid: str | None = None, namespace: str | None = None) -> list:
    """The rooms the client (the sender of the current event by default) is in, including its own
    room (named after its sid)."""
    return _socketio().server.rooms(
        sid or flask.request.sid, namespace=namespace or flask.request.namespace
    )


def disconnect(sid: str | None = None, namespace: str | None = None, silent: bool = False) -> Any:
    """Disconnect the client (the sender of the current event by default) from the namespace.

    The client receives a disconnect event. ``silent`` is accepted for compatibility and ignored.
    Example::

        @socketio.on('message')
        def receive_message(msg):
            if is_banned(session['username']):
                disconnect()
    """
    return _socketio().server.disconnect(
        sid or flask.request.sid, namespace=namespace or flask.request.namespace
    )


def _recipient(namespace: str | None, to: Any, room: Any, broadcast: bool = False) -> tuple:
    """The namespace and recipient of an emit from a handler: the current event's namespace,
    and its sender unless ``to``/``room`` is given or ``broadcast`` is set."""
    if namespace is None:
        namespace = flask.request.namespace
    to = to or room
    if to is None and not broadcast:
        to = flask.request.sid
    return namespace, to
