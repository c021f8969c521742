"""Compatibility suite: Flask-SocketIO style tests through ``socketio.test_client``.

Every test takes ``lib`` and runs against ``flask_socketio`` (the oracle) and fastsock with the
same code, as a user's test suite would after swapping the import.
"""

import time

import flask
import pytest
from flask_helpers import make_app

# -- connecting ------------------------------------------------------------------------------


def test_connect_and_events_from_connect_handler(lib):
    app, socketio = make_app(lib)
    seen = {}

    @socketio.on("connect")
    def on_connect():
        seen["sid"] = flask.request.sid
        seen["namespace"] = flask.request.namespace
        lib.emit("welcome", {"sid": flask.request.sid})

    client = socketio.test_client(app)
    assert client.is_connected()
    assert client.is_connected("/")
    assert seen["namespace"] == "/"
    assert client.get_received() == [
        {"name": "welcome", "args": [{"sid": seen["sid"]}], "namespace": "/"}
    ]
    assert client.get_received() == []  # drained
    assert socketio.server.manager.sid_from_eio_sid(client.eio_sid, "/") == seen["sid"]


def test_connect_with_auth(lib):
    app, socketio = make_app(lib)
    got = []

    @socketio.on("connect")
    def on_connect(auth):
        got.append(auth)

    client = socketio.test_client(app, auth={"token": "abc"})
    assert client.is_connected()
    socketio.test_client(app)
    assert got == [{"token": "abc"}, None]


def test_connect_handler_without_auth_parameter_gets_auth_ignored(lib):
    app, socketio = make_app(lib)
    calls = []

    @socketio.on("connect")
    def on_connect():
        calls.append(flask.request.sid)

    client = socketio.test_client(app, auth={"token": "abc"})
    assert client.is_connected()
    assert len(calls) == 1


@pytest.mark.parametrize("always_connect", [False, True])
def test_connect_refused_by_returning_false(lib, always_connect):
    app, socketio = make_app(lib, always_connect=always_connect)

    @socketio.on("connect")
    def on_connect(auth):
        return auth == {"ok": True}

    assert not socketio.test_client(app, auth={"ok": False}).is_connected()
    assert socketio.test_client(app, auth={"ok": True}).is_connected()


@pytest.mark.parametrize("always_connect", [False, True])
def test_connect_refused_with_connection_refused_error(lib, always_connect):
    app, socketio = make_app(lib, always_connect=always_connect)
    disconnected = []

    @socketio.on("connect")
    def on_connect():
        raise lib.ConnectionRefusedError("not allowed", {"code": 42})

    @socketio.on("disconnect")
    def on_disconnect():
        disconnected.append(1)

    client = socketio.test_client(app)
    assert not client.is_connected()
    assert disconnected == []
    with pytest.raises(RuntimeError):
        client.emit("anything")


def test_emit_from_connect_reaches_client(lib):
    app, socketio = make_app(lib)

    @socketio.on("connect")
    def on_connect():
        lib.emit("hello", "one")
        lib.send("two")

    client = socketio.test_client(app)
    assert client.get_received() == [
        {"name": "hello", "args": ["one"], "namespace": "/"},
        {"name": "message", "args": "two", "namespace": "/"},
    ]


def test_query_string_and_headers_in_request(lib):
    app, socketio = make_app(lib)
    seen = {}

    @socketio.on("connect")
    def on_connect():
        seen["connect"] = (flask.request.args.get("room"), flask.request.headers.get("X-Token"))

    @socketio.on("ask")
    def ask():
        return flask.request.args.get("room"), flask.request.headers.get("X-Token")

    client = socketio.test_client(app, query_string="room=blue&x=1", headers={"X-Token": "t0k"})
    assert seen["connect"] == ("blue", "t0k")
    assert client.emit("ask", callback=True) == ["blue", "t0k"]
    client2 = socketio.test_client(app, query_string="?room=red")
    assert client2.emit("ask", callback=True) == ["red", None]


