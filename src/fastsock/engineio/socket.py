"""Engine.IO sessions: :class:`Socket` (polling or WebSocket), :class:`VirtualSocket`
(in-process, for test clients) and :class:`PreparedMessage` (one message encoded once).

A :class:`Socket` starts on long-polling — its output is a queue of encoded packets that the
pending GET takes in one payload — and, once upgraded, writes complete WebSocket frames to the
connection's :class:`~fastsock.engineio.writer.Output`. A direct WebSocket connection goes
through the same switch right after its handshake, so the two paths cannot diverge.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any, Callable

from .._kernels import eio, ws
from .writer import cork_option

if TYPE_CHECKING:  # pragma: no cover
    from .server import Server

_MESSAGE = eio.MESSAGE
_encode_packet = eio.encode_packet
_build_frame = ws.build_frame
_TEXT = ws.TEXT
_BINARY = ws.BINARY

_PING_PACKET = b"2"
_CLOSE_PACKET = b"1"
_NOOP_PACKET = b"6"
_PING_FRAME = _build_frame(_TEXT, _PING_PACKET)
_CLOSE_PACKET_FRAME = _build_frame(_TEXT, _CLOSE_PACKET)
_CLOSE_FRAME = ws.build_close(1000)


def _as_message_data(data: Any, json: Any) -> str | bytes:
    """``str`` stays text, bytes-like becomes ``bytes``, anything else is sent as JSON text."""
    if isinstance(data, (str, bytes)):
        return data
    if isinstance(data, (bytearray, memoryview)):
        return bytes(data)
    return json.dumps(data)


def packet_to_frame(packet: bytes) -> bytes:
    """The WebSocket frame carrying an encoded polling packet.

    A text packet is the same bytes on both transports; a binary one (``b`` + base64 on
    polling) is a binary frame of the raw bytes. Only used when moving queued packets to a
    connection that has just switched to WebSocket.
    """
    if packet[:1] == b"b":
        return _build_frame(_BINARY, eio.decode_packet(packet)[1])
    return _build_frame(_TEXT, packet)


class PreparedMessage:
    """One Engine.IO MESSAGE encoded once, to be sent to any number of connections.

    ``frame`` is the complete unmasked WebSocket frame (shared, never copied, by every
    WebSocket recipient); ``packet`` the polling packet (built on first use); ``data`` the
    original ``str`` or ``bytes`` (given to virtual connections).
    """

    __slots__ = ("_packet", "data", "frame")

    def __init__(self, data: str | bytes) -> None:
        self.data = data
        if isinstance(data, str):
            packet = _encode_packet(_MESSAGE, data)
            self._packet = packet
            self.frame = _build_frame(_TEXT, packet)
        else:
            self._packet = None
            self.frame = _build_frame(_BINARY, data)

    @property
    def packet(self) -> bytes:
        """The polling packet (``4<text>`` or ``b<base64>``)."""
        packet = self._packet
        if packet is None:
            packet = self._packet = _encode_packet(_MESSAGE, self.data, True)
        return packet


class Socket:
    """One Engine.IO session.

    Public: ``sid``, ``closed`` (true from the moment the session starts closing; sends are
    then ignored), ``upgraded`` (true once on WebSocket), ``session`` (the user session dict),
    ``send(data)``, ``send_prepared(prepared)``, ``close()``.
    """

    __slots__ = (
        "__weakref__",
        "_awaiting_pong",
        "_hb_gen",
        "_lock",
        "_out",
        "_poll_event",
        "_polling",
        "_queue",
        "_queue_bytes",
        "closed",
        "connected",
        "server",
        "session",
        "sid",
        "upgraded",
        "upgrading",
    )

    def __init__(self, server: Server, sid: str) -> None:
        self.server = server
        self.sid = sid
        self.session: dict = {}
        self.closed = False
        self.upgraded = False
        self.upgrading = False
        self.connected = False
        self._lock = threading.Lock()
        self._queue: list = []
        self._queue_bytes = 0
        self._poll_event = None
        self._polling = False
        self._out = None
        self._hb_gen = 0
        self._awaiting_pong = False

    def __repr__(self) -> str:
        state = "closed" if self.closed else ("websocket" if self.upgraded else "polling")
        return f"<engineio.Socket {self.sid} {state}>"

    # -- output -------------------------------------------------------------------------

    def send(self, data: str | bytes) -> None:
        """Send one message: ``str`` as text, ``bytes`` as binary (list/dict as JSON text)."""
        if self.closed:
            return
        data = _as_message_data(data, self.server._json)
        out = self._out
        if out is not None:
            out.write(
                _build_frame(
                    _TEXT if isinstance(data, str) else _BINARY, _encode_packet(_MESSAGE, data)
                )
            )
        else:
            self._queue_packet(_encode_packet(_MESSAGE, data, True))

    def send_prepared(self, prepared: PreparedMessage) -> None:
        """Send a message encoded once by :meth:`Server.prepare` (the fan-out fast path)."""
        out = self._out
        if out is not None:
            if not self.closed:
                out.write(prepared.frame)
        elif not self.closed:
            self._queue_packet(prepared.packet)

    def _send_ping(self) -> None:
        out = self._out
        if out is not None:
            out.write(_PING_FRAME)
        else:
            self._queue_packet(_PING_PACKET)

    def _send_control(self, packet: bytes) -> None:
        out = self._out
        if out is not None:
            out.write(packet_to_frame(packet))
        else:
            self._queue_packet(packet)

    def _queue_packet(self, packet: bytes, closing: bool = False) -> None:
        with self._lock:
            out = self._out
            if out is None:
                if self.closed and not closing:
                    return
                self._queue.append(packet)
                self._queue_bytes += len(packet)
                overflow = self._queue_bytes > self.server.max_write_buffer_size
                event = self._poll_event
        if out is not None:  # switched to WebSocket meanwhile
            out.write(packet_to_frame(packet))
            return
        if event is not None:
            event.set()
        if overflow and not self.closed:
            # Never close from inside someone else's send loop (e.g. a broadcast).
            self.server._driver.run_handler(
                self.close,
                self.server.reason.TRANSPORT_ERROR,
                True,
                "polling queue over its limit (client not polling)",
            )

    # -- long-polling ---------------------------------------------------------------------

    def poll(self, timeout: float) -> bytes | None:
        """Wait (up to ``timeout``) for packets and return them as one polling payload.

        Returns ``None`` when another GET is already waiting on this session (a protocol
        error the caller answers by closing the session).
        """
        with self._lock:
            if self._polling:
                return None
            self._polling = True
            event = None
            if not self._queue and not self.closed:
                event = self._poll_event
                if event is None:
                    event = self._poll_event = self.server._driver.event_class()
                event.clear()
        try:
            if event is not None:
                event.wait(timeout)
        finally:
            with self._lock:
                self._polling = False
                packets, self._queue = self._queue, []
                self._queue_bytes = 0
            if self.closed:
                self._forget()
        return b"\x1e".join(packets) if packets else _NOOP_PACKET

    def release_poll(self) -> None:
        """Answer a waiting GET now (with what is queued, or a NOOP)."""
        event = self._poll_event
        if event is not None:
            event.set()

    def handle_post(self, body: bytes) -> None:
        """Process the packets of a POST payload (``PacketError`` on a malformed payload)."""
        packets = eio.decode_payload(body)
        for packet_type, data in packets:
            self.receive(packet_type, data)
            if self.closed:
                break

    # -- input ----------------------------------------------------------------------------

    def receive(self, packet_type: int, data: str | bytes | None) -> None:
        """Act on one packet from the client."""
        if packet_type == _MESSAGE:
            self.server._dispatch_message(self, data)
        elif packet_type == eio.PONG:
            self.server._heartbeat.pong(self)
        elif packet_type == eio.CLOSE:
            self.close(self.server.reason.CLIENT_DISCONNECT, abort=True)
        elif packet_type == eio.PING:
            # Only "2probe" is expected (during an upgrade); answer any other ping anyway.
            self._send_control(_encode_packet(eio.PONG, data))

    # -- transport switch -------------------------------------------------------------------

    def switch_to_websocket(self, out: Any) -> None:
        """Send everything from now on through ``out``; queued packets go first, in order."""
        set_cork = getattr(out, "set_cork", None)
        if set_cork is not None:
            set_cork(cork_option(self.server))
        if hasattr(out, "session") and not out.closed:
            out.session = self  # told if the output is cut off; forgotten when it closes
        with self._lock:
            # Reported before the queued packets leave (a threading output sends at once), so a
            # client that got them already sees ``transport() == 'websocket'``. Routing follows
            # ``_out``, set only after them so that no concurrent send can overtake them.
            self.upgraded = True
            self.upgrading = False
            self.connected = True
            for packet in self._queue:
                out.write(packet_to_frame(packet))
            self._queue = []
            self._queue_bytes = 0
            self._out = out
        self.release_poll()

    # -- closing --------------------------------------------------------------------------

    def _output_cut(self, error: str) -> None:
        # Called by the output, possibly inside someone else's write or broadcast: the close
        # (and the disconnect handler) run in their own task.
        if not self.closed:
            self.server._driver.run_handler(
                self.close, self.server.reason.TRANSPORT_ERROR, True, error
            )

    def close(
        self, reason: str | None = None, abort: bool = False, error: str | None = None
    ) -> None:
        """Close the session: run the disconnect handler, then close the transport.

        ``abort=False`` first tells the client with a CLOSE packet. ``reason`` defaults to
        SERVER_DISCONNECT.
        """
        with self._lock:
            if self.closed:
                return
            self.closed = True
        server = self.server
        server._heartbeat.forget(self)
        if error:
            out = self._out
            if out is not None and out.error == error:
                # cut off by its output (a slow reader, a failed send): worth a warning
                server.logger.warning("%s: disconnected: %s", self.sid, error)
            else:
                server.logger.info("%s: closing: %s", self.sid, error)
        try:
            server._trigger_disconnect(self.sid, reason or server.reason.SERVER_DISCONNECT)
        finally:
            out = self._out
            if out is not None:
                self._forget()
                if not abort:
                    out.write(_CLOSE_PACKET_FRAME)
                out.write(_CLOSE_FRAME)
                out.close()
                server._heartbeat.linger(out.abort)
            elif abort:
                self._forget()
                self.release_poll()
            else:
                # The session stays reachable until a GET takes the CLOSE packet (or the
                # linger time passes): the client must learn that the server closed it.
                self._queue_packet(_CLOSE_PACKET, closing=True)
                server._heartbeat.linger(self._forget)

    def _forget(self) -> None:
        sockets = self.server.sockets
        if sockets.get(self.sid) is self:
            del sockets[self.sid]


class VirtualSocket:
    """An in-process session (``Server.connect_virtual``): every message sent to it is handed
    to ``deliver(data)`` synchronously, as ``str`` or ``bytes``."""

    __slots__ = ("__weakref__", "_deliver", "closed", "server", "session", "sid")

    upgraded = True
    connected = True

    def __init__(self, server: Server, sid: str, deliver: Callable[[Any], Any]) -> None:
        self.server = server
        self.sid = sid
        self.session: dict = {}
        self.closed = False
        self._deliver = deliver

    def __repr__(self) -> str:
        return f"<engineio.VirtualSocket {self.sid}{' closed' if self.closed else ''}>"

    def send(self, data: str | bytes) -> None:
        """Deliver one message (list/dict as JSON text, like :meth:`Socket.send`)."""
        if not self.closed:
            self._deliver(_as_message_data(data, self.server._json))

    def send_prepared(self, prepared: PreparedMessage) -> None:
        """Deliver a prepared message's original data."""
        if not self.closed:
            self._deliver(prepared.data)

    def close(
        self, reason: str | None = None, abort: bool = False, error: str | None = None
    ) -> None:
        """Close the session and run the disconnect handler."""
        if self.closed:
            return
        self.closed = True
        server = self.server
        try:
            server._trigger_disconnect(self.sid, reason or server.reason.SERVER_DISCONNECT)
        finally:
            if server.sockets.get(self.sid) is self:
                del server.sockets[self.sid]
