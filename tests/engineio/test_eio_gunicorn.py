"""Under gunicorn: ``-k gevent -w 1`` and fastsock's own gevent worker (gevent mode), and
``-k gthread --threads N`` (threading mode), WebSocket included (the socket is taken from
``gunicorn.sock``/``gunicorn.socket``, or from fastsock's handler)."""

from __future__ import annotations

import os
import queue
import re
import shutil
import signal
import subprocess
import sys
import threading
import time

import engineio
import pytest

HERE = os.path.dirname(os.path.abspath(__file__))

WORKERS = {
    "gevent": ["-k", "gevent", "-w", "1"],
    "gevent-fastsock": ["-k", "fastsock.engineio.gunicorn_worker.GeventWebSocketWorker", "-w", "1"],
    "threading": ["-k", "gthread", "-w", "1", "--threads", "4"],
}


@pytest.fixture(scope="module", params=sorted(WORKERS))
def gunicorn_url(request):
    if shutil.which("gunicorn") is None and not os.path.exists(
        os.path.join(os.path.dirname(sys.executable), "gunicorn")
    ):
        pytest.skip("gunicorn is not installed")
    mode = request.param
    env = dict(os.environ, EIO_ASYNC_MODE=mode.split("-")[0])
    cmd = [
        sys.executable,
        "-m",
        "gunicorn",
        *WORKERS[mode],
        "-b",
        "127.0.0.1:0",
        "--chdir",
        HERE,
        "eio_gunicorn_app:app",
    ]
    proc = subprocess.Popen(cmd, env=env, stderr=subprocess.PIPE, text=True)
    lines: queue.Queue = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in proc.stderr], daemon=True).start()
    url = None
    deadline = time.monotonic() + 20
    log = []
    while url is None and time.monotonic() < deadline:
        try:
            line = lines.get(timeout=0.5)
        except queue.Empty:
            continue
        log.append(line)
        match = re.search(r"Listening at: (http://127\.0\.0\.1:\d+)", line)
        if match:
            url = match.group(1)
    booted = time.monotonic() + 10
    while url and time.monotonic() < booted and not any("Booting worker" in x for x in log):
        try:
            log.append(lines.get(timeout=0.5))
        except queue.Empty:
            pass
    try:
        assert url, "gunicorn did not start:\n" + "".join(log)
        yield url
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.mark.parametrize("transports", [["websocket"], ["polling", "websocket"]])
def test_gunicorn(gunicorn_url, transports):
    received: queue.Queue = queue.Queue()
    reasons: list = []
    client = engineio.Client()
    client.on("message", received.put)
    client.on("disconnect", lambda reason=None: reasons.append(reason))
    client.connect(gunicorn_url, transports=transports)
    client.send("hi")
    client.send(b"\x00\x01")
    assert received.get(timeout=5) == "hi"
    assert received.get(timeout=5) == b"\x00\x01"
    if "websocket" in transports:
        deadline = time.monotonic() + 5
        while client.transport() != "websocket" and time.monotonic() < deadline:
            time.sleep(0.02)
        assert client.transport() == "websocket"
    time.sleep(0.35)  # through a heartbeat
    client.send("again")
    assert received.get(timeout=5) == "again"
    client.send("__close__")
    deadline = time.monotonic() + 5
    while not reasons and time.monotonic() < deadline:
        time.sleep(0.02)
    assert reasons == [engineio.Client.reason.SERVER_DISCONNECT]
