"""The Flask-SocketIO example app (``example_app.py``), unchanged under flask_socketio and
fastsock, driven end to end by Node clients: the official ``socket.io-client`` 4 and fastsock's
own browser client (``fastsock/examples/static/fastsock-client.js``)."""

import os
import subprocess

import pytest

import fastsock.examples

OUR_CLIENT = os.path.join(os.path.dirname(fastsock.examples.__file__), "static",
                          "fastsock-client.js")

CASES = [
    # (server lib, async mode, client, transport)
    ("flask_socketio", "threading", "official", "upgrade"),  # the oracle: the driver is right
    *[("fastsock", mode, "official", transport)
      for mode in ("gevent", "threading") for transport in ("polling", "websocket", "upgrade")],
    *[("fastsock", "gevent", "ours", transport) for transport in ("polling", "websocket",
                                                                  "upgrade")],
    ("fastsock", "threading", "ours", "upgrade"),
]


@pytest.mark.parametrize(("lib", "async_mode", "client", "transport"), CASES,
                         ids=["-".join(case) for case in CASES])
def test_example_app_with_node_client(node_js, example_server, lib, async_mode, client,
                                      transport):
    server = example_server(lib, async_mode)
    command = ["node"]
    if client == "ours":
        command.append("--experimental-websocket")  # Node 20's WebSocket, as in a browser
    command += ["flask_example_client.js", server.url, transport,
                OUR_CLIENT if client == "ours" else "official"]
    result = subprocess.run(command, check=False, cwd=node_js, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "OK server-side disconnect" in result.stdout
