"""Keeping connection environs small: equal strings shared between connections.

The server keeps the WSGI environ of each connection's opening request for the connection's
whole life (handlers see it as ``environ`` and, in Flask, ``request.environ``). Most of its
strings are the same on every connection — the header names the web server built with
``'HTTP_' + name``, the method, protocol, path, host, upgrade headers, user agent — yet each
request parsed them into new objects. Replacing them by equal strings from a pool shared by the
connections of one server saves about 1 KB per connection and changes nothing a handler can
see: the environ keeps its identity, keys, values and order.
"""

from __future__ import annotations

#: keys whose values differ on (nearly) every connection: pooling them would only churn the pool
UNIQUE_VALUE_KEYS = frozenset(
    {"REMOTE_PORT", "HTTP_SEC_WEBSOCKET_KEY", "HTTP_COOKIE", "HTTP_AUTHORIZATION"}
)
#: the pool is emptied when it grows past this many strings (clients sending ever new values
#: cost sharing, never unbounded memory)
MAX_POOLED = 1024
#: longer strings are left as they are
MAX_LENGTH = 512


def share_strings(environ: dict, pool: dict) -> None:
    """Replace, in place, the string keys and values of ``environ`` by equal strings from
    ``pool`` (a ``dict`` mapping each pooled string to itself), adding the new ones."""
    if type(environ) is not dict:
        return
    if len(pool) > MAX_POOLED:
        pool.clear()
    setdefault = pool.setdefault
    items = []
    for key, value in environ.items():
        if type(key) is str:
            key = setdefault(key, key)
        if type(value) is str and len(value) <= MAX_LENGTH and key not in UNIQUE_VALUE_KEYS:
            value = setdefault(value, value)
        items.append((key, value))
    # the dict is refilled rather than replaced: whoever holds it (the web server, the request
    # being handled) keeps seeing the one environ of the connection
    environ.clear()
    environ.update(items)
