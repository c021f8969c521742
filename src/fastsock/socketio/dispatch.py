"""Inbound side of the Socket.IO server: handler registry and packet dispatch.

Engine.IO messages come in through ``_handle_eio_connect`` / ``_handle_eio_message`` /
``_handle_eio_disconnect`` (registered on ``self.eio``), are decoded into Socket.IO packets (binary
packets wait here for their attachments) and reach the application's handlers with
python-socketio's signatures:

- ``connect``: ``handler(sid, environ, auth)``, or ``handler(sid, environ)`` for handlers without
  the ``auth`` argument when the client sent no auth;
- ``disconnect``: ``handler(sid, reason)``, or ``handler(sid)``;
- other events: ``handler(sid, *args)``; the return value is the ack (a tuple gives several
  arguments, ``None`` none);
- a catch-all event handler (``'*'``) receives the event name first, a catch-all namespace
  handler (``namespace='*'``) the namespace first, and one that is both receives
  ``(event, namespace, sid, *args)``.

Engine.IO runs one connection's messages in order here (``async_handlers=False`` at that layer),
so a connect handler completes before the same client's events are looked at, and binary
attachments arrive in order. Event handlers then run concurrently when ``async_handlers`` is on.
"""

from __future__ import annotations

import builtins
from typing import Any, Callable, ClassVar

from ..engineio import VirtualSocket
from ..exceptions import PacketError
from .environs import share_strings
from .exceptions import ConnectionRefusedError

CONNECT, DISCONNECT, EVENT, ACK, CONNECT_ERROR, BINARY_EVENT, BINARY_ACK = range(7)


def _refusal_payload(exc: BaseException) -> dict | None:
    """CONNECT_ERROR payload for an exception that refuses a connection, else None."""
    if isinstance(exc, ConnectionRefusedError):
        return exc.error_args
    # python-socketio's own ConnectionRefusedError (shared code may import it directly)
    error_args = getattr(exc, "error_args", None)
    if type(exc).__name__ == "ConnectionRefusedError" and isinstance(error_args, dict):
        return error_args
    if isinstance(exc, builtins.ConnectionRefusedError):
        return {"message": "Connection refused by server"}
    return None


