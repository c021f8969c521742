"""fastsock-only tests of the Flask layer: behaviour Flask-SocketIO lacks or gets wrong, and the
extension's options, attributes and serving entry points."""

import sys
from datetime import datetime, timezone

import flask
import pytest
from flask_helpers import make_app


def sid_of(socketio, client, namespace="/"):
    return socketio.server.manager.sid_from_eio_sid(client.eio_sid, namespace)


def test_exported_names(fs):
    import fastsock.flask

    for name in ("SocketIO", "Namespace", "emit", "send", "call", "join_room", "leave_room",
                 "close_room", "rooms", "disconnect", "ConnectionRefusedError",
                 "SocketIOTestClient"):
        assert getattr(fs, name) is getattr(fastsock.flask, name)
    from fastsock.socketio.exceptions import ConnectionRefusedError

    assert fs.ConnectionRefusedError is ConnectionRefusedError


def test_namespace_sessions(fs):
    app, socketio = make_app(fs)

    class Store(fs.Namespace):
        def on_put(self, value):
            with self.session(flask.request.sid) as session:
                session["value"] = value

        def on_get(self):
            return self.get_session(flask.request.sid).get("value")

        def on_replace(self, value):
            self.save_session(flask.request.sid, {"value": value})

    socketio.on_namespace(Store("/store"))
    client = socketio.test_client(app, namespace="/store")
    client.emit("put", 1, namespace="/store")
    assert client.emit("get", callback=True, namespace="/store") == 1
    client.emit("replace", 2, namespace="/store")
    assert client.emit("get", callback=True, namespace="/store") == 2


def test_type_error_inside_connect_handler_is_not_retried(fs):
    app, socketio = make_app(fs)
    calls = []

    @socketio.on("connect")
    def on_connect(auth):
        calls.append(auth)
        raise TypeError("a bug in the handler")

    with pytest.raises(TypeError, match="a bug"):
        socketio.test_client(app)
    assert calls == [None]


def test_connect_handler_with_default_auth(fs):
    app, socketio = make_app(fs)
    got = []

    @socketio.on("connect")
    def on_connect(auth=None):
        got.append(auth)

    socketio.test_client(app, auth={"a": 1})
    assert got == [{"a": 1}]


def test_legacy_disconnect_handler_not_sent_to_error_handler(fs):
    app, socketio = make_app(fs)
    calls, errors = [], []

    @socketio.on("disconnect")
    def on_disconnect():
        calls.append(flask.request.sid)

    @socketio.on_error_default
    def on_error(exc):
        errors.append(exc)

    client = socketio.test_client(app)
    client.disconnect()
    assert len(calls) == 1 and errors == []


def test_catch_all_event_in_catch_all_namespace(fs):
    app, socketio = make_app(fs, namespaces="*")

    @socketio.on("*", namespace="*")
    def anything(event, *args):
        return [event, flask.request.namespace, flask.request.sid, list(args)]

    client = socketio.test_client(app, namespace="/x")
    event, namespace, sid, args = client.emit("ev", 1, callback=True, namespace="/x")
    assert (event, namespace, args) == ("ev", "/x", [1])
    assert sid == sid_of(socketio, client, "/x")


def test_catch_all_class_namespace(fs):
    app, socketio = make_app(fs, namespaces="*")

    class Everywhere(fs.Namespace):
        def on_connect(self, auth):
            fs.emit("hi", flask.request.namespace)

        def on_where(self):
            return flask.request.namespace, flask.request.sid

    socketio.on_namespace(Everywhere("*"))
    client = socketio.test_client(app, namespace="/p")
    assert client.get_received("/p") == [{"name": "hi", "args": ["/p"], "namespace": "/p"}]
    assert client.emit("where", callback=True, namespace="/p") == ["/p", sid_of(socketio, client,
                                                                               "/p")]


def test_emit_with_several_positional_arguments(fs):
    app, socketio = make_app(fs)

    @socketio.on("go")
    def go():
        fs.emit("three", 1, 2, 3)

    client = socketio.test_client(app)
    client.emit("go")
    socketio.emit("two", "a", "b")
    assert client.get_received() == [
        {"name": "three", "args": [1, 2, 3], "namespace": "/"},
        {"name": "two", "args": ["a", "b"], "namespace": "/"},
    ]


def test_call_times_out_without_ack(fs):
    app, socketio = make_app(fs)
    client = socketio.test_client(app)
    with pytest.raises(TimeoutError):
        socketio.call("question", "?", to=sid_of(socketio, client), timeout=0.05)
    assert client.get_received() == [{"name": "question", "args": ["?"], "namespace": "/"}]


def test_context_call_defaults_to_the_sender(fs):
    app, socketio = make_app(fs)
    outcome = []

    @socketio.on("ask")
    def ask():
        try:
            fs.call("question", timeout=0.05)
        except TimeoutError as exc:
            outcome.append(type(exc).__name__)

    client = socketio.test_client(app)
    client.emit("ask")
    assert outcome == ["TimeoutError"]
    assert client.get_received() == [{"name": "question", "args": [], "namespace": "/"}]


