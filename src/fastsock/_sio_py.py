"""Socket.IO v5 packet codec (pure-Python twin of ``fastsock._sio_c``).

Both modules expose the same names with the same behaviour; ``fastsock._kernels.sio`` picks one.
:class:`Packet` has the constructor and attributes of python-socketio's
``socketio.packet.Packet``, so code (and user subclasses) written against it keep working.

Wire format (https://socket.io/docs/v4/socket-io-protocol/)::

    <type>[<attachments>-][<namespace>,][<ack id>][<JSON payload>]

followed, for BINARY_EVENT / BINARY_ACK, by one binary message per attachment; in the JSON each
attachment is a placeholder ``{"_placeholder":true,"num":<n>}``.

Where python-socketio and the JavaScript reference parser (socket.io-parser 4.x) disagree, what we
emit follows the JavaScript parser; what we accept covers what either emits. Everything malformed
raises :class:`~fastsock.exceptions.PacketError`, checked like socket.io-parser's
``isPayloadValid``.
"""

from __future__ import annotations

from typing import Any

from fastsock._json_py import JsonAdapter, default_adapter
from fastsock.exceptions import PacketError

try:
    import msgpack
except ImportError:  # msgpack is optional: only MsgPackPacket needs it
    msgpack = None

CYTHON_COMPILED = False

__all__ = [
    "ACK",
    "BINARY_ACK",
    "BINARY_EVENT",
    "CONNECT",
    "CONNECT_ERROR",
    "DISCONNECT",
    "EVENT",
    "MsgPackPacket",
    "Packet",
    "packet_names",
]

CONNECT, DISCONNECT, EVENT, ACK, CONNECT_ERROR, BINARY_EVENT, BINARY_ACK = 0, 1, 2, 3, 4, 5, 6
packet_names = [
    "CONNECT",
    "DISCONNECT",
    "EVENT",
    "ACK",
    "CONNECT_ERROR",
    "BINARY_EVENT",
    "BINARY_ACK",
]

# Event names socket.io-parser refuses to decode: they mean something else to both ends.
_RESERVED_EVENTS = frozenset(
    ("connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener")
)
_BINARY = (bytes, bytearray)
_DIGITS = "0123456789"
_ABSENT = object()
# Deepest nesting of lists/dicts walked looking for binary data (a fixed limit rather than the
# interpreter's recursion limit, so both implementations refuse exactly the same data).
_MAX_DEPTH = 500


def _as_adapter(json: Any) -> Any:
    if json is None:
        return default_adapter()
    if type(json) is JsonAdapter or hasattr(json, "dumps_bytes"):
        return json
    return JsonAdapter(json)  # a bare module with dumps/loads


def _too_deep_to_encode() -> TypeError:
    return TypeError(f"data is nested more than {_MAX_DEPTH} levels deep")


def _too_deep_to_decode() -> PacketError:
    return PacketError(f"binary packet payload is nested more than {_MAX_DEPTH} levels deep")


def _has_binary(data: Any, depth: int) -> bool:
    if isinstance(data, _BINARY):
        return True
    if isinstance(data, (list, tuple)):
        if depth >= _MAX_DEPTH:
            raise _too_deep_to_encode()
        for item in data:
            if _has_binary(item, depth + 1):
                return True
    elif isinstance(data, dict):
        if depth >= _MAX_DEPTH:
            raise _too_deep_to_encode()
        for item in data.values():
            if _has_binary(item, depth + 1):
                return True
    return False


def _deconstruct(data: Any, attachments: list, depth: int) -> Any:
    # Containers are copied only on the way to a binary item: the caller's data is never
    # modified, and binary-free branches are shared, not rebuilt.
    if isinstance(data, _BINARY):
        attachments.append(data)
        return {"_placeholder": True, "num": len(attachments) - 1}
    if isinstance(data, (list, tuple)):
        if depth >= _MAX_DEPTH:
            raise _too_deep_to_encode()
        out = None
        for i, item in enumerate(data):
            new = _deconstruct(item, attachments, depth + 1)
            if new is not item and out is None:
                out = list(data)
            if out is not None:
                out[i] = new
        if out is not None:
            return out
    elif isinstance(data, dict):
        if depth >= _MAX_DEPTH:
            raise _too_deep_to_encode()
        out = None
        for key, item in data.items():
            new = _deconstruct(item, attachments, depth + 1)
            if new is not item and out is None:
                out = dict(data)
            if out is not None:
                out[key] = new
        if out is not None:
            return out
    return data


def _placeholder_num(placeholder: dict, count: int) -> int:
    num = placeholder.get("num")
    if type(num) is not int or not 0 <= num < count:
        raise PacketError(f"invalid binary placeholder {placeholder!r} ({count} attachments)")
    return num


