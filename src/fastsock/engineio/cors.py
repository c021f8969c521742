"""Cross-origin checks and headers, as python-engineio applies ``cors_allowed_origins``.

``None``: same origin only (the request's own scheme and host, or the ``X-Forwarded-*`` ones);
``'*'`` (or a list containing it): any origin; a string or list: those origins; a callable
``f(origin)`` or ``f(origin, environ)``: its verdict; ``[]``: CORS handling off (no checks, no
headers). A request with a disallowed ``Origin`` is refused on polling and WebSocket alike.
"""

from __future__ import annotations

from typing import Any


def allowed_origins(setting: Any, environ: dict) -> list[str] | None:
    """The origins allowed for this request, or ``None`` for any."""
    if setting is None:
        origins = []
        scheme = environ.get("wsgi.url_scheme")
        host = environ.get("HTTP_HOST")
        if scheme and host:
            origins.append(f"{scheme}://{host}")
            if "HTTP_X_FORWARDED_PROTO" in environ or "HTTP_X_FORWARDED_HOST" in environ:
                fwd_scheme = environ.get("HTTP_X_FORWARDED_PROTO", scheme).split(",")[0].strip()
                fwd_host = environ.get("HTTP_X_FORWARDED_HOST", host).split(",")[0].strip()
                origins.append(f"{fwd_scheme}://{fwd_host}")
        return origins
    if setting == "*":
        return None
    if isinstance(setting, str):
        return [setting]
    if callable(setting):
        origin = environ.get("HTTP_ORIGIN")
        try:
            ok = setting(origin, environ)
        except TypeError:
            ok = setting(origin)
        return [origin] if ok else []
    if "*" in setting:
        return None
    return list(setting)


def origin_refused(setting: Any, environ: dict) -> bool:
    """True when the request carries an ``Origin`` this server must refuse."""
    if setting == []:
        return False
    origin = environ.get("HTTP_ORIGIN")
    if not origin:
        return False
    origins = allowed_origins(setting, environ)
    return origins is not None and origin not in origins


def cors_headers(setting: Any, credentials: bool, environ: dict) -> list[tuple[str, str]]:
    """The ``Access-Control-*`` response headers for an (allowed) HTTP request."""
    if setting == []:
        return []
    headers = []
    origin = environ.get("HTTP_ORIGIN")
    if origin:
        origins = allowed_origins(setting, environ)
        if origins is None or origin in origins:
            # The origin itself, never '*': '*' is not allowed together with credentials.
            headers.append(("Access-Control-Allow-Origin", origin))
    if environ.get("REQUEST_METHOD") == "OPTIONS":
        headers.append(("Access-Control-Allow-Methods", "OPTIONS, GET, POST"))
    requested = environ.get("HTTP_ACCESS_CONTROL_REQUEST_HEADERS")
    if requested:
        headers.append(("Access-Control-Allow-Headers", requested))
    if credentials:
        headers.append(("Access-Control-Allow-Credentials", "true"))
    return headers
