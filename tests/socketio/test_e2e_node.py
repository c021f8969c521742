"""End to end with the JavaScript ``socket.io-client`` 4.x (Node) over real loopback sockets.

``tests/js/sio_scenario.js`` runs the steps (auth refusal, namespaces, acks both ways, binary both
ways, rooms with skip_sid, server-side disconnect, and optionally reconnecting after the test
restarts the server) against ``e2e_app.py`` served under gevent or threading.
"""

from __future__ import annotations

import os
import subprocess

import pytest
from sio_helpers import ServerProcess

STEPS = [
    "refused",
    "connect",
    "ack",
    "binary",
    "server-ack",
    "namespace",
    "info",
    "rooms",
    "server-disconnect",
]


def run_scenario(node_js, server, transport, restart=False, timeout=30):
    args = ["node", os.path.join(node_js, "sio_scenario.js"), server.url, transport]
    if restart:
        args.append("restart")
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines = []
    try:
        for line in proc.stdout:
            line = line.rstrip("\n")
            lines.append(line)
            if line == "RESTART":
                server.restart()
        proc.wait(timeout=timeout)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    output = "\n".join(lines)
    assert proc.returncode == 0 and lines[-1:] == ["DONE"], output
    return [line[3:] for line in lines if line.startswith("OK ")]


@pytest.mark.parametrize("transport", ["polling", "websocket", "upgrade"])
def test_node_client(node_js, e2e_server, transport):
    steps = run_scenario(node_js, e2e_server, transport)
    expected = list(STEPS)
    if transport == "upgrade":
        expected.insert(expected.index("info"), "upgrade")
    assert steps == expected


@pytest.mark.parametrize(
    ("async_mode", "transport"), [("gevent", "upgrade"), ("threading", "websocket")]
)
def test_node_client_reconnects_after_server_restart(node_js, async_mode, transport):
    if async_mode == "gevent":
        pytest.importorskip("gevent")
    server = ServerProcess(async_mode)
    try:
        steps = run_scenario(node_js, server, transport, restart=True)
    finally:
        server.stop()
    assert steps[-1] == "restart"
