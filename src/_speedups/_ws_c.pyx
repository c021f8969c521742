# cython: language_level=3
"""RFC 6455 WebSocket frames, compiled: builds server/client frames and parses client frames.

The pure-Python twin is ``fastsock._ws_py``; both behave identically, down to error messages
and close codes. Here the parser is a state machine over C buffers: each received byte is copied
once (unmasked on the way, 8 bytes per step) into the message buffer, whatever the split of the
stream into ``feed`` calls, and a whole binary frame present in the input goes straight into the
resulting ``bytes`` object.
"""

import base64
import hashlib

import cython

from cpython.buffer cimport PyBUF_SIMPLE, PyBuffer_Release, PyObject_GetBuffer
from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_FromStringAndSize
from cpython.mem cimport PyMem_Free, PyMem_Realloc
from cpython.unicode cimport (
    PyUnicode_AsUTF8AndSize,
    PyUnicode_DecodeUTF8,
    PyUnicode_DecodeUTF8Stateful,
)
from libc.stdint cimport uint64_t
from libc.string cimport memcpy

from fastsock.exceptions import WebSocketError

CYTHON_COMPILED = cython.compiled

__all__ = [
    "CONTINUATION",
    "TEXT",
    "BINARY",
    "CLOSE",
    "PING",
    "PONG",
    "build_frame",
    "build_close",
    "accept_key",
    "FrameParser",
]

# integer values are used so they can be cythonized: the C enum drives the parser, the Python
# names are the public constants.
cdef enum:
    OP_CONTINUATION = 0
    OP_TEXT = 1
    OP_BINARY = 2
    OP_CLOSE = 8
    OP_PING = 9
    OP_PONG = 10
    MAX_CONTROL_PAYLOAD = 125
    # Past this size the message buffer is released after each message, so a connection that
    # once received a big message does not keep its memory while idle.
    KEEP_BUFFER = 65536

CONTINUATION = OP_CONTINUATION
TEXT = OP_TEXT
BINARY = OP_BINARY
CLOSE = OP_CLOSE
PING = OP_PING
PONG = OP_PONG

cdef bytes _GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
cdef uint64_t _MAX_LENGTH = (<uint64_t>1 << 63) - 1


cdef inline bint _valid_close_code(long code) noexcept:
    # RFC 6455 §7.4: 1004-1006 and 1015 are reserved or local-only, 1016-2999 are reserved for
    # future RFCs, 3000-4999 belong to libraries and applications. 1012-1014 are IANA-registered.
    return 1000 <= code <= 1003 or 1007 <= code <= 1014 or 3000 <= code <= 4999


cdef inline void _xor_copy(unsigned char* dst, const unsigned char* src, Py_ssize_t n,
                           const unsigned char* key, uint64_t phase) noexcept nogil:
    """dst[i] = src[i] ^ key[(phase + i) % 4]; dst may equal src."""
    cdef unsigned char rotated[8]
    cdef uint64_t key64, word
    cdef Py_ssize_t i
    for i in range(8):
        rotated[i] = key[(phase + <uint64_t>i) & 3]
    # memcpy of a constant 8 bytes compiles to one unaligned load/store; byte order does not
    # matter since the key is laid out in memory order.
    memcpy(&key64, rotated, 8)
    i = 0
    while i + 8 <= n:
        memcpy(&word, src + i, 8)
        word ^= key64
        memcpy(dst + i, &word, 8)
        i += 8
    while i < n:
        dst[i] = src[i] ^ rotated[i & 3]
        i += 1


cdef inline Py_ssize_t _header_size(unsigned char b1) noexcept:
    cdef unsigned char length = b1 & 0x7F
    cdef Py_ssize_t size = 2
    if length == 126:
        size += 2
    elif length == 127:
        size += 8
    if b1 & 0x80:
        size += 4
    return size


