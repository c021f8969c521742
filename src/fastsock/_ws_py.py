"""RFC 6455 WebSocket frames: the pure-Python twin of ``fastsock._ws_c``.

Builds server (unmasked) and client (masked) frames, computes ``Sec-WebSocket-Accept``, and
parses the frames a client sends, incrementally, into complete messages. Both implementations
behave identically, down to the error messages and close codes.
"""

from __future__ import annotations

import base64
import codecs
import hashlib
import struct

from .exceptions import WebSocketError

__all__ = [
    "BINARY",
    "CLOSE",
    "CONTINUATION",
    "PING",
    "PONG",
    "TEXT",
    "FrameParser",
    "accept_key",
    "build_close",
    "build_frame",
]

CONTINUATION = 0
TEXT = 1
BINARY = 2
CLOSE = 8
PING = 9
PONG = 10

_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
_MAX_CONTROL_PAYLOAD = 125
_MAX_LENGTH = (1 << 63) - 1
_HEADER_7 = struct.Struct("!BB")
_HEADER_16 = struct.Struct("!BBH")
_HEADER_64 = struct.Struct("!BBQ")
_utf8_decode = codecs.utf_8_decode
# XOR-by-one-byte translation tables, built on first use of each key byte.
_XOR_TABLES: list[bytes | None] = [None] * 256


def _valid_close_code(code: int) -> bool:
    # RFC 6455 §7.4: 1004-1006 and 1015 are reserved or local-only, 1016-2999 are reserved for
    # future RFCs, 3000-4999 belong to libraries and applications. 1012-1014 are IANA-registered.
    return 1000 <= code <= 1003 or 1007 <= code <= 1014 or 3000 <= code <= 4999


def build_frame(
    opcode: int,
    payload: bytes | str = b"",
    fin: bool = True,
    rsv1: bool = False,
    mask: bytes | None = None,
) -> bytes:
    """Encode one WebSocket frame.

    :param opcode: the frame opcode (``TEXT``, ``BINARY``, ``CONTINUATION``, ``CLOSE``, ``PING``,
                   ``PONG``; any 4-bit value is accepted so tests can build reserved opcodes).
    :param payload: the payload; a ``str`` is sent as its UTF-8 encoding.
    :param fin: ``False`` for a frame that is not the last of its message.
    :param rsv1: set the RSV1 bit (a compressed frame, when permessage-deflate is negotiated).
    :param mask: ``None`` for a server frame (unmasked, RFC 6455 §5.1), or 4 bytes of masking
                 key to build a client frame.

    Raises ``ValueError`` for an opcode outside 0-15, a mask that is not 4 bytes, or a control
    frame that is fragmented or longer than 125 bytes.
    """
    if isinstance(payload, str):
        payload = payload.encode("utf-8")
    elif type(payload) is not bytes:
        # memoryview() accepts exactly the buffer objects the compiled kernel accepts (bytes(n)
        # would turn an int into n zero bytes).
        payload = memoryview(payload).tobytes()
    if not 0 <= opcode <= 15:
        raise ValueError(f"opcode {opcode} does not fit in 4 bits")
    length = len(payload)
    if opcode >= 8:
        if not fin:
            raise ValueError("a control frame cannot be fragmented")
        if length > _MAX_CONTROL_PAYLOAD:
            raise ValueError(f"a control frame payload is at most 125 bytes, got {length}")
    b0 = (0x80 if fin else 0) | (0x40 if rsv1 else 0) | opcode
    b1 = 0
    if mask is not None:
        mask = memoryview(mask).tobytes()
        if len(mask) != 4:
            raise ValueError("a masking key is exactly 4 bytes")
        b1 = 0x80
    if length < 126:
        header = _HEADER_7.pack(b0, b1 | length)
    elif length < 0x10000:
        header = _HEADER_16.pack(b0, b1 | 126, length)
    else:
        header = _HEADER_64.pack(b0, b1 | 127, length)
    if mask is None:
        return header + payload
    return header + mask + _unmask(payload, mask)


def build_close(code: int = 1000, reason: str = "") -> bytes:
    """Encode a server CLOSE frame with a status ``code`` and a UTF-8 ``reason``.

    Raises ``ValueError`` for a code an endpoint may not send (RFC 6455 §7.4) or a reason longer
    than 123 bytes once encoded.
    """
    if not _valid_close_code(code):
        raise ValueError(f"close code {code} may not be sent in a close frame")
    return build_frame(CLOSE, code.to_bytes(2, "big") + reason.encode("utf-8"))


