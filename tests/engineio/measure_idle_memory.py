"""Measure the memory of idle WebSocket connections held by one gevent server process.

    python tests/engineio/measure_idle_memory.py [connections=5000] [--keep-environ]

Starts an Engine.IO server (gevent, fastsock's pywsgi handler) in a subprocess, opens the
given number of WebSocket connections to it from this process (raw sockets: handshake, then
the OPEN packet is read and the connection left idle), and reports the server's RSS growth per
connection and its greenlet count. ``--keep-environ`` makes the connect handler keep each
connection's WSGI environ, as the Socket.IO layer does. Both processes raise their open-file
limit first. Not a pytest test (it takes a few seconds and 2 × N file descriptors).
"""

from __future__ import annotations

import base64
import json
import os
import resource
import socket
import subprocess
import sys
import time

SERVER = r"""
import gc, json, resource, sys
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
import greenlet
from fastsock import engineio

eio = engineio.Server(async_mode="gevent", ping_interval=25, ping_timeout=20)
inner = engineio.WSGIApp(eio)
environs = {}
if "--keep-environ" in sys.argv:
    eio.on("connect", lambda sid, environ: environs.__setitem__(sid, environ))

def app(environ, start_response):
    if environ["PATH_INFO"] == "/stats":
        gc.collect()
        greenlets = sum(1 for o in gc.get_objects() if isinstance(o, greenlet.greenlet))
        with open("/proc/self/status") as f:
            rss = next(int(line.split()[1]) for line in f if line.startswith("VmRSS"))
        body = json.dumps({"rss_kb": rss, "greenlets": greenlets,
                           "sessions": len(eio.sockets)}).encode()
        start_response("200 OK", [("Content-Type", "application/json")])
        return [body]
    return inner(environ, start_response)

server = engineio.make_server(app, port=0, async_mode="gevent")
print(server.server_port, flush=True)
server.serve_forever()
"""


def _raise_nofile() -> None:
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def _stats(port: int) -> dict:
    with socket.create_connection(("127.0.0.1", port)) as s:
        s.sendall(b"GET /stats HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    return json.loads(data.split(b"\r\n\r\n", 1)[1])


def _open_websocket(port: int) -> socket.socket:
    s = socket.create_connection(("127.0.0.1", port))
    key = base64.b64encode(os.urandom(16)).decode()
    s.sendall(
        f"GET /engine.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: x\r\n"
        f"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
        f"Sec-WebSocket-Version: 13\r\n\r\n".encode()
    )
    data = b""
    # the 101 response and the OPEN packet frame arrive together
    while b'"maxPayload"' not in data:
        chunk = s.recv(4096)
        if not chunk:
            raise RuntimeError("connection refused: " + data.decode(errors="replace"))
        data += chunk
    assert data.startswith(b"HTTP/1.1 101"), data
    return s


def main() -> None:
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    count = int(args[0]) if args else 5000
    flags = [a for a in sys.argv[1:] if a.startswith("--")]
    _raise_nofile()
    server = subprocess.Popen(
        [sys.executable, "-c", SERVER, *flags], stdout=subprocess.PIPE, text=True
    )
    try:
        port = int(server.stdout.readline())
        warm = [_open_websocket(port) for _ in range(50)]  # first-use allocations
        time.sleep(0.5)
        before = _stats(port)
        started = time.monotonic()
        conns = [_open_websocket(port) for _ in range(count)]
        elapsed = time.monotonic() - started
        time.sleep(1.0)
        after = _stats(port)
        per_conn_kb = (after["rss_kb"] - before["rss_kb"]) / count
        print(
            json.dumps(
                {
                    "connections": count,
                    "keep_environ": "--keep-environ" in flags,
                    "sessions": after["sessions"],
                    "rss_before_kb": before["rss_kb"],
                    "rss_after_kb": after["rss_kb"],
                    "rss_per_connection_kb": round(per_conn_kb, 2),
                    "greenlets_per_connection": round(
                        (after["greenlets"] - before["greenlets"]) / count, 3
                    )
                    + 0.0,  # no "-0.0"
                    "connect_seconds": round(elapsed, 2),
                },
                indent=2,
            )
        )
        for s in conns + warm:
            s.close()
    finally:
        server.terminate()
        server.wait(10)


if __name__ == "__main__":
    main()
