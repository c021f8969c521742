"""The main job: ``python -m fastsock.examples.chat`` serves a working chat.

The example runs in a child process exactly as a user starts it (on a free port instead of 5000),
the page and its client script are served from the package, and two Node clients (the official
``socket.io-client`` and fastsock's own browser client) chat through it.
"""

import os
import subprocess
import time

import pytest
import requests
import socketio
from flask_helpers import start_chat

import fastsock.examples

OUR_CLIENT = os.path.join(os.path.dirname(fastsock.examples.__file__), "static",
                          "fastsock-client.js")


@pytest.fixture(scope="module", params=["default", "threading"])
def chat(request):
    args = [] if request.param == "default" else ["--async-mode", request.param]
    proc, url, banner = start_chat(*args)
    yield url, banner, request.param
    proc.terminate()
    proc.wait(5)


def test_serves_page_and_client_script(chat):
    url, banner, mode = chat
    assert banner.startswith(" * fastsock chat on http://127.0.0.1:")
    expected_mode = "gevent" if mode == "default" else mode  # gevent is installed here
    assert f"async_mode={expected_mode}" in banner
    page = requests.get(url + "/", timeout=5)
    assert page.status_code == 200 and '<script src="/static/fastsock-client.js">' in page.text
    assert "cdn" not in page.text.lower() and "https://" not in page.text
    script = requests.get(url + "/static/fastsock-client.js", timeout=5)
    assert script.status_code == 200 and "Socket.IO v5" in script.text


@pytest.mark.parametrize("client", ["official", "ours"])
def test_two_clients_chat(node_js, chat, client):
    url, _, _ = chat
    command = ["node"]
    if client == "ours":
        command.append("--experimental-websocket")
    command += ["flask_chat.js", url, OUR_CLIENT if client == "ours" else "official"]
    result = subprocess.run(command, check=False, cwd=node_js, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr


def test_python_client_reconnects_after_server_restart():
    proc, url, _ = start_chat()
    welcomes = []
    client = socketio.Client(reconnection_delay=0.1, reconnection_delay_max=0.5)
    client.on("welcome", lambda data: welcomes.append(data["name"]))
    try:
        client.connect(url, auth={"name": "phoenix"}, wait_timeout=5)
        deadline = time.monotonic() + 5
        while not welcomes and time.monotonic() < deadline:
            time.sleep(0.02)
        proc.terminate()
        proc.wait(5)
        proc, _, _ = start_chat(port=int(url.rsplit(":", 1)[1]))
        deadline = time.monotonic() + 15
        # "welcome" comes from the connect handler, just before the connection is accepted
        while not (len(welcomes) == 2 and client.connected) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert welcomes == ["phoenix", "phoenix"]
        assert client.connected
    finally:
        client.disconnect()
        proc.terminate()
        proc.wait(5)


def test_page_script_is_valid_javascript(node_js, tmp_path):
    with open(os.path.join(os.path.dirname(OUR_CLIENT), "chat.html"), encoding="utf-8") as f:
        page = f.read()
    inline = page.split('<script src="/static/fastsock-client.js"></script>')[1]
    inline = inline.split("<script>", 1)[1].split("</script>", 1)[0]
    script = tmp_path / "page.js"
    script.write_text(inline, encoding="utf-8")
    for path in (str(script), OUR_CLIENT):
        result = subprocess.run(["node", "--check", path], check=False, capture_output=True,
                                text=True, timeout=30)
        assert result.returncode == 0, result.stderr
