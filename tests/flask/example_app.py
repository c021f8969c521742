"""A Flask-SocketIO application that runs unchanged under flask_socketio and fastsock.

The only difference between the two is the import below (``EXAMPLE_LIB=fastsock`` swaps it).
It has several namespaces (decorated and class-based), rooms, acks both ways, binary data both
ways, sessions, a refusing namespace, a server-side disconnect and a background broadcast.

Run it as a server: ``python tests/flask/example_app.py [--async-mode threading|gevent]``; it
prints ``PORT <n>`` once it listens on an ephemeral port of 127.0.0.1.
"""

import os
import sys

if os.environ.get("EXAMPLE_LIB") == "fastsock":
    from fastsock import (
        ConnectionRefusedError,
        Namespace,
        SocketIO,
        close_room,
        disconnect,
        emit,
        join_room,
        leave_room,
        rooms,
        send,
    )
else:
    from flask_socketio import (
        ConnectionRefusedError,
        Namespace,
        SocketIO,
        close_room,
        disconnect,
        emit,
        join_room,
        leave_room,
        rooms,
        send,
    )

from flask import Flask, request, session


def create_app(async_mode="threading"):
    app = Flask(__name__)
    app.config["SECRET_KEY"] = "example secret"
    socketio = SocketIO(app, async_mode=async_mode, ping_interval=5, ping_timeout=5)

    @app.route("/login/<name>")
    def login(name):
        session["user"] = name
        return "welcome " + name

    @app.route("/announce/<text>")
    def announce(text):
        socketio.emit("announcement", {"text": text})
        socketio.emit("announcement", {"text": text}, namespace="/chat")
        return "sent"

    # -- the default namespace: decorated handlers ---------------------------------------------

    @socketio.on("connect")
    def connect(auth):
        if auth and auth.get("token") == "bad":
            raise ConnectionRefusedError("bad token", {"hint": "use a good one"})
        session.setdefault("user", (auth or {}).get("user", "anonymous"))
        emit("hello", {"user": session["user"], "query": request.args.get("q")})

    @socketio.on("disconnect")
    def on_disconnect(reason):
        emit("gone", {"reason": reason}, to="watchers", namespace="/")

    @socketio.event
    def echo(*args):
        return args

    @socketio.on("message")
    def message(text):
        send("echo: " + text)

    @socketio.on("json")
    def json_message(data):
        send({"echo": data}, json=True)

    @socketio.on("binary")
    def binary(blob, meta):
        emit("binary", (blob[::-1], {"size": len(blob), "meta": meta}))
        return blob + b"\xff", len(blob)

    @socketio.on("whoami")
    def whoami():
        return session.get("user")

    @socketio.on("rename")
    def rename(name):
        session["user"] = name
        return session["user"]

    @socketio.on("join")
    def join(room):
        join_room(room)
        emit("joined", {"room": room}, to=room)
        return sorted(r for r in rooms() if r != request.sid)

    @socketio.on("leave")
    def leave(room):
        leave_room(room)
        return sorted(r for r in rooms() if r != request.sid)

    @socketio.on("say")
    def say(room, text):
        emit("said", {"room": room, "text": text}, to=room, include_self=False)

    @socketio.on("close")
    def close(room):
        close_room(room)

    @socketio.on("shout")
    def shout(text):
        emit("shouted", text, broadcast=True)

    @socketio.on("ask")
    def ask(question):
        def answered(*answer):
            emit("answered", {"question": question, "answer": list(answer)})

        emit("question", question, callback=answered)

    @socketio.on("ticks")
    def ticks(count):
        sid = request.sid

        def run():
            for i in range(count):
                socketio.sleep(0.01)
                socketio.emit("tick", i, to=sid)

        socketio.start_background_task(run)

    @socketio.on("kick")
    def kick():
        disconnect()

    @socketio.on("boom")
    def boom():
        raise ValueError("boom")

    @socketio.on_error_default
    def on_error(exc):
        return {"error": type(exc).__name__, "message": str(exc)}

    # -- /chat: a class-based namespace with rooms ---------------------------------------------

    class Chat(Namespace):
        def on_connect(self):
            emit("motd", "welcome to /chat")

        def on_enter(self, room):
            join_room(room)
            self.emit("entered", {"room": room, "user": session.get("user")}, room=room)
            return room

        def on_post(self, data):
            self.emit("post", data, room=data["room"], include_self=False)
            return True

        def on_bytes(self, data):
            return {"len": len(data), "data": data}

    socketio.on_namespace(Chat("/chat"))

    # -- /admin: refuses connections without the right auth ------------------------------------

    @socketio.on("connect", namespace="/admin")
    def admin_connect(auth):
        return bool(auth) and auth.get("secret") == "s3cret"

    @socketio.on("stats", namespace="/admin")
    def admin_stats():
        return {"rooms": sorted(r for r in rooms() if r != request.sid)}

    return app, socketio


def serve(async_mode):
    """Serve on an ephemeral port of 127.0.0.1, printing ``PORT <n>``, until killed."""
    app, _socketio = create_app(async_mode)
    if os.environ.get("EXAMPLE_LIB") == "fastsock":
        from fastsock.engineio import make_server

        server = make_server(app, host="127.0.0.1", port=0, async_mode=async_mode)
    else:
        from werkzeug.serving import make_server

        server = make_server("127.0.0.1", 0, app, threaded=True)
    print("PORT", server.server_port, flush=True)
    server.serve_forever()


if __name__ == "__main__":
    mode = "threading"
    if "--async-mode" in sys.argv:
        mode = sys.argv[sys.argv.index("--async-mode") + 1]
    serve(mode)
