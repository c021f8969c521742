"""End to end with python-socketio's clients over real loopback sockets.

The server (``e2e_app.py``) runs in a subprocess under gevent (monkey-patched) or threading;
each scenario runs over polling only, WebSocket only, and polling upgraded to WebSocket.
"""

from __future__ import annotations

import threading
import time

import pytest
from e2e_app import SECRET
from sio_helpers import ServerProcess

socketio = pytest.importorskip("socketio")

TRANSPORTS = {
    "polling": ["polling"],
    "websocket": ["websocket"],
    "upgrade": ["polling", "websocket"],
}


def wait_for(predicate, timeout=5.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.01)
    return False


def connect(url, transport, namespaces=("/",), **kwargs):
    client = socketio.Client(reconnection=False)
    client.connect(
        url,
        auth=SECRET,
        namespaces=list(namespaces),
        transports=TRANSPORTS[transport],
        wait_timeout=5,
        **kwargs,
    )
    return client


@pytest.mark.parametrize("transport", list(TRANSPORTS))
def test_python_client(e2e_server, transport):
    url = e2e_server.url
    received: dict = {"bin": [], "shout": [], "disconnect": []}
    got_bin = threading.Event()

    client = socketio.Client(reconnection=False)
    client.on("question", lambda n: n * 10)

    @client.on("bin")
    def on_bin(data):
        received["bin"].append(data)
        got_bin.set()

    client.on("shout", lambda text: received["shout"].append(text))
    client.connect(
        url,
        auth=SECRET,
        namespaces=["/", "/chat"],
        transports=TRANSPORTS[transport],
        wait_timeout=5,
        headers={"X-Test": "1"},
    )
    try:
        assert client.get_sid("/") != client.get_sid("/chat")
        # acks both ways
        assert client.call("add", (1, 2), timeout=5) == 3
        assert client.call("ask", 4, timeout=5) == 41
        # binary both ways
        reply = client.call("echo", (b"\x01\x02\xff", {"n": [b"\x04"]}, "t"), timeout=5)
        assert reply == (b"\x01\x02\xff", {"n": [b"\x04"]}, "t")
        client.emit("binary_me")
        assert got_bin.wait(5)
        assert received["bin"] == [{"data": b"\x00\x01\xff", "list": [b"a", "b"]}]
        # namespaces
        assert client.call("msg", "hi", namespace="/chat", timeout=5) == "chat:hi"
        if transport != "polling":
            assert wait_for(lambda: client.transport() == "websocket")
        info = client.call("info", timeout=5)
        assert info["transport"] == client.transport()
        assert "EIO=4" in info["session"]["query"]
        # a failing handler is logged; the connection survives
        client.emit("fail")
        assert client.call("add", (2, 2), timeout=5) == 4

        # rooms and broadcast with skip_sid, server-side disconnect
        other = connect(url, transport)
        other_events: list = []
        other.on("shout", lambda text: other_events.append(text))
        other_disconnects: list = []
        other.on("disconnect", lambda *reason: other_disconnects.append(reason))
        assert client.call("join", "r", timeout=5) == sorted([client.get_sid("/"), "r"])
        other.call("join", "r", timeout=5)
        assert other.call("shout", ("r", "hello"), timeout=5) == "sent"
        assert wait_for(lambda: received["shout"] == ["hello"])
        other.call("add", (0, 0), timeout=5)
        assert other_events == []
        other.emit("kick")
        assert wait_for(lambda: other_disconnects)
        assert other_disconnects[0] in ((), (other.reason.SERVER_DISCONNECT,))
        other.disconnect()

        log = client.call("log", timeout=5)
        assert log["auth"][-1] == SECRET and "server disconnect" in log["disconnects"]
        assert log["chat_auth"][-1] == SECRET  # the python client sends its auth everywhere
    finally:
        client.disconnect()
    if transport == "polling":
        # python-engineio's polling client may end its write loop before it POSTs the DISCONNECT
        # and CLOSE packets; the server then learns of it only at the ping timeout (45 s here;
        # tests/engineio covers heartbeat timeouts)
        return
    # the server saw the client leave both namespaces. python-engineio's client closes its
    # WebSocket right after queueing the DISCONNECT and CLOSE packets, so the server may see
    # only the transport close
    left = {"client disconnect", "transport close"}
    watcher = connect(url, transport)
    try:
        assert wait_for(
            lambda: left & set(watcher.call("log", timeout=5).get("chat_disconnects", ())),
            timeout=10,
        )
    finally:
        watcher.disconnect()


@pytest.mark.parametrize("transport", ["polling", "websocket"])
def test_refused_connection(e2e_server, transport):
    client = socketio.Client(reconnection=False)
    errors: list = []
    client.on("connect_error", lambda data: errors.append(data))
    with pytest.raises(socketio.exceptions.ConnectionError):
        client.connect(
            e2e_server.url,
            auth={"token": "wrong"},
            transports=TRANSPORTS[transport],
            wait_timeout=5,
        )
    assert errors == [{"message": "unauthorized", "data": {"code": 401}}]