def _scan_placeholders(data: Any, count: int, seen: bytearray, depth: int) -> None:
    if isinstance(data, list):
        if depth >= _MAX_DEPTH:
            raise _too_deep_to_decode()
        for item in data:
            _scan_placeholders(item, count, seen, depth + 1)
    elif isinstance(data, dict):
        if data.get("_placeholder") is True:
            seen[_placeholder_num(data, count)] = 1
            return
        if depth >= _MAX_DEPTH:
            raise _too_deep_to_decode()
        for item in data.values():
            _scan_placeholders(item, count, seen, depth + 1)


def _check_placeholders(data: Any, count: int) -> None:
    # Every attachment must be referenced, every placeholder must name one: a peer cannot make
    # us wait for (and buffer) attachments nothing uses, nor point past the ones it sends.
    seen = bytearray(count)
    _scan_placeholders(data, count, seen, 0)
    missing = seen.count(0)
    if missing:
        raise PacketError(
            f"binary packet declares {count} attachments but its placeholders reference "
            f"{count - missing}"
        )


def _reconstruct(data: Any, attachments: list, depth: int) -> Any:
    # In place: the data was built by our own JSON decode, nobody else holds it.
    if isinstance(data, list):
        if depth >= _MAX_DEPTH:
            raise _too_deep_to_decode()
        for i, item in enumerate(data):
            data[i] = _reconstruct(item, attachments, depth + 1)
    elif isinstance(data, dict):
        if data.get("_placeholder") is True:
            return attachments[_placeholder_num(data, len(attachments))]
        if depth >= _MAX_DEPTH:
            raise _too_deep_to_decode()
        for key, item in data.items():
            data[key] = _reconstruct(item, attachments, depth + 1)
    return data


def _check_payload(packet_type: int, data: Any, present: bool) -> None:
    if packet_type == EVENT or packet_type == BINARY_EVENT:
        if not isinstance(data, list) or not data:
            raise PacketError("an EVENT payload must be a non-empty array")
        name = data[0]
        if isinstance(name, str):
            if name in _RESERVED_EVENTS:
                raise PacketError(f"reserved event name {name!r}")
        elif not isinstance(name, (int, float)) or isinstance(name, bool):
            raise PacketError("an EVENT payload must start with the event name")
    elif packet_type == ACK or packet_type == BINARY_ACK:
        if not isinstance(data, list):
            raise PacketError("an ACK payload must be an array")
    elif not present:
        return
    elif packet_type == CONNECT:
        if not isinstance(data, dict):
            raise PacketError("a CONNECT payload must be an object")
    elif packet_type == CONNECT_ERROR:
        if not isinstance(data, (dict, str)):
            raise PacketError("a CONNECT_ERROR payload must be an object or a string")
    else:
        raise PacketError("a DISCONNECT packet has no payload")


def _check_id(id: Any, max_digits: int) -> None:
    if type(id) is not int or id < 0 or id >= 10**max_digits:
        raise PacketError(f"invalid ack id {id!r}")


def _type_digit(packet_type: Any) -> int:
    if type(packet_type) is not int or not 0 <= packet_type <= 6:
        raise ValueError(f"invalid Socket.IO packet type {packet_type!r}")
    return packet_type