def build_frame(opcode, payload=b"", fin=True, rsv1=False, mask=None):
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
    cdef Py_buffer view
    cdef Py_buffer mask_view
    cdef bint have_view = False
    cdef bint have_mask = False
    cdef const unsigned char* src
    cdef Py_ssize_t length
    cdef Py_ssize_t header_size
    cdef unsigned char* out
    cdef bytes frame
    cdef int op, i
    cdef unsigned char b1 = 0
    if isinstance(payload, str):
        src = <const unsigned char*>PyUnicode_AsUTF8AndSize(payload, &length)
    else:
        PyObject_GetBuffer(payload, &view, PyBUF_SIMPLE)
        have_view = True
        src = <const unsigned char*>view.buf
        length = view.len
    try:
        if not 0 <= opcode <= 15:
            raise ValueError(f"opcode {opcode} does not fit in 4 bits")
        op = opcode
        if op >= 8:
            if not fin:
                raise ValueError("a control frame cannot be fragmented")
            if length > MAX_CONTROL_PAYLOAD:
                raise ValueError(
                    f"a control frame payload is at most 125 bytes, got {length}"
                )
        if mask is not None:
            PyObject_GetBuffer(mask, &mask_view, PyBUF_SIMPLE)
            have_mask = True
            if mask_view.len != 4:
                raise ValueError("a masking key is exactly 4 bytes")
            b1 = 0x80
        if length < 126:
            header_size = 2
        elif length < 0x10000:
            header_size = 4
        else:
            header_size = 10
        if have_mask:
            header_size += 4
        # One allocation: the header and the payload are written into the final bytes object.
        frame = PyBytes_FromStringAndSize(NULL, header_size + length)
        out = <unsigned char*>PyBytes_AS_STRING(frame)
        out[0] = (0x80 if fin else 0) | (0x40 if rsv1 else 0) | op
        if length < 126:
            out[1] = b1 | <unsigned char>length
        elif length < 0x10000:
            out[1] = b1 | 126
            out[2] = <unsigned char>(length >> 8)
            out[3] = <unsigned char>length
        else:
            out[1] = b1 | 127
            for i in range(8):
                out[2 + i] = <unsigned char>((<uint64_t>length) >> (56 - 8 * i))
        if have_mask:
            memcpy(out + header_size - 4, mask_view.buf, 4)
            _xor_copy(out + header_size, src, length,
                      <const unsigned char*>mask_view.buf, 0)
        else:
            memcpy(out + header_size, src, length)
        return frame
    finally:
        if have_mask:
            PyBuffer_Release(&mask_view)
        if have_view:
            PyBuffer_Release(&view)


def build_close(code=1000, reason=""):
    """Encode a server CLOSE frame with a status ``code`` and a UTF-8 ``reason``.

    Raises ``ValueError`` for a code an endpoint may not send (RFC 6455 §7.4) or a reason longer
    than 123 bytes once encoded.
    """
    if not (1000 <= code <= 4999 and _valid_close_code(code)):
        raise ValueError(f"close code {code} may not be sent in a close frame")
    return build_frame(OP_CLOSE, code.to_bytes(2, "big") + reason.encode("utf-8"))


def accept_key(key):
    """Return the ``Sec-WebSocket-Accept`` value answering a ``Sec-WebSocket-Key``."""
    if isinstance(key, str):
        key = key.encode("utf-8")
    return base64.b64encode(hashlib.sha1(key.strip() + _GUID).digest()).decode("ascii")


cdef str _decode_text(const unsigned char* data, Py_ssize_t length):
    try:
        return PyUnicode_DecodeUTF8(<const char*>data, length, "strict")
    except UnicodeDecodeError:
        raise WebSocketError("invalid UTF-8 in a text message", 1007)


cdef tuple _parse_close(const unsigned char* data, Py_ssize_t length):
    """``(code, reason)`` of a CLOSE frame's payload; ``(None, "")`` when it is empty."""
    cdef long code
    if length == 0:
        return None, ""
    if length == 1:
        raise WebSocketError("close frame payload of 1 byte", 1002)
    code = (data[0] << 8) | data[1]
    if not _valid_close_code(code):
        raise WebSocketError(f"invalid close code {code}", 1002)
    try:
        reason = PyUnicode_DecodeUTF8(<const char*>data + 2, length - 2, "strict")
    except UnicodeDecodeError:
        raise WebSocketError("invalid UTF-8 in a close reason", 1007)
    return code, reason