def test_simple_client(e2e_server):
    with socketio.SimpleClient() as client:
        client.connect(e2e_server.url, auth=SECRET, transports=["websocket"])
        assert client.call("add", (20, 22), timeout=5) == 42
        client.emit("binary_me")
        event, data = client.receive(timeout=5)
        assert event == "bin" and data["data"] == b"\x00\x01\xff"


@pytest.mark.parametrize(
    ("async_mode", "transport"),
    [("threading", "polling"), ("gevent", "websocket"), ("threading", "upgrade")],
)
def test_reconnect_after_server_restart(async_mode, transport):
    if async_mode == "gevent":
        pytest.importorskip("gevent")
    server = ServerProcess(async_mode)
    client = socketio.Client(reconnection_delay=0.1, reconnection_delay_max=0.3)
    connects: list = []
    client.on("connect", lambda: connects.append(time.monotonic()))
    try:
        client.connect(
            server.url,
            auth=SECRET,
            namespaces=["/", "/chat"],
            transports=TRANSPORTS[transport],
            wait_timeout=5,
        )
        assert client.call("add", (1, 1), timeout=5) == 2
        server.restart()
        assert wait_for(lambda: len(connects) >= 2, timeout=10)
        assert wait_for(lambda: set(client.namespaces) == {"/", "/chat"})
        assert client.call("add", (2, 2), timeout=5) == 4
        assert client.call("msg", "again", namespace="/chat", timeout=5) == "chat:again"
    finally:
        client.disconnect()
        server.stop()


@pytest.mark.parametrize("async_mode", ["threading", "gevent"])
def test_handler_errors_are_logged_on_real_connections(async_mode):
    if async_mode == "gevent":
        pytest.importorskip("gevent")
    server = ServerProcess(async_mode)
    logged: list = []
    try:
        client = connect(server.url, "websocket")
        client.emit("fail")
        assert client.call("add", (1, 2), timeout=5) == 3  # the connection lives on
        client.disconnect()
        # handlers run concurrently: read the log until the traceback is complete before
        # stopping the server, which could otherwise end while it is still being written
        reader = threading.Thread(
            target=_read_until,
            args=(server.proc.stderr, "RuntimeError: handler failure", logged),
            daemon=True,
        )
        reader.start()
        reader.join(10)
    finally:
        err = "".join(logged) + server.stop()
    assert 'Error in the handler of event "fail"' in err
    assert "RuntimeError: handler failure (expected by the test)" in err


def _read_until(stream, text, lines):
    for line in iter(stream.readline, ""):
        lines.append(line)
        if text in line:
            return


@pytest.mark.parametrize("transport", ["polling", "websocket"])
def test_msgpack_serializer_with_the_python_client(transport):
    pytest.importorskip("msgpack")
    server = ServerProcess("threading", 0, "serializer=msgpack")
    client = socketio.Client(reconnection=False, serializer="msgpack")
    client.on("question", lambda n: n * 10)
    got = threading.Event()
    received: list = []
    client.on("bin", lambda data: received.append(data) or got.set())
    try:
        client.connect(server.url, auth=SECRET, transports=TRANSPORTS[transport], wait_timeout=5)
        assert client.call("add", (1, 2), timeout=5) == 3
        assert client.call("echo", (b"\x00\xff", {"f": 1.5}), timeout=5) == (
            b"\x00\xff",
            {"f": 1.5},
        )
        assert client.call("ask", 2, timeout=5) == 21
        client.emit("binary_me")
        assert got.wait(5) and received[0]["data"] == b"\x00\x01\xff"
    finally:
        client.disconnect()
        server.stop()


def test_malformed_packet_closes_the_connection(e2e_server):
    websocket = pytest.importorskip("websocket")
    url = e2e_server.url.replace("http://", "ws://") + "/socket.io/?EIO=4&transport=websocket"
    ws = websocket.create_connection(url, timeout=5)
    try:
        assert ws.recv().startswith("0{")
        ws.send('40{"token":"secret"}')
        assert ws.recv().startswith('40{"sid":')
        ws.send('42["add",1,2')  # truncated JSON: a protocol violation, as in socket.io
        frames = []
        with pytest.raises(websocket.WebSocketConnectionClosedException):
            while True:
                frame = ws.recv()
                if frame == "":
                    raise websocket.WebSocketConnectionClosedException()
                frames.append(frame)
        assert all(frame in ("2", "1") for frame in frames), frames
    finally:
        ws.close()


@pytest.mark.parametrize("async_handlers", [True, False])
def test_async_handlers(e2e_server, async_handlers):
    server = e2e_server
    if not async_handlers:
        server = ServerProcess(e2e_server.async_mode, 0, "async_handlers=false")
    client = connect(server.url, "websocket")
    order: list = []
    try:
        client.emit("slow", 0.5, callback=lambda result: order.append(result))
        client.call("add", (1, 1), timeout=5)
        order.append("add")
        assert wait_for(lambda: len(order) == 2)
    finally:
        client.disconnect()
        if server is not e2e_server:
            server.stop()
    # concurrent handlers: the quick event overtakes the slow one; in order otherwise
    assert order == (["add", "slow"] if async_handlers else ["slow", "add"])