def test_request_event_and_sid(lib):
    app, socketio = make_app(lib)

    @socketio.on("probe")
    def probe(a, b):
        return {"sid": flask.request.sid, "ns": flask.request.namespace,
                "event": flask.request.event["message"], "args": list(flask.request.event["args"])}

    client = socketio.test_client(app)
    sid = socketio.server.manager.sid_from_eio_sid(client.eio_sid, "/")
    assert client.emit("probe", 1, {"x": 2}, callback=True) == {
        "sid": sid, "ns": "/", "event": "probe", "args": [1, {"x": 2}]}


def test_handlers_run_in_app_and_request_context(lib):
    app, socketio = make_app(lib)
    app.config["GREETING"] = "hi"

    @socketio.on("ctx")
    def ctx():
        return [flask.current_app.config["GREETING"], flask.has_request_context(),
                flask.request.path, flask.url_for("index"), flask.request.url_rule,
                type(flask.request.routing_exception).__name__]

    @app.route("/")
    def index():
        return "index"

    client = socketio.test_client(app)
    expected = ["hi", True, "/socket.io", "/", None, "NotFound"]
    assert client.emit("ctx", callback=True) == expected
    assert client.emit("ctx", callback=True) == expected  # the same on later events


# -- disconnecting ---------------------------------------------------------------------------


def test_client_disconnect_calls_handler_with_reason(lib):
    app, socketio = make_app(lib)
    reasons = []

    @socketio.on("disconnect")
    def on_disconnect(reason):
        reasons.append((flask.request.sid is not None, reason))

    client = socketio.test_client(app)
    client.disconnect()
    assert not client.is_connected()
    assert reasons == [(True, socketio.reason.CLIENT_DISCONNECT)]
    assert socketio.reason.CLIENT_DISCONNECT == "client disconnect"
    with pytest.raises(RuntimeError):
        client.disconnect()


def test_disconnect_handler_without_reason(lib):
    app, socketio = make_app(lib)
    calls = []

    @socketio.on("disconnect")
    def on_disconnect():
        calls.append(flask.request.sid)

    client = socketio.test_client(app)
    client.disconnect()
    assert len(calls) == 1


def test_server_side_disconnect(lib):
    app, socketio = make_app(lib)
    reasons = []

    @socketio.on("kick me")
    def kick():
        lib.disconnect()

    @socketio.on("disconnect")
    def on_disconnect(reason):
        reasons.append(reason)

    client = socketio.test_client(app)
    client.emit("kick me")
    assert not client.is_connected()
    assert reasons == [socketio.reason.SERVER_DISCONNECT]


def test_reconnect_after_disconnect(lib):
    app, socketio = make_app(lib)

    @socketio.on("echo")
    def echo(data):
        return data

    client = socketio.test_client(app)
    client.disconnect()
    client.connect()
    assert client.is_connected()
    assert client.emit("echo", "again", callback=True) == "again"


# -- events, messages, acks ------------------------------------------------------------------


def test_send_text_and_json(lib):
    app, socketio = make_app(lib)

    @socketio.on("message")
    def on_message(msg):
        lib.send(msg.upper())

    @socketio.on("json")
    def on_json(data):
        lib.send({"got": data}, json=True)

    client = socketio.test_client(app)
    client.send("hello")
    client.send({"a": [1, 2]}, json=True)
    assert client.get_received() == [
        {"name": "message", "args": "HELLO", "namespace": "/"},
        {"name": "json", "args": {"got": {"a": [1, 2]}}, "namespace": "/"},
    ]


def test_emit_with_several_arguments_and_tuple(lib):
    app, socketio = make_app(lib)

    @socketio.on("pair")
    def pair(a, b):
        lib.emit("pair back", (b, a))
        lib.emit("none")

    client = socketio.test_client(app)
    client.emit("pair", 1, "two")
    assert client.get_received() == [
        {"name": "pair back", "args": ["two", 1], "namespace": "/"},
        {"name": "none", "args": [], "namespace": "/"},
    ]


def test_binary_both_ways(lib):
    app, socketio = make_app(lib)

    @socketio.on("upload")
    def upload(data):
        assert isinstance(data["blob"], bytes)
        lib.emit("download", {"blob": data["blob"][::-1], "n": len(data["blob"])})
        return data["blob"] + b"!"

    client = socketio.test_client(app)
    blob = bytes(range(256))
    assert client.emit("upload", {"blob": blob}, callback=True) == blob + b"!"
    assert client.get_received() == [
        {"name": "download", "args": [{"blob": blob[::-1], "n": 256}], "namespace": "/"}
    ]


