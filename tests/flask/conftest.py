"""Fixtures of the Flask-layer tests.

``lib`` is the module a Flask-SocketIO user imports from: ``flask_socketio`` (the oracle) or
``fastsock``. The compatibility tests take it, so each runs unchanged against both, the way a
user's test suite would after swapping the import.
"""

import pytest
from flask_helpers import LIBS, ExampleServer, fastsock_lib


@pytest.fixture(params=sorted(LIBS))
def lib(request):
    """``flask_socketio`` or ``fastsock``, imported the way user code imports it."""
    return LIBS[request.param]()


@pytest.fixture
def fs():
    """fastsock only, for behaviour Flask-SocketIO does not have (or gets wrong)."""
    return fastsock_lib()


@pytest.fixture(scope="session")
def example_server():
    """``example_server(lib, async_mode)`` -> a running :class:`ExampleServer`, started once."""
    servers = {}

    def get(lib, async_mode):
        key = (lib, async_mode)
        if key not in servers or servers[key].proc.poll() is not None:
            servers[key] = ExampleServer(lib, async_mode)
        return servers[key]

    yield get
    for server in servers.values():
        server.close()
