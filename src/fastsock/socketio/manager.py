"""The in-memory client manager: who is connected to which namespace, rooms, acks, fan-out.

Rooms hold direct references to the Engine.IO :class:`Socket` of each member, so a broadcast
never looks a sid up: it encodes the event once (one Socket.IO packet, one
``eio.prepare(...)`` per Engine.IO message, i.e. one shared WebSocket frame) and hands the room
to the ``fanout`` kernel, which appends that frame to each WebSocket member's output in C (and
calls ``send_prepared`` for long-polling and virtual members). An emit with a callback cannot
share the encoding — each recipient gets its own ack id — and takes the per-recipient path. Each client also keeps the set of rooms it is
in, so a disconnect touches only those rooms, never every room of the namespace.

The manager interface
---------------------
``Server`` talks to its manager only through the methods below; a message-queue manager (a later
``PubSubManager`` for Redis, kombu, Kafka) subclasses :class:`Manager`, overrides the *write*
methods to publish on its channel, and calls ``super()`` for the part that runs on this host, the
way python-socketio's ``PubSubManager`` extends its ``Manager``.

Lifecycle
    ``set_server(server)`` (at server construction; sets ``self.server`` and ``self.json``),
    ``initialize()`` (before the first connection is handled; start listener tasks here).
Connections (called by the server, never published)
    ``pre_connect(eio_sid, namespace) -> sid | None`` (None: already connected there),
    ``connect(sid, namespace) -> sid``, ``pre_disconnect(sid, namespace) -> eio_sid``,
    ``is_connected(sid, namespace)``, ``is_pre_connected(sid, namespace)``,
    ``sid_from_eio_sid(eio_sid, namespace)``, ``eio_sid_from_sid(sid, namespace)``,
    ``eio_namespaces(eio_sid)``.
Writes (a queue manager publishes these, then applies them locally through ``super()``)
    ``emit(event, data, namespace, room=None, skip_sid=None, callback=None, to=None,
    ignore_queue=False)``, ``can_disconnect(sid, namespace) -> bool`` (True: the client is here,
    the server disconnects it itself), ``disconnect(sid, namespace, ignore_queue=False)``,
    ``enter_room(sid, namespace, room, eio_sid=None)``, ``leave_room(sid, namespace, room)``,
    ``close_room(room, namespace)``.
Reads (this host's clients only)
    ``get_namespaces()``, ``get_participants(namespace, room)`` yielding ``(sid, eio_sid)``,
    ``get_rooms(sid, namespace)``, ``is_sid_room(namespace, room)``.
Acks
    ``_generate_ack_id(sid, callback) -> int`` (per-sid counters, so two clients may both
    have ack id 1) and ``trigger_callback(sid, id, data)`` (``data`` is the list of ack
    arguments).
"""

from __future__ import annotations

import itertools
import logging
import threading
from collections.abc import Hashable, Iterator
from typing import Any, Callable

from .._kernels import fanout as _fanout_kernel
from .dispatch import EVENT

default_logger = logging.getLogger("fastsock.socketio")

_fanout = _fanout_kernel.fanout

# client states
PENDING, CONNECTED, DISCONNECTING = 0, 1, 2


class _Client:
    """One client connected (or connecting) to one namespace."""

    __slots__ = ("eio_sid", "namespace", "rooms", "sid", "socket", "state")

    def __init__(self, sid: str, eio_sid: str, namespace: str, socket: Any) -> None:
        self.sid = sid
        self.eio_sid = eio_sid
        self.namespace = namespace
        self.socket = socket
        # a dict used as an ordered set: get_rooms() lists rooms in the order they were entered
        self.rooms: dict = {sid: None}
        self.state = PENDING


def _is_room_list(room: Any) -> bool:
    # python-socketio's rule: anything sized but a string is a list of rooms
    return hasattr(room, "__len__") and not isinstance(room, str)


