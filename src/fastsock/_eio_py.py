"""Engine.IO v4 packet and payload codec (pure-Python twin of ``fastsock._eio_c``).

Both modules expose the same names with the same behaviour; ``fastsock._kernels.eio`` picks one.
Conventions (as python-engineio): ``str`` data is a text packet, ``bytes`` data is binary.
Everything a peer can send that is malformed raises :class:`~fastsock.exceptions.PacketError`.

Wire format (https://socket.io/docs/v4/engine-io-protocol/):

- text packet: ``<type digit>[<data>]`` in UTF-8, e.g. ``4hello``;
- binary packet: the raw bytes in a WebSocket binary frame, or ``b<base64>`` inside a polling
  payload (binary packets are always of type MESSAGE);
- polling payload: packets joined with the record separator ``\\x1e``.
"""

from __future__ import annotations

import binascii
import re
import zlib
from collections.abc import Sequence
from typing import Union

from fastsock.exceptions import PacketError

__all__ = [
    "CLOSE",
    "MESSAGE",
    "NOOP",
    "OPEN",
    "PING",
    "PONG",
    "UPGRADE",
    "compress",
    "decode_packet",
    "decode_payload",
    "encode_packet",
    "encode_payload",
]

OPEN, CLOSE, PING, PONG, MESSAGE, UPGRADE, NOOP = 0, 1, 2, 3, 4, 5, 6

_Data = Union[str, bytes, None]

_SEPARATOR = b"\x1e"
_BAD_BASE64 = "invalid base64 data in binary packet"
_BINARY_ONLY_MESSAGE = "binary packets can only be of type MESSAGE"
_BINARY_TYPES = (bytes, bytearray, memoryview)
# Canonical padded base64 only (what every Engine.IO client sends); checked before decoding
# because binascii silently skips characters outside the alphabet.
_BASE64_STR = re.compile(r"[A-Za-z0-9+/]*={0,2}")
_BASE64_BYTES = re.compile(rb"[A-Za-z0-9+/]*={0,2}")
_QVALUE = re.compile(r"0(\.[0-9]{0,3})?|1(\.0{0,3})?")
_COMPRESSIONS = ("gzip", "deflate")


def _packet_type(packet_type: object) -> int:
    if isinstance(packet_type, int) and 0 <= packet_type <= 6:
        return int(packet_type)
    raise PacketError(f"invalid Engine.IO packet type {packet_type!r}")


def _utf8(text: str) -> bytes:
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise PacketError(
            f"packet data is not encodable as UTF-8: {exc.reason} at index {exc.start}"
        ) from None


def encode_packet(packet_type: int, data: _Data = None, b64: bool = False) -> bytes:
    """Encode one Engine.IO packet.

    :param packet_type: one of ``OPEN`` ... ``NOOP`` (0-6).
    :param data: ``str`` for a text packet, ``bytes`` for a binary one (MESSAGE only), or
                 ``None`` for a packet without data.
    :param b64: encode binary data as ``b`` + base64 (HTTP long-polling) instead of returning
                the raw bytes (for a WebSocket binary frame).
    :return: the UTF-8 text packet, the base64 packet, or the raw binary data.
    """
    t = _packet_type(packet_type)
    if data is None:
        return b"%d" % t
    if isinstance(data, str):
        return b"%d" % t + _utf8(data)
    if isinstance(data, _BINARY_TYPES):
        if t != MESSAGE:
            raise PacketError(_BINARY_ONLY_MESSAGE)
        if type(data) is not bytes:
            data = bytes(data)
        if b64:
            return b"b" + binascii.b2a_base64(data, newline=False)
        return data
    raise TypeError(f"packet data must be str, bytes or None, not {type(data).__name__}")


def _b64decode(encoded: str | bytes) -> bytes:
    pattern = _BASE64_STR if isinstance(encoded, str) else _BASE64_BYTES
    if len(encoded) % 4 or pattern.fullmatch(encoded) is None:
        raise PacketError(_BAD_BASE64)
    return binascii.a2b_base64(encoded)


def _bad_type(first: str | int) -> PacketError:
    if isinstance(first, int) and first >= 0x80:
        return PacketError(f"invalid Engine.IO packet type (byte 0x{first:02x})")
    char = chr(first) if isinstance(first, int) else first
    return PacketError(f"invalid Engine.IO packet type {char!r}")


def _decode_text(encoded: str | bytes) -> tuple[int, _Data]:
    """Decode one text-encoded packet: ``<digit>[data]`` or ``b<base64>``."""
    if not encoded:
        raise PacketError("empty Engine.IO packet")
    first = encoded[0]
    if isinstance(encoded, str):
        if first == "b":
            return MESSAGE, _b64decode(encoded[1:])
        if "0" <= first <= "6":
            return ord(first) - 48, encoded[1:] or None
        raise _bad_type(first)
    if first == 0x62:  # "b"
        return MESSAGE, _b64decode(encoded[1:])
    if not 0x30 <= first <= 0x36:
        raise _bad_type(first)
    if len(encoded) == 1:
        return first - 48, None
    try:
        return first - 48, encoded[1:].decode("utf-8")
    except UnicodeDecodeError as exc:
        raise PacketError(
            f"invalid UTF-8 in packet data: {exc.reason} at byte {exc.start}"
        ) from None


