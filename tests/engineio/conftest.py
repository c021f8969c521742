"""Fixtures of the Engine.IO server tests: a running server per async mode."""

from __future__ import annotations

import pytest
from eio_helpers import Harness

ASYNC_MODES = ("gevent", "threading")


@pytest.fixture(params=ASYNC_MODES)
def async_mode(request):
    """Each test taking it runs once per async mode."""
    return request.param


@pytest.fixture
def make_harness(async_mode):
    """Start servers with given options: ``make_harness(ping_interval=0.2, ...)``."""
    started = []

    def make(**options):
        harness = Harness(async_mode, **options).start()
        started.append(harness)
        return harness

    yield make
    for harness in started:
        harness.stop()


@pytest.fixture
def harness(make_harness):
    """A server with short heartbeats (0.5 s interval, 1 s timeout), echoing messages."""
    return make_harness(ping_interval=0.5, ping_timeout=1)
