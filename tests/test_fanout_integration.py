"""Room fan-out through the real stack: a Socket.IO server on 127.0.0.1 (gevent and threading),
raw WebSocket clients on real sockets, the fanout kernel in use (compiled, or the pure twin
with ``FASTSOCK_NO_EXTENSIONS=1``).

Covers: broadcasts reach every member in order, ``skip_sid``; slow readers are cut off with a
logged reason while the others get everything and memory stays bounded; the cap is a server
option; emits with a callback give every recipient its own ack id, and every emit without one
takes the fan-out fast path; gevent corking and the ``cork`` option.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import queue
import socket
import subprocess
import sys
import threading
import time
from typing import Any, Callable

import pytest
from hub_call import call_in_hub

from fastsock import engineio, socketio
from fastsock._kernels import ws
from fastsock.socketio import manager as manager_module

ROOM = "room"


class Harness:
    """A Socket.IO server behind ``make_server`` on port 0, in a thread (its own hub)."""

    def __init__(self, async_mode: str, **options: Any) -> None:
        self.async_mode = async_mode
        self.events: queue.Queue = queue.Queue()
        self.sio = socketio.Server(async_mode=async_mode, **options)
        sio = self.sio

        @sio.on("connect")
        def connect(sid, environ, auth=None):
            self.events.put(("connect", sid))

        @sio.on("disconnect")
        def disconnect(sid, reason):
            self.events.put(("disconnect", sid, reason))

        @sio.on("join")
        def join(sid, room=ROOM):
            sio.enter_room(sid, room)
            return "joined"

        self.web: Any = None
        self._hub: Any = None
        ready = threading.Event()

        def run() -> None:
            if async_mode == "gevent":
                import gevent

                self._hub = gevent.get_hub()
            self.web = engineio.make_server(socketio.WSGIApp(sio), port=0, async_mode=async_mode)
            ready.set()
            self.web.serve_forever()

        self._thread = threading.Thread(target=run, daemon=True)
        self._thread.start()
        assert ready.wait(10)
        self.port = self.web.server_port

    def call(self, fn: Callable, *args: Any, timeout: float = 20.0) -> Any:
        """Run ``fn(*args)`` in the server's context (a greenlet of its hub, under gevent)."""
        if self.async_mode != "gevent":
            return fn(*args)
        return call_in_hub(self._hub, fn, *args, timeout=timeout)

    def wait_disconnect(self, sid: str, timeout: float = 10.0) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                event = self.events.get(timeout=0.1)
            except queue.Empty:
                continue
            if event[0] == "disconnect" and event[1] == sid:
                return event[2]
        raise AssertionError(f"no disconnect of {sid} within {timeout} s")

    def stop(self) -> None:
        try:
            self.call(self.sio.eio.shutdown, timeout=5)
            self.call(self.web.stop, timeout=5)
        except AssertionError:
            pass
        self._thread.join(5)


class Client:
    """A raw Socket.IO client over WebSocket: real frames on a real socket."""

    def __init__(self, port: int, rcvbuf: int | None = None) -> None:
        s = self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf is not None:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        s.settimeout(10)
        s.connect(("127.0.0.1", port))
        key = base64.b64encode(os.urandom(16)).decode()
        s.sendall(
            (
                "GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: x\r\n"
                "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
            ).encode()
        )
        data = b""
        while b"\r\n\r\n" not in data:
            data += s.recv(4096)
        head, rest = data.split(b"\r\n\r\n", 1)
        assert head.startswith(b"HTTP/1.1 101"), head
        self.parser = ws.FrameParser(1 << 24, False)
        self.pending = list(self.parser.feed(rest)) if rest else []
        assert self.recv_text().startswith("0")  # Engine.IO OPEN
        self.send_text("40")
        connected = self.recv_text()
        assert connected.startswith("40"), connected
        self.sid = json.loads(connected[2:])["sid"]

    def send_text(self, text: str) -> None:
        self.sock.sendall(ws.build_frame(ws.TEXT, text, mask=os.urandom(4)))

    def recv_text(self) -> str:
        while True:
            while not self.pending:
                data = self.sock.recv(1 << 20)
                assert data, "connection closed"
                self.pending.extend(self.parser.feed(data))
            opcode, payload = self.pending.pop(0)
            if opcode == ws.TEXT and payload == "2":
                self.send_text("3")  # heartbeat
            elif opcode == ws.TEXT:
                return payload

    def emit(self, event: str, *args: Any, ack: int | None = None) -> None:
        self.send_text("42" + ("" if ack is None else str(ack)) + json.dumps([event, *args]))

    def join(self) -> None:
        self.emit("join", ack=1)
        assert self.recv_text() == '431["joined"]'

    def events(self, count: int) -> list:
        """The next ``count`` events, as ``[name, *args]`` lists."""
        out = []
        while len(out) < count:
            text = self.recv_text()
            assert text.startswith("42"), text
            out.append(json.loads(text[2:]))
        return out

    def close(self) -> None:
        self.sock.close()


