# cython: language_level=3
"""Engine.IO v4 packet and payload codec (compiled twin of ``fastsock._eio_py``).

Both modules expose the same names with the same behaviour; ``fastsock._kernels.eio`` picks one.
Conventions (as python-engineio): ``str`` data is a text packet, ``bytes`` data is binary.
Everything a peer can send that is malformed raises :class:`~fastsock.exceptions.PacketError`.

Written for speed: packets are built with one allocation straight into the result ``bytes``,
ASCII ``str`` data is copied from its internal buffer without an encode step, base64 runs in C
loops, and a payload is split with ``memchr`` over one buffer.
"""

import cython
import zlib

from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_FromStringAndSize, PyBytes_GET_SIZE
from cpython.long cimport PyLong_AsLongAndOverflow, PyLong_Check
from cpython.mem cimport PyMem_Free, PyMem_Malloc
from cpython.unicode cimport PyUnicode_Check, PyUnicode_DecodeUTF8
from libc.string cimport memchr, memcpy

from fastsock.exceptions import PacketError

cdef extern from "Python.h":
    bint PyUnicode_IS_COMPACT_ASCII(object o)
    void* PyUnicode_DATA(object o)
    Py_ssize_t PyUnicode_GET_LENGTH(object o)
    Py_UCS4 PyUnicode_READ_CHAR(object o, Py_ssize_t index)
    object PyUnicode_Substring(object s, Py_ssize_t start, Py_ssize_t end)

CYTHON_COMPILED = cython.compiled

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

# integer values are used so they can be cythonized
cdef enum:
    _MESSAGE = 4
    _SEP = 0x1E     # record separator between the packets of a payload
    _CHAR_b = 0x62  # "b": base64 binary packet prefix
    _CHAR_0 = 0x30
    _CHAR_6 = 0x36
    _CHAR_PAD = 0x3D  # "="

cdef str _BAD_BASE64 = "invalid base64 data in binary packet"
cdef str _BINARY_ONLY_MESSAGE = "binary packets can only be of type MESSAGE"
cdef tuple _BINARY_TYPES = (bytes, bytearray, memoryview)
cdef tuple _DIGITS = (b"0", b"1", b"2", b"3", b"4", b"5", b"6")
cdef tuple _COMPRESSIONS = ("gzip", "deflate")

cdef const char* _B64_ALPHABET = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
# byte -> 6-bit value, or -1 for anything outside the alphabet ("=" included: padding is
# handled by position, so a "=" anywhere else is an error)
cdef signed char _B64_VALUE[256]


cdef void _init_tables() noexcept:
    cdef int i
    for i in range(256):
        _B64_VALUE[i] = -1
    for i in range(64):
        _B64_VALUE[<unsigned char>_B64_ALPHABET[i]] = <signed char>i


_init_tables()


# ---------------------------------------------------------------------------------- helpers

cdef inline int _packet_type(object packet_type) except -1:
    cdef int overflow = 0
    cdef long t
    if PyLong_Check(packet_type):
        t = PyLong_AsLongAndOverflow(packet_type, &overflow)
        if overflow == 0 and 0 <= t <= 6:
            return <int>t
    raise PacketError(f"invalid Engine.IO packet type {packet_type!r}")


cdef bytes _utf8(object text):
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise PacketError(
            f"packet data is not encodable as UTF-8: {exc.reason} at index {exc.start}"
        ) from None


cdef inline Py_ssize_t _b64_size(Py_ssize_t n) noexcept:
    return (n + 2) // 3 * 4