def _as_bytes_or_str(value: object, what: str) -> str | bytes:
    if isinstance(value, str) or type(value) is bytes:
        return value  # type: ignore[return-value]
    if isinstance(value, _BINARY_TYPES):
        return bytes(value)  # type: ignore[arg-type]
    raise PacketError(f"an Engine.IO {what} must be str or bytes, not {type(value).__name__}")


def decode_packet(encoded: bytes | str, binary: bool = False) -> tuple[int, _Data]:
    """Decode one Engine.IO packet.

    :param encoded: the packet as received: a WebSocket message or one polling payload segment.
    :param binary: ``True`` for a WebSocket binary frame, whose bytes are the MESSAGE data as is.
    :return: ``(packet_type, data)``; data is ``str`` for text, ``bytes`` for binary (always
             MESSAGE), ``None`` when the packet carries no data.
    :raises PacketError: on anything malformed.
    """
    if binary:
        if isinstance(encoded, str) or not isinstance(encoded, _BINARY_TYPES):
            raise PacketError(
                f"a binary Engine.IO packet must be bytes, not {type(encoded).__name__}"
            )
        return MESSAGE, encoded if type(encoded) is bytes else bytes(encoded)
    return _decode_text(_as_bytes_or_str(encoded, "packet"))


def encode_payload(packets: Sequence[tuple[int, _Data]]) -> bytes:
    """Encode packets as one HTTP long-polling payload.

    Each packet is encoded with ``b64=True`` and the packets are joined with ``\\x1e``. Like the
    reference implementations, text data is not escaped: it must not contain ``\\x1e`` (JSON
    never does).

    :param packets: ``(packet_type, data)`` pairs.
    """
    # a snapshot, as the compiled twin takes one: items that mutate the sequence change nothing
    return _SEPARATOR.join([encode_packet(t, data, True) for t, data in tuple(packets)])


def decode_payload(body: bytes | str, max_packets: int = 10_000) -> list[tuple[int, _Data]]:
    """Decode an HTTP long-polling payload into its packets.

    :param body: the request body (UTF-8 bytes, or already decoded text).
    :param max_packets: more packets than this raise :class:`PacketError` before any is decoded.
    :return: a list of ``(packet_type, data)`` as :func:`decode_packet` returns them.
    :raises PacketError: on an empty body, an empty or malformed packet, or too many packets.
    """
    body = _as_bytes_or_str(body, "payload")
    if not body:
        raise PacketError("empty Engine.IO payload")
    sep = "\x1e" if isinstance(body, str) else _SEPARATOR
    if body.count(sep) >= max_packets:  # type: ignore[arg-type]
        raise PacketError(f"too many packets in Engine.IO payload (more than {max_packets})")
    packets: list[tuple[int, _Data]] = []
    for segment in body.split(sep):  # type: ignore[arg-type]
        packets.append(_decode_text(segment))
    return packets


def _qvalue(params: str) -> float | None:
    """The q-value of one Accept-Encoding entry's parameters; None when malformed."""
    for param in params.split(";"):
        key, _, value = param.partition("=")
        if key.strip().lower() == "q":
            value = value.strip()
            return float(value) if _QVALUE.fullmatch(value) else None
    return 1.0


def _choose_encoding(accept_encoding: str) -> str | None:
    """The best of gzip/deflate per Accept-Encoding (RFC 9110 12.5.3), or None.

    Highest q-value wins; ties go to the client's order, then to gzip. ``q=0`` excludes an
    encoding, ``*`` stands for any encoding not listed. Entries with a malformed q-value are
    ignored.
    """
    listed = {}
    for position, entry in enumerate(accept_encoding.split(",")):
        name, _, params = entry.partition(";")
        name = name.strip().lower()
        q = _qvalue(params)
        if name and q is not None and name not in listed:
            listed[name] = (q, position)
    best = None
    for preference, name in enumerate(_COMPRESSIONS):
        q, position = listed.get(name) or listed.get("*") or (0.0, 0)
        if q > 0.0:
            key = (-q, position, preference)
            if best is None or key < best[0]:
                best = (key, name)
    return best[1] if best is not None else None


def compress(body: bytes, accept_encoding: str | None, threshold: int) -> tuple[bytes, str | None]:
    """Apply HTTP compression to a polling response, as ``http_compression`` does.

    As in python-engineio, a body is compressed when ``len(body) >= threshold`` and the client
    accepts gzip or deflate. Unlike python-engineio, q-values are honoured (``q=0`` refuses).

    :param body: the encoded payload.
    :param accept_encoding: the request's ``Accept-Encoding`` header, or None.
    :param threshold: ``compression_threshold`` in bytes.
    :return: ``(body, None)`` unchanged, or ``(compressed, "gzip" | "deflate")``.
    """
    if len(body) < threshold or not accept_encoding:
        return body, None
    encoding = _choose_encoding(accept_encoding)
    if encoding is None:
        return body, None
    # wbits 31 = gzip container with mtime 0 (deterministic); 15 = zlib stream, which is what
    # HTTP "deflate" means and what python-engineio sends.
    compressor = zlib.compressobj(-1, zlib.DEFLATED, 31 if encoding == "gzip" else 15)
    return compressor.compress(body) + compressor.flush(), encoding
