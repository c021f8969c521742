"""The benchmark server: one Flask app, served by Flask-SocketIO or by fastsock.

Only the import differs between the two (``--impl``); everything else is the code a user would
write. Run by ``benches/e2e/run.py`` pinned to one core::

    taskset -c 0 python benches/e2e/app.py --impl flask_socketio --async-mode gevent --port 0

Events (the load generator drives them over a control connection; every ``bench_*`` event
returns its answer as the ack):

- ``join(room)``: join the room; the ack tells the client it is a member.
- ``fan(data)``: fan the message out to the room with ``emit('f', data, to=room)``.
- ``bench_start(cfg)``: start the broadcast loop, ``emit('b', [seq, ts, pad], to=room)``, at
  full speed (``socketio.sleep(0)`` after every ``cfg['burst']`` broadcasts) or at a fixed
  ``cfg['rate']`` of broadcasts per second (``ts`` is then the scheduled time, so a late server
  cannot hide its delay). With ``cfg['window']`` the loop also waits while more than that many
  broadcasts are beyond the last ``bench_credit``: the load generator reports every few ms the
  sequence number every client has seen, so a server that outruns the load generator waits
  (and its core is then not saturated, which flags the figure) instead of piling up backlog
  until its slow-reader limit cuts clients off.
- ``bench_credit(seq)``: every client has seen broadcast ``seq`` (no ack).
- ``bench_stop()``: stop the loop; returns the last sequence number sent.
- ``bench_stats()``: server-side counters; also served as JSON at ``GET /stats``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import time

ROOM = "bench"


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description="fastsock / Flask-SocketIO benchmark server")
    p.add_argument("--impl", choices=("flask_socketio", "fastsock"), default="flask_socketio")
    p.add_argument("--async-mode", choices=("gevent", "threading"), default="gevent")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0, help="0 (default) picks a free port")
    p.add_argument("--option", action="append", default=[], metavar="KEY=VALUE",
                   help="extra SocketIO() keyword argument (VALUE as JSON, else a string)")
    return p.parse_args(argv)


def parse_options(pairs) -> dict:
    """``["a=1", "b=x"]`` -> ``{"a": 1, "b": "x"}``: values are JSON when they parse as JSON."""
    options = {}
    for pair in pairs:
        key, _, value = pair.partition("=")
        try:
            options[key] = json.loads(value)
        except ValueError:
            options[key] = value
    return options


def import_impl(impl: str):
    """The ``(SocketIO, emit, join_room)`` of ``impl``: the only line that differs."""
    if impl == "flask_socketio":
        from flask_socketio import SocketIO, emit, join_room
    else:
        from fastsock import SocketIO, emit, join_room
    return SocketIO, emit, join_room


def create_app(impl: str, async_mode: str, options: dict | None = None):
    """Build the Flask app and its SocketIO; returns ``(app, socketio)``."""
    from flask import Flask, jsonify

    SocketIO, emit, join_room = import_impl(impl)
    app = Flask(__name__)
    socketio = SocketIO(app, async_mode=async_mode, logger=False, engineio_logger=False,
                        **(options or {}))
    compiled = None
    if impl == "fastsock":
        import fastsock

        compiled = fastsock.COMPILED
    state = {"connected": 0, "joined": 0, "fanouts": 0, "seq": 0, "gen": 0, "task": None,
             "broadcasting": False, "credit": 0, "credit_waits": 0}
    # handlers run concurrently in threading mode: the counters the load generator checks
    # against its own must not lose increments (a gevent lock once monkey-patched)
    lock = threading.Lock()

    def count(key: str, delta: int = 1) -> int:
        with lock:
            state[key] += delta
            return state[key]

    def stats() -> dict:
        return {"impl": impl, "async_mode": async_mode, "pid": os.getpid(), "compiled": compiled,
                "options": options or {},
                "connected": state["connected"], "joined": state["joined"],
                "fanouts": state["fanouts"], "seq": state["seq"],
                "broadcasting": state["broadcasting"], "credit_waits": state["credit_waits"]}

    def broadcast_loop(cfg: dict, gen: int) -> None:
        burst = int(cfg.get("burst", 1))
        rate = cfg.get("rate")
        pad = "x" * max(1, int(cfg.get("size", 100)) - 40)
        window = int(cfg.get("window") or 0)
        deadline = time.monotonic() + float(cfg.get("max_seconds", 300))
        t0 = time.monotonic()
        k = 0
        state["broadcasting"] = True
        try:
            while state["gen"] == gen:
                now = time.monotonic()
                if now > deadline:
                    break
                if rate:
                    ts = t0 + k / rate
                    if ts > now:
                        socketio.sleep(ts - now)
                        if state["gen"] != gen:
                            break
                else:
                    ts = now
                if window and state["seq"] - state["credit"] >= window:
                    state["credit_waits"] += 1
                    socketio.sleep(0.0005)  # the load generator is behind: wait for its credit
                    continue
                ts = round(ts, 6)
                for _ in range(burst):
                    state["seq"] += 1
                    socketio.emit("b", [state["seq"], ts, pad], to=ROOM)
                k += 1
                if not rate or ts <= now:
                    socketio.sleep(0)  # let the writers run, as any real broadcasting loop must
        finally:
            state["broadcasting"] = False

    def stop_loop() -> None:
        state["gen"] += 1
        task, state["task"] = state["task"], None
        if task is not None:
            task.join()

    @app.route("/stats")
    def http_stats():
        return jsonify(stats())

    @socketio.on("connect")
    def on_connect(auth=None):
        count("connected")

    @socketio.on("disconnect")
    def on_disconnect(reason=None):
        count("connected", -1)

    @socketio.on("join")
    def on_join(room=ROOM):
        join_room(room)
        return count("joined")

    @socketio.on("fan")
    def on_fan(data):
        count("fanouts")
        emit("f", data, to=ROOM)

    @socketio.on("bench_credit")
    def on_bench_credit(seq):
        state["credit"] = max(state["credit"], int(seq))

    @socketio.on("bench_start")
    def on_bench_start(cfg):
        stop_loop()
        state["seq"] = state["credit"] = state["credit_waits"] = 0
        state["task"] = socketio.start_background_task(broadcast_loop, cfg, state["gen"])
        return {"ok": True}

    @socketio.on("bench_stop")
    def on_bench_stop():
        stop_loop()
        return {"seq": state["seq"]}

    @socketio.on("bench_stats")
    def on_bench_stats():
        return stats()

    return app, socketio


def main(argv=None) -> None:
    args = parse_args(argv)
    if args.async_mode == "gevent":
        from gevent import monkey

        monkey.patch_all()
    app, socketio = create_app(args.impl, args.async_mode, parse_options(args.option))
    print(f"bench server {args.impl}/{args.async_mode} pid {os.getpid()}", file=sys.stderr,
          flush=True)
    socketio.run(app, host=args.host, port=args.port, log_output=False,
                 allow_unsafe_werkzeug=True)


if __name__ == "__main__":
    main()
