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
