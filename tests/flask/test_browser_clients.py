"""The Flask-SocketIO example app (``example_app.py``) and the chat example's own page, driven
from a real browser.

Headless Chromium (through playwright-core from npm) runs the same steps as the Node clients
(``tests/js/example_steps.js``) in a page of the server's own origin, so the browser's own
XMLHttpRequest, fetch and WebSocket carry the traffic: its handshake headers (it always offers
permessage-deflate), its cookies, its binary types. The official ``socket.io-client`` 4 browser
bundle and fastsock's own ``fastsock-client.js`` both run.

Chromium is found as ``$CHROMIUM``, ``chromium``, ``chromium-browser`` or ``google-chrome``.
Without one the tests skip with the reason, except in CI (``CI`` set), where they fail:
``apt-get install chromium`` provides it (``.ci/run`` does so).
"""

import os
import shutil
import subprocess

import pytest
from flask_helpers import start_chat

import fastsock.examples

OUR_CLIENT = os.path.join(os.path.dirname(fastsock.examples.__file__), "static",
                          "fastsock-client.js")

CASES = [
    # (server lib, async mode, client, transport)
    ("flask_socketio", "threading", "official", "upgrade"),  # the oracle: the driver is right
    *[("fastsock", "gevent", "official", transport) for transport in ("polling", "websocket",
                                                                      "upgrade")],
    ("fastsock", "threading", "official", "upgrade"),
    ("fastsock", "gevent", "ours", "upgrade"),
    ("fastsock", "threading", "ours", "websocket"),
]


def _find_chromium():
    for name in (os.environ.get("CHROMIUM"), "chromium", "chromium-browser", "google-chrome"):
        path = name and shutil.which(name)
        if path:
            return path
    return None


@pytest.fixture(scope="module")
def chromium(node_js):
    """Path of a Chromium executable, with playwright-core installed in ``tests/js``."""
    path = _find_chromium()
    if path is None:
        if os.environ.get("CI"):
            pytest.fail("Chromium is required for the browser tests (apt-get install chromium)")
        pytest.skip("Chromium not installed: browser tests skipped (apt-get install chromium)")
    if not os.path.isdir(os.path.join(node_js, "node_modules", "playwright-core")):
        subprocess.run(["npm", "install", "--no-audit", "--no-fund"], cwd=node_js, check=True,
                       capture_output=True)
    return path


@pytest.mark.parametrize(("lib", "async_mode", "client", "transport"), CASES,
                         ids=["-".join(case) for case in CASES])
def test_example_app_in_a_browser(node_js, chromium, example_server, lib, async_mode, client,
                                  transport):
    server = example_server(lib, async_mode)
    command = ["node", "browser_example_client.js", server.url, transport,
               OUR_CLIENT if client == "ours" else "official", chromium]
    result = subprocess.run(command, check=False, cwd=node_js, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "OK server-side disconnect" in result.stdout
    assert "page error" not in result.stdout, result.stdout


@pytest.mark.parametrize("async_mode", ["gevent", "threading"])
def test_chat_example_page_in_two_browser_windows(node_js, chromium, async_mode):
    """``python -m fastsock.examples.chat``: its page, used through its forms in two windows."""
    proc, url, _ = start_chat("--async-mode", async_mode)
    try:
        result = subprocess.run(["node", "browser_chat.js", url, chromium], check=False,
                                cwd=node_js, capture_output=True, text=True, timeout=120)
    finally:
        proc.terminate()
        proc.wait(5)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "OK the server's ticker reaches the page" in result.stdout