@pytest.fixture(params=["gevent", "threading"])
def async_mode(request):
    if request.param == "gevent":
        pytest.importorskip("gevent")
    return request.param


@pytest.fixture
def make_harness(async_mode):
    started = []

    def make(**options):
        harness = Harness(async_mode, **options)
        started.append(harness)
        return harness

    yield make
    for harness in started:
        harness.stop()


class FanoutSpy:
    """Counts calls of the manager's fan-out kernel function (which still runs)."""

    def __init__(self, monkeypatch) -> None:
        self.calls = 0
        real = manager_module._fanout

        def spy(*args):
            self.calls += 1
            return real(*args)

        monkeypatch.setattr(manager_module, "_fanout", spy)


def _broadcast(sio: Any, count: int, skip_sid: Any = None, size: int = 20) -> Callable:
    def run() -> None:
        for i in range(count):
            sio.emit("b", (i, "x" * size), to=ROOM, skip_sid=skip_sid)
            sio.sleep(0)

    return run


# -- broadcasts -------------------------------------------------------------------------------


def test_broadcast_reaches_every_member_in_order(make_harness, monkeypatch):
    spy = FanoutSpy(monkeypatch)
    harness = make_harness()
    clients = [Client(harness.port) for _ in range(12)]
    for c in clients:
        c.join()
    outsider = Client(harness.port)  # not in the room
    harness.call(_broadcast(harness.sio, 300))
    assert spy.calls == 300  # one fan-out per emit
    for c in clients:
        assert c.events(300) == [["b", i, "x" * 20] for i in range(300)]
    skipped = clients[0]
    harness.call(_broadcast(harness.sio, 5, skip_sid=skipped.sid))
    harness.call(_broadcast(harness.sio, 5, skip_sid=[clients[1].sid, clients[2].sid]))
    for c in clients[3:]:
        assert [e[1] for e in c.events(10)] == list(range(5)) * 2
    # the skipped ones got only the other batch, then this marker
    harness.call(lambda: harness.sio.emit("marker", to=ROOM))
    assert skipped.events(6) == [["b", i, "x" * 20] for i in range(5)] + [["marker"]]
    harness.call(lambda: harness.sio.emit("to_outsider", to=outsider.sid))
    assert outsider.events(1) == [["to_outsider"]]
    for c in [*clients, outsider]:
        c.close()


# -- slow readers ---------------------------------------------------------------------------