cdef void _b64_write(const unsigned char* src, Py_ssize_t n, char* dst) noexcept:
    """Standard padded base64 of src[:n] into dst (which holds _b64_size(n) bytes)."""
    cdef Py_ssize_t i = 0
    cdef unsigned int v
    while i + 3 <= n:
        v = (src[i] << 16) | (src[i + 1] << 8) | src[i + 2]
        dst[0] = _B64_ALPHABET[v >> 18]
        dst[1] = _B64_ALPHABET[(v >> 12) & 63]
        dst[2] = _B64_ALPHABET[(v >> 6) & 63]
        dst[3] = _B64_ALPHABET[v & 63]
        dst += 4
        i += 3
    if n - i == 1:
        v = src[i] << 16
        dst[0] = _B64_ALPHABET[v >> 18]
        dst[1] = _B64_ALPHABET[(v >> 12) & 63]
        dst[2] = _CHAR_PAD
        dst[3] = _CHAR_PAD
    elif n - i == 2:
        v = (src[i] << 16) | (src[i + 1] << 8)
        dst[0] = _B64_ALPHABET[v >> 18]
        dst[1] = _B64_ALPHABET[(v >> 12) & 63]
        dst[2] = _B64_ALPHABET[(v >> 6) & 63]
        dst[3] = _CHAR_PAD


