"""Fixtures of the Socket.IO server tests."""

from __future__ import annotations

import pytest
from sio_helpers import ServerProcess, VClient

from fastsock.socketio import Server


@pytest.fixture
def server():
    """A Socket.IO server with threading mode (no sockets are opened by virtual clients)."""
    srv = Server(async_mode="threading")
    yield srv
    srv.shutdown()


@pytest.fixture
def client_factory(server):
    def make(**kwargs):
        return VClient(server, **kwargs)

    return make


@pytest.fixture(scope="module", params=["threading", "gevent"])
def e2e_server(request):
    """A running ``e2e_app`` server, one per async mode and test module."""
    if request.param == "gevent":
        pytest.importorskip("gevent")
    server = ServerProcess(request.param)
    yield server
    err = server.stop()
    # the only traceback the server may log is the handler failure the tests provoke
    for chunk in err.split("Traceback (most recent call last):")[1:]:
        assert "expected by the test" in chunk, err
