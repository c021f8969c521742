"""Scenarios of the Engine.IO v4 protocol document and its reference test suite
(github.com/socketio/engine.io-protocol), written against raw HTTP and WebSocket."""

from __future__ import annotations

import threading
import time

import pytest
from eio_helpers import RawWebSocket, eio_path, http_request, polling_handshake

from fastsock._kernels import ws


def _poll(port, sid, method="GET", body=b""):
    return http_request(port, method, eio_path(f"EIO=4&transport=polling&sid={sid}"), body=body)


@pytest.mark.parametrize("query", ["EIO=4", "EIO=abc&transport=polling", "EIO=4&transport=abc"])
def test_mandatory_query_parameters(harness, query):
    assert http_request(harness.port, "GET", eio_path(query))[0] == 400


@pytest.mark.parametrize("query", ["EIO=4", "transport=websocket", "EIO=4&transport=abc"])
def test_mandatory_query_parameters_on_websocket(harness, query):
    conn = RawWebSocket(harness.port, query=query)
    assert conn.status == 400
    conn.close()


@pytest.mark.parametrize("method", ["POST", "PUT"])
def test_handshake_with_other_methods(harness, method):
    status, _, _ = http_request(
        harness.port, method, eio_path("EIO=4&transport=polling"), body=b"x"
    )
    assert status == 400


def test_websocket_ping_from_client_gets_pong(harness):
    conn = RawWebSocket(harness.port)
    assert conn.recv()[1].startswith("0")
    for _ in range(3):
        conn.send_text("2")
        assert conn.recv_text(skip_pings=False) == "3"
    conn.close()


def test_websocket_close_packet_closes(harness):
    conn = RawWebSocket(harness.port)
    sid = conn.recv()[1]
    conn.send_text("1")
    assert conn.recv_close() == 1000
    assert harness.wait_event("disconnect")[2] == "client disconnect"
    assert sid


def test_forceful_close_releases_pending_poll(harness):
    sid, _ = polling_handshake(harness.port)
    pending: list = []
    thread = threading.Thread(target=lambda: pending.append(_poll(harness.port, sid)))
    thread.start()
    time.sleep(0.1)
    assert _poll(harness.port, sid, "POST", b"1")[0] == 200
    thread.join(5)
    assert pending[0][0] == 200 and pending[0][2] == b"6"
    assert _poll(harness.port, sid)[0] == 400


def test_polling_ping_timeout_then_post_refused(make_harness):
    harness = make_harness(ping_interval=0.2, ping_timeout=0.2)
    sid, _ = polling_handshake(harness.port)
    time.sleep(0.6)
    assert _poll(harness.port, sid, "POST", b"2")[0] == 400


def test_upgrade_without_pending_poll(harness):
    """The NOOP that releases the poll goes over the WebSocket when no GET took it; HTTP and a
    second WebSocket for the upgraded session are refused, the first one keeps working."""
    sid, _ = polling_handshake(harness.port)
    conn = RawWebSocket(harness.port, query=f"EIO=4&transport=websocket&sid={sid}")
    conn.send_text("2probe")
    assert conn.recv_text() == "3probe"
    conn.send_text("5")
    assert conn.recv_text() == "6"
    assert _poll(harness.port, sid)[0] == 400
    second = RawWebSocket(harness.port, query=f"EIO=4&transport=websocket&sid={sid}")
    assert second.status == 400
    second.close()
    conn.send_text("4hello")
    assert conn.recv_text() == "4hello"
    conn.close()


def test_upgrade_answers_later_polls_with_noop(make_harness):
    """Polls sent after the first NOOP was taken are answered with a NOOP within ~100 ms, not
    at the next ping, so a client can always pause polling and send UPGRADE."""
    harness = make_harness(ping_interval=5, ping_timeout=5)
    sid, _ = polling_handshake(harness.port)
    conn = RawWebSocket(harness.port, query=f"EIO=4&transport=websocket&sid={sid}")
    conn.send_text("2probe")
    assert conn.recv_text() == "3probe"
    for _ in range(3):
        started = time.monotonic()
        status, _, body = _poll(harness.port, sid)
        assert (status, body) == (200, b"6")
        assert time.monotonic() - started < 2  # the next ping is 5 s away
    conn.send_text("5")
    conn.send_text("4hello")
    assert conn.recv_text() == "4hello"
    conn.close()


def test_binary_frame_echo(harness):
    conn = RawWebSocket(harness.port)
    conn.recv()
    conn.send_frame(ws.BINARY, bytes([1, 2, 3, 4]))
    assert conn.recv() == (ws.BINARY, bytes([1, 2, 3, 4]))
    conn.close()