def test_acks(lib):
    app, socketio = make_app(lib)

    @socketio.on("one")
    def one(x):
        return x + 1

    @socketio.on("many")
    def many():
        return 1, "two", [3]

    @socketio.on("nothing")
    def nothing():
        pass

    @socketio.on("message")
    def message(msg):
        return "got " + msg

    client = socketio.test_client(app)
    assert client.emit("one", 41, callback=True) == 42
    assert client.emit("many", callback=True) == [1, "two", [3]]
    assert client.emit("nothing", callback=True) == []
    assert client.emit("one", 1) is None
    assert client.send("hi", callback=True) == "got hi"


def test_data_is_serialized_at_emit_time(lib):
    app, socketio = make_app(lib)

    @socketio.on("go")
    def go():
        data = {"n": 1, "items": [1]}
        lib.emit("state", data)
        data["n"] = 2
        data["items"].append(2)

    client = socketio.test_client(app)
    client.emit("go")
    assert client.get_received() == [
        {"name": "state", "args": [{"n": 1, "items": [1]}], "namespace": "/"}
    ]


def test_unserializable_data_raises_type_error(lib):
    app, socketio = make_app(lib)

    @socketio.on("bad")
    def bad():
        lib.emit("oops", {"x": object()})

    client = socketio.test_client(app)
    with pytest.raises(TypeError):
        client.emit("bad")
    with pytest.raises(TypeError):
        client.emit("whatever", object())
    with pytest.raises(TypeError):
        socketio.emit("oops", {1, 2})


def test_unknown_event_is_ignored(lib):
    app, socketio = make_app(lib)
    client = socketio.test_client(app)
    client.emit("nobody listens", 1)
    assert client.get_received() == []


def test_event_decorator_and_on_event(lib):
    app, socketio = make_app(lib)

    @socketio.event
    def plain(x):
        return ["plain", x]

    @socketio.event(namespace="/ns")
    def spaced(x):
        return ["spaced", x]

    def manual(x):
        return ["manual", x]

    socketio.on_event("manual event", manual)
    socketio.on_event("manual event", manual, namespace="/ns")

    client = socketio.test_client(app)
    client.connect("/ns")
    assert client.emit("plain", 1, callback=True) == ["plain", 1]
    assert client.emit("spaced", 2, callback=True, namespace="/ns") == ["spaced", 2]
    assert client.emit("manual event", 3, callback=True) == ["manual", 3]
    assert client.emit("manual event", 4, callback=True, namespace="/ns") == ["manual", 4]


def test_decorators_return_the_function(lib):
    app, socketio = make_app(lib)

    def handler(x):
        return x

    assert socketio.on("a")(handler) is handler
    stacked = socketio.on("b")(socketio.on("c")(handler))
    assert stacked is handler
    client = socketio.test_client(app)
    assert client.emit("b", 1, callback=True) == 1
    assert client.emit("c", 2, callback=True) == 2


# -- namespaces -------------------------------------------------------------------------------


def test_decorated_namespaces(lib):
    app, socketio = make_app(lib)

    @socketio.on("connect", namespace="/chat")
    def chat_connect():
        lib.emit("joined", flask.request.namespace)

    @socketio.on("say", namespace="/chat")
    def chat_say(text):
        lib.emit("said", text)
        lib.emit("cross", "to root", namespace="/", broadcast=True)

    client = socketio.test_client(app, namespace="/chat")
    assert client.is_connected("/chat")
    assert not client.is_connected()
    assert client.get_received("/chat") == [
        {"name": "joined", "args": ["/chat"], "namespace": "/chat"}
    ]
    client.connect()  # the root namespace too
    client.emit("say", "hi", namespace="/chat")
    assert client.get_received("/chat") == [{"name": "said", "args": ["hi"], "namespace": "/chat"}]
    assert client.get_received("/") == [{"name": "cross", "args": ["to root"], "namespace": "/"}]
    client.disconnect("/chat")
    assert not client.is_connected("/chat")
    assert client.is_connected("/")


