"""``SocketIO``: the Flask extension, a drop-in for ``flask_socketio.SocketIO``."""

from __future__ import annotations

import os
from functools import wraps
from typing import Any, Callable

import flask

from .. import socketio as _sio
from .events import OPTIONAL_ARGUMENT_EVENTS, accepts_argument, run_handler
from .namespace import Namespace
from .queues import queue_manager
from .serving import SocketIOMiddleware, run_app, stop_server
from .test_client import SocketIOTestClient


def _pack(args: tuple) -> Any:
    """The ``data`` argument of the Socket.IO server for the positional ``args`` of an emit.

    One argument is passed as is (a tuple there means several arguments, as upstream); several
    positional arguments are sent as several arguments.
    """
    if not args:
        return None
    if len(args) == 1:
        return args[0]
    return tuple(args)


class _FlaskSafeJSON:
    """``flask.json`` with an app context guaranteed, so its output does not depend on where the
    server happens to encode or decode a packet."""

    def __init__(self, app: flask.Flask | None) -> None:
        self.app = app

    def dumps(self, *args: Any, **kwargs: Any) -> str:
        if self.app is None:
            return flask.json.dumps(*args, **kwargs)
        with self.app.app_context():
            return flask.json.dumps(*args, **kwargs)

    def loads(self, *args: Any, **kwargs: Any) -> Any:
        if self.app is None:
            return flask.json.loads(*args, **kwargs)
        with self.app.app_context():
            return flask.json.loads(*args, **kwargs)


