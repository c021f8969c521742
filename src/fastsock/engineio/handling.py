"""HTTP request handling of the Engine.IO server: validation, handshake, polling, upgrade.

Errors are answered like the JavaScript reference server: status 400 (403 for a refused
origin) and a JSON body ``{"code": n, "message": "..."}`` with the reference codes (0 unknown
transport, 1 unknown session, 2 bad handshake method, 3 bad request, 4 forbidden,
5 unsupported protocol version); a POST body over ``max_http_buffer_size`` gets 413.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable
from urllib.parse import parse_qs

from .._kernels import eio
from ..exceptions import PacketError
from . import cors
from .connection import serve_websocket
from .socket import Socket
from .websocket import handshake_error, is_upgrade_request, take_over

if TYPE_CHECKING:  # pragma: no cover
    from .server import Server

UNKNOWN_TRANSPORT = 0
UNKNOWN_SID = 1
BAD_HANDSHAKE_METHOD = 2
BAD_REQUEST = 3
FORBIDDEN = 4
UNSUPPORTED_PROTOCOL_VERSION = 5

_MESSAGES = {
    UNKNOWN_TRANSPORT: "Transport unknown",
    UNKNOWN_SID: "Session ID unknown",
    BAD_HANDSHAKE_METHOD: "Bad handshake method",
    BAD_REQUEST: "Bad request",
    FORBIDDEN: "Forbidden",
    UNSUPPORTED_PROTOCOL_VERSION: "Unsupported protocol version",
}
_STATUS = {
    200: "200 OK",
    400: "400 BAD REQUEST",
    401: "401 UNAUTHORIZED",
    403: "403 FORBIDDEN",
    405: "405 METHOD NOT ALLOWED",
    413: "413 PAYLOAD TOO LARGE",
}
_TEXT_PLAIN = ("Content-Type", "text/plain; charset=UTF-8")


def _respond(
    server: Server, environ: dict, start_response: Callable, status: int, headers: list, body: bytes
) -> list[bytes]:
    headers = headers + cors.cors_headers(
        server.cors_allowed_origins, server.cors_credentials, environ
    )
    headers.append(("Content-Length", str(len(body))))
    start_response(_STATUS[status], headers)
    return [body]


def _error(
    server: Server,
    environ: dict,
    start_response: Callable,
    code: int,
    message: str | None = None,
    status: int | None = None,
    log: str | None = None,
) -> list[bytes]:
    message = message or _MESSAGES[code]
    server._log_error_once(log or message, f"error-{code}")  # one ERROR per kind, then INFO
    body = server._json.dumps_bytes({"code": code, "message": message})
    if status is None:
        status = 403 if code == FORBIDDEN else 400
    return _respond(
        server, environ, start_response, status, [("Content-Type", "application/json")], body
    )


def _payload_response(
    server: Server,
    environ: dict,
    start_response: Callable,
    body: bytes,
    headers: list | None = None,
) -> list[bytes]:
    headers = [_TEXT_PLAIN] + (headers or [])
    if server.http_compression:
        body, encoding = eio.compress(
            body, environ.get("HTTP_ACCEPT_ENCODING"), server.compression_threshold
        )
        if encoding is not None:
            headers.append(("Content-Encoding", encoding))
    return _respond(server, environ, start_response, 200, headers, body)


def handle_request(server: Server, environ: dict, start_response: Callable) -> Any:
    """Answer one Engine.IO HTTP request (WSGI)."""
    method = environ.get("REQUEST_METHOD", "GET")
    if cors.origin_refused(server.cors_allowed_origins, environ):
        return _error(
            server,
            environ,
            start_response,
            FORBIDDEN,
            "Not an accepted origin.",
            log=f"{environ.get('HTTP_ORIGIN')} is not an accepted origin.",
        )
    if method == "OPTIONS":  # CORS preflight
        return _respond(server, environ, start_response, 200, [_TEXT_PLAIN], b"ok")
    query = parse_qs(environ.get("QUERY_STRING", ""))
    transport = query.get("transport", [None])[0]  # mandatory (protocol: 400 without it)
    version = query.get("EIO")
    sid = query.get("sid", [None])[0]
    del query  # this frame lives as long as a WebSocket connection: keep it small
    if transport not in server.transports:
        return _error(server, environ, start_response, UNKNOWN_TRANSPORT)
    if version != ["4"]:
        return _error(
            server,
            environ,
            start_response,
            UNSUPPORTED_PROTOCOL_VERSION,
            log="The client is using an unsupported version of the Socket.IO or "
            "Engine.IO protocols",
        )
    if sid is None:
        if method != "GET":
            return _error(server, environ, start_response, BAD_HANDSHAKE_METHOD)
        return _handshake(server, environ, start_response, transport)
    sock = server.sockets.get(sid)
    if not isinstance(sock, Socket) or (
        sock.closed and not (method == "GET" and transport == "polling" and not sock.upgraded)
    ):
        # (A closed polling session still answers one GET: the one that takes its CLOSE.)
        return _error(server, environ, start_response, UNKNOWN_SID, log=f"Invalid session {sid}")
    if transport == "websocket":
        return _upgrade(server, environ, start_response, sock)
    if sock.upgraded:
        return _error(
            server,
            environ,
            start_response,
            BAD_REQUEST,
            log=f"Unexpected HTTP request for upgraded session {sid}",
        )
    if method == "GET":
        return _poll(server, environ, start_response, sock)
    if method == "POST":
        return _post(server, environ, start_response, sock)
    server.logger.warning("Method %s not supported", method)
    return _respond(
        server,
        environ,
        start_response,
        405,
        [_TEXT_PLAIN, ("Allow", "OPTIONS, GET, POST")],
        b"Method Not Allowed",
    )


def _open_packet(server: Server, sid: str, transport: str) -> bytes:
    upgrades = (
        ["websocket"]
        if (transport == "polling" and server.allow_upgrades and "websocket" in server.transports)
        else []
    )
    return b"0" + server._json.dumps_bytes(
        {
            "sid": sid,
            "upgrades": upgrades,
            # Fractional seconds are honoured (python-engineio truncates to whole seconds).
            "pingInterval": round(
                (server.ping_interval + server.ping_interval_grace_period) * 1000
            ),
            "pingTimeout": round(server.ping_timeout * 1000),
            "maxPayload": server.max_http_buffer_size,
        }
    )


def _cookie_header(server: Server, sid: str) -> list[tuple[str, str]]:
    cookie = server.cookie
    if not cookie:
        return []
    attributes = (
        cookie if isinstance(cookie, dict) else {"name": cookie, "path": "/", "SameSite": "Lax"}
    )
    parts = [f"{attributes.get('name', 'io')}={sid}"]
    for name, value in attributes.items():
        if name == "name":
            continue
        if callable(value):
            value = value()
        parts.append(name if value is True else f"{name}={value}")
    return [("Set-Cookie", "; ".join(parts))]


def _handshake(server: Server, environ: dict, start_response: Callable, transport: str) -> Any:
    raw = None
    if transport == "websocket":
        problem = handshake_error(environ)
        if problem is not None:
            return _error(server, environ, start_response, BAD_REQUEST, problem)
    sid = server.generate_id()
    sock = Socket(server, sid)
    server.sockets[sid] = sock
    sock._queue_packet(_open_packet(server, sid, transport))
    result = server._trigger_connect(sid, environ)
    if result is not None and result is not True:
        server.sockets.pop(sid, None)
        sock.closed = True
        server.logger.warning("Application rejected connection")
        body = server._json.dumps_bytes(result or "Unauthorized")
        return _respond(
            server, environ, start_response, 401, [("Content-Type", "application/json")], body
        )
    if transport == "websocket":
        raw = take_over(environ)
        if raw is None:
            server.sockets.pop(sid, None)
            sock.closed = True
            return _error(
                server,
                environ,
                start_response,
                BAD_REQUEST,
                "this web server cannot hand its socket over for WebSocket",
            )
        return serve_websocket(
            server, environ, sock, raw, upgrade=False, headers=_cookie_header(server, sid)
        )
    sock.connected = True
    server._heartbeat.start(sock)
    body = sock.poll(0)
    return _payload_response(server, environ, start_response, body, _cookie_header(server, sid))


def _upgrade(server: Server, environ: dict, start_response: Callable, sock: Socket) -> Any:
    if not is_upgrade_request(environ):
        return _error(
            server,
            environ,
            start_response,
            BAD_REQUEST,
            f"transport=websocket for session {sock.sid} without a WebSocket upgrade",
        )
    problem = handshake_error(environ)
    if problem is not None:
        return _error(server, environ, start_response, BAD_REQUEST, problem)
    if not server.allow_upgrades or sock.upgraded or sock.upgrading:
        return _error(
            server, environ, start_response, BAD_REQUEST, f"session {sock.sid} cannot be upgraded"
        )
    raw = take_over(environ)
    if raw is None:
        return _error(
            server,
            environ,
            start_response,
            BAD_REQUEST,
            "this web server cannot hand its socket over for WebSocket",
        )
    return serve_websocket(server, environ, sock, raw, upgrade=True)


def _poll(server: Server, environ: dict, start_response: Callable, sock: Socket) -> Any:
    body = sock.poll(server.ping_interval + server.ping_timeout)
    if body is None:
        # Two GETs at once on one session: a protocol violation (as the reference server).
        sock.close(server.reason.TRANSPORT_ERROR, error="overlapping GET requests")
        return _error(
            server,
            environ,
            start_response,
            BAD_REQUEST,
            f"overlapping GET requests on session {sock.sid}",
        )
    return _payload_response(server, environ, start_response, body)


def _read_body(environ: dict, limit: int) -> bytes | None:
    """The request body, or ``None`` when it is longer than ``limit`` (nothing read then)."""
    stream = environ["wsgi.input"]
    length = environ.get("CONTENT_LENGTH")
    if length:
        try:
            size = int(length)
        except ValueError:
            size = -1
        if size < 0 or size > limit:
            return None
        return stream.read(size)
    # Chunked or unknown length: read one byte past the limit to detect an oversized body.
    body = stream.read(limit + 1)
    return None if len(body) > limit else body


def _post(server: Server, environ: dict, start_response: Callable, sock: Socket) -> Any:
    body = _read_body(environ, server.max_http_buffer_size)
    if body is None:
        sock.close(server.reason.TRANSPORT_ERROR, error="POST body over max_http_buffer_size")
        return _respond(
            server,
            environ,
            start_response,
            413,
            [("Content-Type", "application/json")],
            server._json.dumps_bytes({"code": BAD_REQUEST, "message": "Payload too large"}),
        )
    try:
        sock.handle_post(body)
    except PacketError as exc:
        sock.close(server.reason.TRANSPORT_ERROR, error=f"bad POST payload: {exc}")
        return _error(server, environ, start_response, BAD_REQUEST, f"bad payload: {exc}")
    return _respond(
        server, environ, start_response, 200, [("Content-Type", "text/html; charset=UTF-8")], b"ok"
    )