def test_unknown_namespace_is_refused(lib):
    app, socketio = make_app(lib)
    client = socketio.test_client(app, namespace="/nowhere")
    assert not client.is_connected("/nowhere")


def test_namespaces_option(lib):
    app, socketio = make_app(lib, namespaces="*")
    client = socketio.test_client(app, namespace="/anything")
    assert client.is_connected("/anything")


def test_class_based_namespace(lib):
    app, socketio = make_app(lib)
    log = []

    class Chat(lib.Namespace):
        def on_connect(self, auth):
            log.append(("connect", auth, flask.request.namespace))
            self.emit("welcome", {"ns": self.namespace}, room=flask.request.sid)

        def on_disconnect(self, reason):
            log.append(("disconnect", reason))

        def on_join(self, room):
            self.enter_room(flask.request.sid, room)
            return self.rooms(flask.request.sid)

        def on_shout(self, text):
            self.send(text.upper(), room="lobby")

        def on_close(self):
            self.close_room("lobby")

    socketio.on_namespace(Chat("/chat"))
    client = socketio.test_client(app, namespace="/chat", auth={"k": 1})
    assert log == [("connect", {"k": 1}, "/chat")]
    assert client.get_received("/chat") == [
        {"name": "welcome", "args": [{"ns": "/chat"}], "namespace": "/chat"}
    ]
    rooms = client.emit("join", "lobby", callback=True, namespace="/chat")
    assert "lobby" in rooms
    client.emit("shout", "hey", namespace="/chat")
    assert client.get_received("/chat") == [
        {"name": "message", "args": "HEY", "namespace": "/chat"}
    ]
    client.emit("close", namespace="/chat")
    client.emit("shout", "gone", namespace="/chat")
    assert client.get_received("/chat") == []
    client.disconnect("/chat")
    assert log[-1] == ("disconnect", socketio.reason.CLIENT_DISCONNECT)


def test_class_based_namespace_legacy_signatures_and_disconnect(lib):
    app, socketio = make_app(lib)
    log = []

    class Legacy(lib.Namespace):
        def on_connect(self):
            log.append("connect")

        def on_disconnect(self):
            log.append("disconnect")

        def on_bye(self):
            self.disconnect(flask.request.sid)

    socketio.on_namespace(Legacy("/legacy"))
    client = socketio.test_client(app, namespace="/legacy")
    client.emit("bye", namespace="/legacy")
    assert not client.is_connected("/legacy")
    assert log == ["connect", "disconnect"]


def test_on_namespace_rejects_other_objects(lib):
    _app, socketio = make_app(lib)
    with pytest.raises(ValueError):
        socketio.on_namespace(object())


def test_catch_all_event(lib):
    app, socketio = make_app(lib)

    @socketio.on("*")
    def any_event(event, *args):
        return [event, list(args)]

    @socketio.on("specific")
    def specific():
        return "specific"

    client = socketio.test_client(app)
    assert client.emit("whatever", 1, 2, callback=True) == ["whatever", [1, 2]]
    assert client.emit("specific", callback=True) == "specific"


def test_catch_all_namespace(lib):
    app, socketio = make_app(lib, namespaces="*")

    @socketio.on("connect", namespace="*")
    def any_connect():
        lib.emit("hello", flask.request.namespace)

    @socketio.on("where", namespace="*")
    def where():
        return flask.request.namespace

    client = socketio.test_client(app, namespace="/a")
    client.connect("/b")
    assert client.get_received("/a") == [{"name": "hello", "args": ["/a"], "namespace": "/a"}]
    assert client.get_received("/b") == [{"name": "hello", "args": ["/b"], "namespace": "/b"}]
    assert client.emit("where", callback=True, namespace="/b") == "/b"


# -- broadcast and rooms ----------------------------------------------------------------------


