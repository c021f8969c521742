"""The Server API without a network: options, handlers, sessions, virtual connections,
prepared messages, async-mode selection."""

from __future__ import annotations

import json as stdlib_json

import pytest

from fastsock import engineio
from fastsock._kernels import ws


@pytest.fixture
def eio(async_mode):
    server = engineio.Server(async_mode=async_mode)
    yield server
    server.shutdown()


def test_async_mode_selection():
    assert engineio.Server().async_mode == "gevent"  # gevent is installed: auto picks it
    assert engineio.Server(async_mode="threading").async_mode == "threading"
    for later in ("eventlet", "gevent_uwsgi"):
        with pytest.raises(ValueError, match="not supported yet.*'gevent', 'threading'"):
            engineio.Server(async_mode=later)
    with pytest.raises(ValueError, match="Invalid async_mode"):
        engineio.Server(async_mode="asyncio")


def test_options(async_mode):
    server = engineio.Server(async_mode=async_mode, ping_interval=(1.5, 2), transports="websocket")
    assert (server.ping_interval, server.ping_interval_grace_period) == (1.5, 2)
    assert server.transports == ["websocket"]
    with pytest.raises(ValueError):
        engineio.Server(async_mode=async_mode, transports=["carrier-pigeon"])
    assert engineio.Server.reason.PING_TIMEOUT == "ping timeout"
    assert server.reason.TRANSPORT_ERROR == "transport error"


def test_on_as_decorator_and_call(eio):
    @eio.on("message")
    def handler(sid, data):
        pass

    assert eio.handlers["message"] is handler
    eio.on("connect", print)
    assert eio.handlers["connect"] is print
    with pytest.raises(ValueError):
        eio.on("nonsense", print)


def test_virtual_connection_round_trip(eio):
    delivered: list = []
    seen: list = []

    @eio.on("connect")
    def connect(sid, environ):
        seen.append(("connect", environ["PATH_INFO"]))
        eio.send(sid, "welcome")

    @eio.on("message")
    def message(sid, data):
        seen.append(("message", data))
        eio.send(sid, data)
        eio.get_socket(sid).send_prepared(eio.prepare(b"\x00bin"))

    @eio.on("disconnect")
    def disconnect(sid, reason):
        seen.append(("disconnect", reason))

    sid = eio.connect_virtual({"PATH_INFO": "/x"}, delivered.append)
    assert sid and delivered == ["welcome"]
    eio.receive_virtual(sid, "ping?")
    assert delivered == ["welcome", "ping?", b"\x00bin"]
    eio.send(sid, {"a": 1})
    assert delivered[-1] == '{"a":1}'
    assert eio.transport(sid) == "websocket"
    eio.disconnect(sid)
    assert seen == [("connect", "/x"), ("message", "ping?"), ("disconnect", "server disconnect")]
    assert eio.get_socket(sid) is None and sid not in eio.sockets
    eio.send(sid, "gone")  # ignored
    assert delivered[-1] == '{"a":1}'


def test_virtual_handler_exceptions_propagate(eio):
    @eio.on("message")
    def message(sid, data):
        raise RuntimeError("boom")

    sid = eio.connect_virtual({}, lambda data: None)
    with pytest.raises(RuntimeError, match="boom"):
        eio.receive_virtual(sid, "x")
    assert eio.get_socket(sid) is not None  # the connection lives on


def test_virtual_connect_rejected_or_raising(eio):
    eio.on("connect", lambda sid, environ: False)
    assert eio.connect_virtual({}, print) is None
    assert eio.sockets == {}

    def broken(sid, environ):
        raise KeyError("nope")

    eio.on("connect", broken)
    with pytest.raises(KeyError):
        eio.connect_virtual({}, print)
    assert eio.sockets == {}


def test_sessions(eio):
    sid = eio.connect_virtual({}, print)
    assert eio.get_session(sid) == {}
    with eio.session(sid) as session:
        session["user"] = "ada"
    assert eio.get_session(sid) == {"user": "ada"}
    eio.save_session(sid, {"user": "grace"})
    assert eio.get_session(sid)["user"] == "grace"
    with pytest.raises(KeyError):
        eio.get_session("unknown")


def test_session_readable_in_disconnect_handler(eio):
    seen = []
    eio.on("disconnect", lambda sid, reason: seen.append(eio.get_session(sid)))
    sid = eio.connect_virtual({}, print)
    eio.save_session(sid, {"k": "v"})
    eio.disconnect(sid)
    assert seen == [{"k": "v"}]


def test_legacy_disconnect_handler_without_reason(eio):
    seen = []
    eio.on("disconnect", lambda sid: seen.append(sid))
    sid = eio.connect_virtual({}, print)
    eio.disconnect()
    assert seen == [sid]


def test_prepared_message(eio):
    text = eio.prepare("héllo")
    assert text.frame == ws.build_frame(ws.TEXT, "4héllo".encode())
    assert text.packet == "4héllo".encode()
    binary = eio.prepare(bytearray(b"\x01\x02"))
    assert binary.data == b"\x01\x02"
    assert binary.frame == ws.build_frame(ws.BINARY, b"\x01\x02")
    assert binary.packet == b"bAQI="
    assert eio.prepare({"x": [1]}).data == '{"x":[1]}'


def test_custom_json_module(async_mode):
    server = engineio.Server(async_mode=async_mode, json=stdlib_json)
    assert server.prepare({"b": 1, "a": 2}).data == '{"b":1,"a":2}'


def test_background_tasks_queues_events(eio):
    results = []
    task = eio.start_background_task(lambda a, b=0: results.append(a + b), 1, b=2)
    task.join()
    assert results == [3]
    queue = eio.create_queue()
    queue.put(1)
    assert queue.get() == 1
    with pytest.raises(eio.get_queue_empty_exception()):
        queue.get(block=False)
    event = eio.create_event()
    assert not event.is_set()
    eio.sleep(0)
