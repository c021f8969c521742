"""Connecting to namespaces: handler signatures, auth, refusals, always_connect."""

from __future__ import annotations

import builtins

import pytest
from sio_helpers import CONNECT, CONNECT_ERROR, DISCONNECT, VClient

from fastsock.exceptions import PacketError
from fastsock.socketio import ConnectionRefusedError, Namespace, Server


def test_connect_without_handler_gets_sid(server, client_factory):
    client = client_factory()
    pkt = client.connect()
    assert pkt.packet_type == CONNECT
    sid = pkt.data["sid"]
    assert sid == client.sid()
    assert server.manager.is_connected(sid, "/")
    assert server.manager.eio_sid_from_sid(sid, "/") == client.eio_sid
    assert server.get_environ(sid)["PATH_INFO"] == "/socket.io/"
    assert server.rooms(sid) == [sid]
    assert list(server.manager.get_namespaces()) == ["/"]


def test_connect_handler_with_auth(server, client_factory):
    seen = []

    @server.on("connect")
    def connect(sid, environ, auth):
        seen.append((sid, environ["QUERY_STRING"], auth))

    client = client_factory()
    pkt = client.connect(auth={"token": "t"})
    assert seen == [(pkt.data["sid"], "", {"token": "t"})]
    client2 = client_factory()
    client2.connect()
    assert seen[-1][2] is None


def test_legacy_connect_handler_without_auth_argument(server, client_factory):
    seen = []

    @server.on("connect")
    def connect(sid, environ):
        seen.append(sid)

    pkt = client_factory().connect()
    assert pkt.packet_type == CONNECT and seen == [pkt.data["sid"]]


def test_type_error_inside_connect_handler_is_not_retried(server, client_factory):
    calls = []

    @server.on("connect")
    def connect(sid, environ, auth=None):
        calls.append(sid)
        raise TypeError("bug in the handler")

    with pytest.raises(TypeError, match="bug in the handler"):
        client_factory().connect()
    assert len(calls) == 1  # python-socketio would have called it a second time
    assert list(server.manager.get_namespaces()) == []


@pytest.mark.parametrize(
    ("raise_", "payload"),
    [
        (lambda: False, {"message": "Connection rejected by server"}),
        (ConnectionRefusedError, {"message": "Connection rejected by server"}),
        (lambda: ConnectionRefusedError("nope"), {"message": "nope"}),
        (lambda: ConnectionRefusedError("nope", {"a": 1}), {"message": "nope", "data": {"a": 1}}),
        (lambda: ConnectionRefusedError("nope", 1, 2), {"message": "nope", "data": [1, 2]}),
        (builtins.ConnectionRefusedError, {"message": "Connection refused by server"}),
    ],
)
def test_refused_connection_gets_connect_error(server, client_factory, raise_, payload):
    @server.on("connect")
    def connect(sid, environ, auth):
        result = raise_()
        if isinstance(result, BaseException):
            raise result
        return result

    client = client_factory()
    pkt = client.connect()
    assert pkt.packet_type == CONNECT_ERROR
    assert pkt.data == payload
    assert client.sid() is None
    assert list(server.manager.get_namespaces()) == []


def test_python_socketio_connection_refused_error_is_understood(server, client_factory):
    import socketio.exceptions

    @server.on("connect")
    def connect(sid, environ, auth):
        raise socketio.exceptions.ConnectionRefusedError("upstream")

    assert client_factory().connect().data == {"message": "upstream"}


def test_unknown_namespace_follows_the_javascript_server(server, client_factory):
    # python-socketio answers with the bare string 'Unable to connect'; the JavaScript server (and
    # its client, which reads err.message) use {"message": "Invalid namespace"}
    pkt = client_factory().connect("/nowhere")
    assert pkt.packet_type == CONNECT_ERROR
    assert pkt.namespace == "/nowhere"
    assert pkt.data == {"message": "Invalid namespace"}


def test_namespaces_option():
    srv = Server(async_mode="threading", namespaces=["/a"])
    assert VClient(srv).connect("/a").packet_type == CONNECT
    # '/' is no longer implicitly accepted once a list is given
    assert VClient(srv).connect("/").packet_type == CONNECT_ERROR
    srv = Server(async_mode="threading", namespaces="*")
    client = VClient(srv)
    assert client.connect("/anything").packet_type == CONNECT
    assert client.connect("/").packet_type == CONNECT