def test_broadcast(lib):
    app, socketio = make_app(lib)

    @socketio.on("all")
    def to_all(text):
        lib.emit("news", text, broadcast=True)

    @socketio.on("others")
    def to_others(text):
        lib.emit("news", text, broadcast=True, include_self=False)

    a = socketio.test_client(app)
    b = socketio.test_client(app)
    a.emit("all", "one")
    b.emit("others", "two")
    assert a.get_received() == [
        {"name": "news", "args": ["one"], "namespace": "/"},
        {"name": "news", "args": ["two"], "namespace": "/"},
    ]
    assert b.get_received() == [{"name": "news", "args": ["one"], "namespace": "/"}]


def test_server_emit_outside_handlers(lib):
    app, socketio = make_app(lib)
    a = socketio.test_client(app)
    b = socketio.test_client(app)
    socketio.emit("tick", 1)
    sid_b = socketio.server.manager.sid_from_eio_sid(b.eio_sid, "/")
    socketio.emit("private", {"to": "b"}, to=sid_b)
    socketio.send("text message", to=sid_b)
    socketio.emit("skip b", skip_sid=sid_b)
    assert a.get_received() == [
        {"name": "tick", "args": [1], "namespace": "/"},
        {"name": "skip b", "args": [], "namespace": "/"},
    ]
    assert b.get_received() == [
        {"name": "tick", "args": [1], "namespace": "/"},
        {"name": "private", "args": [{"to": "b"}], "namespace": "/"},
        {"name": "message", "args": "text message", "namespace": "/"},
    ]


def test_emit_from_http_route(lib):
    app, socketio = make_app(lib)

    @app.route("/notify")
    def notify():
        socketio.emit("notified", {"via": "http"})
        return "ok"

    client = socketio.test_client(app)
    assert app.test_client().get("/notify").data == b"ok"
    assert client.get_received() == [
        {"name": "notified", "args": [{"via": "http"}], "namespace": "/"}
    ]


def test_rooms(lib):
    app, socketio = make_app(lib)

    @socketio.on("join")
    def join(room):
        lib.join_room(room)
        return sorted(lib.rooms())

    @socketio.on("leave")
    def leave(room):
        lib.leave_room(room)

    @socketio.on("say")
    def say(room, text):
        lib.emit("said", text, to=room)

    @socketio.on("say others")
    def say_others(room, text):
        lib.send(text, to=room, include_self=False)

    @socketio.on("close")
    def close(room):
        lib.close_room(room)

    a = socketio.test_client(app)
    b = socketio.test_client(app)
    c = socketio.test_client(app)
    sid_a = socketio.server.manager.sid_from_eio_sid(a.eio_sid, "/")
    assert a.emit("join", "red", callback=True) == sorted([sid_a, "red"])
    b.emit("join", "red")
    a.emit("say", "red", "hello red")
    assert a.get_received() == [{"name": "said", "args": ["hello red"], "namespace": "/"}]
    assert b.get_received() == [{"name": "said", "args": ["hello red"], "namespace": "/"}]
    assert c.get_received() == []
    participants = {sid for sid, _ in socketio.server.manager.get_participants("/", "red")}
    assert sid_a in participants and len(participants) == 2
    a.emit("say others", "red", "not me")
    assert a.get_received() == []
    assert b.get_received() == [{"name": "message", "args": "not me", "namespace": "/"}]
    b.emit("leave", "red")
    c.emit("say", "red", "anyone?")
    assert a.get_received() == [{"name": "said", "args": ["anyone?"], "namespace": "/"}]
    assert b.get_received() == []
    c.emit("close", "red")
    c.emit("say", "red", "closed")
    assert a.get_received() == []


def test_join_room_for_another_sid_and_socketio_close_room(lib):
    app, socketio = make_app(lib)

    @socketio.on("invite")
    def invite(sid):
        lib.join_room("vip", sid=sid)

    a = socketio.test_client(app)
    b = socketio.test_client(app)
    sid_b = socketio.server.manager.sid_from_eio_sid(b.eio_sid, "/")
    a.emit("invite", sid_b)
    socketio.emit("vip news", to="vip")
    assert b.get_received() == [{"name": "vip news", "args": [], "namespace": "/"}]
    assert a.get_received() == []
    socketio.close_room("vip")
    socketio.emit("vip news", to="vip")
    assert b.get_received() == []


