"""The Engine.IO v4 server: options, event handlers, sessions and the sending API.

HTTP and WebSocket request handling lives in :mod:`.handling`; this module is what
applications and the Socket.IO layer call.
"""

from __future__ import annotations

import base64
import itertools
import logging
import secrets
from typing import Any, Callable

from .._kernels import json as json_kernel
from . import handling
from .heartbeat import Heartbeat
from .socket import PreparedMessage, Socket, VirtualSocket

default_logger = logging.getLogger("fastsock.engineio")

#: Async modes in auto-detection order (eventlet and gevent_uwsgi are not supported yet).
SUPPORTED_ASYNC_MODES = ("gevent", "threading")
_LATER_ASYNC_MODES = ("eventlet", "gevent_uwsgi")
_VALID_TRANSPORTS = ("polling", "websocket")


def _load_driver(async_mode: str | None, options: dict) -> Any:
    if async_mode in _LATER_ASYNC_MODES:
        raise ValueError(
            f"async_mode {async_mode!r} is not supported yet; supported async modes: "
            + ", ".join(repr(m) for m in SUPPORTED_ASYNC_MODES)
        )
    if async_mode is not None and async_mode not in SUPPORTED_ASYNC_MODES:
        raise ValueError(
            f"Invalid async_mode specified: {async_mode!r}; supported async modes: "
            + ", ".join(repr(m) for m in SUPPORTED_ASYNC_MODES)
        )
    for mode in [async_mode] if async_mode else SUPPORTED_ASYNC_MODES:
        try:
            if mode == "gevent":
                from .async_gevent import GeventDriver

                return GeventDriver()
            from .async_threading import ThreadingDriver

            return ThreadingDriver(options.get("max_handler_threads", 64))
        except ImportError:
            if async_mode is not None:
                raise ValueError(f"async_mode {async_mode!r} needs gevent installed") from None
    raise ValueError("no async mode available")  # pragma: no cover - threading always imports


