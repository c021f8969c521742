"""The WebSocket transport over raw frames: handshake, upgrade, control frames, error paths,
heartbeat timeouts and slow readers."""

from __future__ import annotations

import base64
import hashlib
import json
import socket
import threading
import time

import pytest
from eio_helpers import RawWebSocket, eio_path, http_request, polling_handshake

from fastsock._kernels import ws


def _open(port, **kw):
    conn = RawWebSocket(port, **kw)
    assert conn.status == 101, conn.status_line
    opcode, payload = conn.recv()
    assert opcode == ws.TEXT and payload.startswith("0")
    return conn, json.loads(payload[1:])


def test_direct_handshake(harness):
    conn, data = _open(harness.port)
    expected = base64.b64encode(
        hashlib.sha1((conn.key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode()).digest()
    ).decode()
    assert conn.headers["sec-websocket-accept"] == expected
    assert "sec-websocket-extensions" not in conn.headers  # no permessage-deflate
    assert data["upgrades"] == [] and data["sid"] == harness.wait_event("connect")[1]
    conn.send_text("4hi")
    assert conn.recv_text() == "4hi"
    conn.send_frame(ws.BINARY, b"\x00\x01")
    assert conn.recv() == (ws.BINARY, b"\x00\x01")
    conn.close()
    assert harness.wait_event("disconnect")[2] == "transport close"


def test_fragmented_message_and_ping_frame(harness):
    conn, _ = _open(harness.port)
    conn.send_frame(ws.TEXT, "4frag", fin=False)
    conn.send_frame(ws.PING, b"are you there")  # control frames may interleave fragments
    conn.send_frame(ws.CONTINUATION, "mented ✓", fin=True)
    assert conn.recv() == (ws.PONG, b"are you there")
    assert conn.recv_text() == "4fragmented ✓"
    conn.close()


def test_client_close_frame_is_answered(harness):
    conn, data = _open(harness.port)
    conn.send_frame(ws.CLOSE, (4001).to_bytes(2, "big") + b"bye")
    assert conn.recv_close() == 4001
    assert conn.recv() == (None, None)  # then the server closes TCP
    assert harness.wait_event("disconnect", sid=data["sid"])[2] == "transport close"


@pytest.mark.parametrize(
    "frame, code",
    [
        (ws.build_frame(ws.TEXT, b"4unmasked"), 1002),
        (ws.build_frame(3, b"4", mask=b"abcd"), 1002),  # reserved opcode
        (ws.build_frame(ws.TEXT, b"4\xff\xfe", mask=b"abcd"), 1007),  # invalid UTF-8
        (ws.build_frame(ws.CLOSE, (1005).to_bytes(2, "big"), mask=b"abcd"), 1002),  # bad code
        (ws.build_frame(ws.CONTINUATION, b"x", mask=b"abcd"), 1002),  # nothing to continue
        (ws.build_frame(ws.TEXT, b"4x", rsv1=True, mask=b"abcd"), 1002),  # no extension agreed
    ],
)
def test_protocol_violations_close_the_connection(harness, frame, code):
    conn, data = _open(harness.port)
    conn.send_raw(frame)
    assert conn.recv_close() == code
    assert harness.wait_event("disconnect", sid=data["sid"])[2] == "transport error"
    conn.close()


def test_oversized_message(make_harness):
    harness = make_harness(max_http_buffer_size=1000)
    conn, data = _open(harness.port)
    assert data["maxPayload"] == 1000
    conn.send_text("4" + "x" * 998)  # exactly at the limit: accepted
    assert conn.recv_text() == "4" + "x" * 998
    conn.send_text("4" + "x" * 1000)
    assert conn.recv_close() == 1009
    assert harness.wait_event("disconnect", sid=data["sid"])[2] == "transport error"
    conn.close()


def test_bad_engineio_packet_over_websocket(harness):
    conn, data = _open(harness.port)
    conn.send_text("9nonsense")
    assert conn.recv_close() == 1002
    assert harness.wait_event("disconnect", sid=data["sid"])[2] == "transport error"


def test_bad_websocket_version(harness):
    conn = RawWebSocket(harness.port, headers={"Sec-WebSocket-Version": "8"})
    assert conn.status == 400 and b"Sec-WebSocket-Version" in conn.body
    conn.close()


def test_disallowed_origin_on_websocket(harness):
    conn = RawWebSocket(harness.port, headers={"Origin": "http://evil.example"})
    assert conn.status == 403
    conn.close()
    assert harness.eio.sockets == {}


def test_unknown_sid_on_websocket(harness):
    conn = RawWebSocket(harness.port, query="EIO=4&transport=websocket&sid=nope")
    assert conn.status == 400
    conn.close()


def test_server_close_sends_close_packet_and_frame(harness):
    conn, data = _open(harness.port)
    harness.call(harness.eio.disconnect, data["sid"])
    assert conn.recv_text() == "1"
    assert conn.recv_close() == 1000
    assert harness.wait_event("disconnect", sid=data["sid"])[2] == "server disconnect"


def test_client_that_never_answers_pings(make_harness):
    harness = make_harness(ping_interval=0.2, ping_timeout=0.3)
    conn, data = _open(harness.port)
    assert data["pingInterval"] == 200
    started = time.monotonic()
    assert conn.recv() == (ws.TEXT, "2")  # a ping we ignore
    assert harness.wait_event("disconnect", sid=data["sid"], timeout=3)[2] == "ping timeout"
    assert 0.4 < time.monotonic() - started < 3
    assert conn.recv() == (ws.TEXT, "1")
    assert conn.recv_close() == 1000


def test_client_answering_pings_stays(make_harness):
    harness = make_harness(ping_interval=0.1, ping_timeout=0.5)
    conn, data = _open(harness.port)
    deadline = time.monotonic() + 1.0
    pings = 0
    while time.monotonic() < deadline:
        if conn.recv() == (ws.TEXT, "2"):
            pings += 1
            conn.send_text("3")
    assert pings >= 6
    assert harness.call(harness.eio.get_socket, data["sid"]) is not None
    conn.close()


def test_client_that_stops_reading_is_cut_off(make_harness):
    """A reader that stops reading is disconnected once its buffer passes the cap; another
    client keeps getting its messages meanwhile."""
    harness = make_harness(ping_interval=5, ping_timeout=5, max_write_buffer_size=256 * 1024)
    slow, slow_data = _open(harness.port, rcvbuf=4096)
    fast, fast_data = _open(harness.port)
    chunk = "x" * 16384
    sent = {"count": 0}

    def flood():
        eio = harness.eio
        slow_sock = eio.get_socket(slow_data["sid"])
        fast_sock = eio.get_socket(fast_data["sid"])
        prepared = eio.prepare(chunk)
        for i in range(2000):
            if slow_sock.closed:
                break
            slow_sock.send_prepared(prepared)
            fast_sock.send(str(i))
            sent["count"] = i + 1
            sent["max_buffered"] = max(sent.get("max_buffered", 0), slow_sock._out.buffered)
            eio.sleep(0)
        return slow_sock.closed

    assert harness.call(flood, timeout=20) is True
    assert harness.wait_event("disconnect", sid=slow_data["sid"])[2] == "transport error"
    # the cut came after a bounded amount of data (kernel buffers + the 256 KB cap), far
    # below the 32 MB of 2000 frames
    assert sent["count"] < 1000
    # what the kernel would not take never grew past the cap (plus the frame that crossed it)
    assert sent["max_buffered"] <= 256 * 1024 + len(chunk) + 64
    received = [fast.recv_text() for _ in range(sent["count"])]
    assert received == ["4" + str(i) for i in range(sent["count"])]
    assert harness.call(harness.eio.get_socket, fast_data["sid"]) is not None
    slow.close()
    fast.close()


# -- upgrade ---------------------------------------------------------------------------------


def test_raw_upgrade_moves_queued_packets(harness):
    sid, _ = polling_handshake(harness.port)
    conn = RawWebSocket(harness.port, query=f"EIO=4&transport=websocket&sid={sid}")
    assert conn.status == 101
    pending: list = []
    poller = threading.Thread(
        target=lambda: pending.append(
            http_request(harness.port, "GET", eio_path(f"EIO=4&transport=polling&sid={sid}"))
        )
    )
    poller.start()
    time.sleep(0.1)
    conn.send_text("2probe")
    assert conn.recv_text() == "3probe"
    poller.join(5)
    assert pending[0][0] == 200 and b"6" in pending[0][2].split(b"\x1e")
    harness.call(harness.eio.send, sid, "queued during upgrade")
    assert harness.eio.transport(sid) == "polling"
    conn.send_text("5")
    assert conn.recv_text() == "4queued during upgrade"
    assert harness.eio.transport(sid) == "websocket"
    status, _, _body = http_request(
        harness.port, "GET", eio_path(f"EIO=4&transport=polling&sid={sid}")
    )
    assert status == 400  # polling is over for this session
    conn.send_text("4after")
    assert conn.recv_text() == "4after"
    conn.close()


def test_failed_upgrade_keeps_polling(harness):
    sid, _ = polling_handshake(harness.port)
    conn = RawWebSocket(harness.port, query=f"EIO=4&transport=websocket&sid={sid}")
    assert conn.status == 101
    conn.send_text("4not a probe")
    assert conn.recv_close() == 1002
    conn.close()
    time.sleep(0.1)
    assert harness.eio.transport(sid) == "polling"
    assert (
        http_request(
            harness.port,
            "POST",
            eio_path(f"EIO=4&transport=polling&sid={sid}"),
            body=b"4still polling",
        )[0]
        == 200
    )
    assert harness.wait_event("message", sid=sid)[2] == "still polling"


def test_tcp_nodelay_on_websocket(harness):
    conn, _data = _open(harness.port)

    def nodelay():
        import gc

        from fastsock.engineio.writer import Output

        outs = [o for o in gc.get_objects() if isinstance(o, Output) and not o.closed]
        return [o._raw.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) for o in outs]

    assert all(harness.call(nodelay))
    conn.close()