def test_emit_to_list_of_rooms(lib):
    app, socketio = make_app(lib)

    @socketio.on("join")
    def join(room):
        lib.join_room(room)

    a = socketio.test_client(app)
    b = socketio.test_client(app)
    c = socketio.test_client(app)
    a.emit("join", "r1")
    b.emit("join", "r2")
    c.emit("join", "r3")
    socketio.emit("multi", to=["r1", "r2"])
    assert len(a.get_received()) == 1 and len(b.get_received()) == 1
    assert c.get_received() == []


# -- errors ------------------------------------------------------------------------------------


def test_error_without_handler_reaches_the_test(lib):
    app, socketio = make_app(lib)

    @socketio.on("boom")
    def boom():
        raise ValueError("kaboom")

    client = socketio.test_client(app)
    with pytest.raises(ValueError, match="kaboom"):
        client.emit("boom")


def test_namespace_and_default_error_handlers(lib):
    app, socketio = make_app(lib)
    errors = []

    @socketio.on("boom")
    def boom():
        raise ValueError("root")

    @socketio.on("boom", namespace="/other")
    def boom_other():
        raise KeyError("other")

    @socketio.on_error()
    def root_error(e):
        errors.append(("root", type(e).__name__, flask.request.event["message"]))
        return "handled root"

    @socketio.on_error_default
    def default_error(e):
        errors.append(("default", type(e).__name__, flask.request.namespace))
        return "handled", "default"

    client = socketio.test_client(app)
    client.connect("/other")
    assert client.emit("boom", callback=True) == "handled root"
    assert client.emit("boom", callback=True, namespace="/other") == ["handled", "default"]
    assert errors == [("root", "ValueError", "boom"), ("default", "KeyError", "/other")]


def test_error_handler_must_be_callable(lib):
    _app, socketio = make_app(lib)
    with pytest.raises(ValueError):
        socketio.on_error()("not callable")
    with pytest.raises(ValueError):
        socketio.on_error_default("not callable")


def test_namespace_error_method(lib):
    app, socketio = make_app(lib)

    class Guarded(lib.Namespace):
        def on_fail(self):
            raise RuntimeError("inside")

        def error(self, exc):
            return "caught " + str(exc)

    socketio.on_namespace(Guarded("/guarded"))
    client = socketio.test_client(app, namespace="/guarded")
    assert client.emit("fail", callback=True, namespace="/guarded") == "caught inside"


# -- sessions ----------------------------------------------------------------------------------


def _session_app(lib, **options):
    app, socketio = make_app(lib, **options)

    @app.route("/login/<name>")
    def login(name):
        flask.session["user"] = name
        return "ok"

    @app.route("/whoami")
    def whoami():
        return flask.session.get("user", "nobody")

    @socketio.on("whoami")
    def sio_whoami():
        return flask.session.get("user", "nobody")

    @socketio.on("become")
    def become(name):
        flask.session["user"] = name

    return app, socketio


def test_managed_session(lib):
    app, socketio = _session_app(lib)
    http = app.test_client()
    http.get("/login/alice")
    client = socketio.test_client(app, flask_test_client=http)
    other = socketio.test_client(app)
    assert client.emit("whoami", callback=True) == "alice"
    assert other.emit("whoami", callback=True) == "nobody"
    client.emit("become", "bob")
    # the connection keeps its own copy: changed for its later events, not for HTTP
    assert client.emit("whoami", callback=True) == "bob"
    assert other.emit("whoami", callback=True) == "nobody"
    assert http.get("/whoami").data == b"alice"


class _ServerSideSessions(flask.sessions.SessionInterface):
    """A minimal server-side session interface: data in a dict, an id in the cookie."""

    def __init__(self):
        self.store = {}

    def open_session(self, app, request):
        sid = request.cookies.get("ssid") or f"s{len(self.store) + 1}"
        session = flask.sessions.SecureCookieSession(self.store.get(sid, {}))
        session.sid = sid
        return session

    def save_session(self, app, session, response):
        self.store[session.sid] = dict(session)
        response.set_cookie("ssid", session.sid)