def test_ack_callback_runs_in_the_event_context(fs):
    app, socketio = make_app(fs)
    seen = []

    @socketio.on("ask")
    def ask():
        def on_answer(*args):
            seen.append((flask.request.sid, flask.request.namespace, args))

        fs.emit("question", callback=on_answer)

    client = socketio.test_client(app)
    client.emit("ask")
    sid = sid_of(socketio, client)
    # the test client never answers; play its ACK the way a real client would
    socketio.server.manager.trigger_callback(sid, 1, ["yes", 2])
    assert seen == [(sid, "/", ("yes", 2))]


def test_message_queue_without_app_is_a_write_only_emitter(fs):
    emitter = fs.SocketIO(message_queue="redis://127.0.0.1:1/0")
    manager = emitter.server.manager
    assert manager.write_only is True
    assert emitter.server_options["client_manager"] is manager
    assert manager.channel == "flask-socketio"
    app = flask.Flask(__name__)
    server = fs.SocketIO(app, message_queue="redis://127.0.0.1:1/0", channel="mine",
                         async_mode="threading")
    assert server.server.manager.write_only is False
    assert server.server.manager.channel == "mine"


@pytest.mark.parametrize(("url", "backend"), [
    ("redis://localhost", "RedisManager"),
    ("rediss://localhost", "RedisManager"),
    ("redis+sentinel://localhost", "RedisManager"),
    ("valkey://localhost", "RedisManager"),
    ("unix:///tmp/redis.sock", "RedisManager"),
    ("amqp://guest@localhost//", "KombuManager"),
    ("kafka://localhost:9092", "KafkaManager"),
    ("zmq+tcp://localhost:5555", "ZmqManager"),
])
def test_message_queue_backend_choice(url, backend):
    from fastsock.flask.queues import manager_class_name

    assert manager_class_name(url) == backend


def test_test_client_refuses_a_message_queue(fs):
    app = flask.Flask(__name__)
    socketio = fs.SocketIO(app, message_queue="redis://127.0.0.1:1/0", async_mode="threading")
    with pytest.raises(RuntimeError, match="message queue"):
        socketio.test_client(app)


def test_options_reach_the_servers(fs):
    _app, socketio = make_app(
        fs, ping_interval=(0.5, 2), ping_timeout=3, max_http_buffer_size=1234,
        allow_upgrades=False, always_connect=True, async_handlers=False, cookie="io",
    )
    assert socketio.server.always_connect is True
    assert socketio.server.async_handlers is False
    eio = socketio.server.eio
    assert eio.allow_upgrades is False
    assert eio.cookie == "io"
    assert eio.ping_timeout == 3
    assert eio.max_http_buffer_size == 1234


def test_path_option(fs):
    _app, socketio = make_app(fs, path="/custom.io")
    assert socketio.sockio_mw.engineio_path == "/custom.io/"
    _app2, socketio2 = make_app(fs, resource="other")
    assert socketio2.sockio_mw.engineio_path == "/other/"


def test_wsgi_middleware_sends_other_paths_to_flask(fs):
    app, _socketio = make_app(fs)

    @app.route("/plain")
    def plain():
        return "plain " + str("flask.app" in flask.request.environ)

    assert app.test_client().get("/plain").data == b"plain True"


def test_flask_json_option(fs):
    app, socketio = make_app(fs, json=flask.json)

    @socketio.on("when")
    def when():
        fs.emit("time", {"at": datetime(2020, 1, 2, 3, 4, 5, tzinfo=timezone.utc)})

    client = socketio.test_client(app)
    client.emit("when")
    assert client.get_received()[0]["args"] == [{"at": "Thu, 02 Jan 2020 03:04:05 GMT"}]


def test_run_refuses_werkzeug_without_a_terminal(fs, monkeypatch):
    app, socketio = make_app(fs)

    class NotATerminal:
        def isatty(self):
            return False

    monkeypatch.setattr(sys, "stdin", NotATerminal())
    with pytest.raises(RuntimeError, match="allow_unsafe_werkzeug"):
        socketio.run(app, port=0)


def test_stop_without_a_server(fs):
    _app, socketio = make_app(fs)
    with pytest.raises(RuntimeError):
        socketio.stop()


def test_flask_run_cli_forces_threading(fs, monkeypatch):
    monkeypatch.setenv("FLASK_RUN_FROM_CLI", "true")
    app = flask.Flask(__name__)
    assert fs.SocketIO(app).async_mode == "threading"


def test_test_client_with_msgpack_serializer(fs):
    app, socketio = make_app(fs, serializer="msgpack")

    @socketio.on("echo")
    def echo(data):
        fs.emit("echoed", data)
        return data

    client = socketio.test_client(app)
    data = {"blob": b"\x00\xff", "n": [1, 2.5, None]}
    assert client.emit("echo", data, callback=True) == data
    assert client.get_received() == [{"name": "echoed", "args": [data], "namespace": "/"}]


def test_test_client_encodes_with_the_server_json(fs):
    app, socketio = make_app(fs, json=flask.json)

    @socketio.on("echo")
    def echo(data):
        return data

    client = socketio.test_client(app)
    when = datetime(2020, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
    assert client.emit("echo", {"at": when}, callback=True) == {
        "at": "Thu, 02 Jan 2020 03:04:05 GMT"}