class Manager:
    """Keeps the clients and rooms of a single server process in memory.

    ``server.manager`` is an instance of this class unless ``client_manager`` is given.
    Read it with ``get_participants(namespace, room)``, ``get_rooms(sid, namespace)``,
    ``get_namespaces()`` and ``is_connected(sid, namespace)``.
    """

    def __init__(self) -> None:
        self.server: Any = None
        self.logger: logging.Logger | None = None
        self.json: Any = None
        #: namespace -> room -> sid -> eio Socket; the room ``None`` holds every accepted client
        self.rooms: dict[str, dict[Hashable, dict[str, Any]]] = {}
        #: sid -> {0: id counter, ack id: callback}
        self.callbacks: dict[str, dict[int, Any]] = {}
        self._clients: dict[str, dict[str, _Client]] = {}
        self._by_eio: dict[str, dict[str, _Client]] = {}
        # guards room/client mutations against concurrent handlers in threading mode; emits only
        # snapshot a room (one C-level copy) and need no lock
        self._lock = threading.Lock()

    # -- lifecycle --------------------------------------------------------------------------
    def set_server(self, server: Any) -> None:
        """Attach the manager to its server (called by the server's constructor)."""
        self.server = server
        self.json = getattr(server, "json", None)

    def initialize(self) -> None:
        """Called once, before the first connection is handled. Subclasses start tasks here."""

    def _get_logger(self) -> logging.Logger:
        if self.logger:
            return self.logger
        if self.server is not None:
            return self.server.logger
        return default_logger

    # -- reads ------------------------------------------------------------------------------
    def get_namespaces(self):
        """Return an iterable of the namespaces that have clients."""
        return self.rooms.keys()

    def get_participants(self, namespace: str, room: Any) -> Iterator[tuple[str, str]]:
        """Yield ``(sid, eio_sid)`` for each client in ``room`` (a room or a list of rooms)."""
        members = self._members(self.rooms.get(namespace), room)
        for sid, socket in list(members.items()):
            yield sid, socket.sid

    def get_rooms(self, sid: str, namespace: str) -> list:
        """Return the rooms ``sid`` is in, its own room included."""
        client = self._clients.get(namespace, {}).get(sid)
        return list(client.rooms) if client is not None else []

    def is_sid_room(self, namespace: str, room: Any) -> bool:
        """True when ``room`` is the own room of a client of ``namespace``."""
        try:
            return room in self._clients.get(namespace, ())
        except TypeError:  # an unhashable room name is no sid
            return False

    def is_connected(self, sid: str, namespace: str) -> bool:
        """True when ``sid`` is fully connected to ``namespace`` (not connecting or leaving)."""
        client = self._clients.get(namespace, {}).get(sid)
        return client is not None and client.state == CONNECTED

    def is_pre_connected(self, sid: str, namespace: str) -> bool:
        """True while ``sid``'s connect handler for ``namespace`` has not accepted it yet."""
        client = self._clients.get(namespace, {}).get(sid)
        return client is not None and client.state == PENDING

    def sid_from_eio_sid(self, eio_sid: str, namespace: str) -> str | None:
        """Return the sid of Engine.IO connection ``eio_sid`` in ``namespace``, or None."""
        client = self._by_eio.get(eio_sid, {}).get(namespace)
        return client.sid if client is not None else None

    def eio_sid_from_sid(self, sid: str, namespace: str) -> str | None:
        """Return the Engine.IO sid of ``sid`` in ``namespace``, or None."""
        client = self._clients.get(namespace, {}).get(sid)
        return client.eio_sid if client is not None else None

    def eio_namespaces(self, eio_sid: str) -> list[str]:
        """Return the namespaces Engine.IO connection ``eio_sid`` is in."""
        return list(self._by_eio.get(eio_sid, ()))

    # -- connections ------------------------------------------------------------------------
    def pre_connect(self, eio_sid: str, namespace: str) -> str | None:
        """Register a connecting client; returns its new sid, or None if already connected.

        A client still leaving the namespace (its disconnect handler running) does not count:
        a client may reconnect as soon as it is told it was disconnected.
        """
        socket = self.server.eio.get_socket(eio_sid)
        if socket is None:  # the Engine.IO connection is already gone
            return None
        sid = self.server.eio.generate_id()
        client = _Client(sid, eio_sid, namespace, socket)
        with self._lock:
            existing = self._by_eio.get(eio_sid, {}).get(namespace)
            if existing is not None and existing.state != DISCONNECTING:
                return None
            self._clients.setdefault(namespace, {})[sid] = client
            self._by_eio.setdefault(eio_sid, {})[namespace] = client
            # only its own room for now: namespace broadcasts reach it once it is accepted
            self.rooms.setdefault(namespace, {})[sid] = {sid: socket}
        return sid

    def connect(self, sid: str, namespace: str) -> str | None:
        """Mark a pre-connected client as connected.

        As in python-socketio, a ``sid`` that is not pre-connected is taken as an Engine.IO sid
        and connected in one step.
        """
        client = self._clients.get(namespace, {}).get(sid)
        if client is None:
            sid = self.pre_connect(sid, namespace)
            if sid is None:
                return None
            client = self._clients[namespace][sid]
        with self._lock:
            if client.state == PENDING:
                self.rooms[namespace].setdefault(None, {})[sid] = client.socket
                client.state = CONNECTED
        return sid

    def pre_disconnect(self, sid: str, namespace: str) -> str | None:
        """Mark ``sid`` as leaving (its data stays for the disconnect handler); returns its
        Engine.IO sid, or None when it is unknown or already leaving, so that of a server-side
        and a client-side disconnect racing each other only one runs the disconnect handler."""
        with self._lock:
            client = self._clients.get(namespace, {}).get(sid)
            if client is None or client.state == DISCONNECTING:
                return None
            client.state = DISCONNECTING
            return client.eio_sid

    def can_disconnect(self, sid: str, namespace: str) -> bool:
        """True when this host can disconnect ``sid`` itself."""
        return self.is_connected(sid, namespace)

    def disconnect(self, sid: str, namespace: str, **kwargs: Any) -> None:
        """Forget ``sid`` in ``namespace``: leave its rooms, drop its pending acks."""
        self.basic_disconnect(sid, namespace)

    def basic_disconnect(self, sid: str, namespace: str, **kwargs: Any) -> None:
        """The local part of :meth:`disconnect` (message-queue managers call this)."""
        with self._lock:
            clients = self._clients.get(namespace)
            client = clients.pop(sid, None) if clients else None
            if client is None:
                return
            ns_rooms = self.rooms.get(namespace, {})
            for room in client.rooms:
                self._discard(ns_rooms, room, sid)
            self._discard(ns_rooms, None, sid)
            client.rooms = {}
            per_eio = self._by_eio.get(client.eio_sid)
            # the connection may already have connected to the namespace again
            if per_eio is not None and per_eio.get(namespace) is client:
                del per_eio[namespace]
                if not per_eio:
                    del self._by_eio[client.eio_sid]
            if not clients:
                del self._clients[namespace]
            if not ns_rooms:
                self.rooms.pop(namespace, None)
        self.callbacks.pop(sid, None)

    @staticmethod
    def _discard(ns_rooms: dict, room: Any, sid: str) -> None:
        members = ns_rooms.get(room)
        if members is not None:
            members.pop(sid, None)
            if not members:
                del ns_rooms[room]

    # -- rooms ------------------------------------------------------------------------------
    def enter_room(self, sid: str, namespace: str, room: Any, eio_sid: str | None = None) -> None:
        """Add ``sid`` to ``room`` (created on first use)."""
        self.basic_enter_room(sid, namespace, room)

    def basic_enter_room(
        self, sid: str, namespace: str, room: Any, eio_sid: str | None = None
    ) -> None:
        """The local part of :meth:`enter_room`."""
        if room is None:
            raise ValueError("a room name cannot be None")
        with self._lock:
            clients = self._clients.get(namespace, {})
            client = clients.get(sid)
            if client is None:
                raise ValueError("sid is not connected to requested namespace")
            if room != sid and room in clients:
                raise ValueError("cannot enter a sid room")
            self.rooms[namespace].setdefault(room, {})[sid] = client.socket
            client.rooms[room] = None

    def leave_room(self, sid: str, namespace: str, room: Any) -> None:
        """Remove ``sid`` from ``room``; nothing happens if it is not in it."""
        self.basic_leave_room(sid, namespace, room)

    def basic_leave_room(self, sid: str, namespace: str, room: Any) -> None:
        """The local part of :meth:`leave_room`."""
        if room is None:
            return
        with self._lock:
            client = self._clients.get(namespace, {}).get(sid)
            if client is None or room not in client.rooms:
                return
            del client.rooms[room]
            self._discard(self.rooms[namespace], room, sid)

    def close_room(self, room: Any, namespace: str) -> None:
        """Remove every client from ``room``."""
        self.basic_close_room(room, namespace)

    def basic_close_room(self, room: Any, namespace: str) -> None:
        """The local part of :meth:`close_room`."""
        if self.is_sid_room(namespace, room):
            raise ValueError("cannot close a sid room")
        if room is None:
            return
        with self._lock:
            ns_rooms = self.rooms.get(namespace)
            members = ns_rooms.pop(room, None) if ns_rooms else None
            if not members:
                return
            clients = self._clients.get(namespace, {})
            for sid in members:
                client = clients.get(sid)
                if client is not None:
                    client.rooms.pop(room, None)

    # -- fan-out ----------------------------------------------------------------------------
    @staticmethod
    def _members(ns_rooms: dict | None, room: Any) -> dict:
        """The ``sid -> Socket`` mapping of a room, or the union of a list of rooms."""
        if not ns_rooms:
            return {}
        if not _is_room_list(room):
            return ns_rooms.get(room) or {}
        # a union is only built when two or more of the rooms have members
        first = merged = None
        for r in room:
            members = ns_rooms.get(r)
            if not members:
                continue
            if first is None:
                first = members
            else:
                if merged is None:
                    merged = dict(first)
                merged.update(members)
        return merged if merged is not None else (first or {})

    def _skip_sockets(self, namespace: str, skip_sid: Any) -> Any:
        """The socket of ``skip_sid``, or the set of sockets of a list of sids, or None."""
        if skip_sid is None:
            return None
        clients = self._clients.get(namespace, {})
        if isinstance(skip_sid, str) or not _is_room_list(skip_sid):
            client = clients.get(skip_sid)
            return client.socket if client is not None else None
        skip = set()
        for sid in skip_sid:
            client = clients.get(sid)
            if client is not None:
                skip.add(client.socket)
        return skip

    def emit(
        self,
        event: str,
        data: Any,
        namespace: str,
        room: Any = None,
        skip_sid: Any = None,
        callback: Callable | None = None,
        to: Any = None,
        **kwargs: Any,
    ) -> None:
        """Send an event to one client, a room, a list of rooms, or the whole namespace.

        ``data`` is one argument, or a tuple of arguments. Without ``callback`` the event is
        encoded once and the same prepared Engine.IO message(s) go to every recipient; with a
        ``callback`` each recipient gets its own ack id (and so its own encoding).
        """
        if to is not None:
            room = to
        members = self._members(self.rooms.get(namespace), room)
        if not members:
            return
        if isinstance(data, tuple):
            args = [event, *data]
        elif data is None:
            args = [event]
        else:
            args = [event, data]
        skip = self._skip_sockets(namespace, skip_sid)
        server = self.server
        if callback is None:
            # the fast path: the room walk runs in the fanout kernel (it copies the room once,
            # so concurrent joins/leaves are harmless)
            _fanout(members, server._prepare_packet(server._packet(EVENT, args, namespace)), skip)
            return
        if skip is not None and not isinstance(skip, set):
            skip = {skip}
        for sid, socket in list(members.items()):
            if skip and socket in skip:
                continue
            ack_id = self._generate_ack_id(sid, callback)
            server._send_to_socket(socket, server._packet(EVENT, args, namespace, ack_id))

    # -- acks -------------------------------------------------------------------------------
    def _generate_ack_id(self, sid: str, callback: Callable) -> int:
        """Register ``callback`` for the next ack id of ``sid`` and return that id."""
        callbacks = self.callbacks.get(sid)
        if callbacks is None:
            callbacks = self.callbacks.setdefault(sid, {0: itertools.count(1)})
        ack_id = next(callbacks[0])
        callbacks[ack_id] = callback
        return ack_id

    def trigger_callback(self, sid: str, id: int, data: list) -> None:
        """Run the callback waiting for ack ``id`` of ``sid`` with the ack's arguments."""
        callbacks = self.callbacks.get(sid)
        callback = callbacks.pop(id, None) if callbacks and id else None
        if callback is None:
            self._get_logger().warning("Unknown callback received, ignoring.")
            return
        callback(*data)
