"""Node's engine.io-client 6.x (npm) against our server, under gevent and threading."""

from __future__ import annotations

import os
import subprocess

import pytest


@pytest.mark.parametrize("mode", ["polling", "websocket", "upgrade"])
def test_node_engineio_client(make_harness, node_js, mode):
    harness = make_harness(ping_interval=0.2, ping_timeout=0.5)
    proc = subprocess.run(
        ["node", os.path.join(node_js, "eio_client.js"), harness.url, mode, "700"],
        check=False,
        capture_output=True,
        text=True,
        timeout=30,
        cwd=node_js,
    )
    out = proc.stdout
    assert proc.returncode == 0 and "DONE" in out, out + proc.stderr
    assert f"OK open {'websocket' if mode == 'websocket' else 'polling'}" in out
    # the client saw the server close the session (engine.io-client's own wording)
    assert "OK server close" in out
    sid = harness.wait_event("connect")[1]
    messages = []
    while True:
        event = harness.wait_event("message", sid=sid)
        messages.append(event[2])
        if event[2] == "__close__":
            break
    assert messages == ["héllo ✓", b"\x00\x01\x02\xff", "after heartbeats", "__close__"]
    assert harness.wait_event("disconnect", sid=sid)[2] == "server disconnect"