def test_slow_reader_is_cut_off_and_the_others_are_unaffected(make_harness, caplog):
    limit = 64 * 1024
    harness = make_harness(max_write_buffer_size=limit)
    fast = [Client(harness.port) for _ in range(4)]
    slow = Client(harness.port, rcvbuf=4096)  # joins, then never reads again
    for c in [*fast, slow]:
        c.join()
    sio = harness.sio
    count, size = 3000, 1000
    peak = {"buffered": 0}

    def flood() -> bool:
        eio = sio.eio
        outs = [eio.get_socket(sio.manager.eio_sid_from_sid(c.sid, "/"))._out for c in fast]
        slow_out = eio.get_socket(sio.manager.eio_sid_from_sid(slow.sid, "/"))._out
        for i in range(count):
            sio.emit("b", (i, "y" * size), to=ROOM)
            peak["buffered"] = max(peak["buffered"], slow_out.buffered, *(o.buffered for o in outs))
            sio.sleep(0)
        return slow_out.closed

    with caplog.at_level(logging.INFO, logger="fastsock.engineio"):
        assert harness.call(flood, timeout=60) is True
        assert harness.wait_disconnect(slow.sid) == "transport error"
    # bounded memory: never more than the cap (plus the frame that crossed it) waits anywhere
    assert peak["buffered"] <= limit + size + 64
    message = f"output buffer over its limit of {limit} bytes (peer not reading)"
    assert any(
        message in r.getMessage() and r.levelno == logging.WARNING for r in caplog.records
    ), [r.getMessage() for r in caplog.records]
    for c in fast:  # every other member got everything, in order
        assert [e[1] for e in c.events(count)] == list(range(count))
    for c in [*fast, slow]:
        c.close()


def test_write_buffer_cap_is_a_server_option(make_harness):
    harness = make_harness(max_write_buffer_size=12_345)
    c = Client(harness.port)
    eio = harness.sio.eio
    assert eio.max_write_buffer_size == 12_345
    out = harness.call(
        lambda: eio.get_socket(harness.sio.manager.eio_sid_from_sid(c.sid, "/"))._out
    )
    assert out.limit == 12_345
    c.close()


def test_default_write_buffer_cap_and_flask_option():
    from flask import Flask

    from fastsock import SocketIO

    assert engineio.Server(async_mode="threading").max_write_buffer_size == 4 * 1024 * 1024
    sock = SocketIO(Flask(__name__), async_mode="threading", max_write_buffer_size=100_000)
    assert sock.server.eio.max_write_buffer_size == 100_000


# -- emits with a callback --------------------------------------------------------------------


def test_emit_with_callback_to_a_room(make_harness, monkeypatch):
    spy = FanoutSpy(monkeypatch)
    harness = make_harness()
    clients = [Client(harness.port) for _ in range(3)]
    for c in clients:
        c.join()
    answers: queue.Queue = queue.Queue()
    sio = harness.sio
    # a client that already has an ack pending: per-sid counters, so its next id is 2
    harness.call(lambda: sio.emit("first", to=clients[0].sid, callback=lambda *a: None))
    assert clients[0].recv_text() == '421["first"]'
    harness.call(lambda: sio.emit("ask", {"q": 1}, to=ROOM, callback=lambda *a: answers.put(a)))
    assert spy.calls == 0  # every recipient needs its own packet: no shared encoding
    for i, c in enumerate(clients):
        text = c.recv_text()
        ack_id = 2 if i == 0 else 1
        assert text == f'42{ack_id}["ask",{{"q":1}}]', text
        c.send_text(f"43{ack_id}" + json.dumps([f"answer {i}"]))
    got = sorted(answers.get(timeout=5)[0] for _ in clients)
    assert got == ["answer 0", "answer 1", "answer 2"]
    harness.call(lambda: sio.emit("plain", to=ROOM))  # no callback: the fast path again
    assert spy.calls == 1
    for c in clients:
        assert c.events(1) == [["plain"]]
        c.close()


def test_every_emit_without_callback_takes_the_fast_path(monkeypatch):
    from fastsock.socketio import Server

    spy = FanoutSpy(monkeypatch)
    sio = Server(async_mode="threading")
    got: dict = {}
    sids = []
    for name in "abc":
        eio_sid = sio.eio.connect_virtual(
            {}, lambda data, n=name: got.setdefault(n, []).append(data)
        )
        sio.eio.receive_virtual(eio_sid, "0")
        sids.append(sio.manager.sid_from_eio_sid(eio_sid, "/"))
    for sid in sids:
        sio.enter_room(sid, ROOM)
    sio.emit("room", to=ROOM)
    sio.emit("one", to=sids[0])
    sio.emit("all")
    sio.emit("all-but-a", skip_sid=sids[0])
    sio.emit("room-but-ab", to=ROOM, skip_sid=sids[:2])
    sio.emit("rooms", to=[ROOM, sids[0]])
    sio.emit("bin", b"\x00\x01", to=ROOM)  # two Engine.IO messages, one fan-out
    assert spy.calls == 7
    sio.emit("cb", to=ROOM, callback=lambda: None)
    assert spy.calls == 7
    events = {
        n: [m for m in msgs if isinstance(m, str) and m.startswith(("2", "5"))]
        for n, msgs in got.items()
    }
    assert events["a"][:3] == ['2["room"]', '2["one"]', '2["all"]']
    assert [len(events[n]) for n in "abc"] == [6, 6, 7]
    assert got["c"][-3].startswith('51-["bin"') and got["c"][-2] == b"\x00\x01"
    sio.shutdown()