def test_frames_sent_with_the_handshake_are_not_lost(harness):
    """A client that does not wait for the 101 (its first frame arrives with the request)."""
    import base64 as b64
    import os

    s = socket.create_connection(("127.0.0.1", harness.port), timeout=5)
    key = b64.b64encode(os.urandom(16)).decode()
    request = (
        "GET /engine.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: x\r\n"
        "Upgrade: websocket\r\nConnection: Upgrade\r\n"
        f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
    ).encode()
    s.sendall(request + ws.build_frame(ws.TEXT, b"4early", mask=b"abcd"))
    parser = ws.FrameParser(1 << 20, require_mask=False)
    data = b""
    while b"\r\n\r\n" not in data:
        data += s.recv(4096)
    head, _, rest = data.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 101")
    items = parser.feed(rest) if rest else []
    while len(items) < 2:
        items += parser.feed(s.recv(4096))
    assert items[0][1].startswith("0{") and items[1] == (ws.TEXT, "4early")
    s.close()


def test_idle_websockets_hold_no_greenlet_under_gevent(make_harness, async_mode):
    if async_mode != "gevent":
        pytest.skip("greenlets are a gevent matter")
    harness = make_harness()

    def count_greenlets():
        import gc

        import greenlet

        gc.collect()
        return sum(1 for o in gc.get_objects() if isinstance(o, greenlet.greenlet))

    before = harness.call(count_greenlets)
    conns = [_open(harness.port)[0] for _ in range(20)]
    for conn in conns:  # each connection still works
        conn.send_text("4x")
        assert conn.recv_text() == "4x"
    time.sleep(0.2)
    assert harness.call(count_greenlets) - before <= 2  # none per connection
    for conn in conns:
        conn.close()