cdef bytes _b64decode(const unsigned char* s, Py_ssize_t n):
    """Decode canonical padded base64; anything else raises PacketError."""
    cdef Py_ssize_t pad = 0, full, i
    cdef int a, b, c, d
    cdef bytes out
    cdef unsigned char* dst
    if n & 3:
        raise PacketError(_BAD_BASE64)
    if n and s[n - 1] == _CHAR_PAD:
        pad = 2 if s[n - 2] == _CHAR_PAD else 1
    out = PyBytes_FromStringAndSize(NULL, n // 4 * 3 - pad)
    dst = <unsigned char*>PyBytes_AS_STRING(out)
    full = n - 4 if pad else n
    i = 0
    while i < full:
        a = _B64_VALUE[s[i]]
        b = _B64_VALUE[s[i + 1]]
        c = _B64_VALUE[s[i + 2]]
        d = _B64_VALUE[s[i + 3]]
        if (a | b | c | d) < 0:
            raise PacketError(_BAD_BASE64)
        dst[0] = <unsigned char>((a << 2) | (b >> 4))
        dst[1] = <unsigned char>(((b & 15) << 4) | (c >> 2))
        dst[2] = <unsigned char>(((c & 3) << 6) | d)
        dst += 3
        i += 4
    if pad:
        a = _B64_VALUE[s[full]]
        b = _B64_VALUE[s[full + 1]]
        c = _B64_VALUE[s[full + 2]] if pad == 1 else 0
        if (a | b | c) < 0:
            raise PacketError(_BAD_BASE64)
        dst[0] = <unsigned char>((a << 2) | (b >> 4))
        if pad == 1:
            dst[1] = <unsigned char>(((b & 15) << 4) | (c >> 2))
    return out


cdef object _bad_type(long first, bint is_byte):
    if is_byte and first >= 0x80:
        return PacketError(f"invalid Engine.IO packet type (byte 0x{first:02x})")
    return PacketError(f"invalid Engine.IO packet type {chr(first)!r}")


cdef tuple _decode_text_bytes(const char* p, Py_ssize_t n):
    """Decode one UTF-8 text-encoded packet: ``<digit>[data]`` or ``b<base64>``."""
    cdef unsigned char first
    cdef object data
    if n <= 0:
        raise PacketError("empty Engine.IO packet")
    first = <unsigned char>p[0]
    if first == _CHAR_b:
        return (_MESSAGE, _b64decode(<const unsigned char*>p + 1, n - 1))
    if first < _CHAR_0 or first > _CHAR_6:
        raise _bad_type(first, True)
    if n == 1:
        return (first - 48, None)
    try:
        data = PyUnicode_DecodeUTF8(p + 1, n - 1, NULL)
    except UnicodeDecodeError as exc:
        raise PacketError(
            f"invalid UTF-8 in packet data: {exc.reason} at byte {exc.start}"
        ) from None
    return (first - 48, data)


cdef tuple _decode_text_str(object s):
    """Decode one text packet given as str."""
    cdef Py_ssize_t n = PyUnicode_GET_LENGTH(s)
    cdef Py_UCS4 first
    cdef bytes ascii
    if n == 0:
        raise PacketError("empty Engine.IO packet")
    first = PyUnicode_READ_CHAR(s, 0)
    if first == u"b":
        if PyUnicode_IS_COMPACT_ASCII(s):
            return (_MESSAGE, _b64decode(<const unsigned char*>PyUnicode_DATA(s) + 1, n - 1))
        try:
            ascii = PyUnicode_Substring(s, 1, n).encode("ascii")
        except UnicodeEncodeError:
            raise PacketError(_BAD_BASE64) from None
        return (_MESSAGE, _b64decode(<const unsigned char*>PyBytes_AS_STRING(ascii), n - 1))
    if first < u"0" or first > u"6":
        raise _bad_type(first, False)
    return (<int>first - 48, PyUnicode_Substring(s, 1, n) if n > 1 else None)


cdef object _as_bytes_or_str(object value, str what):
    if PyUnicode_Check(value) or type(value) is bytes:
        return value
    if isinstance(value, _BINARY_TYPES):
        return bytes(value)
    raise PacketError(f"an Engine.IO {what} must be str or bytes, not {type(value).__name__}")


# ---------------------------------------------------------------------------------- packets

def encode_packet(packet_type, data=None, b64=False):
    """Encode one Engine.IO packet.

    :param packet_type: one of ``OPEN`` ... ``NOOP`` (0-6).
    :param data: ``str`` for a text packet, ``bytes`` for a binary one (MESSAGE only), or
                 ``None`` for a packet without data.
    :param b64: encode binary data as ``b`` + base64 (HTTP long-polling) instead of returning
                the raw bytes (for a WebSocket binary frame).
    :return: the UTF-8 text packet, the base64 packet, or the raw binary data.
    """
    cdef int t = _packet_type(packet_type)
    cdef bytes out, utf8
    cdef char* dst
    cdef const char* src
    cdef Py_ssize_t n
    if data is None:
        return _DIGITS[t]
    if PyUnicode_Check(data):
        if PyUnicode_IS_COMPACT_ASCII(data):
            src = <const char*>PyUnicode_DATA(data)
            n = PyUnicode_GET_LENGTH(data)
        else:
            utf8 = _utf8(data)
            src = PyBytes_AS_STRING(utf8)
            n = PyBytes_GET_SIZE(utf8)
        out = PyBytes_FromStringAndSize(NULL, n + 1)
        dst = PyBytes_AS_STRING(out)
        dst[0] = <char>(48 + t)
        memcpy(dst + 1, src, n)
        return out
    if isinstance(data, _BINARY_TYPES):
        if t != _MESSAGE:
            raise PacketError(_BINARY_ONLY_MESSAGE)
        if type(data) is not bytes:
            data = bytes(data)
        if not b64:
            return data
        n = PyBytes_GET_SIZE(data)
        out = PyBytes_FromStringAndSize(NULL, 1 + _b64_size(n))
        dst = PyBytes_AS_STRING(out)
        dst[0] = _CHAR_b
        _b64_write(<const unsigned char*>PyBytes_AS_STRING(data), n, dst + 1)
        return out
    raise TypeError(f"packet data must be str, bytes or None, not {type(data).__name__}")


def decode_packet(encoded, binary=False):
    """Decode one Engine.IO packet.

    :param encoded: the packet as received: a WebSocket message or one polling payload segment.
    :param binary: ``True`` for a WebSocket binary frame, whose bytes are the MESSAGE data as is.
    :return: ``(packet_type, data)``; data is ``str`` for text, ``bytes`` for binary (always
             MESSAGE), ``None`` when the packet carries no data.
    :raises PacketError: on anything malformed.
    """
    if binary:
        if PyUnicode_Check(encoded) or not isinstance(encoded, _BINARY_TYPES):
            raise PacketError(
                f"a binary Engine.IO packet must be bytes, not {type(encoded).__name__}"
            )
        return (_MESSAGE, encoded if type(encoded) is bytes else bytes(encoded))
    encoded = _as_bytes_or_str(encoded, "packet")
    if PyUnicode_Check(encoded):
        return _decode_text_str(encoded)
    return _decode_text_bytes(PyBytes_AS_STRING(encoded), PyBytes_GET_SIZE(encoded))


# ---------------------------------------------------------------------------------- payloads

cdef struct _Piece:
    const char* src   # text (UTF-8) or binary data
    Py_ssize_t size   # bytes of src
    int kind          # 0: text/no data, 1: binary (written as base64)
    int packet_type


def encode_payload(packets):
    """Encode packets as one HTTP long-polling payload.

    Each packet is encoded with ``b64=True`` and the packets are joined with ``\\x1e``. Like the
    reference implementations, text data is not escaped: it must not contain ``\\x1e`` (JSON
    never does).

    :param packets: ``(packet_type, data)`` pairs.
    """
    # a tuple: immutable, so the unchecked indexing below stays in bounds whatever the items do
    cdef tuple items = tuple(packets)
    cdef Py_ssize_t count = len(items), i, total = 0
    cdef list keep = []  # owners of the buffers the pieces point into
    cdef _Piece* pieces
    cdef _Piece* piece
    cdef bytes out, utf8
    cdef char* dst
    if count == 0:
        return b""
    pieces = <_Piece*>PyMem_Malloc(count * sizeof(_Piece))
    if pieces == NULL:
        raise MemoryError()
    try:
        # Pass 1: validate every packet in order (same errors as encode_packet) and size it.
        for i in range(count):
            packet_type, data = items[i]
            piece = &pieces[i]
            piece.packet_type = _packet_type(packet_type)
            piece.kind = 0
            piece.size = 0
            if data is None:
                pass
            elif PyUnicode_Check(data):
                if PyUnicode_IS_COMPACT_ASCII(data):
                    keep.append(data)
                    piece.src = <const char*>PyUnicode_DATA(data)
                    piece.size = PyUnicode_GET_LENGTH(data)
                else:
                    utf8 = _utf8(data)
                    keep.append(utf8)
                    piece.src = PyBytes_AS_STRING(utf8)
                    piece.size = PyBytes_GET_SIZE(utf8)
            elif isinstance(data, _BINARY_TYPES):
                if piece.packet_type != _MESSAGE:
                    raise PacketError(_BINARY_ONLY_MESSAGE)
                if type(data) is not bytes:
                    data = bytes(data)
                keep.append(data)
                piece.kind = 1
                piece.src = PyBytes_AS_STRING(data)
                piece.size = PyBytes_GET_SIZE(data)
            else:
                raise TypeError(
                    f"packet data must be str, bytes or None, not {type(data).__name__}"
                )
            total += 1 + (_b64_size(piece.size) if piece.kind else piece.size)
        total += count - 1
        # Pass 2: write everything into the one result buffer.
        out = PyBytes_FromStringAndSize(NULL, total)
        dst = PyBytes_AS_STRING(out)
        for i in range(count):
            piece = &pieces[i]
            if i:
                dst[0] = _SEP
                dst += 1
            if piece.kind:
                dst[0] = _CHAR_b
                _b64_write(<const unsigned char*>piece.src, piece.size, dst + 1)
                dst += 1 + _b64_size(piece.size)
            else:
                dst[0] = <char>(48 + piece.packet_type)
                memcpy(dst + 1, piece.src, piece.size)
                dst += 1 + piece.size
        return out
    finally:
        PyMem_Free(pieces)


cdef list _decode_payload_buffer(const char* p, Py_ssize_t n):
    cdef list packets = []
    cdef const char* end = p + n
    cdef const char* sep
    while True:
        sep = <const char*>memchr(p, _SEP, end - p)
        if sep == NULL:
            packets.append(_decode_text_bytes(p, end - p))
            return packets
        packets.append(_decode_text_bytes(p, sep - p))
        p = sep + 1


def decode_payload(body, Py_ssize_t max_packets=10_000):
    """Decode an HTTP long-polling payload into its packets.

    :param body: the request body (UTF-8 bytes, or already decoded text).
    :param max_packets: more packets than this raise :class:`PacketError` before any is decoded.
    :return: a list of ``(packet_type, data)`` as :func:`decode_packet` returns them.
    :raises PacketError: on an empty body, an empty or malformed packet, or too many packets.
    """
    cdef const char* p
    cdef const char* q
    cdef const char* end
    cdef Py_ssize_t n, separators = 0
    cdef bint as_buffer
    body = _as_bytes_or_str(body, "payload")
    if PyUnicode_Check(body):
        n = PyUnicode_GET_LENGTH(body)
        # ASCII text has the same layout as its UTF-8 bytes: use the fast buffer path.
        as_buffer = PyUnicode_IS_COMPACT_ASCII(body)
        p = <const char*>PyUnicode_DATA(body) if as_buffer else NULL
        if not as_buffer and n:
            separators = body.count("\x1e")
    else:
        n = PyBytes_GET_SIZE(body)
        as_buffer = True
        p = PyBytes_AS_STRING(body)
    if n == 0:
        raise PacketError("empty Engine.IO payload")
    if as_buffer:
        end = p + n
        q = p
        while True:
            q = <const char*>memchr(q, _SEP, end - q)
            if q == NULL:
                break
            separators += 1
            q += 1
    if separators >= max_packets:
        raise PacketError(f"too many packets in Engine.IO payload (more than {max_packets})")
    if as_buffer:
        return _decode_payload_buffer(p, n)
    return [_decode_text_str(segment) for segment in body.split("\x1e")]


# ---------------------------------------------------------------------------------- compression

def _qvalue(str params):
    """The q-value of one Accept-Encoding entry's parameters; None when malformed."""
    cdef str param, key, value
    for param in params.split(";"):
        key, _, value = param.partition("=")
        if key.strip().lower() == "q":
            value = value.strip()
            return float(value) if _is_qvalue(value) else None
    return 1.0


cdef bint _is_qvalue(str value):
    """RFC 9110 qvalue: ``0[.ddd]`` or ``1[.000]``."""
    cdef Py_ssize_t n = len(value), i
    cdef Py_UCS4 c
    if n == 0 or n > 5 or (n > 1 and value[1] != u"."):
        return False
    c = value[0]
    if c != u"0" and c != u"1":
        return False
    for i in range(2, n):
        c = value[i]
        if c < u"0" or c > u"9" or (value[0] == u"1" and c != u"0"):
            return False
    return True


def _choose_encoding(str accept_encoding):
    """The best of gzip/deflate per Accept-Encoding (RFC 9110 12.5.3), or None.

    Highest q-value wins; ties go to the client's order, then to gzip. ``q=0`` excludes an
    encoding, ``*`` stands for any encoding not listed. Entries with a malformed q-value are
    ignored.
    """
    cdef dict listed = {}
    cdef Py_ssize_t position = 0, preference
    cdef str entry, name
    cdef object q
    for entry in accept_encoding.split(","):
        name, _, params = entry.partition(";")
        name = name.strip().lower()
        q = _qvalue(params)
        if name and q is not None and name not in listed:
            listed[name] = (q, position)
        position += 1
    best = None
    for preference in range(2):
        name = _COMPRESSIONS[preference]
        q, position = listed.get(name) or listed.get("*") or (0.0, 0)
        if q > 0.0:
            key = (-q, position, preference)
            if best is None or key < best[0]:
                best = (key, name)
    return best[1] if best is not None else None


def compress(body, accept_encoding, threshold):
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
