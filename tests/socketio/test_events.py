"""Events and acks in both directions, catch-all handlers, binary payloads, call()."""

from __future__ import annotations

import threading

import pytest
from sio_helpers import ACK, BINARY_ACK, BINARY_EVENT, DISCONNECT, VClient

from fastsock.socketio import Namespace, Server, TimeoutError


@pytest.fixture
def sync_server():
    srv = Server(async_mode="threading", async_handlers=False)
    yield srv
    srv.shutdown()


def connected(server, namespace="/", **kwargs):
    client = VClient(server, **kwargs)
    client.connect(namespace)
    return client


def test_event_handler_args_and_ack(server):
    seen = []

    @server.on("add")
    def add(sid, a, b):
        seen.append(sid)
        return a + b

    @server.event
    def pair(sid):
        return "x", [1]

    @server.event
    def nothing(sid):
        return None

    client = connected(server)
    client.emit("add", 1, 2, id=7)
    client.emit("pair", id=8)
    client.emit("nothing", id=9)
    client.emit("add", 5, 5)  # no ack requested
    assert seen == [client.sid(), client.sid()]
    assert client.acks() == [(7, [3]), (8, ["x", [1]]), (9, [])]


def test_no_ack_without_a_handler(server):
    client = connected(server)
    client.emit("unknown", id=1)
    assert client.acks() == []


def test_catch_all_argument_orders():
    srv = Server(async_mode="threading", namespaces="*")
    seen = []
    srv.on("*", lambda event, sid, *args: seen.append(("ev", event, args)))
    srv.on("only", lambda ns, sid, *args: seen.append(("ns", ns, args)), namespace="*")
    srv.on("*", lambda event, ns, sid, *args: seen.append(("both", event, ns, args)), namespace="*")
    srv.on("exact", lambda sid, *args: seen.append(("exact", args)))
    client = VClient(srv)
    client.connect("/")
    client.connect("/other")
    client.emit("exact", 1)
    client.emit("foo", 2)
    client.emit("only", 3, namespace="/other")
    client.emit("bar", 4, namespace="/other")
    assert seen == [
        ("exact", (1,)),
        ("ev", "foo", (2,)),
        ("ns", "/other", (3,)),
        ("both", "bar", "/other", (4,)),
    ]


def test_binary_both_ways(server):
    @server.event
    def echo(sid, data):
        server.emit("echoed", {"raw": data, "n": [b"\x00", 1]}, to=sid)
        return data, b"second"

    client = connected(server)
    client.emit("echo", b"\x01\x02\xff", id=3)
    assert client.events() == [["echoed", {"raw": b"\x01\x02\xff", "n": [b"\x00", 1]}]]
    assert client.acks() == [(3, [b"\x01\x02\xff", b"second"])]
    types = [p.packet_type for p in client.packets]
    assert BINARY_EVENT in types and BINARY_ACK in types
    # the server's frames: header then one binary message per attachment
    assert client.messages[1].startswith('52-["echoed"')
    assert isinstance(client.messages[2], bytes)


def test_server_to_client_ack_with_callback(server):
    client = connected(server)
    results = []
    server.emit("question", 42, to=client.sid(), callback=lambda *a: results.append(a))
    pkt = client.packets[-1]
    assert pkt.data == ["question", 42] and pkt.id == 1
    client.send(ACK, ["answer", 2], id=pkt.id)
    assert results == [("answer", 2)]
    # an unknown or repeated ack id is ignored
    client.send(ACK, ["again"], id=pkt.id)
    assert results == [("answer", 2)]


def test_ack_ids_are_per_connection(server):
    a, b = connected(server), connected(server)
    server.enter_room(a.sid(), "r")
    server.enter_room(b.sid(), "r")
    calls = []
    server.emit("q", to="r", callback=lambda *args: calls.append(args))
    server.emit("q", to=a.sid(), callback=lambda *args: calls.append(("a2", *args)))
    # each recipient of a room emit has its own ack id, counted per connection
    assert [p.id for p in a.packets[1:]] == [1, 2]
    assert [p.id for p in b.packets[1:]] == [1]
    b.send(ACK, ["from b"], id=1)
    a.send(ACK, ["from a"], id=2)
    a.send(ACK, ["from a"], id=1)
    assert calls == [("from b",), ("a2", "from a"), ("from a",)]


