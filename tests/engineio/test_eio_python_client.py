"""The python-engineio client (from PyPI) against our server, under gevent and threading."""

from __future__ import annotations

import queue
import threading
import time

import engineio
import pytest

TRANSPORTS = {
    "polling": ["polling"],
    "upgrade": ["polling", "websocket"],
    "websocket": ["websocket"],
}


class Client:
    def __init__(self, url: str, transports: list[str]) -> None:
        self.received: queue.Queue = queue.Queue()
        self.disconnected = threading.Event()
        self.reason = None
        self.client = engineio.Client()

        @self.client.on("message")
        def on_message(data):
            self.received.put(data)

        @self.client.on("disconnect")
        def on_disconnect(reason=None):
            self.reason = reason
            self.disconnected.set()

        self.client.connect(url, transports=transports)

    def get(self, timeout: float = 5.0):
        return self.received.get(timeout=timeout)


@pytest.fixture(params=sorted(TRANSPORTS))
def transports(request):
    return request.param


def test_connect_and_echo_text_and_binary(harness, transports):
    client = Client(harness.url, TRANSPORTS[transports])
    sid = harness.wait_event("connect")[1]
    assert client.client.sid == sid
    client.client.send("hello ✓")
    client.client.send(b"\x00\xffbinary")
    assert client.get() == "hello ✓"
    assert client.get() == b"\x00\xffbinary"
    if transports != "polling":
        deadline = time.monotonic() + 5
        while client.client.transport() != "websocket" and time.monotonic() < deadline:
            time.sleep(0.02)
        assert client.client.transport() == "websocket"
        assert harness.eio.transport(sid) == "websocket"
    client.client.disconnect()
    event = harness.wait_event("disconnect", sid=sid)
    expected = ("client disconnect", "transport close")
    if transports == "polling":
        # python-engineio's client can drop its own CLOSE packet over polling (its write loop
        # re-checks ``state == 'connected'`` before taking the queued CLOSE), in which case the
        # server rightly sees the client vanish.
        expected += ("ping timeout",)
    assert event[2] in expected


def test_survives_heartbeats(make_harness, transports):
    harness = make_harness(ping_interval=0.1, ping_timeout=0.5)
    client = Client(harness.url, TRANSPORTS[transports])
    sid = harness.wait_event("connect")[1]
    time.sleep(0.7)  # several ping/pong rounds
    assert not client.disconnected.is_set()
    assert harness.call(harness.eio.get_socket, sid) is not None
    client.client.send("still here")
    assert client.get() == "still here"
    client.client.disconnect()


def test_server_side_close(harness, transports):
    client = Client(harness.url, TRANSPORTS[transports])
    sid = harness.wait_event("connect")[1]
    client.client.send("__close__")
    assert client.disconnected.wait(5)
    assert client.reason == engineio.Client.reason.SERVER_DISCONNECT
    assert harness.wait_event("disconnect", sid=sid)[2] == "server disconnect"


def test_server_initiated_send_and_prepared(harness, transports):
    client = Client(harness.url, TRANSPORTS[transports])
    sid = harness.wait_event("connect")[1]
    if transports != "polling":
        deadline = time.monotonic() + 5
        while harness.eio.transport(sid) != "websocket" and time.monotonic() < deadline:
            time.sleep(0.02)

    def push():
        sock = harness.eio.get_socket(sid)
        prepared = harness.eio.prepare("shared")
        sock.send_prepared(prepared)
        sock.send_prepared(harness.eio.prepare(b"\x01\x02"))
        harness.eio.send(sid, {"json": [1, 2]})

    harness.call(push)
    assert client.get() == "shared"
    assert client.get() == b"\x01\x02"
    # python-engineio's client turns JSON-looking text back into objects.
    assert client.get() == {"json": [1, 2]}
    client.client.disconnect()


def test_upgrade_loses_and_duplicates_nothing(make_harness):
    """Messages streamed by the server while the client upgrades arrive once, in order."""
    harness = make_harness(ping_interval=5, ping_timeout=5, echo=False)
    count = 300
    stop = threading.Event()
    received: list = []
    done = threading.Event()

    client = engineio.Client()

    @client.on("message")
    def on_message(data):
        received.append(data)
        if len(received) == count:
            done.set()

    def stream(sid):
        for i in range(count):
            harness.eio.send(sid, str(i))
            harness.eio.sleep(0.002)

    @harness.eio.on("connect")
    def on_connect(sid, environ):
        harness.eio.start_background_task(stream, sid)

    client.connect(harness.url, transports=["polling", "websocket"])
    assert done.wait(15), f"received {len(received)} of {count}"
    stop.set()
    assert received == [str(i) for i in range(count)]
    assert client.transport() == "websocket"
    client.disconnect()
