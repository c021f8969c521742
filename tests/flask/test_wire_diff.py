"""Differential test: the same app (``example_app.py``) under flask_socketio and under fastsock
puts the same packets on the wire for the same client actions.

A raw WebSocket client sends scripted Engine.IO/Socket.IO frames and records every frame it
receives; sids are normalized and packets compared decoded (so JSON whitespace does not matter).
Where python-socketio deviates from the JavaScript reference server, fastsock follows the
reference: those steps are listed in ``REFERENCE_DEVIATIONS`` and checked against it instead.
"""

import json
import re
import time

import pytest
import requests
import websocket
from socketio import packet as sio_packet

SID = re.compile(r'"sid":"[^"]+"')


class RawClient:
    """A WebSocket-only Engine.IO v4 client that answers pings and returns every other frame."""

    def __init__(self, base_url, query=""):
        url = base_url.replace("http://", "ws://") + "/socket.io/?EIO=4&transport=websocket"
        self.ws = websocket.create_connection(url + query, timeout=5)
        self.open_packet = self.recv()

    def send(self, *frames):
        for frame in frames:
            if isinstance(frame, bytes):
                self.ws.send_binary(frame)
            else:
                self.ws.send(frame)

    def recv(self, timeout=5):
        # one deadline for the frame, so that pings every few seconds cannot prolong the wait
        deadline = time.monotonic() + timeout
        while True:
            self.ws.settimeout(max(0.001, deadline - time.monotonic()))
            opcode, data = self.ws.recv_data()
            if opcode == websocket.ABNF.OPCODE_TEXT:
                data = data.decode()
                if data == "2":
                    self.ws.send("3")
                    continue
            return data

    def expect(self, count):
        return [self.recv() for _ in range(count)]

    def quiet(self, seconds=0.2):
        """True if nothing (but pings) arrives within ``seconds``."""
        try:
            self.recv(seconds)
        except websocket.WebSocketTimeoutException:
            return True
        return False

    def close(self):
        self.ws.close()


def decode(frame):
    """A received frame as comparable data: Engine.IO type plus decoded Socket.IO packet."""
    if isinstance(frame, bytes):
        return ("binary", list(frame))
    if frame[0] == "0":
        info = json.loads(frame[1:])
        info["sid"] = "<sid>"
        return ("open", info)
    if frame[0] != "4":
        return ("eio", frame)
    pkt = sio_packet.Packet(encoded_packet=SID.sub('"sid":"<sid>"', frame[1:]))
    return ("sio", pkt.packet_type, pkt.namespace or "/", pkt.id, pkt.attachment_count, pkt.data)


def scenario(base_url):
    """Run the client actions against the server at ``base_url``; ``{step: [frames]}``."""
    out = {}
    a = RawClient(base_url, "&q=7")
    out["open"] = [a.open_packet]
    a.send('40{"user":"wire"}')
    out["connect"] = a.expect(2)
    a.send('421["echo",1,"two",{"x":[3]}]')
    out["echo ack"] = a.expect(1)
    a.send('42["message","hi"]')
    out["message"] = a.expect(1)
    a.send('42["json",{"a":1}]')
    out["json"] = a.expect(1)
    a.send('451-2["binary",{"_placeholder":true,"num":0},{"k":"v"}]', b"\x01\x02\x03")
    out["binary"] = a.expect(4)
    # one at a time: events run concurrently (async_handlers), and these two share the session
    a.send('423["whoami"]')
    a_session = a.expect(1)
    a.send('424["rename","renamed"]')
    out["session"] = a_session + a.expect(1)
    a.send('425["whoami"]')
    out["session kept"] = a.expect(1)

    b = RawClient(base_url)
    b.send("40")
    out["second connect"] = b.expect(2)
    a.send('426["join","r1"]')
    out["join"] = a.expect(2)
    b.send('421["join","r1"]')
    out["join b"] = b.expect(2)
    out["join b seen by a"] = a.expect(1)
    a.send('42["say","r1","hello room"]')
    out["say"] = b.expect(1)
    a.send('42["ask","why?"]')
    out["question"] = a.expect(1)
    a.send('431["forty-two",4]')
    out["answered"] = a.expect(1)
    a.send('427["boom"]')
    out["error handler ack"] = a.expect(1)

    a.send("40/chat,")
    out["chat connect"] = a.expect(2)
    a.send('42/chat,8["enter","c1"]')
    out["chat enter"] = a.expect(2)
    a.send('451-/chat,9["bytes",{"_placeholder":true,"num":0}]', b"\x09\x08")
    out["chat binary ack"] = a.expect(2)
    assert requests.get(base_url + "/announce/news", timeout=5).text == "sent"
    # one emit per namespace from the route: their order between the two is the server's own
    out["announce"] = sorted(a.expect(2), key=lambda f: SID.sub("", f))
    out["announce b"] = b.expect(1)
    a.send("40/admin,")
    out["admin refused"] = a.expect(1)
    a.send('40/admin,{"secret":"s3cret"}')
    out["admin accepted"] = a.expect(1)
    a.send("40/nope,")
    out["unknown namespace"] = a.expect(1)

    c = RawClient(base_url)
    c.send('40{"token":"bad"}')
    out["refused with data"] = c.expect(1)
    c.close()

    a.send('42["kick"]')
    out["kick"] = a.expect(1)
    # the server finishes its disconnect after sending DISCONNECT; an instant CONNECT races it
    # (test_connect_right_after_server_disconnect covers that case)
    time.sleep(0.05)
    a.send('40{"user":"again"}')
    out["reconnect"] = a.expect(2)
    a.send('42["ticks",3]')
    out["background ticks"] = a.expect(3)
    b.send("41")
    a.send('4210["echo"]')
    out["after client disconnect"] = a.expect(1)
    out["quiet"] = [a.quiet() and b.quiet()]
    a.close()
    b.close()
    return {step: [decode(f) if isinstance(f, (str, bytes)) else f for f in frames]
            for step, frames in out.items()}


