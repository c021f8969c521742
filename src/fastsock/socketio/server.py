"""The framework-agnostic Socket.IO v5 server (python-socketio's ``socketio.Server`` API)."""

from __future__ import annotations

import functools
import logging
from typing import Any, Callable

from .. import engineio
from .._kernels import json as _json
from .._kernels import sio
from .dispatch import DISCONNECT, Dispatcher
from .exceptions import TimeoutError
from .manager import Manager

default_logger = logging.getLogger("socketio.server")


class Server(Dispatcher):
    """A Socket.IO server, over the Engine.IO server in ``self.eio``.

    :param client_manager: the object that tracks clients and rooms (see
                           :mod:`fastsock.socketio.manager` for its interface); an in-memory
                           :class:`Manager` when omitted.
    :param logger: ``True`` to log at INFO level, ``False`` (default) for errors only, or a
                   :class:`logging.Logger`. Whether INFO is enabled is read once here, so
                   per-packet logging costs one attribute test when it is off.
    :param serializer: ``'default'`` (JSON), ``'msgpack'``, or a :class:`Packet` subclass.
    :param json: a module with ``dumps``/``loads`` (``json``, ``flask.json``, ...) used by this
                 server only (python-socketio makes it process-wide); orjson by default.
    :param async_handlers: ``True`` (default) runs event handlers concurrently; ``False`` runs
                           one connection's events one after the other, in order.
    :param always_connect: ``False`` (default) accepts a connection when its connect handler
                           returns; ``True`` accepts it first and disconnects it if the handler
                           refuses it.
    :param namespaces: namespaces accepted besides those with handlers; ``['/']`` by default,
                       ``'*'`` for all.
    :param engineio_logger: the ``logger`` option of the Engine.IO server.
    :param engineio_options: any other option goes to :class:`fastsock.engineio.Server`
                             (``async_mode``, ``ping_interval``, ``cors_allowed_origins``, ...).
    """

    reason = engineio.Server.reason

    def __init__(
        self,
        client_manager: Any = None,
        logger: bool | logging.Logger = False,
        serializer: Any = "default",
        json: Any = None,
        async_handlers: bool = True,
        always_connect: bool = False,
        namespaces: Any = None,
        **engineio_options: Any,
    ) -> None:
        engineio_logger = engineio_options.pop("engineio_logger", None)
        if engineio_logger is not None:
            engineio_options["logger"] = engineio_logger
        if serializer == "default":
            self.packet_class = sio.Packet
        elif serializer == "msgpack":
            self.packet_class = sio.MsgPackPacket
        else:
            self.packet_class = serializer
        if json is not None:
            engineio_options["json"] = json
            self.json = json if isinstance(json, _json.JsonAdapter) else _json.JsonAdapter(json)
            self._new_packet = functools.partial(self.packet_class, json=self.json)
        else:
            self.json = _json.default_adapter()
            self._new_packet = self.packet_class
        # one connection's packets are decoded in order (binary attachments, connect before
        # events); concurrency, when wanted, starts at the event handler (see _spawn)
        engineio_options["async_handlers"] = False
        self.eio = self._engineio_server_class()(**engineio_options)
        self.eio.on("connect", self._handle_eio_connect)
        self.eio.on("message", self._handle_eio_message)
        self.eio.on("disconnect", self._handle_eio_disconnect)

        #: eio sid -> WSGI environ of the connection request
        self.environ: dict[str, dict] = {}
        #: strings shared by the kept environs (see :mod:`.environs`)
        self._environ_strings: dict[str, str] = {}
        self.handlers: dict[str, dict[str, Callable]] = {}
        self.namespace_handlers: dict[str, Any] = {}
        self.not_handled = object()
        self._binary_packet: dict[str, Any] = {}
        self._virtual: set[str] = set()

        if isinstance(logger, bool):
            self.logger = default_logger
            if self.logger.level == logging.NOTSET:
                self.logger.setLevel(logging.INFO if logger else logging.ERROR)
                self.logger.addHandler(logging.StreamHandler())
        else:
            self.logger = logger
        self._info = self.logger.isEnabledFor(logging.INFO)

        self.manager = client_manager if client_manager is not None else Manager()
        self.manager.set_server(self)
        self.manager_initialized = False

        self.async_handlers = async_handlers
        self.always_connect = always_connect
        self.namespaces = namespaces or ["/"]
        self.async_mode = self.eio.async_mode
        # the Engine.IO layer's handler runner: a greenlet per call under gevent, a bounded
        # thread pool under threading (not a new thread per event)
        driver = getattr(self.eio, "_driver", None)
        self._spawn = getattr(driver, "run_handler", None) or self.eio.start_background_task

    def _engineio_server_class(self) -> type:
        return engineio.Server

    def is_asyncio_based(self) -> bool:
        """Always False (gevent or threads)."""
        return False

    # -- sending ----------------------------------------------------------------------------
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
        """Emit an event to one client, a room, a list of rooms, or every client.

        :param event: the event name.
        :param data: one argument (``str``, ``bytes``, ``list``, ``dict``, numbers, ...), or a
                     tuple of arguments.
        :param to: a sid, a room, or a list of rooms; every client of the namespace when
                   omitted. ``room`` is an alias.
        :param skip_sid: a sid, or a list of sids, not to send to.
        :param namespace: the namespace, ``'/'`` by default.
        :param callback: called with the client's ack arguments; each recipient gets its own
                         ack id.
        :param ignore_queue: with a message queue, emit to this server's clients directly.

        The event is encoded once and the same prepared frame goes to every recipient. Data
        that cannot be serialized raises :class:`TypeError`.
        """
        namespace = namespace or "/"
        room = to if to is not None else room
        if self._info:
            self.logger.info('emitting event "%s" to %s [%s]', event, room or "all", namespace)
        self.manager.emit(
            event,
            data,
            namespace,
            room=room,
            skip_sid=skip_sid,
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
        """Emit a ``'message'`` event; the arguments are those of :meth:`emit`."""
        self.emit(
            "message",
            data=data,
            to=to,
            room=room,
            skip_sid=skip_sid,
            namespace=namespace,
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
        """Emit an event to one client and wait for its acknowledgement.

        Returns the ack's argument (a tuple for several, None for none). Raises
        :class:`~fastsock.socketio.exceptions.TimeoutError` when no ack comes within
        ``timeout`` seconds. Needs ``async_handlers=True`` when called from a handler.
        """
        if to is None and sid is None:
            raise ValueError("Cannot use call() to broadcast.")
        if not self.async_handlers:
            raise RuntimeError("Cannot use call() when async_handlers is False.")
        done = self.eio.create_event()
        result: list = []

        def on_ack(*args: Any) -> None:
            result.append(args)
            done.set()

        self.emit(
            event,
            data=data,
            room=to or sid,
            namespace=namespace,
            callback=on_ack,
            ignore_queue=ignore_queue,
        )
        if not done.wait(timeout=timeout):
            raise TimeoutError()
        args = result[0]
        if len(args) > 1:
            return args
        return args[0] if args else None

    def _packet(
        self,
        packet_type: int,
        data: Any = None,
        namespace: str | None = None,
        id: int | None = None,
    ) -> Any:
        return self._new_packet(packet_type, data=data, namespace=namespace, id=id)

    def _prepare_packet(self, pkt: Any) -> tuple:
        """Encode a packet once into the Engine.IO message(s) every recipient can share."""
        encoded = pkt.encode()
        if isinstance(encoded, list):
            return tuple(self.eio.prepare(part) for part in encoded)
        return (self.eio.prepare(encoded),)

    def _send_packet(self, eio_sid: str, pkt: Any) -> None:
        """Send a packet to one Engine.IO connection."""
        encoded = pkt.encode()
        if isinstance(encoded, list):
            for part in encoded:
                self.eio.send(eio_sid, part)
        else:
            self.eio.send(eio_sid, encoded)

    def _send_to_socket(self, socket: Any, pkt: Any) -> None:
        encoded = pkt.encode()
        if isinstance(encoded, list):
            for part in encoded:
                socket.send(part)
        else:
            socket.send(encoded)

    # -- rooms ------------------------------------------------------------------------------
    def enter_room(self, sid: str, room: Any, namespace: str | None = None) -> None:
        """Add client ``sid`` to ``room`` (created on first use)."""
        namespace = namespace or "/"
        if self._info:
            self.logger.info("%s is entering room %s [%s]", sid, room, namespace)
        self.manager.enter_room(sid, namespace, room)

    def leave_room(self, sid: str, room: Any, namespace: str | None = None) -> None:
        """Remove client ``sid`` from ``room``."""
        namespace = namespace or "/"
        if self._info:
            self.logger.info("%s is leaving room %s [%s]", sid, room, namespace)
        self.manager.leave_room(sid, namespace, room)

    def close_room(self, room: Any, namespace: str | None = None) -> None:
        """Remove every client from ``room``."""
        namespace = namespace or "/"
        if self._info:
            self.logger.info("room %s is closing [%s]", room, namespace)
        self.manager.close_room(room, namespace)

    def rooms(self, sid: str, namespace: str | None = None) -> list:
        """Return the rooms client ``sid`` is in, its own room included."""
        return self.manager.get_rooms(sid, namespace or "/")

    # -- sessions and connection info ---------------------------------------------------------
    def get_session(self, sid: str, namespace: str | None = None) -> dict:
        """Return the session dict of client ``sid`` in ``namespace``.

        Changes are kept only after :meth:`save_session` or inside :meth:`session`.
        """
        namespace = namespace or "/"
        eio_sid = self.manager.eio_sid_from_sid(sid, namespace)
        return self.eio.get_session(eio_sid).setdefault(namespace, {})

    def save_session(self, sid: str, session: dict, namespace: str | None = None) -> None:
        """Store ``session`` as the session of client ``sid`` in ``namespace``."""
        namespace = namespace or "/"
        eio_sid = self.manager.eio_sid_from_sid(sid, namespace)
        self.eio.get_session(eio_sid)[namespace] = session

    def session(self, sid: str, namespace: str | None = None) -> _SessionContext:
        """The session of ``sid`` as a context manager that saves it on exit.

        Example::

            with sio.session(sid) as session:
                session['username'] = username
        """
        return _SessionContext(self, sid, namespace)

    def transport(self, sid: str, namespace: str | None = None) -> str:
        """Return ``'polling'`` or ``'websocket'``: the transport client ``sid`` uses."""
        return self.eio.transport(self.manager.eio_sid_from_sid(sid, namespace or "/"))

    def get_environ(self, sid: str, namespace: str | None = None) -> dict | None:
        """Return the WSGI environ of the request that opened client ``sid``'s connection."""
        return self.environ.get(self.manager.eio_sid_from_sid(sid, namespace or "/"))

    # -- disconnecting ----------------------------------------------------------------------
    def disconnect(
        self, sid: str, namespace: str | None = None, ignore_queue: bool = False
    ) -> None:
        """Disconnect client ``sid`` from ``namespace`` (its disconnect handler gets
        ``reason.SERVER_DISCONNECT``)."""
        namespace = namespace or "/"
        manager = self.manager
        if ignore_queue:
            here = manager.is_connected(sid, namespace)
        else:
            here = manager.can_disconnect(sid, namespace)
        if not here:
            return
        if self._info:
            self.logger.info("Disconnecting %s [%s]", sid, namespace)
        eio_sid = manager.pre_disconnect(sid, namespace)
        if eio_sid is None:
            return  # already leaving
        self._send_packet(eio_sid, self._packet(DISCONNECT, None, namespace))
        self._run_disconnect_handler(sid, eio_sid, namespace, self.reason.SERVER_DISCONNECT)

    def shutdown(self) -> None:
        """Stop the server's background tasks; call it before stopping the web server."""
        if self._info:
            self.logger.info("Socket.IO is shutting down")
        self.eio.shutdown()

    def instrument(self, *args: Any, **kwargs: Any) -> Any:
        """python-socketio's Admin UI instrumentation; not available in fastsock."""
        raise NotImplementedError("the Socket.IO Admin UI is not supported by fastsock")

    # -- serving and tasks ------------------------------------------------------------------
    def handle_request(self, environ: dict, start_response: Callable) -> Any:
        """The WSGI entry point (normally reached through :class:`WSGIApp`)."""
        return self.eio.handle_request(environ, start_response)

    def start_background_task(self, target: Callable, *args: Any, **kwargs: Any) -> Any:
        """Run ``target(*args, **kwargs)`` as a task of the async mode; returns an object with
        ``join()``."""
        return self.eio.start_background_task(target, *args, **kwargs)

    def sleep(self, seconds: float = 0) -> None:
        """Sleep in the way of the async mode (yields to other greenlets under gevent)."""
        return self.eio.sleep(seconds)


class _SessionContext:
    def __init__(self, server: Server, sid: str, namespace: str | None) -> None:
        self.server = server
        self.sid = sid
        self.namespace = namespace
        self.session: dict | None = None

    def __enter__(self) -> dict:
        self.session = self.server.get_session(self.sid, namespace=self.namespace)
        return self.session

    def __exit__(self, *exc: object) -> None:
        self.server.save_session(self.sid, self.session, namespace=self.namespace)
