"""Helpers of the Flask-layer tests (imported by name: ``from flask_helpers import ...``)."""

import importlib
import os
import select
import socket
import subprocess
import sys
import time

import flask
import requests


def fastsock_lib():
    """fastsock's Flask-SocketIO compatible names, imported as a user imports them."""
    return importlib.import_module("fastsock")


LIBS = {
    "flask_socketio": lambda: importlib.import_module("flask_socketio"),
    "fastsock": fastsock_lib,
}


def make_app(lib, async_mode="threading", init_later=False, **options):
    """A Flask app with a secret key and a ``SocketIO`` of ``lib`` attached to it."""
    app = flask.Flask(__name__)
    app.config["SECRET_KEY"] = "test secret"
    if init_later:
        return app, lib.SocketIO(async_mode=async_mode, **options)
    return app, lib.SocketIO(app, async_mode=async_mode, **options)


def free_port():
    """A currently free TCP port of 127.0.0.1, for servers that are given a port to listen on
    (``socketio.run()``, the chat example) rather than choosing one themselves."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


HERE = os.path.dirname(os.path.abspath(__file__))
EXAMPLE_APP = os.path.join(HERE, "example_app.py")


class ExampleServer:
    """``example_app.py`` served by ``lib`` in ``async_mode``, in a child process."""

    def __init__(self, lib, async_mode):
        env = dict(os.environ, EXAMPLE_LIB=lib, PYTHONUNBUFFERED="1")
        self.proc = subprocess.Popen(
            [sys.executable, EXAMPLE_APP, "--async-mode", async_mode],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        line = _read_line(self.proc, timeout=20)
        if not line.startswith("PORT "):
            self.close()
            raise RuntimeError(f"example server ({lib}, {async_mode}) did not start: {line!r}")
        self.port = int(line.split()[1])
        self.url = f"http://127.0.0.1:{self.port}"

    def close(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def _read_line(proc, timeout):
    ready, _, _ = select.select([proc.stdout], [], [], timeout)
    if not ready:
        return f"<no output within {timeout}s>"
    line = proc.stdout.readline()
    return line.strip() or f"<exited: {proc.poll()}>"


def start_chat(*args, port=None):
    """``python -m fastsock.examples.chat`` in a child process: ``(proc, url, banner)``."""
    port = port or free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "fastsock.examples.chat", "--port", str(port), *args],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        env=dict(os.environ, PYTHONUNBUFFERED="1"),
    )
    ready, _, _ = select.select([proc.stdout], [], [], 20)
    banner = proc.stdout.readline() if ready else ""
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            requests.get(url + "/", timeout=1)
            return proc, url, banner
        except requests.ConnectionError:
            time.sleep(0.05)
    proc.kill()
    raise RuntimeError("chat example did not start: " + banner + proc.stdout.read())
