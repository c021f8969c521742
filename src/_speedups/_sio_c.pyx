# cython: language_level=3
"""Socket.IO v5 packet codec (compiled twin of ``fastsock._sio_py``).

Both modules expose the same names with the same behaviour; ``fastsock._kernels.sio`` picks one.
:class:`Packet` has the constructor and attributes of python-socketio's
``socketio.packet.Packet``, so code (and user subclasses) written against it keep working.

Wire format: ``<type>[<attachments>-][<namespace>,][<ack id>][<JSON payload>]``, followed for
BINARY_EVENT / BINARY_ACK by one binary message per attachment, each referenced in the JSON by a
placeholder ``{"_placeholder":true,"num":<n>}``. What we emit follows the JavaScript reference
(socket.io-parser 4.x); what we accept covers what it and python-socketio emit; everything
malformed raises :class:`~fastsock.exceptions.PacketError`.

Written for speed: :class:`Packet` is an extension type whose own ``encode``/``decode`` run as C
functions (a Python subclass that overrides them is still honoured: the fast paths are taken only
when ``type(self) is Packet``); the header is parsed and built on the C level, the binary-data
walks iterate lists and dicts through their C APIs, and the common EVENT packet costs one JSON
call each way plus one string concatenation or slice.
"""

import cython

from cpython.bytearray cimport PyByteArray_Check
from cpython.bytes cimport PyBytes_Check
from cpython.dict cimport PyDict_Check, PyDict_SetItem
from cpython.float cimport PyFloat_Check
from cpython.list cimport PyList_Check, PyList_GET_ITEM, PyList_GET_SIZE
from cpython.long cimport PyLong_Check, PyLong_CheckExact, PyLong_FromLongLong
from cpython.mem cimport PyMem_Free, PyMem_Malloc
from cpython.object cimport PyObject
from cpython.unicode cimport PyUnicode_Check, PyUnicode_CheckExact
from libc.string cimport memset

from fastsock.exceptions import PacketError

try:
    from fastsock._json_c import JsonAdapter, default_adapter
except ImportError:  # the JSON kernel failed to compile: its twin has the same behaviour
    from fastsock._json_py import JsonAdapter, default_adapter

try:
    import msgpack
except ImportError:  # msgpack is optional: only MsgPackPacket needs it
    msgpack = None

cdef extern from "Python.h":
    Py_ssize_t PyUnicode_GET_LENGTH(object o)
    Py_UCS4 PyUnicode_READ_CHAR(object o, Py_ssize_t index)
    object PyUnicode_Substring(object s, Py_ssize_t start, Py_ssize_t end)
    Py_ssize_t PyUnicode_FindChar(
        object s, Py_UCS4 ch, Py_ssize_t start, Py_ssize_t end, int direction
    ) except -2

CYTHON_COMPILED = cython.compiled

