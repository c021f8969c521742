"""Long-polling over raw HTTP: handshake, payloads, error answers, CORS, cookie, compression."""

from __future__ import annotations

import gzip
import json
import threading
import time
import zlib

import pytest
from eio_helpers import eio_path, http_request, polling_handshake


def _error(body: bytes) -> dict:
    return json.loads(body)


def _get(port, sid, headers=None):
    return http_request(
        port, "GET", eio_path(f"EIO=4&transport=polling&sid={sid}"), headers=headers
    )


def _post(port, sid, body, headers=None):
    return http_request(
        port, "POST", eio_path(f"EIO=4&transport=polling&sid={sid}"), body=body, headers=headers
    )


def test_handshake_open_packet(make_harness):
    harness = make_harness(ping_interval=(0.25, 0.5), ping_timeout=1.5, max_http_buffer_size=12345)
    sid, data = polling_handshake(harness.port)
    assert set(data) == {"sid", "upgrades", "pingInterval", "pingTimeout", "maxPayload"}
    assert data["upgrades"] == ["websocket"]
    assert data["pingInterval"] == 750  # interval + grace, fractions kept
    assert data["pingTimeout"] == 1500
    assert data["maxPayload"] == 12345
    assert len(sid) == 20 and harness.wait_event("connect")[1] == sid


def test_sids_are_unique_and_unguessable(make_harness):
    harness = make_harness()
    sids = {harness.eio.generate_id() for _ in range(2000)}
    assert len(sids) == 2000
    assert all(len(s) == 20 and s.replace("-", "").replace("_", "").isalnum() for s in sids)


@pytest.mark.parametrize(
    "query, code",
    [
        ("EIO=3&transport=polling", 5),
        ("transport=polling", 5),
        ("EIO=4&transport=carrier-pigeon", 0),
        ("EIO=4&transport=polling&sid=nope", 1),
    ],
)
def test_bad_requests_get_400_and_json(harness, query, code):
    status, headers, body = http_request(harness.port, "GET", eio_path(query))
    assert status == 400
    assert headers["content-type"] == "application/json"
    assert _error(body)["code"] == code and _error(body)["message"]


def test_handshake_must_be_get(harness):
    status, _, body = http_request(
        harness.port, "POST", eio_path("EIO=4&transport=polling"), body=b"4x"
    )
    assert status == 400 and _error(body)["code"] == 2


def test_unknown_sid_on_post(harness):
    status, _, body = _post(harness.port, "unknown", b"4hello")
    assert status == 400 and _error(body)["code"] == 1


def test_unsupported_method(harness):
    sid, _ = polling_handshake(harness.port)
    status, headers, _ = http_request(
        harness.port, "PUT", eio_path(f"EIO=4&transport=polling&sid={sid}"), body=b"x"
    )
    assert status == 405 and "POST" in headers["allow"]


def test_post_payload_and_get_replies(harness):
    sid, _ = polling_handshake(harness.port)
    status, _, body = _post(harness.port, sid, b"4one\x1ebAAEC\x1e4two")
    assert (status, body) == (200, b"ok")
    messages = [harness.wait_event("message")[2] for _ in range(3)]
    assert sorted(messages, key=repr) == sorted(["one", b"\x00\x01\x02", "two"], key=repr)
    replies: list = []
    deadline = time.monotonic() + 5
    while len(replies) < 3 and time.monotonic() < deadline:
        status, _, body = _get(harness.port, sid)
        assert status == 200
        replies += [p for p in body.split(b"\x1e") if p[:1] in (b"4", b"b")]
    assert sorted(replies) == sorted([b"4one", b"bAAEC", b"4two"])


def test_oversized_post_is_refused_whole(make_harness):
    harness = make_harness(max_http_buffer_size=1000)
    sid, _ = polling_handshake(harness.port)
    status, _, _ = _post(harness.port, sid, b"4first\x1e4" + b"x" * 2000)
    assert status == 413
    assert harness.wait_event("disconnect", sid=sid)[2] == "transport error"
    assert harness.events.empty() or all(e[0] != "message" for e in list(harness.events.queue))
    # the session answers one last GET with its CLOSE packet, then is gone
    assert _get(harness.port, sid)[2] == b"1"
    assert _get(harness.port, sid)[0] == 400


def test_malformed_payload_closes_session(harness):
    sid, _ = polling_handshake(harness.port)
    status, _, body = _post(harness.port, sid, b"4ok\x1e9bad")
    assert status == 400 and _error(body)["code"] == 3
    assert harness.wait_event("disconnect", sid=sid)[2] == "transport error"
    assert all(e[0] != "message" for e in list(harness.events.queue))


def test_duplicate_get_is_a_protocol_error(harness):
    sid, _ = polling_handshake(harness.port)
    first: list = []
    thread = threading.Thread(target=lambda: first.append(_get(harness.port, sid)))
    thread.start()
    time.sleep(0.2)  # the first GET is now waiting
    status, _, body = _get(harness.port, sid)
    assert status == 400 and _error(body)["code"] == 3
    thread.join(5)
    assert first[0][0] == 200 and b"1" in first[0][2].split(b"\x1e")
    assert harness.wait_event("disconnect", sid=sid)[2] == "transport error"


def test_client_close_packet(harness):
    sid, _ = polling_handshake(harness.port)
    assert _post(harness.port, sid, b"1")[0] == 200
    assert harness.wait_event("disconnect", sid=sid)[2] == "client disconnect"
    assert _get(harness.port, sid)[0] == 400