class Packet:
    """A Socket.IO packet, as python-socketio's ``socketio.packet.Packet``.

    :param packet_type: one of ``CONNECT``, ``DISCONNECT``, ``EVENT``, ``ACK``,
                        ``CONNECT_ERROR``, ``BINARY_EVENT``, ``BINARY_ACK``.
    :param data: the payload (for events, ``[name, *args]``).
    :param namespace: the namespace; ``None`` or ``'/'`` is the main namespace.
    :param id: the ack id, or ``None``.
    :param binary: ``None`` detects ``bytes`` anywhere in ``data`` and then turns EVENT/ACK into
                   BINARY_EVENT/BINARY_ACK; ``True`` forces that, ``False`` prevents it.
    :param encoded_packet: text to decode into this packet (``PacketError`` if malformed).
    :param json: the :class:`JsonAdapter` (or a module with ``dumps``/``loads``) for the
                 payload; the default is the shared orjson adapter.

    Subclasses may override :meth:`encode` and :meth:`decode` (another serializer), and the
    limits ``max_attachments`` and ``max_id_digits`` as class attributes.
    """

    __slots__ = (
        "attachment_count",
        "attachments",
        "data",
        "id",
        "json",
        "namespace",
        "packet_type",
    )

    uses_binary_events = True
    #: most binary attachments a decoded packet may announce
    max_attachments = 1000
    #: most digits in a decoded ack id
    max_id_digits = 15

    def __init__(
        self,
        packet_type: int = EVENT,
        data: Any = None,
        namespace: str | None = None,
        id: int | None = None,
        binary: bool | None = None,
        encoded_packet: Any = None,
        json: Any = None,
    ) -> None:
        self.packet_type = packet_type
        self.data = data
        self.namespace = namespace
        self.id = id
        self.json = _as_adapter(json)
        self.attachment_count = 0
        self.attachments: list[bytes] = []
        if self.uses_binary_events and (
            binary or (binary is None and data is not None and self.data_is_binary(data))
        ):
            if packet_type == EVENT:
                self.packet_type = BINARY_EVENT
            elif packet_type == ACK:
                self.packet_type = BINARY_ACK
            elif packet_type != BINARY_EVENT and packet_type != BINARY_ACK:
                raise ValueError("Packet does not support binary payload.")
        if encoded_packet is not None:
            self.attachment_count = self.decode(encoded_packet) or 0

    def __repr__(self) -> str:
        name = type(self).__name__
        return (
            f"<{name} type={self.packet_type!r} namespace={self.namespace!r} "
            f"id={self.id!r} data={self.data!r}>"
        )

    def encode(self) -> str | list[Any]:
        """Encode the packet for transmission.

        Returns the text packet, or for a packet with binary attachments the list
        ``[text, attachment0, attachment1, ...]``.
        """
        packet_type = _type_digit(self.packet_type)
        data = self.data
        attachments = None
        if packet_type == BINARY_EVENT or packet_type == BINARY_ACK:
            data, attachments = self.deconstruct_binary(data)
            if attachments:
                head = f"{packet_type}{len(attachments)}-"
            else:
                # nothing binary after all: socket.io-parser rejects "50-", so send EVENT/ACK
                head = str(packet_type - 3)
                attachments = None
        else:
            head = str(packet_type)
        namespace = self.namespace
        if namespace and namespace != "/":
            head += namespace + ","
        if self.id is not None:
            head += str(self.id)
        if data is not None:
            head += self.json.dumps(data)
        if attachments is not None:
            return [head, *attachments]
        return head

    def decode(self, encoded_packet: str) -> int:
        """Decode a text packet into this packet; returns how many attachments it still needs."""
        if not isinstance(encoded_packet, str):
            raise PacketError(
                f"a Socket.IO packet must be text, not {type(encoded_packet).__name__}"
            )
        s = encoded_packet
        end = len(s)
        if not end:
            raise PacketError("empty Socket.IO packet")
        char = s[0]
        if char not in "0123456":
            raise PacketError(f"invalid Socket.IO packet type {char!r}")
        packet_type = ord(char) - 48
        pos = 1
        count = 0
        if packet_type == BINARY_EVENT or packet_type == BINARY_ACK:
            stop = pos
            while stop < end and s[stop] in _DIGITS:
                stop += 1
            if stop == pos or stop == end or s[stop] != "-":
                raise PacketError("binary packet without a valid attachment count")
            if stop - pos > 9 or int(s[pos:stop]) > self.max_attachments:
                raise PacketError(f"too many binary attachments (at most {self.max_attachments})")
            count = int(s[pos:stop])
            pos = stop + 1
        namespace = None
        if pos < end and s[pos] == "/":
            comma = s.find(",", pos)
            if comma == -1:
                comma = end
            namespace = s[pos:comma]
            pos = comma + 1
            query = namespace.find("?")
            if query != -1:  # Socket.IO v4 clients put the query string here
                namespace = namespace[:query]
        id = None
        stop = pos
        while stop < end and s[stop] in _DIGITS:
            stop += 1
        if stop > pos:
            if stop - pos > self.max_id_digits:
                raise PacketError(f"ack id too long (at most {self.max_id_digits} digits)")
            id = int(s[pos:stop])
            pos = stop
        data = None
        present = pos < end
        if present:
            data = self.json.loads(s[pos:])
        _check_payload(packet_type, data, present)
        if packet_type >= BINARY_EVENT:
            _check_placeholders(data, count)
        self.packet_type = packet_type
        self.namespace = namespace
        self.id = id
        self.data = data
        self.attachment_count = count
        self.attachments = []
        return count

    def add_attachment(self, attachment: bytes) -> bool:
        """Add the next binary attachment; returns ``True`` once all have arrived (the
        placeholders in :attr:`data` are then replaced by the attachments)."""
        if not isinstance(attachment, _BINARY):
            raise PacketError(f"expected a binary attachment, got {type(attachment).__name__}")
        if len(self.attachments) >= self.attachment_count:
            raise PacketError("unexpected binary attachment")
        self.attachments.append(attachment)
        if len(self.attachments) == self.attachment_count:
            self.data = self.reconstruct_binary(self.data, self.attachments)
            return True
        return False

    @classmethod
    def reconstruct_binary(cls, data: Any, attachments: list[bytes]) -> Any:
        """Replace the placeholders in ``data`` (in place) with ``attachments``."""
        return _reconstruct(data, attachments, 0)

    @classmethod
    def deconstruct_binary(cls, data: Any) -> tuple[Any, list[Any]]:
        """Return ``(data with placeholders, attachments)``; ``data`` itself is not modified."""
        attachments: list[Any] = []
        return _deconstruct(data, attachments, 0), attachments

    @classmethod
    def data_is_binary(cls, data: Any) -> bool:
        """Whether ``data`` holds ``bytes``/``bytearray`` anywhere (lists, tuples, dict values)."""
        return _has_binary(data, 0)

    def _to_dict(self) -> dict:
        d = {"type": self.packet_type, "data": self.data, "nsp": self.namespace}
        if self.id is not None:
            d["id"] = self.id
        return d


