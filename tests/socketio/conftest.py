"""Fixtures of the Socket.IO server tests."""

from __future__ import annotations

import pytest
from sio_helpers import VClient

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