def accept_key(key: str | bytes) -> str:
    """Return the ``Sec-WebSocket-Accept`` value answering a ``Sec-WebSocket-Key``."""
    if isinstance(key, str):
        key = key.encode("utf-8")
    return base64.b64encode(hashlib.sha1(key.strip() + _GUID).digest()).decode("ascii")


def _xor_table(key: int) -> bytes:
    table = _XOR_TABLES[key]
    if table is None:
        table = _XOR_TABLES[key] = bytes(b ^ key for b in range(256))
    return table


def _unmask(payload: bytes, mask: bytes) -> bytes:
    # Both ways run in C inside CPython, far faster than a Python loop over the bytes: one
    # big-integer XOR wins for short payloads, four strided ``translate`` calls for long ones.
    length = len(payload)
    if length < 1024:
        if not length:
            return b""
        key = (mask * ((length + 3) >> 2))[:length]
        return (int.from_bytes(payload, "little") ^ int.from_bytes(key, "little")).to_bytes(
            length, "little"
        )
    data = bytearray(payload)
    for i in range(4):
        data[i::4] = data[i::4].translate(_xor_table(mask[i]))
    return bytes(data)


def _fail(message: str, close_code: int = 1002) -> None:
    raise WebSocketError(message, close_code)


class FrameParser:
    """Incremental parser of the frames a WebSocket client sends.

    :param max_message_size: the largest message (sum of its fragments' payloads) accepted;
                             a larger one fails with close code 1009 as soon as the frame header
                             announcing it is seen, before its payload is buffered.
    :param require_mask: RFC 6455 requires clients to mask every frame; ``False`` also accepts
                         unmasked frames (to parse server frames).

    :meth:`feed` returns the items completed by the bytes given to it. A protocol violation
    raises :class:`~fastsock.exceptions.WebSocketError` with the close code to send; its ``items``
    attribute holds the items completed earlier in the same call. After a violation every call
    raises again; after a CLOSE frame any further byte is a violation.
    """

    __slots__ = (
        "_buf",
        "_closed",
        "_error",
        "_header",
        "_max_size",
        "_msg_opcode",
        "_msg_size",
        "_parts",
        "_require_mask",
        "_text_tail",
    )

    def __init__(self, max_message_size: int = 1_000_000, require_mask: bool = True) -> None:
        if max_message_size < 0:
            raise ValueError("max_message_size cannot be negative")
        self._max_size = min(int(max_message_size), _MAX_LENGTH)
        self._require_mask = bool(require_mask)
        self._buf = bytearray()
        # (opcode, fin, mask, length) of a frame whose header is consumed but whose payload is
        # still incomplete: the header is validated once, when it arrives.
        self._header: tuple[int, bool, bytes | None, int] | None = None
        self._msg_opcode = 0  # TEXT or BINARY while a fragmented message is open
        self._msg_size = 0
        self._parts: list = []
        self._text_tail = b""
        self._closed = False
        self._error: WebSocketError | None = None

    def feed(self, data: bytes) -> list[tuple[int, object]]:
        """Parse ``data`` and return the completed items, in order.

        Items are ``(TEXT, str)``, ``(BINARY, bytes)``, ``(PING, bytes)``, ``(PONG, bytes)`` and
        ``(CLOSE, (code or None, reason))``. Any split of a byte stream into calls gives the same
        items.
        """
        if self._error is not None:
            exc = WebSocketError(f"parser already failed: {self._error}", self._error.close_code)
            exc.items = []
            raise exc
        if type(data) is not bytes:
            data = memoryview(data).tobytes()
        items: list[tuple[int, object]] = []
        if self._closed:
            if data:
                self._raise("data received after a close frame", 1002, items)
            return items
        buf = self._buf
        if buf:
            buf += data
        else:
            # Nothing pending: parse straight from the caller's bytes, no copy.
            buf = data
        try:
            pos = self._parse(buf, items)
        except WebSocketError as exc:
            self._record(exc, items)
            raise
        if self._closed:
            self._buf = bytearray()
            if pos < len(buf):
                self._raise("data received after a close frame", 1002, items)
        elif buf is data:
            if pos < len(data):
                self._buf = bytearray(memoryview(data)[pos:])
        else:
            # Deleting a prefix of a bytearray only moves its start: amortized O(1).
            del buf[:pos]
        return items

    def _raise(self, message: str, close_code: int, items: list) -> None:
        exc = WebSocketError(message, close_code)
        self._record(exc, items)
        raise exc

    def _record(self, exc: WebSocketError, items: list) -> None:
        exc.items = items
        self._error = exc
        self._buf = bytearray()
        self._parts = []

    def _parse(self, buf: bytes | bytearray, items: list) -> int:
        """Consume every complete frame of ``buf``; return how many bytes were used."""
        pos = 0
        end = len(buf)
        while True:
            header = self._header
            if header is None:
                if end - pos < 2:
                    return pos
                b1 = buf[pos + 1]
                length = b1 & 0x7F
                size = 2 + (2 if length == 126 else 8 if length == 127 else 0)
                size += 4 if b1 & 0x80 else 0
                if end - pos < size:
                    return pos
                header = self._header = self._check_header(buf, pos, size)
                pos += size
            opcode, fin, mask, length = header
            if end - pos < length:
                return pos
            payload = buf[pos : pos + length]
            pos += length
            self._header = None
            if mask is not None:
                payload = _unmask(payload, mask)
            elif type(payload) is not bytes:
                payload = bytes(payload)
            self._frame(opcode, fin, payload, items)
            if self._closed:
                return pos

    def _check_header(self, buf: bytes | bytearray, pos: int, size: int) -> tuple:
        """Validate a complete frame header (in this fixed order); return its fields."""
        b0 = buf[pos]
        b1 = buf[pos + 1]
        fin = bool(b0 & 0x80)
        opcode = b0 & 0x0F
        masked = b1 & 0x80
        length = b1 & 0x7F
        if b0 & 0x70:
            _fail("reserved bits set without a negotiated extension")
        if 3 <= opcode <= 7 or opcode >= 11:
            _fail(f"reserved opcode {opcode}")
        if not masked and self._require_mask:
            _fail("client frame is not masked")
        if opcode >= 8:
            if not fin:
                _fail("fragmented control frame")
            if length > _MAX_CONTROL_PAYLOAD:
                _fail("control frame payload longer than 125 bytes")
        elif opcode == CONTINUATION:
            if not self._msg_opcode:
                _fail("continuation frame without a message to continue")
        elif self._msg_opcode:
            _fail("new data frame inside a fragmented message")
        if length == 126:
            length = int.from_bytes(buf[pos + 2 : pos + 4], "big")
        elif length == 127:
            length = int.from_bytes(buf[pos + 2 : pos + 10], "big")
            if length >> 63:
                _fail("64-bit payload length with the most significant bit set")
        if opcode < 8 and self._msg_size + length > self._max_size:
            _fail(f"message larger than the limit of {self._max_size} bytes", 1009)
        mask = bytes(buf[pos + size - 4 : pos + size]) if masked else None
        return opcode, fin, mask, length

    def _frame(self, opcode: int, fin: bool, payload: bytes, items: list) -> None:
        """Act on one complete, unmasked frame."""
        if opcode >= 8:
            if opcode == CLOSE:
                items.append((CLOSE, _parse_close(payload)))
                self._closed = True
            else:
                items.append((opcode, payload))
            return
        if opcode == CONTINUATION:
            opcode = self._msg_opcode
        elif fin:
            # The common case: a whole message in one frame.
            if opcode == TEXT:
                payload = _decode_text(payload)
            items.append((opcode, payload))
            return
        else:
            self._msg_opcode = opcode
        self._msg_size += len(payload)
        if opcode == TEXT:
            # Validate each fragment as it arrives so bad UTF-8 fails before the message ends;
            # an incomplete sequence at a fragment's end waits for the next fragment.
            payload = self._text_tail + payload
            if fin:
                self._parts.append(_decode_text(payload))
            else:
                try:
                    text, used = _utf8_decode(payload, "strict", False)
                except UnicodeDecodeError:
                    _fail("invalid UTF-8 in a text message", 1007)
                self._parts.append(text)
                self._text_tail = payload[used:]
        else:
            self._parts.append(payload)
        if fin:
            joiner = "" if opcode == TEXT else b""
            items.append((opcode, joiner.join(self._parts)))
            self._parts = []
            self._text_tail = b""
            self._msg_opcode = 0
            self._msg_size = 0


def _decode_text(payload: bytes) -> str:
    try:
        return payload.decode("utf-8")
    except UnicodeDecodeError:
        _fail("invalid UTF-8 in a text message", 1007)


def _parse_close(payload: bytes) -> tuple[int | None, str]:
    """``(code, reason)`` of a CLOSE frame's payload; ``(None, "")`` when it is empty."""
    if not payload:
        return None, ""
    if len(payload) == 1:
        _fail("close frame payload of 1 byte")
    code = (payload[0] << 8) | payload[1]
    if not _valid_close_code(code):
        _fail(f"invalid close code {code}")
    try:
        reason = payload[2:].decode("utf-8")
    except UnicodeDecodeError:
        _fail("invalid UTF-8 in a close reason", 1007)
    return code, reason