#: steps where python-socketio differs from the JavaScript reference server (socket.io 4.x),
#: with what the reference sends; fastsock must match the reference there
REFERENCE_DEVIATIONS = {
    # socket.io: {"message": "Invalid namespace"}; python-socketio: the bare string
    "unknown namespace": [("sio", 4, "/nope", None, 0, {"message": "Invalid namespace"})],
}


@pytest.fixture(scope="module")
def oracle(example_server):
    return scenario(example_server("flask_socketio", "threading").url)


@pytest.mark.parametrize("async_mode", ["gevent", "threading"])
def test_same_packets_as_flask_socketio(oracle, example_server, async_mode):
    ours = scenario(example_server("fastsock", async_mode).url)
    assert list(ours) == list(oracle)
    for step, frames in oracle.items():
        expected = REFERENCE_DEVIATIONS.get(step, frames)
        assert ours[step] == expected, f"step {step!r}: fastsock sent {ours[step]!r}"


@pytest.mark.parametrize(("lib", "async_mode"), [
    ("flask_socketio", "threading"), ("fastsock", "gevent"), ("fastsock", "threading")])
def test_connect_right_after_server_disconnect(example_server, lib, async_mode):
    """A client that reconnects the namespace the moment it gets the server's DISCONNECT is
    accepted again (python-socketio and the JavaScript server do; the window is small, so try
    many times)."""
    url = example_server(lib, async_mode).url
    client = RawClient(url)
    try:
        for attempt in range(40):
            client.send('40{"user":"fast"}')
            first = decode(client.recv())  # "hello", or a CONNECT_ERROR
            assert first[:2] == ("sio", 2), f"attempt {attempt}: refused with {first}"
            assert decode(client.recv())[:3] == ("sio", 0, "/")
            client.send('42["kick"]')
            assert client.expect(1) == ["41"]
    finally:
        client.close()


class PollingClient:
    """An Engine.IO v4 long-polling client that records every packet it receives."""

    def __init__(self, base_url):
        self.url = base_url + "/socket.io/"
        self.http = requests.Session()
        response = self.http.get(self.url, params={"EIO": "4", "transport": "polling"},
                                 timeout=5)
        self.content_type = response.headers.get("Content-Type")
        self.open_packet = response.text
        self.sid = json.loads(response.text[1:])["sid"]
        self.pending = []

    def params(self):
        return {"EIO": "4", "transport": "polling", "sid": self.sid}

    def post(self, *packets):
        body = "\x1e".join(packets)
        response = self.http.post(self.url, params=self.params(), data=body.encode(), timeout=5)
        return response.status_code, response.text

    def expect(self, count):
        """The next ``count`` packets, however the server batched them into GET responses."""
        while len(self.pending) < count:
            response = self.http.get(self.url, params=self.params(), timeout=10)
            for packet in response.text.split("\x1e"):
                if packet == "2":
                    self.post("3")
                elif packet != "6":
                    self.pending.append(packet)
        packets, self.pending = self.pending[:count], self.pending[count:]
        return packets


def decode_polling(packet):
    if packet.startswith("b"):  # a binary attachment, base64 encoded
        return ("binary", packet)
    return decode(packet)


def polling_scenario(base_url):
    client = PollingClient(base_url)
    out = {"open": [decode(client.open_packet)], "content type": [client.content_type]}
    out["post connect"] = [client.post('40{"user":"poll"}')]
    out["connect"] = client.expect(2)
    client.post('421["echo","x",{"y":[1]}]')
    out["echo"] = client.expect(1)
    client.post('451-2["binary",{"_placeholder":true,"num":0},{"k":"v"}]', "bAQID")
    out["binary"] = client.expect(4)
    client.post('40/chat,')
    out["chat"] = client.expect(2)
    out["disconnect"] = [client.post("41/chat,", "41")]
    out["close"] = [client.post("1")]
    return {step: [decode_polling(p) if isinstance(p, str) else p for p in packets]
            for step, packets in out.items()}


def reference_post_answer(item):
    """python-engineio answers a POST with ``OK``; the JavaScript server (and fastsock) with
    ``ok``."""
    return (item[0], "ok") if item == (200, "OK") else item


@pytest.fixture(scope="module")
def polling_oracle(example_server):
    oracle = polling_scenario(example_server("flask_socketio", "threading").url)
    return {step: [reference_post_answer(p) if isinstance(p, tuple) and len(p) == 2 else p
                   for p in packets] for step, packets in oracle.items()}


@pytest.mark.parametrize("async_mode", ["gevent", "threading"])
def test_same_polling_packets_as_flask_socketio(polling_oracle, example_server, async_mode):
    ours = polling_scenario(example_server("fastsock", async_mode).url)
    assert list(ours) == list(polling_oracle)
    for step, packets in polling_oracle.items():
        assert ours[step] == packets, f"step {step!r}: fastsock sent {ours[step]!r}"