def test_stopping_the_gevent_server_ends_websockets(make_harness, async_mode):
    if async_mode != "gevent":
        pytest.skip("the Werkzeug server leaves its connections to their threads")
    harness = make_harness()
    conn, data = _open(harness.port)
    harness.call(harness.web.stop, timeout=10)
    assert conn.recv_close() in (None, 1000)
    assert harness.wait_event("disconnect", sid=data["sid"])[2] == "transport close"
    conn.close()


def test_a_kept_environ_does_not_keep_the_gevent_request_handler(make_harness, async_mode):
    # The Socket.IO layer keeps each connection's environ for the connection's life: nothing
    # in it may hold on to pywsgi's handler (its own environ, parsed headers, read buffer).
    if async_mode != "gevent":
        pytest.skip("fastsock's pywsgi handler is a gevent matter")
    harness = make_harness()
    environs = []
    harness.eio.on("connect", lambda sid, environ: environs.append(environ))

    def live_handlers():
        # those of this test's connections (other tests' servers may have requests in flight)
        import gc

        from fastsock.engineio.gevent_handler import WebSocketHandler

        gc.collect()
        ours = {id(environ) for environ in environs}
        return sum(
            1
            for o in gc.get_objects()
            if isinstance(o, WebSocketHandler) and id(getattr(o, "environ", None)) in ours
        )

    conns = [_open(harness.port)[0] for _ in range(5)]
    for conn in conns:  # each connection still works
        conn.send_text("4x")
        assert conn.recv_text() == "4x"
    assert len(environs) == 5
    # the request greenlets end right after the handshake; on a busy machine, give them time
    deadline = time.monotonic() + 3
    while harness.call(live_handlers) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert harness.call(live_handlers) == 0
    assert all("fastsock.takeover" not in environ for environ in environs)
    assert all(environ["wsgi.input"].read() == b"" for environ in environs)
    for conn in conns:
        conn.close()