def test_namespaces_from_handlers_and_classes(server, client_factory):
    server.on("x", lambda sid: None, namespace="/fn")
    server.register_namespace(Namespace("/cls"))
    client = client_factory()
    assert client.connect("/fn").packet_type == CONNECT
    assert client.connect("/cls").packet_type == CONNECT
    assert sorted(server.manager.get_namespaces()) == ["/cls", "/fn"]
    assert client.sid("/fn") != client.sid("/cls")
    with pytest.raises(ValueError):
        server.register_namespace(object())


def test_second_connect_to_the_same_namespace_is_refused(server, client_factory):
    client = client_factory()
    client.connect()
    sid = client.sid()
    assert client.connect().packet_type == CONNECT_ERROR
    assert client.sid() == sid and server.manager.is_connected(sid, "/")


def test_emits_from_connect_handler_arrive_before_the_ack(server, client_factory):
    @server.on("connect")
    def connect(sid, environ, auth):
        server.emit("welcome", "hi", to=sid)

    client = client_factory()
    client.connect()
    assert client.types() == [2, CONNECT]


def test_pending_client_gets_no_broadcast(server, client_factory):
    # a client whose connect handler has not accepted it must not see namespace broadcasts
    other = client_factory()
    other.connect()

    @server.on("connect")
    def connect(sid, environ, auth):
        server.emit("everyone", 1)

    client = client_factory()
    client.connect()
    assert client.types() == [CONNECT]
    assert other.events() == [["everyone", 1]]


def test_always_connect_accepts_first():
    srv = Server(async_mode="threading", always_connect=True)

    @srv.on("connect")
    def connect(sid, environ, auth):
        srv.emit("welcome", to=sid)
        return auth == {"ok": True}

    client = VClient(srv)
    client.send(CONNECT, {"ok": True})
    assert client.types() == [CONNECT, 2]
    assert srv.manager.is_connected(client.sid(), "/")


def test_always_connect_refusal_sends_disconnect_without_payload():
    srv = Server(async_mode="threading", always_connect=True)
    disconnects = []
    srv.on("connect", lambda sid, environ, auth: False)
    srv.on("disconnect", lambda sid, reason: disconnects.append(reason))
    client = VClient(srv)
    client.connect()
    assert client.types() == [CONNECT, DISCONNECT]
    # socket.io-parser rejects a DISCONNECT packet with a payload (python-socketio sends one)
    assert client.messages[-1] == "1"
    assert client.sid() is None and disconnects == []


def test_connect_handler_exception_propagates_on_virtual_connections(server, client_factory):
    @server.on("connect")
    def connect(sid, environ, auth):
        raise RuntimeError("boom")

    client = client_factory()
    with pytest.raises(RuntimeError, match="boom"):
        client.connect()
    assert client.sid() is None


def test_catch_all_namespace_connect_handler():
    srv = Server(async_mode="threading", namespaces="*")
    seen = []
    srv.on("connect", lambda ns, sid, environ, auth: seen.append((ns, auth)), namespace="*")
    VClient(srv).connect("/room/1", auth={"k": 1})
    assert seen == [("/room/1", {"k": 1})]


def test_catch_all_event_handler_does_not_get_connect(server, client_factory):
    seen = []
    server.on("*", lambda event, sid, *args: seen.append(event))
    client = client_factory()
    client.connect()
    client.emit("x")
    assert seen == ["x"]


def test_class_based_connect_with_and_without_auth(server, client_factory):
    seen = []

    class WithAuth(Namespace):
        def on_connect(self, sid, environ, auth):
            seen.append(("with", auth))
            if auth == {"no": 1}:
                raise ConnectionRefusedError("refused")

    class Legacy(Namespace):
        def on_connect(self, sid, environ):
            seen.append(("legacy", self.namespace))

    server.register_namespace(WithAuth("/a"))
    server.register_namespace(Legacy("/b"))
    client = client_factory()
    assert client.connect("/a", auth={"yes": 1}).packet_type == CONNECT
    assert client.connect("/b").packet_type == CONNECT
    assert client_factory().connect("/a", auth={"no": 1}).data == {"message": "refused"}
    assert seen == [("with", {"yes": 1}), ("legacy", "/b"), ("with", {"no": 1})]


def test_malformed_packet_raises_on_virtual_connections(server, client_factory):
    client = client_factory()
    with pytest.raises(PacketError):
        server.eio.receive_virtual(client.eio_sid, "9nonsense")
    with pytest.raises(PacketError):
        server.eio.receive_virtual(client.eio_sid, '4{"message":"x"}')  # CONNECT_ERROR
