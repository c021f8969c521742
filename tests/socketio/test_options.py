"""Server options: serializers, per-server JSON, logging."""

from __future__ import annotations

import json as std_json
import logging

import pytest
from sio_helpers import CONNECT, VClient

from fastsock._kernels import sio
from fastsock.socketio import Server


def test_msgpack_serializer():
    pytest.importorskip("msgpack")
    srv = Server(async_mode="threading", serializer="msgpack")
    assert srv.packet_class is sio.MsgPackPacket
    srv.on("echo", lambda sid, data: (data, b"\x00"))
    client = VClient(srv, packet_class=sio.MsgPackPacket)
    assert client.connect().packet_type == CONNECT
    client.emit("echo", {"bin": b"\x01\x02", "n": 1.5}, id=1)
    assert client.acks() == [(1, [{"bin": b"\x01\x02", "n": 1.5}, b"\x00"])]
    srv.emit("news", [1, 2])
    assert client.events() == [["news", [1, 2]]]
    # msgpack packets are single binary messages, attachments are not used
    assert all(isinstance(m, bytes) for m in client.messages)


def test_packet_subclass_serializer():
    decoded = []

    class MyPacket(sio.Packet):
        def decode(self, encoded_packet):
            decoded.append(encoded_packet)
            return super().decode(encoded_packet)

    srv = Server(async_mode="threading", serializer=MyPacket)
    assert srv.packet_class is MyPacket
    VClient(srv).connect()
    assert decoded[0] == "0"  # the server decoded the CONNECT with it


class RecordingJson:
    """A json module replacement that records what it encodes and decodes."""

    def __init__(self):
        self.dumped = []
        self.loaded = []

    def dumps(self, obj, **kwargs):
        self.dumped.append(obj)
        return std_json.dumps(obj, **kwargs)

    def loads(self, text, **kwargs):
        self.loaded.append(text)
        return std_json.loads(text, **kwargs)


def test_json_module_is_per_server():
    custom = RecordingJson()
    srv_custom = Server(async_mode="threading", json=custom)
    srv_default = Server(async_mode="threading")
    a, b = VClient(srv_custom), VClient(srv_default)
    a.connect(auth={"k": 1})
    b.connect(auth={"k": 2})
    srv_custom.emit("x", {"from": "custom"})
    srv_default.emit("x", {"from": "default"})
    assert {"from": "custom"} in [d[1] if isinstance(d, list) else d for d in custom.dumped]
    assert not any("default" in str(d) for d in custom.dumped)
    assert any('"k"' in str(text) for text in custom.loaded)
    assert b.events() == [["x", {"from": "default"}]]
    assert a.events() == [["x", {"from": "custom"}]]


def test_no_logging_calls_when_logging_is_off():
    class Strict(logging.Logger):
        def info(self, *args, **kwargs):
            raise AssertionError("logger.info called although INFO is disabled")

    logger = Strict("strict")
    logger.setLevel(logging.WARNING)
    srv = Server(async_mode="threading", logger=logger)
    srv.on("x", lambda sid: srv.emit("y", to=sid))
    client = VClient(srv)
    client.connect()
    sid = client.sid()
    client.emit("x", id=1)
    srv.enter_room(sid, "r")
    srv.leave_room(sid, "r")
    srv.close_room("r")
    srv.disconnect(sid)
    assert client.events() == [["y"]]


def test_logging_on(caplog):
    logger = logging.getLogger("test.fastsock.sio")
    logger.setLevel(logging.INFO)
    srv = Server(async_mode="threading", logger=logger)
    srv.on("x", lambda sid: None)
    client = VClient(srv)
    with caplog.at_level(logging.INFO, logger="test.fastsock.sio"):
        client.connect()
        client.emit("x")
    assert any('received event "x"' in r.getMessage() for r in caplog.records)


def test_default_logger_reports_errors_only():
    srv = Server(async_mode="threading")
    assert srv.logger.name == "socketio.server"
    assert not srv._info
    assert srv.async_mode == "threading" and srv.eio.async_mode == "threading"


def test_engineio_logger_goes_to_the_engineio_server():
    logger = logging.getLogger("test.fastsock.eio")
    srv = Server(async_mode="threading", engineio_logger=logger)
    assert srv.eio.logger is logger
    assert srv.logger is not logger
