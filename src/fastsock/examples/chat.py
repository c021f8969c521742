"""A chat with rooms and a server-side ticker: ``python -m fastsock.examples.chat``.

Serves http://127.0.0.1:5000 (``--host``/``--port`` to change) with gevent when it is installed
and threading otherwise. The page and its Socket.IO client script are files of this package, so
it works without network access.
"""

from __future__ import annotations

import argparse
import itertools
import os
import time
from typing import Any

from flask import Flask, request, send_from_directory, session

from fastsock import SocketIO, emit, join_room, leave_room, rooms

STATIC_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "static")
#: rooms offered by the page; clients may create others
DEFAULT_ROOMS = ("lobby", "python", "random")
TICK_SECONDS = 1.0


def create_app(async_mode: str | None = None, tick_seconds: float = TICK_SECONDS,
               **options: Any) -> tuple[Flask, SocketIO]:
    """The chat's Flask app and its ``SocketIO``, with the ticker task started."""
    app = Flask(__name__, static_folder=STATIC_DIR, static_url_path="/static")
    app.config["SECRET_KEY"] = os.environ.get("FASTSOCK_CHAT_SECRET", os.urandom(16).hex())
    socketio = SocketIO(app, async_mode=async_mode, **options)
    users: dict[str, str] = {}  # sid -> name
    guest_numbers = itertools.count(1)
    stats = {"messages": 0, "started": time.time()}

    @app.route("/")
    def index() -> Any:
        return send_from_directory(STATIC_DIR, "chat.html")

    def members(room: str) -> int:
        return sum(1 for _ in socketio.server.manager.get_participants("/", room))

    def status(room: str, text: str) -> None:
        emit("status", {"room": room, "text": text}, to=room)

    @socketio.on("connect")
    def on_connect(auth: Any) -> None:
        name = str((auth or {}).get("name") or "").strip()[:32] or f"guest-{next(guest_numbers)}"
        session["name"] = name
        users[request.sid] = name
        join_room("lobby")
        emit("welcome", {"sid": request.sid, "name": name, "rooms": list(DEFAULT_ROOMS)})
        status("lobby", f"{name} joined lobby")

    @socketio.on("join")
    def on_join(data: dict) -> dict:
        room = str(data.get("room") or "").strip()[:32]
        if not room or room == request.sid:
            return {"ok": False, "error": "bad room name"}
        join_room(room)
        status(room, f"{session['name']} joined {room}")
        return {"ok": True, "room": room, "members": members(room)}

    @socketio.on("leave")
    def on_leave(data: dict) -> dict:
        room = str(data.get("room") or "")
        if room not in rooms() or room == request.sid:
            return {"ok": False, "error": "not in that room"}
        status(room, f"{session['name']} left {room}")
        leave_room(room)
        return {"ok": True, "room": room}

    @socketio.on("chat")
    def on_chat(data: dict) -> dict:
        room = str(data.get("room") or "lobby")
        text = str(data.get("text") or "")[:2000]
        if room not in rooms():
            return {"ok": False, "error": "join the room first"}
        stats["messages"] += 1
        emit("chat", {"room": room, "name": session["name"], "text": text,
                      "ts": round(time.time(), 3)}, to=room)
        return {"ok": True}

    @socketio.on("rename")
    def on_rename(name: str) -> dict:
        old, new = session["name"], str(name).strip()[:32]
        if not new:
            return {"ok": False, "error": "empty name"}
        session["name"] = users[request.sid] = new
        for room in rooms():
            if room != request.sid:
                status(room, f"{old} is now {new}")
        return {"ok": True, "name": new}

    @socketio.on("disconnect")
    def on_disconnect(reason: str) -> None:
        name = users.pop(request.sid, "someone")
        for room in rooms():
            if room != request.sid:
                emit("status", {"room": room, "text": f"{name} left ({reason})"}, to=room,
                     include_self=False)

    def ticker() -> None:
        # a server-side broadcast, independent of any client event
        while True:
            socketio.sleep(tick_seconds)
            socketio.emit("tick", {
                "time": time.strftime("%H:%M:%S"),
                "clients": len(users),
                "messages": stats["messages"],
                "uptime": int(time.time() - stats["started"]),
            })

    socketio.start_background_task(ticker)
    return app, socketio


def main(argv: list[str] | None = None) -> None:
    """Run the chat until interrupted."""
    parser = argparse.ArgumentParser(prog="python -m fastsock.examples.chat",
                                     description="fastsock chat example")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5000)
    parser.add_argument("--async-mode", choices=("gevent", "threading"), default=None,
                        help="default: gevent when installed, threading otherwise")
    args = parser.parse_args(argv)
    app, socketio = create_app(async_mode=args.async_mode)
    print(f" * fastsock chat on http://{args.host}:{args.port}/ "
          f"(async_mode={socketio.async_mode}); Ctrl+C to stop", flush=True)
    try:
        socketio.run(app, host=args.host, port=args.port, allow_unsafe_werkzeug=True)
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
