"""``SocketIO.run()`` serves in the async mode's server; ``SocketIO.stop()`` ends it."""

import os
import subprocess
import sys
import time

import pytest
import requests
import socketio
from flask_helpers import free_port

SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "serve_and_stop.py")


def start(async_mode):
    port = free_port()
    proc = subprocess.Popen([sys.executable, SCRIPT, async_mode, str(port)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        try:
            requests.get(url + "/socket.io/?EIO=4&transport=polling", timeout=1)
            return proc, url
        except requests.ConnectionError:
            time.sleep(0.05)
    proc.kill()
    raise RuntimeError("server did not start: " + proc.stdout.read())


def stopped(proc):
    try:
        out, _ = proc.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, _ = proc.communicate()
        return False, out
    return "STOPPED" in out and proc.returncode == 0, out


@pytest.mark.parametrize("async_mode", ["gevent", "threading"])
def test_stop_from_http_route(async_mode):
    proc, url = start(async_mode)
    try:
        requests.get(url + "/stop", timeout=5)
    except requests.RequestException:
        pass  # the server may close before answering
    ok, out = stopped(proc)
    assert ok, out


@pytest.mark.parametrize("async_mode", ["gevent", "threading"])
def test_stop_from_socketio_handler(async_mode):
    proc, url = start(async_mode)
    client = socketio.Client(reconnection=False)
    try:
        client.connect(url, transports=["websocket"], wait_timeout=5)
        client.emit("stop")
        ok, out = stopped(proc)
        assert ok, out
    finally:
        client.disconnect()
