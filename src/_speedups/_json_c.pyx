# cython: language_level=3
"""JSON adapter (compiled twin of ``fastsock._json_py``).

A :class:`JsonAdapter` wraps a module with ``dumps``/``loads`` (orjson by default, the stdlib
``json``, ``flask.json``, ...) behind one interface: ``dumps`` returns compact ``str`` text,
``dumps_bytes`` UTF-8 bytes, ``loads`` parses ``str`` or ``bytes``. It is the only place in
fastsock that knows orjson returns ``bytes``. Each server holds its own adapter, so two servers
in one process can use different JSON modules.

Errors are normalized: data that cannot be serialized raises :class:`TypeError` naming the
offending type, text that is not valid JSON raises :class:`~fastsock.exceptions.PacketError`.

Written for speed: with orjson the bound ``orjson.dumps``/``loads`` are called directly with
positional arguments (vectorcall, no keyword dict) and the bytes become ``str`` with one
UTF-8 decode from the buffer.
"""

import cython
import json as _stdlib_json

import orjson

from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_GET_SIZE
from cpython.unicode cimport PyUnicode_DecodeUTF8

from fastsock.exceptions import PacketError

CYTHON_COMPILED = cython.compiled

__all__ = ["JsonAdapter", "default_adapter"]

cdef object _ORJSON = orjson
cdef object _OPT = orjson.OPT_NON_STR_KEYS
cdef tuple _SEPARATORS = (",", ":")
# orjson refuses integers beyond 64 bits and nesting deeper than 254 levels, which the stdlib
# (what Flask-SocketIO apps were written against) serializes; those two, and only those, are
# retried with the stdlib so switching to fastsock does not break such an app.
cdef tuple _ORJSON_RETRY = ("Integer exceeds", "Recursion limit")
cdef tuple _DUMPS_ERRORS = (TypeError, ValueError, OverflowError, RecursionError)


cdef object _not_serializable(exc):
    if isinstance(exc, TypeError):
        return exc
    return TypeError(f"data is not JSON serializable ({type(exc).__name__}: {exc})")


cdef inline str _utf8_to_str(bytes data):
    return PyUnicode_DecodeUTF8(PyBytes_AS_STRING(data), PyBytes_GET_SIZE(data), NULL)


cdef class JsonAdapter:
    """Compact JSON encoding and decoding with one JSON module.

    :param module: any object with ``dumps`` and ``loads`` (``orjson``, ``json``,
                   ``flask.json``, ...). The default is ``orjson``.
    """

    cdef readonly object module
    cdef bint _orjson
    cdef object _dumps
    cdef object _loads

    def __init__(self, module=None):
        if module is None:
            module = _ORJSON
        self.module = module
        self._orjson = module is _ORJSON
        # bound once: the per-call attribute lookups are measurable on small events
        self._dumps = module.dumps
        self._loads = module.loads

    def __repr__(self):
        return f"JsonAdapter({getattr(self.module, '__name__', self.module)!r})"

    def dumps(self, obj):
        """Serialize ``obj`` to compact JSON text; :class:`TypeError` if it cannot be."""
        if self._orjson:
            return _utf8_to_str(self._orjson_dumps(obj))
        try:
            text = self._dumps(obj, separators=_SEPARATORS)
        except _DUMPS_ERRORS as exc:
            raise _not_serializable(exc) from None
        if isinstance(text, (bytes, bytearray)):
            return bytes(text).decode()
        return text

    def dumps_bytes(self, obj):
        """Serialize ``obj`` to compact JSON as UTF-8 bytes; :class:`TypeError` if it cannot be."""
        if self._orjson:
            return self._orjson_dumps(obj)
        try:
            text = self._dumps(obj, separators=_SEPARATORS)
        except _DUMPS_ERRORS as exc:
            raise _not_serializable(exc) from None
        if isinstance(text, (bytes, bytearray)):
            return bytes(text)
        try:
            return text.encode()
        except UnicodeEncodeError as exc:  # a lone surrogate in a str
            raise _not_serializable(exc) from None

    def loads(self, data):
        """Parse JSON text (``str`` or UTF-8 ``bytes``); :class:`PacketError` if it is invalid."""
        try:
            return self._loads(data)
        except MemoryError:
            raise
        except Exception as exc:  # any module: whatever it raises on bad input
            raise PacketError(f"invalid JSON: {exc}") from None

    cdef bytes _orjson_dumps(self, obj):
        try:
            return self._dumps(obj)
        except TypeError:
            pass
        # Non-str dict keys: orjson's option for them costs ~35 % of a small event on every call,
        # so it is only asked for after a plain call failed (the output is the same).
        try:
            return self._dumps(obj, None, _OPT)
        except TypeError as exc:
            if not str(exc).startswith(_ORJSON_RETRY):
                raise
        try:
            return _stdlib_json.dumps(obj, separators=_SEPARATORS, ensure_ascii=False).encode()
        except (TypeError, ValueError, OverflowError, RecursionError, UnicodeEncodeError) as exc:
            raise _not_serializable(exc) from None


cdef JsonAdapter _DEFAULT = JsonAdapter()


def default_adapter():
    """The shared orjson :class:`JsonAdapter` used when none is given."""
    return _DEFAULT