__all__ = [
    "CONNECT",
    "DISCONNECT",
    "EVENT",
    "ACK",
    "CONNECT_ERROR",
    "BINARY_EVENT",
    "BINARY_ACK",
    "packet_names",
    "Packet",
    "MsgPackPacket",
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

# integer values are used so they can be cythonized
cdef enum:
    _CONNECT = 0
    _DISCONNECT = 1
    _EVENT = 2
    _ACK = 3
    _CONNECT_ERROR = 4
    _BINARY_EVENT = 5
    _BINARY_ACK = 6
    # deepest nesting of lists/dicts walked looking for binary data (a fixed limit rather than
    # the interpreter's recursion limit, so both implementations refuse exactly the same data)
    _MAX_DEPTH = 500
    _MAX_ATTACHMENTS = 1000
    _MAX_ID_DIGITS = 15

# Event names socket.io-parser refuses to decode: they mean something else to both ends.
cdef frozenset _RESERVED_EVENTS = frozenset(
    ("connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener")
)
cdef tuple _TYPE_TEXT = ("0", "1", "2", "3", "4", "5", "6")
cdef str _PLACEHOLDER = "_placeholder"
cdef str _NUM = "num"
cdef object _ABSENT = object()
cdef object _JsonAdapter = JsonAdapter
cdef object _DEFAULT_JSON = default_adapter()


cdef object _as_adapter(object json):
    if json is None:
        return _DEFAULT_JSON
    if type(json) is _JsonAdapter or hasattr(json, "dumps_bytes"):
        return json
    return _JsonAdapter(json)  # a bare module with dumps/loads


cdef extern from *:
    """
    /* What a walk needs to know about an object, from its type flags alone (no calls). */
    enum { FS_OTHER = 0, FS_SCALAR, FS_BINARY, FS_LIST, FS_TUPLE, FS_DICT };
    static inline int fs_kind(PyObject *o) {
        unsigned long f = Py_TYPE(o)->tp_flags;
        if (f & (Py_TPFLAGS_UNICODE_SUBCLASS | Py_TPFLAGS_LONG_SUBCLASS)) return FS_SCALAR;
        if (f & Py_TPFLAGS_LIST_SUBCLASS) return FS_LIST;
        if (f & Py_TPFLAGS_DICT_SUBCLASS) return FS_DICT;
        if (f & Py_TPFLAGS_BYTES_SUBCLASS) return FS_BINARY;
        if (f & Py_TPFLAGS_TUPLE_SUBCLASS) return FS_TUPLE;
        if (o == Py_None || PyFloat_CheckExact(o)) return FS_SCALAR;
        if (PyByteArray_Check(o)) return FS_BINARY;
        return FS_OTHER;
    }
    """
    enum:
        FS_OTHER
        FS_SCALAR
        FS_BINARY
        FS_LIST
        FS_TUPLE
        FS_DICT
    int fs_kind(PyObject* o)
    Py_ssize_t fs_list_size "PyList_GET_SIZE" (PyObject* o)
    PyObject* fs_list_item "PyList_GET_ITEM" (PyObject* o, Py_ssize_t i)
    Py_ssize_t fs_tuple_size "PyTuple_GET_SIZE" (PyObject* o)
    PyObject* fs_tuple_item "PyTuple_GET_ITEM" (PyObject* o, Py_ssize_t i)
    bint fs_dict_next "PyDict_Next" (PyObject* o, Py_ssize_t* pos, PyObject** key,
                                     PyObject** value)


cdef inline bint _is_binary(object data):
    return PyBytes_Check(data) or PyByteArray_Check(data)


cdef object _too_deep_to_encode():
    return TypeError(f"data is nested more than {_MAX_DEPTH} levels deep")


cdef object _too_deep_to_decode():
    return PacketError(f"binary packet payload is nested more than {_MAX_DEPTH} levels deep")


# The walks below take borrowed references and run no Python code between iterations (only type
# flags are read), so the containers cannot change under them.

cdef bint _has_binary(PyObject* data, int depth) except -1:
    cdef Py_ssize_t i, n
    cdef Py_ssize_t pos = 0
    cdef PyObject* key
    cdef PyObject* value
    cdef int kind = fs_kind(data)
    if kind == FS_SCALAR or kind == FS_OTHER:
        return False
    if kind == FS_BINARY:
        return True
    if depth >= _MAX_DEPTH:
        raise _too_deep_to_encode()
    if kind == FS_LIST:
        n = fs_list_size(data)
        for i in range(n):
            value = fs_list_item(data, i)
            kind = fs_kind(value)
            if kind == FS_BINARY or (kind > FS_BINARY and _has_binary(value, depth + 1)):
                return True
    elif kind == FS_DICT:
        while fs_dict_next(data, &pos, &key, &value):
            kind = fs_kind(value)
            if kind == FS_BINARY or (kind > FS_BINARY and _has_binary(value, depth + 1)):
                return True
    else:
        n = fs_tuple_size(data)
        for i in range(n):
            value = fs_tuple_item(data, i)
            kind = fs_kind(value)
            if kind == FS_BINARY or (kind > FS_BINARY and _has_binary(value, depth + 1)):
                return True
    return False


cdef object _deconstruct(object data, list attachments, int depth):
    # Containers are copied only on the way to a binary item: the caller's data is never
    # modified, and binary-free branches are shared, not rebuilt.
    cdef Py_ssize_t i, n
    cdef object item, new
    cdef object out = None
    cdef int kind = fs_kind(<PyObject*>data)
    if kind == FS_SCALAR or kind == FS_OTHER:
        return data
    if kind == FS_BINARY:
        attachments.append(data)
        return {_PLACEHOLDER: True, _NUM: PyList_GET_SIZE(attachments) - 1}
    if depth >= _MAX_DEPTH:
        raise _too_deep_to_encode()
    if kind == FS_LIST or kind == FS_TUPLE:
        n = len(data)
        for i in range(n):
            item = data[i]
            new = _deconstruct(item, attachments, depth + 1)
            if new is not item and out is None:
                out = list(data)
            if out is not None:
                out[i] = new
    else:
        # iterate a snapshot of the items: a dict subclass may run code when copied
        for key, item in list(data.items()):
            new = _deconstruct(item, attachments, depth + 1)
            if new is not item and out is None:
                out = dict(data)
            if out is not None:
                out[key] = new
    return data if out is None else out


cdef Py_ssize_t _placeholder_num(dict placeholder, Py_ssize_t count) except -1:
    num = placeholder.get(_NUM)
    if not PyLong_CheckExact(num) or not 0 <= num < count:
        raise PacketError(f"invalid binary placeholder {placeholder!r} ({count} attachments)")
    return num


cdef inline bint _is_placeholder(PyObject* data):
    return (<dict><object>data).get(_PLACEHOLDER) is True


cdef int _scan_placeholders(PyObject* data, Py_ssize_t count, unsigned char* seen,
                            int depth) except -1:
    cdef Py_ssize_t i, n
    cdef Py_ssize_t pos = 0
    cdef PyObject* key
    cdef PyObject* value
    cdef int kind = fs_kind(data)
    if kind == FS_LIST:
        if depth >= _MAX_DEPTH:
            raise _too_deep_to_decode()
        n = fs_list_size(data)
        for i in range(n):
            value = fs_list_item(data, i)
            if fs_kind(value) >= FS_LIST:
                _scan_placeholders(value, count, seen, depth + 1)
    elif kind == FS_DICT:
        if _is_placeholder(data):
            seen[_placeholder_num(<dict><object>data, count)] = 1
            return 0
        if depth >= _MAX_DEPTH:
            raise _too_deep_to_decode()
        while fs_dict_next(data, &pos, &key, &value):
            if fs_kind(value) >= FS_LIST:
                _scan_placeholders(value, count, seen, depth + 1)
    return 0


cdef int _check_placeholders(object data, Py_ssize_t count) except -1:
    # Every attachment must be referenced, every placeholder must name one: a peer cannot make
    # us wait for (and buffer) attachments nothing uses, nor point past the ones it sends.
    cdef unsigned char small[64]
    cdef unsigned char* seen = small
    cdef Py_ssize_t i
    cdef Py_ssize_t missing = 0
    if count > 64:
        seen = <unsigned char*>PyMem_Malloc(count)
        if seen == NULL:
            raise MemoryError()
    try:
        memset(seen, 0, count)
        _scan_placeholders(<PyObject*>data, count, seen, 0)
        for i in range(count):
            if not seen[i]:
                missing += 1
    finally:
        if seen != small:
            PyMem_Free(seen)
    if missing:
        raise PacketError(
            f"binary packet declares {count} attachments but its placeholders reference "
            f"{count - missing}"
        )
    return 0


cdef object _reconstruct(object data, list attachments, int depth):
    # In place: the data was built by our own JSON decode, nobody else holds it. Setting the
    # value of an existing key does not disturb PyDict_Next.
    cdef Py_ssize_t i, n
    cdef Py_ssize_t pos = 0
    cdef PyObject* key
    cdef PyObject* value
    cdef int kind = fs_kind(<PyObject*>data)
    if kind == FS_LIST:
        if depth >= _MAX_DEPTH:
            raise _too_deep_to_decode()
        n = PyList_GET_SIZE(data)
        for i in range(n):
            value = fs_list_item(<PyObject*>data, i)
            if fs_kind(value) >= FS_LIST:
                data[i] = _reconstruct(<object>value, attachments, depth + 1)
    elif kind == FS_DICT:
        if _is_placeholder(<PyObject*>data):
            return attachments[_placeholder_num(<dict>data, PyList_GET_SIZE(attachments))]
        if depth >= _MAX_DEPTH:
            raise _too_deep_to_decode()
        while fs_dict_next(<PyObject*>data, &pos, &key, &value):
            if fs_kind(value) >= FS_LIST:
                PyDict_SetItem(
                    data, <object>key, _reconstruct(<object>value, attachments, depth + 1)
                )
    return data


cdef int _check_payload(int packet_type, object data, bint present) except -1:
    if packet_type == _EVENT or packet_type == _BINARY_EVENT:
        if not PyList_Check(data) or PyList_GET_SIZE(data) == 0:
            raise PacketError("an EVENT payload must be a non-empty array")
        name = <object>PyList_GET_ITEM(data, 0)
        if PyUnicode_Check(name):
            if name in _RESERVED_EVENTS:
                raise PacketError(f"reserved event name {name!r}")
        elif not (PyLong_Check(name) or PyFloat_Check(name)) or isinstance(name, bool):
            raise PacketError("an EVENT payload must start with the event name")
    elif packet_type == _ACK or packet_type == _BINARY_ACK:
        if not PyList_Check(data):
            raise PacketError("an ACK payload must be an array")
    elif not present:
        return 0
    elif packet_type == _CONNECT:
        if not PyDict_Check(data):
            raise PacketError("a CONNECT payload must be an object")
    elif packet_type == _CONNECT_ERROR:
        if not (PyDict_Check(data) or PyUnicode_Check(data)):
            raise PacketError("a CONNECT_ERROR payload must be an object or a string")
    else:
        raise PacketError("a DISCONNECT packet has no payload")
    return 0


cdef int _check_id(object id, object max_digits) except -1:
    if not PyLong_CheckExact(id) or id < 0 or id >= 10 ** max_digits:
        raise PacketError(f"invalid ack id {id!r}")
    return 0


cdef int _type_digit(object packet_type) except -1:
    if not PyLong_CheckExact(packet_type) or not 0 <= packet_type <= 6:
        raise ValueError(f"invalid Socket.IO packet type {packet_type!r}")
    return packet_type


cdef inline bint _is_digit(Py_UCS4 c):
    return c >= u"0" and c <= u"9"


cdef class Packet:
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

    cdef public object packet_type
    cdef public object data
    cdef public object namespace
    cdef public object id
    cdef public object attachment_count
    cdef public object attachments
    cdef public object json

    uses_binary_events = True
    #: most binary attachments a decoded packet may announce
    max_attachments = _MAX_ATTACHMENTS
    #: most digits in a decoded ack id
    max_id_digits = _MAX_ID_DIGITS

    def __init__(self, packet_type=EVENT, data=None, namespace=None, id=None, binary=None,
                 encoded_packet=None, json=None):
        cdef bint exact = type(self) is Packet
        cdef bint to_binary
        self.packet_type = packet_type
        self.data = data
        self.namespace = namespace
        self.id = id
        self.json = _DEFAULT_JSON if json is None else _as_adapter(json)
        self.attachment_count = 0
        self.attachments = []
        if exact:
            to_binary = binary or (
                binary is None and data is not None and _has_binary(<PyObject*>data, 0)
            )
        else:
            to_binary = self.uses_binary_events and (
                binary or (binary is None and data is not None and self.data_is_binary(data))
            )
        if to_binary:
            if packet_type == EVENT:
                self.packet_type = BINARY_EVENT
            elif packet_type == ACK:
                self.packet_type = BINARY_ACK
            elif packet_type != BINARY_EVENT and packet_type != BINARY_ACK:
                raise ValueError("Packet does not support binary payload.")
        if encoded_packet is not None:
            if exact:
                self._decode(encoded_packet)
            else:
                self.attachment_count = self.decode(encoded_packet) or 0

    def __repr__(self):
        name = type(self).__name__
        return (f"<{name} type={self.packet_type!r} namespace={self.namespace!r} "
                f"id={self.id!r} data={self.data!r}>")

    def encode(self):
        """Encode the packet for transmission.

        Returns the text packet, or for a packet with binary attachments the list
        ``[text, attachment0, attachment1, ...]``.
        """
        cdef int packet_type = _type_digit(self.packet_type)
        cdef str head
        cdef object data = self.data
        cdef object attachments = None
        cdef object namespace = self.namespace
        if packet_type == _BINARY_EVENT or packet_type == _BINARY_ACK:
            if type(self) is Packet:
                attachments = []
                data = _deconstruct(data, attachments, 0)
            else:
                data, attachments = self.deconstruct_binary(data)
            if attachments:
                head = f"{packet_type}{len(attachments)}-"
            else:
                # nothing binary after all: socket.io-parser rejects "50-", so send EVENT/ACK
                head = _TYPE_TEXT[packet_type - 3]
                attachments = None
        else:
            head = _TYPE_TEXT[packet_type]
        if namespace is not None:
            if PyUnicode_CheckExact(namespace):
                if PyUnicode_GET_LENGTH(namespace) and namespace != "/":
                    head += <str>namespace + ","
            elif namespace and namespace != "/":
                head += namespace + ","
        if self.id is not None:
            head += str(self.id)
        if data is not None:
            head += self.json.dumps(data)
        if attachments is not None:
            return [head, *attachments]
        return head

    def decode(self, encoded_packet):
        """Decode a text packet into this packet; returns how many attachments it still needs."""
        return self._decode(encoded_packet)

    cdef Py_ssize_t _decode(self, object encoded_packet) except -1:
        cdef bint exact = type(self) is Packet
        cdef str s
        cdef Py_ssize_t end, pos, stop, comma, query
        cdef Py_UCS4 char
        cdef int packet_type
        cdef Py_ssize_t count = 0
        cdef long long number
        cdef object max_attachments, max_id_digits
        cdef object namespace = None
        cdef object id = None
        cdef object data = None
        cdef bint present
        if not PyUnicode_Check(encoded_packet):
            raise PacketError(
                f"a Socket.IO packet must be text, not {type(encoded_packet).__name__}"
            )
        s = encoded_packet
        end = PyUnicode_GET_LENGTH(s)
        if not end:
            raise PacketError("empty Socket.IO packet")
        char = PyUnicode_READ_CHAR(s, 0)
        if char < u"0" or char > u"6":
            raise PacketError(f"invalid Socket.IO packet type {s[0]!r}")
        packet_type = <int>char - 48
        pos = 1
        if packet_type == _BINARY_EVENT or packet_type == _BINARY_ACK:
            max_attachments = _MAX_ATTACHMENTS if exact else self.max_attachments
            stop = pos
            number = 0
            while stop < end and _is_digit(PyUnicode_READ_CHAR(s, stop)):
                if stop - pos < 10:
                    number = number * 10 + (<int>PyUnicode_READ_CHAR(s, stop) - 48)
                stop += 1
            if stop == pos or stop == end or PyUnicode_READ_CHAR(s, stop) != u"-":
                raise PacketError("binary packet without a valid attachment count")
            if stop - pos > 9 or number > max_attachments:
                raise PacketError(f"too many binary attachments (at most {max_attachments})")
            count = <Py_ssize_t>number
            pos = stop + 1
        if pos < end and PyUnicode_READ_CHAR(s, pos) == u"/":
            comma = PyUnicode_FindChar(s, u",", pos, end, 1)
            if comma == -1:
                comma = end
            namespace = PyUnicode_Substring(s, pos, comma)
            pos = comma + 1
            query = PyUnicode_FindChar(namespace, u"?", 0, PyUnicode_GET_LENGTH(namespace), 1)
            if query != -1:  # Socket.IO v4 clients put the query string here
                namespace = PyUnicode_Substring(namespace, 0, query)
        stop = pos
        while stop < end and _is_digit(PyUnicode_READ_CHAR(s, stop)):
            stop += 1
        if stop > pos:
            max_id_digits = _MAX_ID_DIGITS if exact else self.max_id_digits
            if stop - pos > max_id_digits:
                raise PacketError(f"ack id too long (at most {max_id_digits} digits)")
            if stop - pos <= 18:
                number = 0
                while pos < stop:
                    number = number * 10 + (<int>PyUnicode_READ_CHAR(s, pos) - 48)
                    pos += 1
                id = PyLong_FromLongLong(number)
            else:
                id = int(PyUnicode_Substring(s, pos, stop))
                pos = stop
        present = pos < end
        if present:
            data = self.json.loads(PyUnicode_Substring(s, pos, end))
        _check_payload(packet_type, data, present)
        if packet_type >= _BINARY_EVENT:
            _check_placeholders(data, count)
        self.packet_type = packet_type
        self.namespace = namespace
        self.id = id
        self.data = data
        self.attachment_count = count
        attachments = self.attachments
        if not (type(attachments) is list and PyList_GET_SIZE(attachments) == 0):
            self.attachments = []
        return count

    def add_attachment(self, attachment):
        """Add the next binary attachment; returns ``True`` once all have arrived (the
        placeholders in :attr:`data` are then replaced by the attachments)."""
        if not _is_binary(attachment):
            raise PacketError(
                f"expected a binary attachment, got {type(attachment).__name__}"
            )
        attachments = self.attachments
        if len(attachments) >= self.attachment_count:
            raise PacketError("unexpected binary attachment")
        attachments.append(attachment)
        if len(attachments) == self.attachment_count:
            if type(self) is Packet and type(attachments) is list:
                self.data = _reconstruct(self.data, attachments, 0)
            else:
                self.data = self.reconstruct_binary(self.data, attachments)
            return True
        return False

    @classmethod
    def reconstruct_binary(cls, data, attachments):
        """Replace the placeholders in ``data`` (in place) with ``attachments``."""
        return _reconstruct(data, list(attachments), 0)

    @classmethod
    def deconstruct_binary(cls, data):
        """Return ``(data with placeholders, attachments)``; ``data`` itself is not modified."""
        cdef list attachments = []
        return _deconstruct(data, attachments, 0), attachments

    @classmethod
    def data_is_binary(cls, data):
        """Whether ``data`` holds ``bytes``/``bytearray`` anywhere (lists, tuples, dict values)."""
        return _has_binary(<PyObject*>data, 0)

    def _to_dict(self):
        d = {"type": self.packet_type, "data": self.data, "nsp": self.namespace}
        if self.id is not None:
            d["id"] = self.id
        return d


cdef object _default_ext_hook():
    return msgpack.ExtType if msgpack is not None else None


cdef class MsgPackPacket(Packet):
    """A Socket.IO packet serialized with msgpack (``serializer='msgpack'``).

    Wire-compatible with python-socketio's ``MsgPackPacket`` and the JavaScript
    socket.io-msgpack-parser: one msgpack map ``{type, data, nsp, id}`` per packet, binary data
    inline (no attachments). Requires the ``msgpack`` package.
    """

    uses_binary_events = False
    #: called for objects msgpack cannot serialize (see :meth:`configure`)
    dumps_default = None
    #: called for msgpack extension types when decoding (see :meth:`configure`)
    ext_hook = _default_ext_hook()

    @classmethod
    def configure(cls, dumps_default=None, ext_hook=None):
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

    def encode(self):
        """Encode the packet as one msgpack map."""
        if msgpack is None:
            raise RuntimeError("the msgpack package is required for the msgpack serializer")
        packet = {"type": self.packet_type}
        # socket.io-msgpack-parser rejects a null data/nsp: absent data is left out and the main
        # namespace written as "/" (python-socketio writes None for both).
        if self.data is not None:
            packet["data"] = self.data
        packet["nsp"] = self.namespace or "/"
        if self.id is not None:
            packet["id"] = self.id
        return msgpack.packb(packet, default=type(self).dumps_default)

    def decode(self, encoded_packet):
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
        except Exception as exc:  # msgpack raises a variety of types on bad input
            raise PacketError(f"invalid msgpack packet: {exc}") from None
        if type(decoded) is not dict:
            raise PacketError("a msgpack packet must be a map")
        packet_type = decoded.get("type")
        if not PyLong_CheckExact(packet_type) or not CONNECT <= packet_type <= CONNECT_ERROR:
            raise PacketError(f"invalid Socket.IO packet type {packet_type!r}")
        namespace = decoded.get("nsp", _ABSENT)
        if namespace is not None and not PyUnicode_CheckExact(namespace):
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