def test_client_that_never_polls_times_out(make_harness):
    harness = make_harness(ping_interval=0.2, ping_timeout=0.3)
    sid, _ = polling_handshake(harness.port)
    started = time.monotonic()
    assert harness.wait_event("disconnect", sid=sid, timeout=3)[2] == "ping timeout"
    assert time.monotonic() - started < 3


def test_polling_heartbeat_kept_alive_by_pongs(make_harness):
    harness = make_harness(ping_interval=0.15, ping_timeout=0.6)
    sid, _ = polling_handshake(harness.port)
    pings = 0
    deadline = time.monotonic() + 0.8
    while time.monotonic() < deadline:
        status, _, body = _get(harness.port, sid)
        assert status == 200
        if b"2" in body.split(b"\x1e"):
            pings += 1
            assert _post(harness.port, sid, b"3")[0] == 200
    assert pings >= 3
    assert harness.call(harness.eio.get_socket, sid) is not None


def test_connect_rejected(make_harness):
    harness = make_harness()
    harness.eio.on("connect", lambda sid, environ: False)
    status, _, body = http_request(harness.port, "GET", eio_path("EIO=4&transport=polling"))
    assert status == 401 and json.loads(body) == "Unauthorized"
    assert harness.eio.sockets == {}


# -- CORS ------------------------------------------------------------------------------------


def test_same_origin_by_default(harness):
    host = f"127.0.0.1:{harness.port}"
    status, headers, _ = http_request(
        harness.port,
        "GET",
        eio_path("EIO=4&transport=polling"),
        headers={"Origin": f"http://{host}"},
    )
    assert status == 200
    assert headers["access-control-allow-origin"] == f"http://{host}"
    assert headers["access-control-allow-credentials"] == "true"
    status, _, body = http_request(
        harness.port,
        "GET",
        eio_path("EIO=4&transport=polling"),
        headers={"Origin": "http://evil.example"},
    )
    assert status == 403 and _error(body)["code"] == 4


@pytest.mark.parametrize(
    "setting, origin, allowed",
    [
        ("*", "http://a.example", True),
        (["http://a.example"], "http://a.example", True),
        (["http://a.example"], "http://b.example", False),
        ("http://a.example", "http://b.example", False),
        (lambda origin: origin.endswith(".good"), "http://x.good", True),
        (lambda origin, environ: False, "http://x.good", False),
    ],
)
def test_cors_settings(make_harness, setting, origin, allowed):
    harness = make_harness(cors_allowed_origins=setting, cors_credentials=False)
    status, headers, _ = http_request(
        harness.port, "GET", eio_path("EIO=4&transport=polling"), headers={"Origin": origin}
    )
    if allowed:
        assert status == 200 and headers["access-control-allow-origin"] == origin
        assert "access-control-allow-credentials" not in headers
    else:
        assert status == 403


def test_cors_disabled(make_harness):
    harness = make_harness(cors_allowed_origins=[])
    status, headers, _ = http_request(
        harness.port,
        "GET",
        eio_path("EIO=4&transport=polling"),
        headers={"Origin": "http://evil.example"},
    )
    assert status == 200 and not any(h.startswith("access-control") for h in headers)


def test_preflight(make_harness):
    harness = make_harness(cors_allowed_origins="*")
    status, headers, _ = http_request(
        harness.port,
        "OPTIONS",
        eio_path("EIO=4&transport=polling"),
        headers={"Origin": "http://a.example", "Access-Control-Request-Headers": "X-Token"},
    )
    assert status == 200
    assert headers["access-control-allow-origin"] == "http://a.example"
    assert headers["access-control-allow-methods"] == "OPTIONS, GET, POST"
    assert headers["access-control-allow-headers"] == "X-Token"


# -- cookie and compression ------------------------------------------------------------------


def test_cookie_name(make_harness):
    harness = make_harness(cookie="io")
    _status, headers, body = http_request(harness.port, "GET", eio_path("EIO=4&transport=polling"))
    sid = json.loads(body[1:])["sid"]
    assert headers["set-cookie"] == f"io={sid}; path=/; SameSite=Lax"


def test_cookie_attributes(make_harness):
    harness = make_harness(
        cookie={"name": "sess", "path": "/x", "Secure": True, "Max-Age": lambda: "60"}
    )
    _, headers, body = http_request(harness.port, "GET", eio_path("EIO=4&transport=polling"))
    sid = json.loads(body[1:])["sid"]
    assert headers["set-cookie"] == f"sess={sid}; path=/x; Secure; Max-Age=60"


@pytest.mark.parametrize("encoding", ["gzip", "deflate"])
def test_compression_above_threshold(make_harness, encoding):
    harness = make_harness(compression_threshold=500)
    sid, _ = polling_handshake(harness.port)
    harness.call(harness.eio.send, sid, "y" * 2000)
    status, headers, body = _get(harness.port, sid, {"Accept-Encoding": f"{encoding}, br"})
    assert status == 200 and headers["content-encoding"] == encoding
    raw = gzip.decompress(body) if encoding == "gzip" else zlib.decompress(body)
    assert raw == b"4" + b"y" * 2000
    harness.call(harness.eio.send, sid, "small")
    status, headers, body = _get(harness.port, sid, {"Accept-Encoding": encoding})
    assert "content-encoding" not in headers and body == b"4small"


def test_compression_off(make_harness):
    harness = make_harness(http_compression=False, compression_threshold=10)
    sid, _ = polling_handshake(harness.port)
    harness.call(harness.eio.send, sid, "z" * 100)
    _, headers, body = _get(harness.port, sid, {"Accept-Encoding": "gzip"})
    assert "content-encoding" not in headers and body == b"4" + b"z" * 100
