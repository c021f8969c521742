"""JSON adapter (pure-Python twin of ``fastsock._json_c``).

A :class:`JsonAdapter` wraps a module with ``dumps``/``loads`` (orjson by default, the stdlib
``json``, ``flask.json``, ...) behind one interface: ``dumps`` returns compact ``str`` text,
``dumps_bytes`` UTF-8 bytes, ``loads`` parses ``str`` or ``bytes``. It is the only place in
fastsock that knows orjson returns ``bytes``. Each server holds its own adapter, so two servers
in one process can use different JSON modules (python-socketio patches a class attribute
instead).

Errors are normalized: data that cannot be serialized raises :class:`TypeError` naming the
offending type, text that is not valid JSON raises :class:`~fastsock.exceptions.PacketError`.
"""

from __future__ import annotations

import json as _stdlib_json
from typing import Any

import orjson

from fastsock.exceptions import PacketError

CYTHON_COMPILED = False

__all__ = ["JsonAdapter", "default_adapter"]

_OPT = orjson.OPT_NON_STR_KEYS
# orjson refuses integers beyond 64 bits and nesting deeper than 254 levels, which the stdlib
# (what Flask-SocketIO apps were written against) serializes; those two, and only those, are
# retried with the stdlib so switching to fastsock does not break such an app.
_ORJSON_RETRY = ("Integer exceeds", "Recursion limit")


def _not_serializable(exc: BaseException) -> TypeError:
    if isinstance(exc, TypeError):
        return exc
    return TypeError(f"data is not JSON serializable ({type(exc).__name__}: {exc})")


def _invalid_json(exc: BaseException) -> PacketError:
    return PacketError(f"invalid JSON: {exc}")


class JsonAdapter:
    """Compact JSON encoding and decoding with one JSON module.

    :param module: any object with ``dumps`` and ``loads`` (``orjson``, ``json``,
                   ``flask.json``, ...). The default is ``orjson``.
    """

    __slots__ = ("_dumps", "_loads", "_module", "_orjson")

    def __init__(self, module: Any = None) -> None:
        if module is None:
            module = orjson
        self._module = module
        self._orjson = module is orjson
        # bound once: the per-call attribute lookups are measurable on small events
        self._dumps = module.dumps
        self._loads = module.loads

    @property
    def module(self) -> Any:
        """The wrapped JSON module."""
        return self._module

    def __repr__(self) -> str:
        return f"JsonAdapter({getattr(self.module, '__name__', self.module)!r})"

    def dumps(self, obj: Any) -> str:
        """Serialize ``obj`` to compact JSON text; :class:`TypeError` if it cannot be."""
        if self._orjson:
            return self._orjson_dumps(obj).decode()
        try:
            text = self._dumps(obj, separators=(",", ":"))
        except (TypeError, ValueError, OverflowError, RecursionError) as exc:
            raise _not_serializable(exc) from None
        if isinstance(text, (bytes, bytearray)):
            return bytes(text).decode()
        return text

    def dumps_bytes(self, obj: Any) -> bytes:
        """Serialize ``obj`` to compact JSON as UTF-8 bytes; :class:`TypeError` if it cannot be."""
        if self._orjson:
            return self._orjson_dumps(obj)
        try:
            text = self._dumps(obj, separators=(",", ":"))
        except (TypeError, ValueError, OverflowError, RecursionError) as exc:
            raise _not_serializable(exc) from None
        if isinstance(text, (bytes, bytearray)):
            return bytes(text)
        try:
            return text.encode()
        except UnicodeEncodeError as exc:  # a lone surrogate in a str
            raise _not_serializable(exc) from None

    def loads(self, data: str | bytes) -> Any:
        """Parse JSON text (``str`` or UTF-8 ``bytes``); :class:`PacketError` if it is invalid."""
        try:
            return self._loads(data)
        except MemoryError:
            raise
        except Exception as exc:  # noqa: BLE001 - any module: whatever it raises on bad input
            raise _invalid_json(exc) from None

    def _orjson_dumps(self, obj: Any) -> bytes:
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
            return _stdlib_json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode()
        except (TypeError, ValueError, OverflowError, RecursionError, UnicodeEncodeError) as exc:
            raise _not_serializable(exc) from None


_DEFAULT = JsonAdapter()


def default_adapter() -> JsonAdapter:
    """The shared orjson :class:`JsonAdapter` used when none is given."""
    return _DEFAULT