class SocketIO:
    """Create a Flask-SocketIO compatible server.

    :param app: The Flask application instance. If it isn't known yet, call
                ``socketio.init_app(app)`` once it is available.
    :param manage_session: If ``True`` (the default), this extension manages the user session for
                           Socket.IO events: each connection gets a copy of the cookie session.
                           If ``False``, Flask's own session management is used, which with
                           server-side sessions shares the session between HTTP routes and
                           Socket.IO events.
    :param message_queue: A connection URL for a message queue service the server can use for
                          multi-process communication (``redis://``, ``amqp://``, ``kafka://``,
                          ...). Given without an ``app``, the object is a write-only emitter.
    :param channel: The channel name on the message queue. Defaults to ``'flask-socketio'``.
    :param path: The path where the Socket.IO server is exposed. Defaults to ``'socket.io'``.
    :param resource: Alias to ``path``.
    :param kwargs: Socket.IO and Engine.IO server options: ``client_manager``, ``logger``,
                   ``serializer``, ``json``, ``async_handlers``, ``always_connect``,
                   ``namespaces``, ``async_mode``, ``ping_interval``, ``ping_timeout``,
                   ``max_http_buffer_size``, ``allow_upgrades``, ``http_compression``,
                   ``compression_threshold``, ``cookie``, ``cors_allowed_origins``,
                   ``cors_credentials``, ``monitor_clients``, ``transports``,
                   ``engineio_logger``; see :class:`fastsock.socketio.Server`.
    """

    reason = _sio.Server.reason

    def __init__(self, app: flask.Flask | None = None, **kwargs: Any) -> None:
        self.server: Any = None
        self.server_options: dict = {}
        self.wsgi_server: Any = None
        self.handlers: list = []
        self.namespace_handlers: list = []
        self.exception_handlers: dict = {}
        self.default_exception_handler: Callable | None = None
        self.manage_session = True
        self.app: flask.Flask | None = None
        self.async_mode: str | None = None
        self.sockio_mw: SocketIOMiddleware | None = None
        # An app, or a message queue without an app (an emitter for an auxiliary process), is
        # enough to build the server now; anything else waits for init_app (app factories).
        if app is not None or "message_queue" in kwargs:
            self.init_app(app, **kwargs)
        else:
            self.server_options.update(kwargs)

    def init_app(self, app: flask.Flask | None, **kwargs: Any) -> None:
        """Attach the extension to ``app`` (``None`` for a write-only message-queue emitter).

        Builds the Socket.IO server from the options given here and to the constructor, registers
        the handlers declared so far, and wraps ``app.wsgi_app`` so that requests under the
        Socket.IO path reach the server and everything else reaches Flask.
        """
        if app is not None:
            if not hasattr(app, "extensions"):
                app.extensions = {}  # pragma: no cover - very old Flask
            app.extensions["socketio"] = self
            self.app = app
        self.server_options.update(kwargs)
        self.manage_session = self.server_options.pop("manage_session", self.manage_session)
        channel = self.server_options.pop("channel", "flask-socketio")
        if "client_manager" not in kwargs:
            url = self.server_options.get("message_queue")
            if url:
                self.server_options["client_manager"] = queue_manager(
                    url, channel=channel, write_only=app is None
                )
        if self.server_options.get("json") is flask.json:
            self.server_options["json"] = _FlaskSafeJSON(app)

        resource = (
            self.server_options.pop("path", None)
            or self.server_options.pop("resource", None)
            or "socket.io"
        )
        self.server_options.pop("resource", None)
        resource = resource.lstrip("/")
        if os.environ.get("FLASK_RUN_FROM_CLI") and self.server_options.get("async_mode") is None:
            # `flask run` serves with Werkzeug: only the threading mode works under it
            self.server_options["async_mode"] = "threading"
        options = {k: v for k, v in self.server_options.items() if k != "message_queue"}
        self.server = _sio.Server(**options)
        self.async_mode = self.server.async_mode
        for message, handler, namespace in self.handlers:
            self.server.on(message, handler, namespace=namespace)
        for namespace_handler in self.namespace_handlers:
            self.server.register_namespace(namespace_handler)

        if app is not None:
            self.sockio_mw = SocketIOMiddleware(self.server, app, socketio_path=resource)
            app.wsgi_app = self.sockio_mw

    # -- handler registration ---------------------------------------------------------------

    def on(self, message: str, namespace: str | None = None) -> Callable[[Callable], Callable]:
        """Decorator to register a SocketIO event handler.

        Example::

            @socketio.on('my event', namespace='/chat')
            def handle_my_custom_event(json):
                print('received json: ' + str(json))

        :param message: The name of the event. ``'message'`` receives text payloads sent with
                        ``send()``, ``'json'`` JSON payloads sent with ``send(json=True)``,
                        ``'connect'`` and ``'disconnect'`` the connection events (their handlers
                        may take ``auth`` and ``reason``, or nothing), and ``'*'`` any event that
                        has no handler of its own (called with the event name first).
        :param namespace: The namespace of the handler, ``'/'`` by default; ``'*'`` registers it
                          for every namespace.
        """
        namespace = namespace or "/"

        def decorator(handler: Callable) -> Callable:
            takes_argument = (
                accepts_argument(handler) if message in OPTIONAL_ARGUMENT_EVENTS else True
            )
            catch_all_event = message == "*"
            catch_all_namespace = namespace == "*"

            @wraps(handler)
            def _handler(*args: Any) -> Any:
                # the Socket.IO server passes [event,] [namespace,] sid, *data
                real_message = real_namespace = None
                if catch_all_event:
                    real_message, args = args[0], args[1:]
                if catch_all_namespace:
                    real_namespace, args = args[0], args[1:]
                sid, data = args[0], args[1:]
                if catch_all_event:
                    data = (real_message, *data)
                return run_handler(
                    self,
                    handler,
                    message,
                    real_namespace if catch_all_namespace else namespace,
                    sid,
                    data,
                    takes_argument,
                )

            if self.server is not None:
                self.server.on(message, _handler, namespace=namespace)
            else:
                self.handlers.append((message, _handler, namespace))
            return handler

        return decorator

    def on_error(self, namespace: str | None = None) -> Callable[[Callable], Callable]:
        """Decorator to define the error handler of a namespace.

        The handler is called with the exception raised by a SocketIO event handler of that
        namespace; its return value is sent to the client as the event's acknowledgement.
        Example::

            @socketio.on_error(namespace='/chat')
            def chat_error_handler(e):
                print('An error has occurred: ' + str(e))
        """
        namespace = namespace or "/"

        def decorator(exception_handler: Callable) -> Callable:
            if not callable(exception_handler):
                raise ValueError("exception_handler must be callable")  # noqa: TRY004 - as upstream
            self.exception_handlers[namespace] = exception_handler
            return exception_handler

        return decorator

    def on_error_default(self, exception_handler: Callable) -> Callable:
        """Decorator to define the error handler of namespaces without their own. Example::

            @socketio.on_error_default
            def error_handler(e):
                print('An error has occurred: ' + str(e))
        """
        if not callable(exception_handler):
            raise ValueError("exception_handler must be callable")  # noqa: TRY004 - as upstream
        self.default_exception_handler = exception_handler
        return exception_handler

    def on_event(self, message: str, handler: Callable, namespace: str | None = None) -> None:
        """Register a SocketIO event handler: the non-decorator form of :meth:`on`. Example::

            def on_foo_event(json):
                print('received json: ' + str(json))

            socketio.on_event('my event', on_foo_event, namespace='/chat')
        """
        self.on(message, namespace=namespace)(handler)

    def event(self, *args: Any, **kwargs: Any) -> Any:
        """Decorator to register an event handler named after the decorated function.

        ``@socketio.event`` is ``@socketio.on('<function name>')``; ``@socketio.event(namespace=
        '/test')`` passes its arguments on to :meth:`on`.
        """
        if len(args) == 1 and not kwargs and callable(args[0]):
            return self.on(args[0].__name__)(args[0])

        def set_handler(handler: Callable) -> Callable:
            return self.on(handler.__name__, *args, **kwargs)(handler)

        return set_handler

    def on_namespace(self, namespace_handler: Namespace) -> None:
        """Register a class-based namespace (an instance of a :class:`Namespace` subclass)."""
        if not isinstance(namespace_handler, Namespace):
            raise ValueError("Not a namespace instance.")  # noqa: TRY004 - as upstream
        namespace_handler._set_socketio(self)
        if self.server is not None:
            self.server.register_namespace(namespace_handler)
        else:
            self.namespace_handlers.append(namespace_handler)

    # -- emitting ---------------------------------------------------------------------------

    def emit(
        self,
        event: str,
        *args: Any,
        namespace: str | None = "/",
        to: Any = None,
        room: Any = None,
        include_self: bool = True,
        skip_sid: Any = None,
        callback: Callable | None = None,
        ignore_queue: bool = False,
    ) -> None:
        """Emit a server generated SocketIO event.

        Usable outside of a SocketIO event context too, e.g. from an HTTP route or a background
        task. Example::

            @app.route('/ping')
            def ping():
                socketio.emit('ping event', {'data': 42}, namespace='/chat')

        :param event: The name of the user event to emit.
        :param args: The payload (a tuple is sent as several arguments).
        :param namespace: The namespace of the event, ``'/'`` by default.
        :param to: A sid, a room, or a list of rooms; everyone in the namespace if omitted.
        :param room: Alias of ``to``.
        :param include_self: ``False`` to skip the sender of the current event.
        :param skip_sid: A sid, or a list of sids, to skip.
        :param callback: Called with the client's acknowledgement arguments (single recipient).
        :param ignore_queue: Emit directly, bypassing a configured message queue.
        """
        to = to or room
        if not include_self and not skip_sid:
            skip_sid = flask.request.sid
        if callback:
            callback = self._context_callback(callback)
        self.server.emit(
            event,
            _pack(args),
            namespace=namespace,
            to=to,
            skip_sid=skip_sid,
            callback=callback,
            ignore_queue=ignore_queue,
        )

    def _context_callback(self, callback: Callable) -> Callable:
        """Wrap an acknowledgement callback so it runs in the context of the current event.

        Only an emit made from inside a Socket.IO handler (``request.sid`` set) has a context to
        restore; anywhere else the callback is used as is.
        """
        if not flask.has_request_context():
            return callback
        sid = getattr(flask.request, "sid", None)
        if not sid:
            return callback
        namespace = getattr(flask.request, "namespace", None)

        def _callback_wrapper(*args: Any) -> Any:
            return run_handler(self, callback, None, namespace, sid, args)

        return _callback_wrapper

    def call(
        self,
        event: str,
        *args: Any,
        namespace: str | None = "/",
        to: Any = None,
        room: Any = None,
        timeout: float = 60,
        ignore_queue: bool = False,
    ) -> Any:
        """Emit a SocketIO event to one client and wait for its acknowledgement.

        Returns the client's acknowledgement (one value, a tuple of several, or ``None``); raises
        ``fastsock.socketio.exceptions.TimeoutError`` if none arrives within ``timeout`` seconds.
        Example::

            def get_status(client, data):
                status = socketio.call('status', {'data': data}, to=client)
        """
        return self.server.call(
            event,
            _pack(args),
            namespace=namespace,
            to=to or room,
            timeout=timeout,
            ignore_queue=ignore_queue,
        )

    def send(
        self,
        data: Any,
        json: bool = False,
        namespace: str | None = None,
        to: Any = None,
        callback: Callable | None = None,
        include_self: bool = True,
        skip_sid: Any = None,
        **kwargs: Any,
    ) -> None:
        """Send a server-generated SocketIO message (the ``'message'`` event, or ``'json'`` with
        ``json=True``) to one or more clients; the arguments are those of :meth:`emit`."""
        if not include_self:
            skip_sid = flask.request.sid
        self.emit(
            "json" if json else "message",
            data,
            namespace=namespace,
            to=to,
            skip_sid=skip_sid,
            callback=callback,
            **kwargs,
        )

    def close_room(self, room: str, namespace: str | None = None) -> None:
        """Remove every client from ``room`` and delete it; usable outside of an event context."""
        self.server.close_room(room, namespace)

    # -- serving ----------------------------------------------------------------------------

    def run(self, app: flask.Flask, host: str | None = None, port: int | None = None,
            **kwargs: Any) -> None:
        """Run the SocketIO web server.

        :param app: The Flask application instance.
        :param host: The interface to listen on, ``'127.0.0.1'`` by default.
        :param port: The port, 5000 by default (or the one in ``SERVER_NAME``).
        :param debug: ``True`` for debug mode (the Werkzeug debugger and the reloader).
        :param use_reloader: ``True`` to restart the server when a source file changes.
        :param reloader_options: Options for the Werkzeug reloader (``extra_files``, ...).
        :param extra_files: Additional files the reloader watches.
        :param log_output: ``True`` to log every request; defaults to ``debug``.
        :param allow_unsafe_werkzeug: Allow the Werkzeug server (threading mode) when not run
                                      from a terminal.
        :param kwargs: Options for the web server of the async mode.

        The web server is gevent's pywsgi with fastsock's WebSocket handler in the gevent mode,
        and the Werkzeug development server in the threading mode.
        """
        run_app(self, app, host, port, **kwargs)

    def stop(self) -> None:
        """Stop the web server started by :meth:`run` (from an HTTP or SocketIO handler)."""
        stop_server(self)

    def start_background_task(self, target: Callable, *args: Any, **kwargs: Any) -> Any:
        """Run ``target(*args, **kwargs)`` as a task of the async mode (a greenlet or a thread).

        Returns an object whose ``join()`` waits for the task to complete.
        """
        return self.server.start_background_task(target, *args, **kwargs)

    def sleep(self, seconds: float = 0) -> Any:
        """Sleep ``seconds`` in the way of the async mode (yielding to other greenlets)."""
        return self.server.sleep(seconds)

    def test_client(
        self,
        app: flask.Flask,
        namespace: str | None = None,
        query_string: str | None = None,
        headers: dict | None = None,
        auth: Any = None,
        flask_test_client: Any = None,
    ) -> SocketIOTestClient:
        """A :class:`SocketIOTestClient` connected to this server, in process.

        :param app: The Flask application instance.
        :param namespace: The namespace to connect to, ``'/'`` by default.
        :param query_string: A custom query string for the connection request.
        :param headers: A dictionary of custom HTTP headers.
        :param auth: Authentication data sent with the connection.
        :param flask_test_client: The Flask test client in use, whose cookies (and so the user
                                  session set in HTTP routes) the connection carries.
        """
        return SocketIOTestClient(
            app,
            self,
            namespace=namespace,
            query_string=query_string,
            headers=headers,
            auth=auth,
            flask_test_client=flask_test_client,
        )

    def _handle_event(self, handler: Callable, message: str | None, namespace: str, sid: str,
                      *args: Any) -> Any:
        # kept under Flask-SocketIO's name for code that calls it directly
        return run_handler(self, handler, message, namespace, sid, args)