def test_call_returns_the_ack(server):
    client = connected(server)
    result = []
    thread = threading.Thread(target=lambda: result.append(server.call("q", 1, to=client.sid())))
    thread.start()
    for _ in range(200):
        if len(client.packets) > 1:
            break
        threading.Event().wait(0.01)
    client.send(ACK, ["a", "b"], id=client.packets[-1].id)
    thread.join(5)
    assert result == [("a", "b")]

    thread = threading.Thread(target=lambda: result.append(server.call("q", to=client.sid())))
    thread.start()
    for _ in range(200):
        if len(client.packets) > 2:
            break
        threading.Event().wait(0.01)
    client.send(ACK, [7], id=client.packets[-1].id)
    thread.join(5)
    assert result[-1] == 7


def test_call_timeout_and_misuse(server, sync_server):
    client = connected(server)
    with pytest.raises(TimeoutError):
        server.call("q", to=client.sid(), timeout=0.05)
    with pytest.raises(builtins_timeout()):
        server.call("q", to=client.sid(), timeout=0.01)
    with pytest.raises(ValueError):
        server.call("q")
    with pytest.raises(RuntimeError):
        sync_server.call("q", to="x")


def builtins_timeout():
    import builtins

    return builtins.TimeoutError


def test_handler_exception_propagates_on_virtual_connections(server):
    @server.event
    def bad(sid):
        raise KeyError("oops")

    client = connected(server)
    with pytest.raises(KeyError):
        client.emit("bad")
    # the connection is still usable
    server.on("good", lambda sid: "fine")
    client.emit("good", id=4)
    assert client.acks() == [(4, ["fine"])]


def test_event_to_a_namespace_not_connected_is_dropped(server):
    seen = []
    server.on("x", lambda sid: seen.append(sid), namespace="/other")
    client = connected(server)
    client.emit("x", namespace="/other")
    assert seen == []


def test_unserializable_data_raises_type_error(server):
    client = connected(server)
    with pytest.raises(TypeError):
        server.emit("x", object(), to=client.sid())
    with pytest.raises(TypeError):
        server.emit("x", {"a": {1, 2}})


def test_class_based_namespace_events():
    srv = Server(async_mode="threading")
    seen = []

    class Chat(Namespace):
        def on_connect(self, sid, environ, auth):
            self.enter_room(sid, "lobby")

        def on_msg(self, sid, text):
            self.emit("msg", text, to="lobby", skip_sid=sid)
            self.send("sent", to=sid)
            return len(text)

        def on_whoami(self, sid):
            with self.session(sid) as s:
                s["n"] = s.get("n", 0) + 1
            return self.rooms(sid), self.get_session(sid)["n"]

        def on_disconnect(self, sid, reason):
            seen.append(reason)

    srv.register_namespace(Chat("/chat"))
    a, b = connected(srv, "/chat"), connected(srv, "/chat")
    a.emit("msg", "hello", namespace="/chat", id=1)
    assert a.acks("/chat") == [(1, [5])]
    assert a.events("/chat") == [["message", "sent"]]
    assert b.events("/chat") == [["msg", "hello"]]
    a.emit("whoami", namespace="/chat", id=2)
    a.emit("whoami", namespace="/chat", id=3)
    assert a.acks("/chat")[1:] == [
        (2, [[a.sid("/chat"), "lobby"], 1]),
        (3, [[a.sid("/chat"), "lobby"], 2]),
    ]
    a.send(DISCONNECT, namespace="/chat")
    assert seen == ["client disconnect"]
    # a method-less event gets an empty ack, as in python-socketio
    b.emit("nothing", namespace="/chat", id=9)
    assert b.acks("/chat") == [(9, [])]


def test_catch_all_namespace_class():
    srv = Server(async_mode="threading", namespaces="*")
    seen = []

    class Any(Namespace):
        def on_ping(self, namespace, sid, n):
            seen.append((namespace, n))
            return n + 1

    srv.register_namespace(Any("*"))
    client = connected(srv, "/x")
    client.emit("ping", 1, namespace="/x", id=1)
    assert seen == [("/x", 1)] and client.acks("/x") == [(1, [2])]


def test_async_handlers_false_runs_events_in_order(sync_server):
    # with real connections this runs in the reader; virtual ones are always synchronous
    order = []
    sync_server.on("n", lambda sid, i: order.append(i))
    client = connected(sync_server)
    for i in range(20):
        client.emit("n", i)
    assert order == list(range(20))
