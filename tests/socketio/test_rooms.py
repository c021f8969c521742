"""Rooms, broadcasts and the in-memory manager."""

from __future__ import annotations

import pytest
from sio_helpers import DISCONNECT, VClient

from fastsock.socketio import Server


def connected(server, n=1, namespace="/"):
    clients = [VClient(server) for _ in range(n)]
    for client in clients:
        client.connect(namespace)
    return clients


def test_emit_targets(server):
    a, b, c = connected(server, 3)
    server.enter_room(a.sid(), "r1")
    server.enter_room(b.sid(), "r1")
    server.enter_room(b.sid(), "r2")
    server.enter_room(c.sid(), "r2")
    server.emit("all")
    server.emit("one", 1, to=c.sid())
    server.emit("r1", room="r1")
    server.emit("both", ("x", 2), to=["r1", "r2"])  # b is in both rooms and gets it once
    server.emit("skip1", to="r1", skip_sid=a.sid())
    server.emit("skip2", skip_sid=[a.sid(), c.sid()])
    server.emit("none", to="nobody")
    server.send("text", to=a.sid())
    assert a.events() == [["all"], ["r1"], ["both", "x", 2], ["message", "text"]]
    assert b.events() == [["all"], ["r1"], ["both", "x", 2], ["skip1"], ["skip2"]]
    assert c.events() == [["all"], ["one", 1], ["both", "x", 2]]


def test_rooms_api(server):
    a, b = connected(server, 2)
    sa, sb = a.sid(), b.sid()
    server.enter_room(sa, "r1")
    server.enter_room(sa, 42)  # any hashable is a room name
    server.enter_room(sb, "r1")
    assert server.rooms(sa) == [sa, "r1", 42]
    manager = server.manager
    assert sorted(manager.get_participants("/", "r1")) == sorted([(sa, a.eio_sid), (sb, b.eio_sid)])
    assert sorted(dict(manager.get_participants("/", ["r1", 42]))) == sorted([sa, sb])
    assert list(manager.get_participants("/", "nope")) == []
    assert list(manager.get_participants("/other", "r1")) == []
    server.leave_room(sa, "r1")
    server.leave_room(sa, "never-entered")
    assert server.rooms(sa) == [sa, 42]
    server.close_room("r1")
    assert server.rooms(sb) == [sb]
    assert list(manager.get_participants("/", "r1")) == []
    with pytest.raises(ValueError):
        server.enter_room(sa, sb)  # another client's own room
    with pytest.raises(ValueError):
        server.close_room(sa)
    with pytest.raises(ValueError):
        server.enter_room("not-a-sid", "r")
    assert manager.is_sid_room("/", sa) and not manager.is_sid_room("/", 42)
    assert server.rooms("not-a-sid") == []


def test_broadcast_is_encoded_once(server, monkeypatch):
    clients = connected(server, 5)
    for client in clients:
        server.enter_room(client.sid(), "room")
    encodes = []
    real_encode = server.packet_class.encode
    prepares = []
    real_prepare = server.eio.prepare

    class CountingPacket(server.packet_class):
        def encode(self):
            encodes.append(1)
            return real_encode(self)

    monkeypatch.setattr(server, "_new_packet", CountingPacket)
    monkeypatch.setattr(
        server.eio, "prepare", lambda data: prepares.append(data) or real_prepare(data)
    )
    server.emit("news", {"n": 1}, to="room", skip_sid=clients[0].sid())
    assert (len(encodes), len(prepares)) == (1, 1)
    server.emit("blob", b"\x00\x01", to="room")  # header + one attachment: two messages
    assert (len(encodes), len(prepares)) == (2, 3)
    assert clients[0].events() == [["blob", b"\x00\x01"]]
    for client in clients[1:]:
        assert client.events() == [["news", {"n": 1}], ["blob", b"\x00\x01"]]


class NoScan(dict):
    """A namespace's room table that fails any walk over all its rooms."""

    def _fail(self, *args, **kwargs):
        raise AssertionError("every room of the namespace was scanned")

    __iter__ = keys = values = items = copy = _fail


def test_disconnect_touches_only_the_clients_rooms(server):
    a, b = connected(server, 2)
    for i in range(100):
        server.enter_room(b.sid(), f"room-{i}")
    server.enter_room(a.sid(), "room-1")
    server.manager.rooms["/"] = NoScan(server.manager.rooms["/"])
    sa = a.sid()
    a.send(DISCONNECT)
    assert not server.manager.is_connected(sa, "/")
    assert [sid for sid, _ in server.manager.get_participants("/", "room-1")] == [b.sid()]
    assert dict.__len__(server.manager.rooms["/"]) == 102  # b's 100 rooms, its own, everyone


def test_empty_rooms_and_namespaces_are_dropped(server):
    (a,) = connected(server)
    sa = a.sid()
    server.enter_room(sa, "r")
    a.send(DISCONNECT)
    assert server.manager.rooms == {}
    assert list(server.manager.get_namespaces()) == []
    assert server.manager.callbacks == {}