def _default_ext_hook() -> Any:
    return msgpack.ExtType if msgpack is not None else None


class MsgPackPacket(Packet):
    """A Socket.IO packet serialized with msgpack (``serializer='msgpack'``).

    Wire-compatible with python-socketio's ``MsgPackPacket`` and the JavaScript
    socket.io-msgpack-parser: one msgpack map ``{type, data, nsp, id}`` per packet, binary data
    inline (no attachments). Requires the ``msgpack`` package.
    """

    __slots__ = ()

    uses_binary_events = False
    #: called for objects msgpack cannot serialize (see :meth:`configure`)
    dumps_default = None
    #: called for msgpack extension types when decoding (see :meth:`configure`)
    ext_hook = _default_ext_hook()

    @classmethod
    def configure(cls, dumps_default: Any = None, ext_hook: Any = None) -> type:
        """Return a subclass using these msgpack options.

        :param dumps_default: called for objects msgpack cannot serialize; returns a
                              serializable object or a ``msgpack.ExtType``.
        :param ext_hook: called as ``ext_hook(code, data)`` for extension types when decoding
                         (default: ``msgpack.ExtType``).
        """
        if ext_hook is None:
            ext_hook = _default_ext_hook()
        return type(
            cls.__name__,
            (cls,),
            {"__slots__": (), "dumps_default": dumps_default, "ext_hook": ext_hook},
        )

    def encode(self) -> bytes:
        """Encode the packet as one msgpack map."""
        if msgpack is None:
            raise RuntimeError("the msgpack package is required for the msgpack serializer")
        packet: dict = {"type": self.packet_type}
        # socket.io-msgpack-parser rejects a null data/nsp: absent data is left out and the main
        # namespace written as "/" (python-socketio writes None for both).
        if self.data is not None:
            packet["data"] = self.data
        packet["nsp"] = self.namespace or "/"
        if self.id is not None:
            packet["id"] = self.id
        return msgpack.packb(packet, default=type(self).dumps_default)

    def decode(self, encoded_packet: bytes) -> int:
        """Decode one msgpack packet into this packet; returns 0 (no attachments)."""
        if msgpack is None:
            raise RuntimeError("the msgpack package is required for the msgpack serializer")
        if not isinstance(encoded_packet, (bytes, bytearray, memoryview)):
            raise PacketError(
                f"a msgpack packet must be bytes, not {type(encoded_packet).__name__}"
            )
        try:
            decoded = msgpack.unpackb(encoded_packet, ext_hook=type(self).ext_hook)
        except MemoryError:
            raise
        except Exception as exc:  # noqa: BLE001 - msgpack raises many types on bad input
            raise PacketError(f"invalid msgpack packet: {exc}") from None
        if type(decoded) is not dict:
            raise PacketError("a msgpack packet must be a map")
        packet_type = decoded.get("type")
        if type(packet_type) is not int or not CONNECT <= packet_type <= CONNECT_ERROR:
            raise PacketError(f"invalid Socket.IO packet type {packet_type!r}")
        namespace = decoded.get("nsp", _ABSENT)
        if namespace is not None and type(namespace) is not str:
            raise PacketError(f"invalid namespace {namespace!r}")
        data = decoded.get("data")
        _check_payload(packet_type, data, data is not None)
        id = decoded.get("id")
        if id is not None:
            _check_id(id, self.max_id_digits)
        self.packet_type = packet_type
        self.namespace = namespace
        self.id = id
        self.data = data
        return 0
