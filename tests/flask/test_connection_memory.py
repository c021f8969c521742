"""What a connection keeps for its whole life in the Flask layer: nothing of the request context
of an event once that event is over (an idle connection should cost a few KB, not tens)."""

import gc
import weakref

import flask
from flask_helpers import make_app


def test_an_event_request_is_not_kept_alive_by_the_cached_url_match(fs):
    app, socketio = make_app(fs)
    requests = []

    @socketio.on("connect")
    def on_connect():
        requests.append(weakref.ref(flask.request._get_current_object()))

    @socketio.on("probe")
    def probe():
        requests.append(weakref.ref(flask.request._get_current_object()))
        exc = flask.request.routing_exception
        return [type(exc).__name__, exc.code]

    client = socketio.test_client(app)
    # the URL match cached from the first event is still the one later events see
    assert client.emit("probe", callback=True) == ["NotFound", 404]
    gc.collect()
    assert [ref() for ref in requests] == [None, None]


def test_connections_share_the_usual_url_match(fs):
    from fastsock.flask.events import URL_MATCH_KEY

    app, socketio = make_app(fs)
    seen = []

    @socketio.on("probe")
    def probe():
        seen.append(flask.request.routing_exception)
        return [type(seen[-1]).__name__, flask.request.url_rule, flask.request.view_args]

    clients = [socketio.test_client(app) for _ in range(2)]
    for client in clients * 2:
        assert client.emit("probe", callback=True) == ["NotFound", None, None]
    environs = [socketio.server.environ[client.eio_sid] for client in clients]
    assert environs[0][URL_MATCH_KEY] is environs[1][URL_MATCH_KEY]
    # yet every event gets a NotFound of its own, as from a fresh match
    assert len({id(exc) for exc in seen}) == 4


def test_a_matched_route_is_cached_as_matched(fs):
    app, socketio = make_app(fs)

    @app.route("/<name>")
    def page(name):  # pragma: no cover - never requested over HTTP here
        return name

    @socketio.on("probe")
    def probe():
        request = flask.request
        return [request.url_rule.rule, request.view_args, request.routing_exception]

    client = socketio.test_client(app)
    for _ in range(2):
        assert client.emit("probe", callback=True) == ["/<name>", {"name": "socket.io"}, None]


def test_connection_environs_share_equal_strings(fs):
    app, socketio = make_app(fs)

    @socketio.on("probe")
    def probe():
        return flask.request.headers.get("X-Client-Kind")

    version = 1
    # two equal header values that are two objects, as two parsed requests give
    clients = [
        socketio.test_client(app, headers={"X-Client-Kind": f"kiosk v{version}"})
        for _ in range(2)
    ]
    for client in clients:  # what handlers see is unchanged
        assert client.emit("probe", callback=True) == "kiosk v1"
    environs = [socketio.server.environ[client.eio_sid] for client in clients]
    keys = [next(k for k in environ if k == "HTTP_X_CLIENT_KIND") for environ in environs]
    assert keys[0] is keys[1]
    assert environs[0]["HTTP_X_CLIENT_KIND"] is environs[1]["HTTP_X_CLIENT_KIND"]
