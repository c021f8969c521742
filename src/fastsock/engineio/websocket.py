"""The WebSocket opening handshake (RFC 6455 §4.2) and taking the TCP socket from the web server.

The Engine.IO server speaks WebSocket itself on the raw socket, so it needs the socket from
whichever WSGI server accepted the request:

- fastsock's gevent handler (:mod:`.gevent_handler`) puts ``fastsock.takeover`` in the environ;
- the Werkzeug development server exposes ``werkzeug.socket``;
- gunicorn exposes ``gunicorn.socket`` (sync, gthread) or ``gunicorn.sock`` (gevent worker).

After the connection ends the request must end without the web server writing a response: our
handler is told so directly; the others are made to drop the connection quietly by raising
``ConnectionResetError`` (each of them treats ECONNRESET as "client went away").
"""

from __future__ import annotations

import base64
import binascii
import errno
import socket
from typing import Any, Callable

from .._kernels import ws


def handshake_error(environ: dict) -> str | None:
    """Why this request is not a valid WebSocket opening handshake, or ``None``."""
    if environ.get("REQUEST_METHOD") != "GET":
        return "WebSocket handshake must be a GET request"
    if environ.get("HTTP_UPGRADE", "").lower() != "websocket":
        return "missing 'Upgrade: websocket' header"
    tokens = [t.strip().lower() for t in environ.get("HTTP_CONNECTION", "").split(",")]
    if "upgrade" not in tokens:
        return "missing 'Connection: Upgrade' header"
    if environ.get("HTTP_SEC_WEBSOCKET_VERSION", "").strip() != "13":
        return "unsupported Sec-WebSocket-Version (13 is required)"
    key = environ.get("HTTP_SEC_WEBSOCKET_KEY", "").strip()
    try:
        if len(base64.b64decode(key, validate=True)) != 16:
            raise ValueError
    except (ValueError, binascii.Error):
        return "invalid Sec-WebSocket-Key"
    return None


def is_upgrade_request(environ: dict) -> bool:
    """True when the request asks for a WebSocket (valid or not)."""
    return environ.get("HTTP_UPGRADE", "").lower() == "websocket"


def handshake_response(environ: dict, headers: list[tuple[str, str]] = ()) -> bytes:
    """The ``101 Switching Protocols`` response, as bytes to write on the socket.

    No extension is accepted (no permessage-deflate: frames are shared between recipients
    unchanged) and no subprotocol is chosen.
    """
    accept = ws.accept_key(environ["HTTP_SEC_WEBSOCKET_KEY"].strip())
    lines = [
        "HTTP/1.1 101 Switching Protocols",
        "Upgrade: websocket",
        "Connection: Upgrade",
        f"Sec-WebSocket-Accept: {accept}",
    ]
    lines.extend(f"{name}: {value}" for name, value in headers)
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


class RawConnection:
    """The TCP socket of a WebSocket request, taken from the web server.

    ``sock`` is the socket (a gevent socket under gevent), ``leftover`` any bytes the server had
    already read past the request headers, ``finish()`` what the WSGI application returns (or
    raises) when the connection is over. ``evented``: the socket is detached from the web
    server (a non-blocking ``_socket.socket``) and is read through a watcher on the gevent hub
    rather than by a blocking loop; its reader calls ``closed()`` once it closed it, and sets
    ``abort`` to a callable that ends the connection at once (used when the server stops).
    """

    __slots__ = ("_on_closed", "_ours", "abort", "evented", "leftover", "sock")

    def __init__(
        self,
        sock: Any,
        leftover: bytes,
        ours: bool,
        evented: bool = False,
        on_closed: Callable[[], Any] | None = None,
    ) -> None:
        self.sock = sock
        self.leftover = leftover
        self._ours = ours
        self.evented = evented
        self._on_closed = on_closed
        self.abort: Callable[[], Any] | None = None

    def finish(self) -> Any:
        """End the WSGI request without a response."""
        if self._ours:
            return []
        raise ConnectionResetError(errno.ECONNRESET, "WebSocket connection closed")

    def closed(self) -> None:
        """Tell the web server an evented connection is over (its socket is closed)."""
        if self._on_closed is not None:
            self._on_closed()


def _drain_buffered(reader: Any, sock: Any) -> bytes:
    # Bytes a buffered reader already holds beyond the request (a client that sent frames
    # without waiting for the 101): read them with the socket briefly non-blocking so an empty
    # buffer cannot block us.
    if reader is None or not hasattr(reader, "read1"):
        return b""
    timeout = sock.gettimeout()
    try:
        sock.settimeout(0)
        return reader.read1(65536) or b""
    except (OSError, ValueError):
        return b""
    finally:
        sock.settimeout(timeout)


def take_over(environ: dict) -> RawConnection | None:
    """Take the request's socket from the web server, or ``None`` when it cannot be done."""
    # popped: it is a bound method of the web server's request handler, which an environ kept
    # for the connection's life (as the Socket.IO layer keeps it) would keep alive with it
    takeover = environ.pop("fastsock.takeover", None)
    if takeover is not None:
        raw = takeover(environ)
    else:
        sock = (
            environ.get("werkzeug.socket")
            or environ.get("gunicorn.socket")
            or environ.get("gunicorn.sock")
        )
        if sock is None:
            return None
        leftover = (
            _drain_buffered(environ.get("wsgi.input"), sock)
            if ("werkzeug.socket" in environ)
            else b""
        )
        raw = RawConnection(sock, leftover, ours=False)
    try:
        # Small frames must leave at once, not wait for Nagle's algorithm.
        raw.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    except (OSError, AttributeError):
        pass
    if not raw.evented:
        # Blocking mode (a gevent socket stays cooperative): a threading reader blocks in
        # recv, and the writer uses MSG_DONTWAIT, so no timeout may apply to writes.
        raw.sock.settimeout(None)
    return raw