class Server:
    """An Engine.IO v4 server (long-polling and WebSocket), with python-engineio's API.

    :param async_mode: ``'gevent'`` or ``'threading'``; ``None`` picks gevent when installed,
                       else threading. ``'eventlet'`` and ``'gevent_uwsgi'`` are not supported
                       yet and raise ``ValueError``.
    :param ping_interval: seconds between server pings (fractions honoured), or a tuple
                          ``(interval, grace)``: pings every ``interval``, the client is told
                          ``interval + grace``.
    :param ping_timeout: seconds to wait for a pong before closing with PING_TIMEOUT.
    :param max_http_buffer_size: largest polling POST body and WebSocket message accepted;
                                 advertised as ``maxPayload``.
    :param allow_upgrades: offer the polling → WebSocket upgrade.
    :param http_compression: gzip/deflate polling responses of ``compression_threshold``
                             bytes or more, per ``Accept-Encoding``.
    :param compression_threshold: see ``http_compression``.
    :param cookie: name of a cookie carrying the sid, or a dict of cookie attributes (``name``
                   plus attributes whose values are strings, callables or ``True``).
    :param cors_allowed_origins: ``None`` (same origin), ``'*'``, an origin, a list, a callable
                                 or ``[]`` (CORS handling off).
    :param cors_credentials: send ``Access-Control-Allow-Credentials: true``.
    :param logger: ``True``/``False`` or a logger object.
    :param json: a module with ``dumps``/``loads`` used for JSON data (per server).
    :param async_handlers: run message handlers concurrently (gevent: a greenlet per message,
                           threading: a bounded pool); ``False`` handles one connection's
                           messages in order, in its reader.
    :param monitor_clients: close connections whose pong is late (``False``: noticed only
                            when the next ping is due).
    :param transports: allowed transports, default ``['polling', 'websocket']``.
    :param max_write_buffer_size: bytes a connection may have waiting to be sent before it is
                                  considered a slow reader and disconnected (fastsock extension,
                                  default 4 MB).
    :param max_handler_threads: size of the threading handler pool (default 64).
    :param cork: under gevent, coalesce the frames written to one connection within one loop
                 iteration into one ``send()`` (fastsock extension; default ``True``, or the
                 ``FASTSOCK_CORK`` environment variable). ``False`` sends every write at once.
    """

    class reason:
        """Disconnection reasons."""

        #: Server-initiated disconnection.
        SERVER_DISCONNECT = "server disconnect"
        #: Client-initiated disconnection.
        CLIENT_DISCONNECT = "client disconnect"
        #: Ping timeout.
        PING_TIMEOUT = "ping timeout"
        #: Transport close.
        TRANSPORT_CLOSE = "transport close"
        #: Transport error.
        TRANSPORT_ERROR = "transport error"

    event_names = ("connect", "disconnect", "message")
    compression_methods = ("gzip", "deflate")

    def __init__(
        self,
        async_mode: str | None = None,
        ping_interval: float | tuple = 25,
        ping_timeout: float = 20,
        max_http_buffer_size: int = 1_000_000,
        allow_upgrades: bool = True,
        http_compression: bool = True,
        compression_threshold: int = 1024,
        cookie: str | dict | None = None,
        cors_allowed_origins: Any = None,
        cors_credentials: bool = True,
        logger: Any = False,
        json: Any = None,
        async_handlers: bool = True,
        monitor_clients: bool | None = True,
        transports: Any = None,
        **kwargs: Any,
    ) -> None:
        if isinstance(ping_interval, (tuple, list)):
            self.ping_interval, self.ping_interval_grace_period = ping_interval
        else:
            self.ping_interval, self.ping_interval_grace_period = ping_interval, 0
        self.ping_timeout = ping_timeout
        self.max_http_buffer_size = max_http_buffer_size
        self.max_write_buffer_size = kwargs.get("max_write_buffer_size", 4 * 1024 * 1024)
        self.cork = kwargs.get("cork")
        self.allow_upgrades = allow_upgrades
        self.http_compression = http_compression
        self.compression_threshold = compression_threshold
        self.cookie = cookie
        self.cors_allowed_origins = cors_allowed_origins
        self.cors_credentials = cors_credentials
        self.async_handlers = async_handlers
        self.monitor_clients = True if monitor_clients is None else monitor_clients
        if json is None:
            self._json = json_kernel.default_adapter()
        elif isinstance(json, json_kernel.JsonAdapter):
            self._json = json
        else:
            self._json = json_kernel.JsonAdapter(json)
        if not isinstance(logger, bool):
            self.logger = logger
        else:
            self.logger = default_logger
            if self.logger.level == logging.NOTSET:
                self.logger.setLevel(logging.INFO if logger else logging.ERROR)
                if not self.logger.handlers:
                    self.logger.addHandler(logging.StreamHandler())
        if transports is not None:
            if isinstance(transports, str):
                transports = [transports]
            transports = [t for t in transports if t in _VALID_TRANSPORTS]
            if not transports:
                raise ValueError("No valid transports provided")
        self.transports = list(transports or _VALID_TRANSPORTS)
        self._driver = _load_driver(async_mode, kwargs)
        self.async_mode = self._driver.name
        self.sockets: dict[str, Socket | VirtualSocket] = {}
        self.handlers: dict[str, Callable] = {}
        self._heartbeat = Heartbeat(
            self._driver,
            float(self.ping_interval),
            float(self.ping_timeout),
            self.monitor_clients,
            self._on_ping_timeout,
        )
        self._sequence = itertools.count()
        self._log_once_keys: set = set()
        self.logger.info("Server initialized for %s.", self.async_mode)

    # -- handlers -------------------------------------------------------------------------

    def on(self, event: str, handler: Callable | None = None) -> Any:
        """Register an event handler, as a decorator or a call.

        ``'connect'`` → ``handler(sid, environ)`` (return ``False`` to reject the connection),
        ``'message'`` → ``handler(sid, data)`` (``str`` text or ``bytes`` binary),
        ``'disconnect'`` → ``handler(sid, reason)`` (or ``handler(sid)``).
        """
        if event not in self.event_names:
            raise ValueError("Invalid event")

        def set_handler(handler: Callable) -> Callable:
            self.handlers[event] = handler
            return handler

        if handler is None:
            return set_handler
        set_handler(handler)
        return None

    def _trigger_connect(self, sid: str, environ: dict, propagate: bool = False) -> Any:
        handler = self.handlers.get("connect")
        if handler is None:
            return True
        if propagate:
            return handler(sid, environ)
        try:
            return handler(sid, environ)
        except Exception:  # a failing connect handler rejects, never crashes
            self.logger.exception("connect handler error")
            return False

    def _trigger_disconnect(self, sid: str, reason: str, propagate: bool = False) -> None:
        handler = self.handlers.get("disconnect")
        if handler is None:
            return
        try:
            try:
                handler(sid, reason)
            except TypeError as exc:
                # A legacy handler without the reason argument (python-engineio tolerates it).
                if "positional argument" not in str(exc):
                    raise
                handler(sid)
        except Exception:
            if propagate:
                raise
            self.logger.exception("disconnect handler error")

    def _run_message(self, handler: Callable, sid: str, data: Any) -> None:
        try:
            handler(sid, data)
        except Exception:  # logged; the connection lives on
            self.logger.exception("message handler error")

    def _dispatch_message(self, sock: Socket, data: Any) -> None:
        handler = self.handlers.get("message")
        if handler is None:
            return
        if self.async_handlers:
            self._driver.run_handler(self._run_message, handler, sock.sid, data)
        else:
            self._run_message(handler, sock.sid, data)

    def _on_ping_timeout(self, sock: Socket) -> None:
        # Called by the heartbeat task: the disconnect handler runs elsewhere so a slow
        # handler cannot delay every other connection's heartbeat.
        self._driver.run_handler(sock.close, self.reason.PING_TIMEOUT)

    # -- sending --------------------------------------------------------------------------

    def send(self, sid: str, data: Any) -> None:
        """Send a message to a client: ``str`` as text, ``bytes`` as binary, list/dict as JSON."""
        sock = self.sockets.get(sid)
        if sock is None or sock.closed:
            self.logger.warning("Cannot send to sid %s", sid)
            return
        sock.send(data)

    def prepare(self, data: Any) -> PreparedMessage:
        """Encode one message once (WebSocket frame and polling packet) for many recipients."""
        if not isinstance(data, (str, bytes)):
            data = (
                bytes(data)
                if isinstance(data, (bytearray, memoryview))
                else (self._json.dumps(data))
            )
        return PreparedMessage(data)

    def get_socket(self, sid: str) -> Socket | VirtualSocket | None:
        """The open session ``sid``, or ``None``; the Socket.IO manager keeps these in rooms."""
        sock = self.sockets.get(sid)
        if sock is None or sock.closed:
            return None
        return sock

    def disconnect(self, sid: str | None = None) -> None:
        """Close one client's session (or every session when ``sid`` is ``None``)."""
        if sid is None:
            for sock in list(self.sockets.values()):
                sock.close(self.reason.SERVER_DISCONNECT)
            return
        sock = self.sockets.get(sid)
        if sock is not None:
            sock.close(self.reason.SERVER_DISCONNECT)

    def transport(self, sid: str) -> str:
        """``'websocket'`` or ``'polling'``: the transport ``sid`` uses now."""
        return "websocket" if self._get_socket(sid).upgraded else "polling"

    def _get_socket(self, sid: str) -> Socket | VirtualSocket:
        try:
            return self.sockets[sid]
        except KeyError:
            raise KeyError("Session not found") from None

    # -- sessions -------------------------------------------------------------------------

    def get_session(self, sid: str) -> dict:
        """The user session dict of ``sid`` (``KeyError`` when unknown)."""
        return self._get_socket(sid).session

    def save_session(self, sid: str, session: dict) -> None:
        """Store the user session of ``sid``."""
        self._get_socket(sid).session = session

    def session(self, sid: str) -> Any:
        """The user session of ``sid`` as a context manager that saves it on exit::

        with eio.session(sid) as session:
            session['username'] = username
        """
        server = self

        class _SessionContext:
            def __enter__(self) -> dict:
                self.session = server.get_session(sid)
                return self.session

            def __exit__(self, *exc: object) -> None:
                server.save_session(sid, self.session)

        return _SessionContext()

    # -- virtual connections (SocketIOTestClient) -------------------------------------------

    def connect_virtual(self, environ: dict, deliver: Callable[[Any], Any]) -> str | None:
        """Open an in-process session: runs the connect handler in the caller.

        Every message later sent to the session is passed to ``deliver(data)`` synchronously.
        Returns the sid, or ``None`` when the connect handler rejected it. Handler exceptions
        propagate to the caller.
        """
        sid = self.generate_id()
        sock = VirtualSocket(self, sid, deliver)
        self.sockets[sid] = sock
        try:
            result = self._trigger_connect(sid, environ, propagate=True)
        except BaseException:
            self.sockets.pop(sid, None)
            raise
        if result is False:
            self.sockets.pop(sid, None)
            return None
        return sid

    def receive_virtual(self, sid: str, data: str | bytes) -> None:
        """Run the message handler for ``data`` from virtual session ``sid``, in the caller;
        its exceptions propagate."""
        sock = self._get_socket(sid)
        if sock.closed:
            raise KeyError("Session is disconnected")
        handler = self.handlers.get("message")
        if handler is not None:
            handler(sid, data)

    # -- HTTP -----------------------------------------------------------------------------

    def handle_request(self, environ: dict, start_response: Callable) -> Any:
        """The WSGI entry point for Engine.IO requests (polling and WebSocket)."""
        return handling.handle_request(self, environ, start_response)

    # -- async helpers --------------------------------------------------------------------

    def start_background_task(self, target: Callable, *args: Any, **kwargs: Any) -> Any:
        """Run ``target(*args, **kwargs)`` in a greenlet or thread; returns it (``join()``)."""
        return self._driver.spawn(target, *args, **kwargs)

    def sleep(self, seconds: float = 0) -> None:
        """Sleep the way the async mode does."""
        return self._driver.sleep(seconds)

    def create_queue(self, *args: Any, **kwargs: Any) -> Any:
        """A queue of the async mode (``gevent.queue.JoinableQueue`` / ``queue.Queue``)."""
        return self._driver.queue_class(*args, **kwargs)

    def get_queue_empty_exception(self) -> type:
        """The exception the async mode's queue raises when empty."""
        return self._driver.queue_empty

    def create_event(self, *args: Any, **kwargs: Any) -> Any:
        """An event of the async mode (``gevent.event.Event`` / ``threading.Event``)."""
        return self._driver.event_class(*args, **kwargs)

    def shutdown(self) -> None:
        """Stop the server's background task (the heartbeat)."""
        self.logger.info("Engine.IO is shutting down")
        self._heartbeat.stop()

    def generate_id(self) -> str:
        """A new session id: 12 random bytes from ``secrets`` and a 3-byte sequence number in
        URL-safe base64, 20 characters (unguessable, never repeated among recent sessions)."""
        raw = secrets.token_bytes(12) + (next(self._sequence) & 0xFFFFFF).to_bytes(3, "big")
        return base64.urlsafe_b64encode(raw).decode("ascii")

    def _log_error_once(self, message: str, key: str) -> None:
        if key not in self._log_once_keys:
            self._log_once_keys.add(key)
            self.logger.error(
                "%s (further occurrences of this error will be logged with level INFO)", message
            )
        else:
            self.logger.info(message)
