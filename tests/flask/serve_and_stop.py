"""A fastsock app served with ``socketio.run()`` that stops itself on request (see
test_serving.py): ``python serve_and_stop.py <async_mode> <port>``."""

import sys

import flask

from fastsock import SocketIO

app = flask.Flask(__name__)
socketio = SocketIO(app, async_mode=sys.argv[1])


@app.route("/stop")
def stop_route():
    socketio.stop()
    return "stopping"


@socketio.on("stop")
def stop_event():
    socketio.stop()


socketio.run(app, port=int(sys.argv[2]), allow_unsafe_werkzeug=True)
print("STOPPED", flush=True)
