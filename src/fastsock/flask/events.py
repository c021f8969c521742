"""Running a user's Socket.IO handler the way Flask-SocketIO does.

Every handler runs inside the Flask app context and a request context built from the connection's
WSGI environ, with ``request.sid``, ``request.namespace`` and ``request.event`` set, the user
session in place (see :mod:`.sessions`), and its exceptions routed to the registered error
handlers.
"""

from __future__ import annotations

import inspect
from typing import TYPE_CHECKING, Any, Callable

import flask
from werkzeug.exceptions import NotFound

from ..socketio.exceptions import ConnectionRefusedError
from .sessions import install_managed_session, prepare_context, save_flask_session

if TYPE_CHECKING:
    from .extension import SocketIO

#: environ key caching the URL match of a connection's request (its url_rule, view_args and
#: routing_exception): the environ never changes, so matching it again for every event (about
#: half the cost of pushing the request context) would only repeat the same answer
URL_MATCH_KEY = "fastsock.url_match"

#: events whose handlers may be written with or without their one argument (``auth`` for
#: ``connect``, ``reason`` for ``disconnect``)
OPTIONAL_ARGUMENT_EVENTS = ("connect", "disconnect")


def _matched() -> None:
    """``RequestContext.match_request`` for a connection whose URL match is cached."""


#: the cached URL match of the usual connection, whose Socket.IO path is no Flask route: one
#: constant for every connection; each event gets a NotFound of its own, as a fresh match gives
_NOT_FOUND_MATCH = (None, None, NotFound)


def _url_match(request: Any) -> tuple:
    """What :data:`URL_MATCH_KEY` caches of a request's URL match."""
    exc = request.routing_exception
    if exc is None:
        return request.url_rule, request.view_args, None
    if type(exc) is NotFound and not exc.args and vars(exc) == {"response": None}:
        return _NOT_FOUND_MATCH
    # Kept as it is for the connection's life: its traceback, and the exception it was raised
    # from, would keep this first event's frames and request context alive (several KB).
    exc.__traceback__ = None
    exc.__context__ = None
    return request.url_rule, request.view_args, exc


def _restore_url_match(request: Any, url_match: tuple) -> None:
    request.url_rule, request.view_args, exc = url_match
    request.routing_exception = exc() if exc is NotFound else exc


def accepts_argument(handler: Callable) -> bool:
    """Whether ``handler`` can be called with one positional argument.

    Decided once when a handler is registered, from its signature, rather than by calling it and
    catching ``TypeError`` (which would also catch a ``TypeError`` raised inside the handler and
    call it a second time).
    """
    try:
        signature = inspect.signature(handler)
    except (TypeError, ValueError):
        # no introspectable signature (some builtins and C callables): assume the modern form
        return True
    try:
        signature.bind(None)
    except TypeError:
        return False
    return True


def run_handler(
    socketio: SocketIO,
    handler: Callable,
    message: str | None,
    namespace: str,
    sid: str,
    args: tuple | list,
    takes_argument: bool = True,
) -> Any:
    """Call ``handler`` for ``message`` from client ``sid`` in ``namespace``, in Flask context.

    ``args`` are the arguments the Socket.IO server passed after the sid: the event's data, or
    ``(environ, auth)`` for ``connect`` and ``(reason,)`` for ``disconnect``. Returns what the
    handler (or the error handler that caught its exception) returned: the acknowledgement.
    """
    environ = socketio.server.get_environ(sid, namespace=namespace)
    if not environ:
        # a client this server has no record of (already gone): nothing to run the handler for
        return "", 400
    app = environ.get("flask.app") or socketio.app
    manage_session = socketio.manage_session  # read per event: it may change at run time
    ctx = app.request_context(environ)
    prepare_context(ctx, environ, manage_session)
    url_match = environ.get(URL_MATCH_KEY)
    if url_match is not None:
        ctx.match_request = _matched  # shadows the method on this one context object
    with ctx:
        request = ctx.request
        if url_match is None:
            environ[URL_MATCH_KEY] = _url_match(request)
        else:
            _restore_url_match(request, url_match)
        if manage_session:
            install_managed_session(ctx, environ)
            session_obj = None
        else:
            session_obj = flask.session._get_current_object()
        request.sid = sid
        request.namespace = namespace
        request.event = {"message": message, "args": args}
        try:
            if message == "connect":
                if takes_argument:
                    ret = handler(args[1] if len(args) > 1 else None)
                else:
                    ret = handler()
            elif message == "disconnect" and not takes_argument:
                ret = handler()
            else:
                ret = handler(*args)
        except ConnectionRefusedError:
            raise  # the Socket.IO server turns it into a CONNECT_ERROR
        except Exception as exc:
            error_handler = socketio.exception_handlers.get(
                namespace, socketio.default_exception_handler
            )
            if error_handler is None:
                raise
            return error_handler(exc)
        if session_obj is not None:
            save_flask_session(app, session_obj)
        return ret