# -- corking ----------------------------------------------------------------------------------


def test_gevent_corking_once_per_loop_iteration():
    """The first flush of an iteration runs as a callback (a reply leaves before its writer
    runs again); later writes in the same iteration wait for its end."""
    pytest.importorskip("gevent")
    import gevent
    import gevent.socket

    from fastsock.engineio.writer import GeventOutput

    a, b = gevent.socket.socketpair()
    b.setblocking(False)
    out = GeventOutput(a, 1 << 20, cork=True)
    received = []

    def take():
        try:
            received.append(b.recv(1 << 20))
        except BlockingIOError:
            received.append(b"")

    def broadcaster():
        out.write(b"1")
        gevent.sleep(0)  # the callback flush
        take()
        out.write(b"2")
        out.write(b"3")
        gevent.sleep(0)  # still the same iteration: corked
        take()
        gevent.sleep(0.001)  # the loop polled: the end-of-iteration flush ran
        take()

    gevent.spawn(broadcaster).join()
    assert received == [b"1", b"", b"23"]
    out.release()
    a.close()
    b.close()


def test_gevent_broadcaster_that_never_yields_stays_bounded():
    pytest.importorskip("gevent")
    import gevent
    import gevent.socket

    from fastsock.engineio.writer import MAX_PENDING, GeventOutput

    pairs = [gevent.socket.socketpair() for _ in range(8)]
    outs = [GeventOutput(a, 1 << 30, cork=True) for a, _ in pairs]
    frame = b"f" * 1000
    corker = outs[0].corker
    most = 0
    for _ in range(2000):  # 16 MB of writes without a single yield
        for out in outs:
            out.write(frame)
        most = max(most, corker.pending)
    assert most < MAX_PENDING + len(outs) * len(frame)
    gevent.sleep(0.01)
    for out, (a, b) in zip(outs, pairs):
        out.release()
        a.close()
        b.close()


def test_cork_option_reaches_new_connections(make_harness):
    harness = make_harness()
    eio = harness.sio.eio

    def output_of(client):
        return harness.call(
            lambda: eio.get_socket(harness.sio.manager.eio_sid_from_sid(client.sid, "/"))._out
        )

    corked = Client(harness.port)
    assert (output_of(corked).corker is not None) is (harness.async_mode == "gevent")
    eio.cork = False  # what Server(cork=False) stores
    plain = Client(harness.port)
    assert output_of(plain).corker is None
    plain.join()
    corked.join()
    harness.call(lambda: harness.sio.emit("x", to=ROOM))
    assert plain.events(1) == corked.events(1) == [["x"]]
    corked.close()
    plain.close()


def test_cork_default_from_environment():
    probe = "from fastsock.engineio.writer import CORK_DEFAULT; print(CORK_DEFAULT)"
    env = dict(os.environ, FASTSOCK_CORK="0")
    out = subprocess.run(
        [sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=False
    )
    assert out.stdout.strip() == "False", out.stderr
    env["FASTSOCK_CORK"] = "1"
    out = subprocess.run(
        [sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=False
    )
    assert out.stdout.strip() == "True", out.stderr


def test_cork_is_an_engineio_server_option():
    from flask import Flask

    from fastsock import SocketIO

    assert engineio.Server(async_mode="threading", cork=False).cork is False
    sock = SocketIO(Flask(__name__), async_mode="threading", cork=False)
    assert sock.server.eio.cork is False