def test_unmanaged_session_shared_with_http(lib):
    app, socketio = _session_app(lib, manage_session=False)
    app.session_interface = _ServerSideSessions()
    http = app.test_client()
    http.get("/login/alice")
    client = socketio.test_client(app, flask_test_client=http)
    assert client.emit("whoami", callback=True) == "alice"
    client.emit("become", "bob")
    assert http.get("/whoami").data == b"bob"
    http.get("/login/carol")
    assert client.emit("whoami", callback=True) == "carol"


def test_manage_session_switched_at_run_time(lib):
    app, socketio = _session_app(lib)
    app.session_interface = _ServerSideSessions()
    http = app.test_client()
    http.get("/login/alice")
    client = socketio.test_client(app, flask_test_client=http)
    client.emit("become", "bob")  # managed: the private copy only
    assert http.get("/whoami").data == b"alice"
    socketio.manage_session = False
    client.emit("become", "carol")  # Flask's own session now
    assert http.get("/whoami").data == b"carol"


# -- background tasks, init_app, misc ---------------------------------------------------------


@pytest.mark.parametrize("async_mode", ["threading", "gevent"])
def test_background_task_emits(lib, async_mode):
    app, socketio = make_app(lib, async_mode=async_mode)

    def ticker(sid):
        for i in range(3):
            socketio.sleep(0.01)
            socketio.emit("tick", i, to=sid)

    @socketio.on("start")
    def start():
        socketio.start_background_task(ticker, flask.request.sid)

    client = socketio.test_client(app)
    client.emit("start")
    deadline = time.monotonic() + 5
    received = []
    while len(received) < 3 and time.monotonic() < deadline:
        socketio.sleep(0.01)
        received += client.get_received()
    assert [r["args"] for r in received] == [[0], [1], [2]]
    task = socketio.start_background_task(lambda: None)
    task.join()


def test_init_app_after_decorators(lib):
    app, socketio = make_app(lib, init_later=True)

    @socketio.on("connect")
    def on_connect():
        lib.emit("hi")

    @socketio.on("echo", namespace="/ns")
    def echo(x):
        return x

    class Ns(lib.Namespace):
        def on_ping(self):
            return "pong"

    socketio.on_namespace(Ns("/class"))
    socketio.init_app(app)
    assert app.extensions["socketio"] is socketio
    client = socketio.test_client(app)
    assert client.get_received() == [{"name": "hi", "args": [], "namespace": "/"}]
    client.connect("/ns")
    client.connect("/class")
    assert client.emit("echo", 5, callback=True, namespace="/ns") == 5
    assert client.emit("ping", callback=True, namespace="/class") == "pong"


def test_init_app_options_and_attributes(lib):
    app, socketio = make_app(lib, init_later=True, manage_session=False)
    socketio.init_app(app, ping_interval=10, cookie="io", path="/custom.io")
    assert socketio.manage_session is False
    assert socketio.async_mode == "threading"
    assert socketio.server.eio.ping_interval == 10
    assert socketio.server.eio.cookie == "io"
    assert socketio.server_options["ping_interval"] == 10
    assert callable(app.wsgi_app)
    for name in ("SERVER_DISCONNECT", "CLIENT_DISCONNECT", "PING_TIMEOUT", "TRANSPORT_CLOSE",
                 "TRANSPORT_ERROR"):
        assert isinstance(getattr(socketio.reason, name), str)


def test_http_routes_still_served(lib):
    app, _socketio = make_app(lib)

    @app.route("/hello")
    def hello():
        return "world"

    assert app.test_client().get("/hello").data == b"world"


def test_ack_callback_from_server_emit_runs_in_context(lib):
    # the test client never acknowledges server emits; the emit must still go out
    app, socketio = make_app(lib)

    @socketio.on("ask me")
    def ask_me():
        lib.emit("question", "?", callback=lambda *a: None)

    client = socketio.test_client(app)
    client.emit("ask me")
    assert client.get_received() == [{"name": "question", "args": ["?"], "namespace": "/"}]


def test_json_option_with_flask_json(lib):
    app, socketio = make_app(lib, json=flask.json)

    @socketio.on("echo")
    def echo(data):
        return data

    client = socketio.test_client(app)
    assert client.emit("echo", {"a": [1, "b"]}, callback=True) == {"a": [1, "b"]}
