"""The Flask user session as seen by Socket.IO handlers.

With ``manage_session=True`` each connection gets its own copy of the cookie session, taken the
first time one of its handlers runs and kept in the connection's WSGI environ, so every later event
of that connection sees (and may change) the same object. With ``manage_session=False`` Flask's
session interface is used as for an HTTP request, and a modified session is saved back through it
(which only persists anything for server-side session interfaces).
"""

from __future__ import annotations

from typing import Any

import flask
from flask.sessions import SessionMixin

#: environ key of a connection's managed session (the name Flask-SocketIO uses, kept so that code
#: peeking at the environ keeps working)
SAVED_SESSION_KEY = "saved_session"


class ManagedSession(dict, SessionMixin):
    """A connection's private user session: a plain dict with Flask's session attributes."""


def _set_context_session(ctx: Any, session_obj: SessionMixin) -> None:
    # Flask >= 3.1.3 keeps the session in ``_session`` behind a read-only property; older
    # versions (2.2 up to 3.1.2) in a plain ``session`` attribute.
    if hasattr(ctx, "_session"):
        ctx._session = session_obj
    else:
        ctx.session = session_obj


def prepare_context(ctx: Any, environ: dict, manage_session: bool) -> None:
    """Give a not yet pushed request context the connection's managed session, if it has one.

    A request context that already holds a session does not open one when pushed, which saves
    reading and verifying the session cookie on every event.
    """
    if manage_session:
        saved = environ.get(SAVED_SESSION_KEY)
        if saved is not None:
            _set_context_session(ctx, saved)


def install_managed_session(ctx: Any, environ: dict) -> None:
    """On a pushed request context, make the connection's managed session ``flask.session``.

    The first time, the managed session is created as a copy of the session Flask opened from the
    request's cookies.
    """
    saved = environ.get(SAVED_SESSION_KEY)
    if saved is None:
        saved = environ[SAVED_SESSION_KEY] = ManagedSession(flask.session)
        _set_context_session(ctx, saved)


def save_flask_session(app: flask.Flask, session_obj: Any) -> None:
    """Save a session opened by Flask's session interface, if it was modified."""
    if getattr(session_obj, "modified", True):
        app.session_interface.save_session(app, session_obj, app.response_class())
