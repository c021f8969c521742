"""Codec micro-benchmarks: fastsock compiled vs pure vs the upstream stack, one group each.

    pytest benches/test_codecs.py --benchmark-group-by=group --benchmark-columns=median,ops,rounds
"""

import json as stdlib_json
import os

import pytest
from impls import kernel

EVENT_100B = ["chat", {"user": "alice", "room": "lobby", "text": "hello everyone, how is it going?",
                       "ts": 1700000000123}]
EVENT_10KB = ["bulk", {"rows": [{"id": i, "name": f"item-{i:05d}", "ok": i % 2 == 0}
                                for i in range(250)]}]
BINARY_EVENT = ["upload", {"name": "photo.jpg", "blob": os.urandom(1024)}]


def _sio_roundtrip(impl, data):
    """A function doing one encode + one decode of an EVENT packet, for ``impl``."""
    if impl == "upstream":
        from socketio.packet import Packet
    else:
        Packet = kernel("sio", impl).Packet

    def run():
        encoded = Packet(2, data, namespace="/").encode()
        if isinstance(encoded, list):
            pkt = Packet(encoded_packet=encoded[0])
            for attachment in encoded[1:]:
                pkt.add_attachment(attachment)
        else:
            pkt = Packet(encoded_packet=encoded)
        return pkt

    return run


@pytest.mark.benchmark(group="sio event ~100 B encode+decode")
def test_sio_event_small(benchmark, impl):
    run = _sio_roundtrip(impl, EVENT_100B)
    assert run().data == EVENT_100B
    benchmark(run)


@pytest.mark.benchmark(group="sio event ~10 KB encode+decode")
def test_sio_event_10kb(benchmark, impl):
    assert 9000 < len(stdlib_json.dumps(EVENT_10KB)) < 12000
    run = _sio_roundtrip(impl, EVENT_10KB)
    assert run().data == EVENT_10KB
    benchmark(run)


@pytest.mark.benchmark(group="sio binary event (1 KB attachment) encode+decode")
def test_sio_binary_event(benchmark, impl):
    run = _sio_roundtrip(impl, BINARY_EVENT)
    assert run().data == BINARY_EVENT
    benchmark(run)


PAYLOAD_PACKETS = [(4, f'42["chat",{{"n":{i},"text":"hello there"}}]') for i in range(15)] + [
    (4, b"\x00\x01\x02\x03" * 8)
]


@pytest.mark.benchmark(group="eio polling payload (16 packets) encode+decode")
def test_eio_payload(benchmark, impl):
    if impl == "upstream":
        from engineio.packet import Packet
        from engineio.payload import Payload

        def run():
            body = Payload(packets=[Packet(t, d) for t, d in PAYLOAD_PACKETS]).encode()
            return [(p.packet_type, p.data) for p in Payload(encoded_payload=body).packets]
    else:
        eio = kernel("eio", impl)

        def run():
            return eio.decode_payload(eio.encode_payload(PAYLOAD_PACKETS))

    assert [tuple(p) for p in run()] == PAYLOAD_PACKETS
    benchmark(run)


FRAME_TEXT_100B = '42["chat",{"user":"alice","text":"hello everyone, how is it going?"}]'.ljust(
    100, " "
)


@pytest.mark.benchmark(group="ws build 100 B server text frame")
def test_ws_build_frame(benchmark, impl):
    if impl == "upstream":
        from wsproto.frame_protocol import FrameProtocol

        proto = FrameProtocol(client=False, extensions=[])

        def run():
            return proto.send_data(FRAME_TEXT_100B, fin=True)
    else:
        ws = kernel("ws", impl)

        def run():
            return ws.build_frame(ws.TEXT, FRAME_TEXT_100B)

    frame = run()
    assert frame[:2] == b"\x81\x64" and frame[2:] == FRAME_TEXT_100B.encode()
    benchmark(run)


def _client_frame(size):
    from wsproto.frame_protocol import FrameProtocol

    return FrameProtocol(client=True, extensions=[]).send_data("x" * size, fin=True)


@pytest.mark.benchmark(group="ws parse 1 KB masked client text frame")
def test_ws_parse_masked_1kb(benchmark, impl):
    frame = _client_frame(1024)
    if impl == "upstream":
        from wsproto.frame_protocol import FrameProtocol

        proto = FrameProtocol(client=False, extensions=[])

        def run():
            proto.receive_bytes(frame)
            return [(f.opcode.value, f.payload) for f in proto.received_frames()]
    else:
        ws = kernel("ws", impl)
        parser = ws.FrameParser()

        def run():
            return parser.feed(frame)

    assert [tuple(i) for i in run()] == [(1, "x" * 1024)]
    benchmark(run)