class Dispatcher:
    """Handler registration and the inbound packet path; :class:`Server` derives from it."""

    reserved_events: ClassVar[list[str]] = ["connect", "disconnect"]

    # set by Server.__init__
    eio: Any
    manager: Any
    logger: Any
    handlers: dict
    namespace_handlers: dict
    namespaces: Any
    environ: dict
    _environ_strings: dict
    async_handlers: bool
    always_connect: bool
    not_handled: object
    _info: bool

    # -- registration -----------------------------------------------------------------------
    def on(self, event: str, handler: Callable | None = None, namespace: str | None = None):
        """Register an event handler, as a decorator or directly.

        ``event`` is the event name (``'connect'``, ``'disconnect'``, any custom name, or
        ``'*'`` for a catch-all handler); ``namespace`` defaults to ``'/'`` and may be ``'*'``
        for a catch-all namespace handler::

            @sio.on('connect', namespace='/chat')
            def connect(sid, environ, auth):
                if not auth:
                    return False  # reject

            sio.on('chat message', handler=message_handler, namespace='/chat')
        """
        namespace = namespace or "/"

        def set_handler(handler: Callable) -> Callable:
            self.handlers.setdefault(namespace, {})[event] = handler
            return handler

        if handler is None:
            return set_handler
        set_handler(handler)
        return None

    def event(self, *args: Any, **kwargs: Any):
        """Decorator registering a handler named after the function: ``@sio.event`` or
        ``@sio.event(namespace='/chat')``."""
        if len(args) == 1 and not kwargs and callable(args[0]):
            return self.on(args[0].__name__)(args[0])

        def set_handler(handler: Callable) -> Callable:
            return self.on(handler.__name__, *args, **kwargs)(handler)

        return set_handler

    def register_namespace(self, namespace_handler: Any) -> None:
        """Register a class-based namespace (an instance of a :class:`Namespace` subclass)."""
        from .namespace import Namespace

        if not isinstance(namespace_handler, Namespace):
            raise ValueError("Not a namespace instance")  # noqa: TRY004 - python-socketio's
        namespace_handler._set_server(self)
        self.namespace_handlers[namespace_handler.namespace] = namespace_handler

    # -- handler lookup ---------------------------------------------------------------------
    def _get_event_handler(self, event: str, namespace: str, args: tuple):
        # priority: handlers[ns][event], handlers[ns]['*'], handlers['*'][event],
        # handlers['*']['*']; reserved events never go to a catch-all event handler
        handlers = self.handlers.get(namespace)
        if handlers is not None:
            handler = handlers.get(event)
            if handler is not None:
                return handler, args
            if "*" in handlers and event not in self.reserved_events:
                return handlers["*"], (event, *args)
        handlers = self.handlers.get("*")
        if handlers is not None:
            handler = handlers.get(event)
            if handler is not None:
                return handler, (namespace, *args)
            if "*" in handlers and event not in self.reserved_events:
                return handlers["*"], (event, namespace, *args)
        return None, args

    def _get_namespace_handler(self, namespace: str, args: tuple):
        handler = self.namespace_handlers.get(namespace)
        if handler is not None:
            return handler, args
        handler = self.namespace_handlers.get("*")
        if handler is not None:
            return handler, (namespace, *args)
        return None, args

    def _trigger_event(self, event: str, namespace: str, *args: Any) -> Any:
        """Run the handler of ``event``; returns ``self.not_handled`` when there is none."""
        return self._run_handler(event, namespace, args, event == "disconnect")

    def _run_handler(self, event: str, namespace: str, args: tuple, legacy: bool) -> Any:
        # legacy: the handler may be an older one without the last argument (auth/reason)
        handler, args = self._get_event_handler(event, namespace, args)
        if handler is not None:
            if legacy:
                return call_legacy(handler, args)
            return handler(*args)
        handler, args = self._get_namespace_handler(namespace, args)
        if handler is not None:
            return handler.trigger_event(event, *args)
        return self.not_handled

    # -- Engine.IO callbacks ----------------------------------------------------------------
    def _handle_eio_connect(self, eio_sid: str, environ: dict) -> None:
        if not self.manager_initialized:
            self.manager_initialized = True
            self.manager.initialize()
        share_strings(environ, self._environ_strings)
        self.environ[eio_sid] = environ
        if isinstance(self.eio.get_socket(eio_sid), VirtualSocket):
            self._virtual.add(eio_sid)

    def _handle_eio_message(self, eio_sid: str, data: str | bytes) -> None:
        pending = self._binary_packet.get(eio_sid)
        try:
            if pending is not None:
                if not pending.add_attachment(data):
                    return
                del self._binary_packet[eio_sid]
                pkt = pending
            else:
                pkt = self._new_packet(encoded_packet=data)
                if pkt.attachment_count:
                    self._binary_packet[eio_sid] = pkt
                    return
        except Exception as exc:  # noqa: BLE001 - user Packet classes raise anything
            self._protocol_error(eio_sid, f"invalid packet: {exc}")
            return
        packet_type = pkt.packet_type
        namespace = pkt.namespace or "/"
        if packet_type == EVENT or packet_type == BINARY_EVENT:
            self._handle_event(eio_sid, namespace, pkt.id, pkt.data)
        elif packet_type == ACK or packet_type == BINARY_ACK:
            self._handle_ack(eio_sid, namespace, pkt.id, pkt.data)
        elif packet_type == CONNECT:
            self._handle_connect(eio_sid, namespace, pkt.data)
        elif packet_type == DISCONNECT:
            self._handle_disconnect(eio_sid, namespace, self.reason.CLIENT_DISCONNECT)
        else:
            self._protocol_error(eio_sid, f"unexpected packet type {packet_type}")

    def _handle_eio_disconnect(self, eio_sid: str, reason: str | None = None) -> None:
        try:
            for namespace in self.manager.eio_namespaces(eio_sid):
                self._handle_disconnect(eio_sid, namespace, reason)
        finally:
            self.environ.pop(eio_sid, None)
            self._binary_packet.pop(eio_sid, None)
            self._virtual.discard(eio_sid)

    def _protocol_error(self, eio_sid: str, message: str) -> None:
        # like the JavaScript server: a client that breaks the protocol loses its connection
        if eio_sid in self._virtual:
            raise PacketError(message)
        self.logger.warning("Closing connection %s: %s", eio_sid, message)
        self.eio.disconnect(eio_sid)

    # -- Socket.IO packets ------------------------------------------------------------------
    def _namespace_allowed(self, namespace: str) -> bool:
        return (
            namespace in self.handlers
            or namespace in self.namespace_handlers
            or self.namespaces == "*"
            or namespace in self.namespaces
        )

    def _handle_connect(self, eio_sid: str, namespace: str, auth: Any) -> None:
        if not self._namespace_allowed(namespace):
            # the JavaScript server's payload; python-socketio sends the bare string
            # 'Unable to connect', which JavaScript clients turn into an empty error message
            self._send_packet(
                eio_sid, self._packet(CONNECT_ERROR, {"message": "Invalid namespace"}, namespace)
            )
            return
        manager = self.manager
        sid = manager.pre_connect(eio_sid, namespace)
        if sid is None:
            self._send_packet(
                eio_sid, self._packet(CONNECT_ERROR, {"message": "Unable to connect"}, namespace)
            )
            return
        if self._info:
            self.logger.info("%s connecting to namespace %s", sid, namespace)
        if self.always_connect:
            self._send_packet(eio_sid, self._packet(CONNECT, {"sid": sid}, namespace))
            manager.connect(sid, namespace)
        fail_reason: dict = ConnectionRefusedError().error_args
        try:
            success = self._run_handler(
                "connect", namespace, (sid, self.environ.get(eio_sid), auth or None), not auth
            )
        except Exception as exc:
            refusal = _refusal_payload(exc)
            if refusal is None:
                if eio_sid in self._virtual:
                    manager.disconnect(sid, namespace, ignore_queue=True)
                    raise
                self.logger.exception("Error in the connect handler of %s", namespace)
            else:
                fail_reason = refusal
            success = False
        if success is False:
            if self.always_connect:
                manager.pre_disconnect(sid, namespace)
                # no payload: socket.io-parser rejects a DISCONNECT that carries one
                self._send_packet(eio_sid, self._packet(DISCONNECT, None, namespace))
            else:
                self._send_packet(eio_sid, self._packet(CONNECT_ERROR, fail_reason, namespace))
            manager.disconnect(sid, namespace, ignore_queue=True)
        elif not self.always_connect and manager.is_pre_connected(sid, namespace):
            self._send_packet(eio_sid, self._packet(CONNECT, {"sid": sid}, namespace))
            manager.connect(sid, namespace)

    def _handle_disconnect(self, eio_sid: str, namespace: str, reason: str | None = None) -> None:
        manager = self.manager
        sid = manager.sid_from_eio_sid(eio_sid, namespace)
        if sid is None:
            return
        if not manager.is_connected(sid, namespace):
            # still in its connect handler (or already leaving): no disconnect event for it
            if manager.is_pre_connected(sid, namespace):
                manager.disconnect(sid, namespace, ignore_queue=True)
            return
        if manager.pre_disconnect(sid, namespace) is None:
            return  # a server-side disconnect of it is under way
        if self._info:
            self.logger.info("%s disconnected from %s (%s)", sid, namespace, reason)
        self._run_disconnect_handler(
            sid, eio_sid, namespace, reason or self.reason.CLIENT_DISCONNECT
        )

    def _run_disconnect_handler(self, sid: str, eio_sid: str, namespace: str, reason: str) -> None:
        try:
            self._run_handler("disconnect", namespace, (sid, reason), True)
        except Exception:
            if eio_sid in self._virtual:
                raise
            self.logger.exception("Error in the disconnect handler of %s", namespace)
        finally:
            self.manager.disconnect(sid, namespace, ignore_queue=True)

    def _handle_event(self, eio_sid: str, namespace: str, id: int | None, data: list) -> None:
        sid = self.manager.sid_from_eio_sid(eio_sid, namespace)
        if sid is None or not self.manager.is_connected(sid, namespace):
            self.logger.warning("%s is not connected to namespace %s", eio_sid, namespace)
            return
        if self._info:
            self.logger.info('received event "%s" from %s [%s]', data[0], sid, namespace)
        if eio_sid in self._virtual:
            self._run_event(sid, eio_sid, namespace, id, data, True)
        elif self.async_handlers:
            self._spawn(self._run_event, sid, eio_sid, namespace, id, data, False)
        else:
            self._run_event(sid, eio_sid, namespace, id, data, False)

    def _run_event(
        self, sid: str, eio_sid: str, namespace: str, id: int | None, data: list, virtual: bool
    ) -> None:
        try:
            result = self._run_handler(data[0], namespace, (sid, *data[1:]), False)
            if result is not self.not_handled and id is not None:
                if result is None:
                    args = []
                elif isinstance(result, tuple):
                    args = list(result)
                else:
                    args = [result]
                self._send_packet(eio_sid, self._packet(ACK, args, namespace, id))
        except Exception:
            if virtual:
                raise
            self.logger.exception('Error in the handler of event "%s" [%s]', data[0], namespace)

    def _handle_ack(self, eio_sid: str, namespace: str, id: int | None, data: list) -> None:
        sid = self.manager.sid_from_eio_sid(eio_sid, namespace)
        if sid is None:
            return
        if self._info:
            self.logger.info("received ack from %s [%s]", sid, namespace)
        try:
            self.manager.trigger_callback(sid, id, data)
        except Exception:
            if eio_sid in self._virtual:
                raise
            self.logger.exception("Error in an ack callback [%s]", namespace)


def call_legacy(handler: Callable, args: tuple) -> Any:
    """Call ``handler(*args)``; if it does not accept the last argument, call it without.

    Only a TypeError raised by the call itself (its traceback has no frame of the handler)
    triggers the retry, so a TypeError inside a handler is never mistaken for a signature
    mismatch and the handler never runs twice.
    """
    try:
        return handler(*args)
    except TypeError as exc:
        if exc.__traceback__ is not None and exc.__traceback__.tb_next is not None:
            raise
        return handler(*args[:-1])