@cython.final
cdef class FrameParser:
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

    cdef uint64_t _max_size
    cdef bint _require_mask
    # The header of the next frame, while it arrives in pieces.
    cdef unsigned char _hdr[14]
    cdef Py_ssize_t _hdr_have
    # The frame whose payload is arriving.
    cdef bint _in_payload
    cdef int _opcode
    cdef bint _fin
    cdef bint _masked
    cdef unsigned char _mask[4]
    cdef uint64_t _length
    cdef uint64_t _got
    cdef unsigned char _ctrl[125]
    # The message being assembled: mbuf[0:mlen] holds its complete frames, the frame arriving
    # lands right after them. For a fragmented text message, mbuf[0:text_checked] is already
    # decoded into parts.
    cdef int _msg_opcode
    cdef unsigned char* _mbuf
    cdef Py_ssize_t _mlen
    cdef Py_ssize_t _mcap
    cdef Py_ssize_t _text_checked
    cdef list _parts
    cdef bint _closed
    cdef object _error

    def __init__(self, max_message_size=1_000_000, require_mask=True):
        if max_message_size < 0:
            raise ValueError("max_message_size cannot be negative")
        self._max_size = min(int(max_message_size), _MAX_LENGTH)
        self._require_mask = bool(require_mask)
        self._parts = []

    def __dealloc__(self):
        PyMem_Free(self._mbuf)

    def feed(self, data):
        """Parse ``data`` and return the completed items, in order.

        Items are ``(TEXT, str)``, ``(BINARY, bytes)``, ``(PING, bytes)``, ``(PONG, bytes)`` and
        ``(CLOSE, (code or None, reason))``. Any split of a byte stream into calls gives the same
        items.
        """
        cdef Py_buffer view
        cdef list items = []
        if self._error is not None:
            exc = WebSocketError(f"parser already failed: {self._error}", self._error.close_code)
            exc.items = []
            raise exc
        PyObject_GetBuffer(data, &view, PyBUF_SIMPLE)
        try:
            if self._closed:
                if view.len:
                    raise WebSocketError("data received after a close frame", 1002)
                return items
            self._parse(<const unsigned char*>view.buf, view.len, items)
        except WebSocketError as exc:
            exc.items = items
            self._error = exc
            self._release()
            raise
        finally:
            PyBuffer_Release(&view)
        return items

    cdef void _release(self) noexcept:
        PyMem_Free(self._mbuf)
        self._mbuf = NULL
        self._mcap = 0
        self._mlen = 0
        self._parts = []

    cdef int _reserve(self, Py_ssize_t need) except -1:
        cdef Py_ssize_t cap
        cdef void* grown
        if need <= self._mcap:
            return 0
        # Grow with what arrives, never with what a header announces: a client cannot make us
        # allocate a large buffer it never fills.
        cap = max(need, self._mcap * 2, 256)
        grown = PyMem_Realloc(self._mbuf, cap)
        if grown == NULL:
            raise MemoryError()
        self._mbuf = <unsigned char*>grown
        self._mcap = cap
        return 0

    cdef int _parse(self, const unsigned char* p, Py_ssize_t n, list items) except -1:
        cdef Py_ssize_t pos = 0
        cdef Py_ssize_t size, take
        cdef const unsigned char* header
        cdef bytes whole
        while True:
            if not self._in_payload:
                if self._hdr_have == 0 and n - pos >= 2:
                    size = _header_size(p[pos + 1])
                    if n - pos < size:
                        memcpy(self._hdr, p + pos, n - pos)
                        self._hdr_have = n - pos
                        return 0
                    header = p + pos
                    pos += size
                else:
                    if pos >= n:
                        return 0
                    if self._hdr_have < 2:
                        take = min(2 - self._hdr_have, n - pos)
                        memcpy(self._hdr + self._hdr_have, p + pos, take)
                        self._hdr_have += take
                        pos += take
                        if self._hdr_have < 2:
                            return 0
                    size = _header_size(self._hdr[1])
                    take = min(size - self._hdr_have, n - pos)
                    memcpy(self._hdr + self._hdr_have, p + pos, take)
                    self._hdr_have += take
                    pos += take
                    if self._hdr_have < size:
                        return 0
                    header = self._hdr
                    self._hdr_have = 0
                self._check_header(header, size)
                self._in_payload = True
                self._got = 0
                if self._opcode == OP_BINARY and self._fin and <uint64_t>(n - pos) >= self._length:
                    # A whole one-frame binary message is in the input: unmask it straight into
                    # the bytes object handed to the caller.
                    whole = PyBytes_FromStringAndSize(NULL, <Py_ssize_t>self._length)
                    self._copy(<unsigned char*>PyBytes_AS_STRING(whole), p + pos,
                               <Py_ssize_t>self._length)
                    pos += <Py_ssize_t>self._length
                    self._in_payload = False
                    items.append((OP_BINARY, whole))
                    continue
            take = <Py_ssize_t>min(self._length - self._got, <uint64_t>(n - pos))
            if self._opcode >= 8:
                self._copy(self._ctrl + self._got, p + pos, take)
            elif take:
                self._reserve(self._mlen + <Py_ssize_t>self._got + take)
                self._copy(self._mbuf + self._mlen + self._got, p + pos, take)
            self._got += take
            pos += take
            if self._got < self._length:
                return 0
            self._in_payload = False
            if self._opcode >= 8:
                self._control_frame(items)
                if self._closed:
                    if pos < n:
                        raise WebSocketError("data received after a close frame", 1002)
                    return 0
            else:
                self._data_frame(items)

    cdef inline void _copy(self, unsigned char* dst, const unsigned char* src,
                           Py_ssize_t n) noexcept:
        if self._masked:
            _xor_copy(dst, src, n, self._mask, self._got)
        else:
            memcpy(dst, src, n)

    cdef int _check_header(self, const unsigned char* h, Py_ssize_t size) except -1:
        """Validate a complete frame header (in this fixed order) and load its fields."""
        cdef unsigned char b0 = h[0]
        cdef unsigned char b1 = h[1]
        cdef int opcode = b0 & 0x0F
        cdef bint fin = (b0 & 0x80) != 0
        cdef bint masked = (b1 & 0x80) != 0
        cdef uint64_t length = b1 & 0x7F
        cdef int i
        if b0 & 0x70:
            raise WebSocketError("reserved bits set without a negotiated extension", 1002)
        if 3 <= opcode <= 7 or opcode >= 11:
            raise WebSocketError(f"reserved opcode {opcode}", 1002)
        if not masked and self._require_mask:
            raise WebSocketError("client frame is not masked", 1002)
        if opcode >= 8:
            if not fin:
                raise WebSocketError("fragmented control frame", 1002)
            if length > MAX_CONTROL_PAYLOAD:
                raise WebSocketError("control frame payload longer than 125 bytes", 1002)
        elif opcode == OP_CONTINUATION:
            if not self._msg_opcode:
                raise WebSocketError("continuation frame without a message to continue", 1002)
        elif self._msg_opcode:
            raise WebSocketError("new data frame inside a fragmented message", 1002)
        if length == 126:
            length = (<uint64_t>h[2] << 8) | h[3]
        elif length == 127:
            length = 0
            for i in range(8):
                length = (length << 8) | h[2 + i]
            if length >> 63:
                raise WebSocketError(
                    "64-bit payload length with the most significant bit set", 1002
                )
        if opcode < 8 and <uint64_t>self._mlen + length > self._max_size:
            raise WebSocketError(
                f"message larger than the limit of {self._max_size} bytes", 1009
            )
        if masked:
            memcpy(self._mask, h + size - 4, 4)
        self._opcode = opcode
        self._fin = fin
        self._masked = masked
        self._length = length
        return 0

    cdef int _control_frame(self, list items) except -1:
        cdef Py_ssize_t length = <Py_ssize_t>self._length
        if self._opcode == OP_CLOSE:
            items.append((OP_CLOSE, _parse_close(self._ctrl, length)))
            self._closed = True
            self._release()
        else:
            items.append((self._opcode, PyBytes_FromStringAndSize(<char*>self._ctrl, length)))
        return 0

    cdef int _data_frame(self, list items) except -1:
        """Act on a complete data frame, whose payload is mbuf[mlen:mlen+length]."""
        cdef int opcode = self._opcode
        cdef bint fin = self._fin
        cdef Py_ssize_t end = self._mlen + <Py_ssize_t>self._length
        cdef Py_ssize_t used = 0
        cdef object message = None
        if opcode == OP_CONTINUATION:
            opcode = self._msg_opcode
        elif not fin:
            self._msg_opcode = opcode
        if opcode == OP_TEXT:
            if fin:
                message = _decode_text(self._mbuf + self._text_checked,
                                       end - self._text_checked)
                if self._parts:
                    self._parts.append(message)
                    message = "".join(self._parts)
            else:
                # Validate each fragment as it arrives so bad UTF-8 fails before the message
                # ends; an incomplete sequence at a fragment's end waits for the next fragment.
                try:
                    text = PyUnicode_DecodeUTF8Stateful(
                        <const char*>self._mbuf + self._text_checked,
                        end - self._text_checked, "strict", &used,
                    )
                except UnicodeDecodeError:
                    raise WebSocketError("invalid UTF-8 in a text message", 1007)
                self._parts.append(text)
                self._text_checked += used
        elif fin:
            message = PyBytes_FromStringAndSize(<char*>self._mbuf, end)
        if not fin:
            self._mlen = end
            return 0
        items.append((opcode, message))
        self._msg_opcode = 0
        self._mlen = 0
        self._text_checked = 0
        if self._parts:
            self._parts = []
        if self._mcap > KEEP_BUFFER:
            self._release()
        return 0
