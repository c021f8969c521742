"""Fixtures of the Flask-layer tests.

``lib`` is the module a Flask-SocketIO user imports from: ``flask_socketio`` (the oracle) or
fastsock. The compatibility tests take it, so each runs unchanged against both, the way a user's
test suite would after swapping the import.
"""

import importlib

import flask
import pytest


def fastsock_lib():
    """fastsock's Flask-SocketIO compatible names (``fastsock`` once it re-exports them)."""
    import fastsock

    if hasattr(fastsock, "SocketIO"):
        return fastsock
    return importlib.import_module("fastsock.flask")


LIBS = {
    "flask_socketio": lambda: importlib.import_module("flask_socketio"),
    "fastsock": fastsock_lib,
}


@pytest.fixture(params=sorted(LIBS))
def lib(request):
    """``flask_socketio`` or fastsock, imported the way user code imports it."""
    return LIBS[request.param]()


@pytest.fixture
def fs():
    """fastsock only, for behaviour Flask-SocketIO does not have (or gets wrong)."""
    return fastsock_lib()


def make_app(lib, async_mode="threading", init_later=False, **options):
    """A Flask app with a secret key and a ``SocketIO`` of ``lib`` attached to it."""
    app = flask.Flask(__name__)
    app.config["SECRET_KEY"] = "test secret"
    if init_later:
        return app, lib.SocketIO(async_mode=async_mode, **options)
    return app, lib.SocketIO(app, async_mode=async_mode, **options)
