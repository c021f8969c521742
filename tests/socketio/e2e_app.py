"""The Socket.IO application the end-to-end tests talk to with real clients.

``build(async_mode)`` returns ``(server, wsgi_app, log)``; ``log`` records what the handlers saw
(auth, disconnect reasons); clients read it with the ``log`` event. Everything the server does
to clients is done from handlers, in the server's own threads or greenlets.

Run as a script (``python e2e_app.py <async_mode> <port> [option=value ...]``) it serves the app on 127.0.0.1
(monkey-patched under gevent, as deployed), prints the bound port and serves until killed.
"""

from __future__ import annotations

import json

from fastsock.socketio import ConnectionRefusedError, Namespace, Server, WSGIApp

SECRET = {"token": "secret"}


class Chat(Namespace):
    """The '/chat' namespace, class-based."""

    def __init__(self, log: dict) -> None:
        super().__init__("/chat")
        self.log = log

    def on_connect(self, sid, environ, auth):
        self.log.setdefault("chat_auth", []).append(auth)

    def on_msg(self, sid, text):
        return f"chat:{text}"

    def on_disconnect(self, sid, reason):
        self.log.setdefault("chat_disconnects", []).append(reason)


def build(async_mode: str, **options):
    log: dict = {}
    sio = Server(async_mode=async_mode, **options)

    @sio.on("connect")
    def connect(sid, environ, auth):
        if auth != SECRET:
            raise ConnectionRefusedError("unauthorized", {"code": 401})
        log.setdefault("auth", []).append(auth)
        sio.save_session(sid, {"query": environ.get("QUERY_STRING", "")})

    @sio.event
    def add(sid, a, b):
        return a + b

    @sio.event
    def echo(sid, *args):
        return args

    @sio.event
    def binary_me(sid):
        sio.emit("bin", {"data": b"\x00\x01\xff", "list": [b"a", "b"]}, to=sid)

    @sio.event
    def join(sid, room):
        sio.enter_room(sid, room)
        return sorted(str(r) for r in sio.rooms(sid))

    @sio.event
    def shout(sid, room, text):
        sio.emit("shout", text, to=room, skip_sid=sid)
        return "sent"

    @sio.event
    def ask(sid, n):
        # server -> client event with an ack, waited for inside a handler
        return sio.call("question", n, to=sid, timeout=5) + 1

    @sio.event
    def info(sid):
        return {"transport": sio.transport(sid), "session": sio.get_session(sid)}

    @sio.event
    def slow(sid, seconds):
        sio.sleep(seconds)
        return "slow"

    @sio.event
    def kick(sid):
        sio.disconnect(sid)

    @sio.event
    def fail(sid):
        raise RuntimeError("handler failure (expected by the test)")

    @sio.on("log")
    def get_log(sid):
        return log

    @sio.on("disconnect")
    def disconnect(sid, reason):
        log.setdefault("disconnects", []).append(reason)

    sio.register_namespace(Chat(log))
    return sio, WSGIApp(sio), log


def main(argv: list[str]) -> None:
    async_mode, port = argv[0], int(argv[1])
    # e.g. serializer=msgpack async_handlers=false (values are JSON, or plain strings)
    options = {}
    for arg in argv[2:]:
        name, value = arg.split("=", 1)
        try:
            options[name] = json.loads(value)
        except ValueError:
            options[name] = value
    from fastsock.engineio import make_server

    _, app, _ = build(async_mode, **options)
    server = make_server(app, host="127.0.0.1", port=port, async_mode=async_mode)
    print(server.server_port, flush=True)
    server.serve_forever()


if __name__ == "__main__":
    import sys

    if sys.argv[1] == "gevent":
        from gevent import monkey

        monkey.patch_all()
    main(sys.argv[1:])