def test_disconnect_reasons(server):
    reasons = []
    server.on("disconnect", lambda sid, reason: reasons.append((sid, reason)))
    server.on("disconnect", lambda sid: reasons.append((sid, "legacy")), namespace="/legacy")
    server.on("x", lambda sid: None, namespace="/legacy")
    a, b, c = connected(server, 3)
    sa, sb, sc = a.sid(), b.sid(), c.sid()
    a.send(DISCONNECT)
    server.disconnect(sb)
    assert b.messages[-1] == "1" and b.types()[-1] == DISCONNECT
    c.connect("/legacy")
    sc_legacy = c.sid("/legacy")
    server.eio.disconnect(c.eio_sid)  # the whole Engine.IO connection goes: every namespace
    assert reasons[:2] == [(sa, "client disconnect"), (sb, "server disconnect")]
    assert sorted(reasons[2:]) == sorted(
        [(sc, server.reason.SERVER_DISCONNECT), (sc_legacy, "legacy")]
    )
    assert c.eio_sid not in server.environ
    assert list(server.manager.get_namespaces()) == []
    server.disconnect(sb)  # already gone: nothing happens


def test_disconnect_handler_may_emit_to_the_leaving_clients_rooms(server):
    a, b = connected(server, 2)
    server.enter_room(a.sid(), "r")
    server.enter_room(b.sid(), "r")
    server.on("disconnect", lambda sid, reason: server.emit("left", sid, to="r", skip_sid=sid))
    sa = a.sid()
    a.send(DISCONNECT)
    assert b.events() == [["left", sa]]


def test_disconnect_handler_error_still_forgets_the_client(server):
    def bad(sid, reason):
        raise RuntimeError("bad disconnect handler")

    server.on("disconnect", bad)
    (a,) = connected(server)
    sa = a.sid()
    with pytest.raises(RuntimeError):
        a.send(DISCONNECT)
    assert not server.manager.is_connected(sa, "/")
    assert list(server.manager.get_namespaces()) == []


def test_sessions(server):
    server.on("x", lambda sid: None, namespace="/other")
    (a,) = connected(server)
    a.connect("/other")
    sid = a.sid()
    assert server.get_session(sid) == {}
    server.save_session(sid, {"user": "ann"})
    with server.session(sid) as session:
        session["visits"] = 1
    assert server.get_session(sid) == {"user": "ann", "visits": 1}
    assert server.get_session(a.sid("/other"), namespace="/other") == {}


def test_transport_and_environ(server):
    (a,) = connected(server)
    assert server.transport(a.sid()) in ("polling", "websocket")
    assert server.get_environ(a.sid())["REQUEST_METHOD"] == "GET"
    assert server.get_environ("unknown") is None


def test_custom_client_manager_is_used():
    from fastsock.socketio import Manager

    class Recording(Manager):
        def __init__(self):
            super().__init__()
            self.emits = []
            self.initialized = 0

        def initialize(self):
            self.initialized += 1

        def emit(self, event, data, namespace, **kwargs):
            self.emits.append(event)
            return super().emit(event, data, namespace, **kwargs)

    manager = Recording()
    srv = Server(async_mode="threading", client_manager=manager)
    assert srv.manager is manager and manager.server is srv
    (a,) = connected(srv)
    srv.emit("hello")
    VClient(srv)
    assert manager.emits == ["hello"] and manager.initialized == 1
    assert a.events() == [["hello"]]


def test_disconnect_handler_runs_once(server):
    calls = []

    @server.on("disconnect")
    def disconnect(sid, reason):
        calls.append(reason)
        server.disconnect(sid)  # already leaving: nothing more happens

    (a,) = connected(server)
    sid = a.sid()
    server.disconnect(sid)
    server.disconnect(sid)
    assert calls == ["server disconnect"]
    assert a.types().count(DISCONNECT) == 1


def test_reconnect_while_the_disconnect_handler_runs(server):
    # a client told it was disconnected may connect again before the server-side disconnect
    # has finished (with a handler pool, the handler runs beside the connection's reader)
    (a,) = connected(server)
    old_sid = a.sid()
    answers = []

    @server.on("disconnect")
    def disconnect(sid, reason):
        if not answers:
            answers.append(a.connect())

    server.disconnect(old_sid)
    assert answers[0].packet_type == 0 and answers[0].data["sid"] != old_sid
    new_sid = a.sid()
    assert new_sid == answers[0].data["sid"]
    assert server.manager.is_connected(new_sid, "/")
    assert not server.manager.is_connected(old_sid, "/")
    assert [sid for sid, _ in server.manager.get_participants("/", None)] == [new_sid]
    a.emit("anything")  # routed to the new sid
    server.disconnect(new_sid)
    assert list(server.manager.get_namespaces()) == []
