"""Measure the server CPU per delivery of the Engine.IO fan-out path (prepare + send_prepared).

    python tests/engineio/measure_fanout.py [clients=1000] [messages=200] [per_iteration=1]

A gevent Engine.IO server (subprocess, pinned to CPU 0 when possible) holds ``clients``
WebSocket connections opened by this process (pinned to CPU 1), which reads them all with one
``selectors`` loop. The server encodes each ~100-byte message once (``Server.prepare``) and
appends the shared frame to every connection (``Socket.send_prepared``), yielding to the hub
after every ``per_iteration`` messages: the hub then flushes each dirty connection with one
``send()`` holding all its frames of that iteration (corking). Reported: server
process CPU per delivery, deliveries per second of server CPU, and the reader's CPU share.
This is the Engine.IO layer alone: no Socket.IO encoding, no room bookkeeping.
"""

from __future__ import annotations

import json
import os
import selectors
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from measure_idle_memory import _open_websocket, _raise_nofile

SERVER = r"""
import json, os, resource, sys, time
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
import gevent
from fastsock import engineio

eio = engineio.Server(async_mode="gevent", ping_interval=1000, ping_timeout=1000)
inner = engineio.WSGIApp(eio)

def app(environ, start_response):
    if environ["PATH_INFO"] == "/blast":
        count, per_iteration = map(int, environ["QUERY_STRING"].split(","))
        socks = [eio.get_socket(sid) for sid in list(eio.sockets)]
        payload = "x" * 90
        cpu = time.process_time()
        for i in range(count):
            prepared = eio.prepare(f"{i:08d}{payload}")
            for sock in socks:
                sock.send_prepared(prepared)
            if (i + 1) % per_iteration == 0:
                gevent.sleep(0)  # one loop iteration: the hub flushes every dirty connection
        gevent.sleep(0)
        cpu = time.process_time() - cpu
        body = json.dumps({"cpu": cpu, "deliveries": count * len(socks)}).encode()
        start_response("200 OK", [("Content-Type", "application/json")])
        return [body]
    return inner(environ, start_response)

server = engineio.make_server(app, port=0, async_mode="gevent")
print(server.server_port, flush=True)
server.serve_forever()
"""


def main() -> None:
    args = [int(a) for a in sys.argv[1:]]
    clients = args[0] if args else 1000
    messages = args[1] if len(args) > 1 else 200
    per_iteration = args[2] if len(args) > 2 else 1
    _raise_nofile()
    cmd = [sys.executable, "-c", SERVER]
    if hasattr(os, "sched_setaffinity") and os.cpu_count() and os.cpu_count() > 1:
        cmd = ["taskset", "-c", "0", *cmd]
        os.sched_setaffinity(0, {1})
    server = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    try:
        port = int(server.stdout.readline())
        conns = [_open_websocket(port) for _ in range(clients)]
        selector = selectors.DefaultSelector()
        for conn in conns:
            conn.setblocking(False)
            selector.register(conn, selectors.EVENT_READ)
        frame_size = 2 + 1 + 8 + 90  # header, "4", counter, payload
        expected = clients * messages * frame_size
        blast = socket.create_connection(("127.0.0.1", port))
        blast.sendall(f"GET /blast?{messages},{per_iteration} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        received = 0
        cpu0, wall0 = time.process_time(), time.monotonic()
        while received < expected and time.monotonic() - wall0 < 60:
            for key, _ in selector.select(1.0):
                try:
                    received += len(key.fileobj.recv(1 << 20))
                except BlockingIOError:
                    pass
        wall = time.monotonic() - wall0
        reader_cpu = time.process_time() - cpu0
        reply = b""
        while b"}" not in reply:
            reply += blast.recv(4096)
        result = json.loads(reply.split(b"\r\n\r\n", 1)[1])
        print(
            json.dumps(
                {
                    "clients": clients,
                    "messages": messages,
                    "messages_per_loop_iteration": per_iteration,
                    "deliveries": result["deliveries"],
                    "bytes_received": received,
                    "bytes_expected": expected,
                    "server_cpu_us_per_delivery": round(
                        result["cpu"] / result["deliveries"] * 1e6, 3
                    ),
                    "deliveries_per_server_cpu_second": round(result["deliveries"] / result["cpu"]),
                    "wall_seconds": round(wall, 3),
                    "reader_cpu_share": round(reader_cpu / wall, 2),
                },
                indent=2,
            )
        )
    finally:
        server.terminate()
        server.wait(10)


if __name__ == "__main__":
    main()
