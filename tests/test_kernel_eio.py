"""The eio kernel (Engine.IO v4 codec), on both implementations.

- the examples of the Engine.IO v4 protocol document (socket.io/docs/v4/engine-io-protocol/,
  source ``docs/engine.io-protocol/v4-current.md`` in socketio/socket.io) and of the
  engine.io-parser 4.0.0 changelog (the v4 encoding changes), both directions;
- byte-for-byte agreement with python-engineio (``engineio.packet.Packet``,
  ``engineio.payload.Payload``) where it follows the protocol, with each deliberate difference
  written down in a test;
- hypothesis properties: round trips, and compiled == pure (results, or the same exception type
  and message) on arbitrary input;
- malformed input raises PacketError and nothing else.

``compress`` is tested in test_kernel_eio_compress.py, the long fuzz in test_fuzz_eio.py.
"""

from __future__ import annotations

import contextlib
import importlib.machinery
import types

import pytest
from engineio import packet as eio_packet
from engineio import payload as eio_payload
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fastsock.exceptions import PacketError

API = {
    "OPEN",
    "CLOSE",
    "PING",
    "PONG",
    "MESSAGE",
    "UPGRADE",
    "NOOP",
    "encode_packet",
    "decode_packet",
    "encode_payload",
    "decode_payload",
    "compress",
}

# Stateless modules as fixtures: the function-scoped fixture health check does not apply.
PROPS = settings(
    max_examples=150,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)

# --------------------------------------------------------------------------- strategies

packet_types = st.integers(0, 6)
# text the protocol can carry: no surrogates (not UTF-8 encodable), no record separator (the
# payload framing assumes it never occurs in data, see the v4 document "From v3 to v4")
wire_text = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x1e"))
any_text = st.text(st.characters(blacklist_categories=()))  # surrogates and \x1e included


@st.composite
def packets(draw, text=wire_text):
    """A valid ``(packet_type, data)``: binary data only for MESSAGE."""
    packet_type = draw(packet_types)
    kinds = [st.none(), text]
    if packet_type == 4:
        kinds.append(st.binary(max_size=64))
    return packet_type, draw(st.one_of(*kinds))


def normalized(pkt):
    """What decoding gives back: empty text carries no data."""
    packet_type, data = pkt
    return packet_type, (None if data == "" else data)


# Characters that reach every branch of the decoders.
tricky_text = st.text(st.sampled_from("0123456789bB=+/Aaz\x1e€\ud800 \x00"), max_size=24)
tricky_bytes = st.lists(
    st.sampled_from(
        [
            b"0",
            b"4",
            b"6",
            b"7",
            b"b",
            b"=",
            b"+",
            b"/",
            b"A",
            b"\x1e",
            b"\xe2\x82\xac",
            b"\xff",
            b"\xc3",
            b"\x00",
            b"QQ==",
        ]
    ),
    max_size=16,
).map(b"".join)
decoder_inputs = st.one_of(
    tricky_text,
    tricky_bytes,
    any_text,
    st.binary(),
    st.builds(bytearray, st.binary(max_size=16)),
    st.builds(memoryview, tricky_bytes),
)


def outcome(func, *args, **kwargs):
    """A comparable result: the return value, or the exception's type and message."""
    try:
        return "ok", func(*args, **kwargs)
    except Exception as exc:  # noqa: BLE001 - compared between implementations
        return "error", type(exc), str(exc)


# --------------------------------------------------------------------------- the module


def test_exports_the_kernel_api(eio_impl):
    assert set(eio_impl.__all__) == API
    assert API <= set(dir(eio_impl))
    assert [
        eio_impl.OPEN,
        eio_impl.CLOSE,
        eio_impl.PING,
        eio_impl.PONG,
        eio_impl.MESSAGE,
        eio_impl.UPGRADE,
        eio_impl.NOOP,
    ] == list(range(7))
    for name in API:
        assert getattr(eio_impl, name) is not None
        if callable(getattr(eio_impl, name)):
            assert getattr(eio_impl, name).__doc__


def test_compiled_module_is_really_compiled(eio_pair):
    compiled, pure = eio_pair
    assert compiled.__file__.endswith(tuple(importlib.machinery.EXTENSION_SUFFIXES))
    assert compiled.CYTHON_COMPILED is True
    for name in ("encode_packet", "decode_packet", "encode_payload", "decode_payload", "compress"):
        func = getattr(compiled, name)
        # a compiled function is a C function object, not a Python function with bytecode
        assert type(func).__name__ in ("cython_function_or_method", "builtin_function_or_method")
        assert not isinstance(func, types.FunctionType)
        assert isinstance(getattr(pure, name), types.FunctionType)
    assert not hasattr(pure, "CYTHON_COMPILED")


# --------------------------------------------------------------------------- protocol examples

OPEN_DATA = (
    '{"sid":"lv_VI97HAXpY6yYWAAAC","upgrades":["websocket"],"pingInterval":25000,'
    '"pingTimeout":20000,"maxPayload":1000000}'
)

# (wire text, packet) for single packets; binary packets in base64 form as in a polling payload
DOC_PACKETS = [
    ("0" + OPEN_DATA, (0, OPEN_DATA)),  # handshake
    ("4hey", (4, "hey")),  # socket.send('hey') from the server
    ("2", (2, None)),  # heartbeat ping
    ("3", (3, None)),  # heartbeat pong
    ("2probe", (2, "probe")),  # upgrade: client probe
    ("3probe", (3, "probe")),  # upgrade: server answer
    ("5", (5, None)),  # upgrade packet
    ("6", (6, None)),  # noop sent to a pending GET during an upgrade
    ("4hello", (4, "hello")),  # WebSocket text frame
    ("bAQIDBA==", (4, b"\x01\x02\x03\x04")),  # buffer <01 02 03 04> as base64
    ("bAQID", (4, b"\x01\x02\x03")),  # engine.io-parser 4.0.0 changelog
    ("1", (1, None)),
]

DOC_PAYLOADS = [
    ("4hello\x1e4world", [(4, "hello"), (4, "world")]),
    ("4hello\x1e2\x1e4world", [(4, "hello"), (2, None), (4, "world")]),
    ("4hello\x1ebAQIDBA==", [(4, "hello"), (4, b"\x01\x02\x03\x04")]),
    ("4hello\x1e4€€€", [(4, "hello"), (4, "€€€")]),  # engine.io-parser 4.0.0 changelog
    ("4hello\x1e4€", [(4, "hello"), (4, "€")]),
    ("4hello\x1ebAQID", [(4, "hello"), (4, b"\x01\x02\x03")]),
    ("2probe\x1e4hello\x1e1", [(2, "probe"), (4, "hello"), (1, None)]),
    (
        '0{"sid":"abc123"}\x1e4user message\x1e2',
        [(0, '{"sid":"abc123"}'), (4, "user message"), (2, None)],
    ),
]


@pytest.mark.parametrize(("wire", "pkt"), DOC_PACKETS)
def test_protocol_document_packets(eio_impl, wire, pkt):
    assert eio_impl.encode_packet(*pkt, b64=True) == wire.encode("utf-8")
    assert eio_impl.decode_packet(wire) == pkt
    assert eio_impl.decode_packet(wire.encode("utf-8")) == pkt


def test_protocol_document_websocket_binary(eio_impl):
    # v4: "Binary payloads are sent as is, without modification" (no type byte, unlike v3)
    assert eio_impl.encode_packet(eio_impl.MESSAGE, b"\x01\x02\x03") == b"\x01\x02\x03"
    assert eio_impl.decode_packet(b"\x01\x02\x03", binary=True) == (4, b"\x01\x02\x03")


@pytest.mark.parametrize(("wire", "pkts"), DOC_PAYLOADS)
def test_protocol_document_payloads(eio_impl, wire, pkts):
    assert eio_impl.encode_payload(pkts) == wire.encode("utf-8")
    assert eio_impl.decode_payload(wire) == pkts
    assert eio_impl.decode_payload(wire.encode("utf-8")) == pkts


# --------------------------------------------------------------------------- behaviour


def test_encode_text_is_utf8(eio_impl):
    assert eio_impl.encode_packet(4, "€") == b"4\xe2\x82\xac"
    assert eio_impl.encode_packet(4, "") == b"4"
    assert eio_impl.encode_packet(3, None) == b"3"
    assert eio_impl.encode_packet(4, "a\x00b") == b"4a\x00b"
    assert type(eio_impl.encode_packet(4, "x")) is bytes


def test_binary_input_types(eio_impl):
    for data in (bytearray(b"\x00\xff"), memoryview(b"\x00\xff")):
        assert eio_impl.encode_packet(4, data) == b"\x00\xff"
        assert type(eio_impl.encode_packet(4, data)) is bytes
        assert eio_impl.encode_packet(4, data, b64=True) == b"bAP8="
        assert eio_impl.decode_packet(data, binary=True) == (4, b"\x00\xff")
    raw = b"\x01\x02"
    assert eio_impl.encode_packet(4, raw) is raw  # no copy for the WebSocket frame path
    assert eio_impl.decode_packet(raw, binary=True)[1] is raw
    assert eio_impl.decode_packet(b"", binary=True) == (4, b"")
    assert eio_impl.encode_packet(4, b"", b64=True) == b"b"
    assert eio_impl.decode_packet("b") == (4, b"")
    assert eio_impl.decode_packet(bytearray(b"4x")) == (4, "x")
    assert eio_impl.decode_payload(memoryview(b"4x\x1e2")) == [(4, "x"), (2, None)]


def test_subclasses_of_str_and_bytes(eio_impl):
    class Text(str):
        pass

    class Raw(bytes):
        pass

    assert eio_impl.encode_packet(4, Text("hé")) == "4hé".encode()
    assert eio_impl.decode_packet(Text("4hé")) == (4, "hé")
    assert eio_impl.decode_packet(Text("bAQ==")) == (4, b"\x01")
    assert eio_impl.decode_payload(Text("4a\x1e4b")) == [(4, "a"), (4, "b")]
    assert eio_impl.decode_packet(Raw(b"4a")) == (4, "a")
    assert type(eio_impl.decode_packet(Raw(b"\x01"), binary=True)[1]) is bytes
    assert type(eio_impl.encode_packet(4, Raw(b"\x01"))) is bytes


def test_payload_packet_limit(eio_impl):
    body = "\x1e".join(["2"] * 5)
    assert len(eio_impl.decode_payload(body, max_packets=5)) == 5
    with pytest.raises(PacketError, match="too many packets"):
        eio_impl.decode_payload(body, max_packets=4)
    assert len(eio_impl.decode_payload("\x1e".join(["6"] * 10_000))) == 10_000
    with pytest.raises(PacketError, match="too many packets"):
        eio_impl.decode_payload(b"\x1e".join([b"6"] * 10_001))
    # counted before anything is decoded: a malformed first packet is not the reported error
    with pytest.raises(PacketError, match="too many packets"):
        eio_impl.decode_payload("X\x1e2\x1e2", max_packets=2)


def test_encode_payload_accepts_any_iterable(eio_impl):
    assert eio_impl.encode_payload([]) == b""
    assert eio_impl.encode_payload(iter([(4, "a"), (2, None)])) == b"4a\x1e2"
    assert eio_impl.encode_payload(((4, "a"), [4, b"\x00"])) == b"4a\x1ebAA=="


def test_encode_payload_snapshots_its_input(eio_impl):
    pkts = []

    class Hostile:
        """A packet that empties the list being encoded while it is unpacked."""

        def __iter__(self):
            pkts.clear()
            return iter((4, "b"))

    pkts.extend([(4, "a"), Hostile(), (4, "c")])
    assert eio_impl.encode_payload(pkts) == b"4a\x1e4b\x1e4c"


# --------------------------------------------------------------------------- bad input

BAD_PACKETS = [
    (b"", "empty"),
    ("", "empty"),
    ("7", "packet type '7'"),
    ("9hello", "packet type '9'"),
    ("xhello", "packet type 'x'"),
    ("€", "packet type '€'"),
    (b"\xe2\x82\xac", r"packet type \(byte 0xe2\)"),
    ("{}", "packet type"),
    ("bA", "base64"),  # not a multiple of 4
    ("bAQID=", "base64"),
    ("bAQ=D", "base64"),  # padding in the middle
    ("bA===", "base64"),
    ("b====", "base64"),
    ("b=AAA", "base64"),
    ("bAQI D", "base64"),  # python-engineio skips characters outside the alphabet; we refuse
    ("bAQ\nI", "base64"),
    ("bAQ-_", "base64"),  # URL-safe alphabet is not Engine.IO's
    ("bAQ€I", "base64"),
    (b"b\xff\xff\xff\xff", "base64"),
    (b"4\xff", "UTF-8"),
    (b"4\xc3", "UTF-8"),  # truncated sequence
    (b"4\xed\xa0\x80", "UTF-8"),  # encoded surrogate
    (b"4\xc0\xaf", "UTF-8"),  # overlong
    (None, "must be str or bytes"),
    (4, "must be str or bytes"),
    (["4hello"], "must be str or bytes"),
    ({"4": 1}, "must be str or bytes"),
]


@pytest.mark.parametrize(("bad", "message"), BAD_PACKETS)
def test_bad_packets_raise_packet_error(eio_impl, bad, message):
    with pytest.raises(PacketError, match=message):
        eio_impl.decode_packet(bad)
    # the same segment inside a payload (the non-str/bytes ones as the whole body)
    if isinstance(bad, str):
        with pytest.raises(PacketError, match=message):
            eio_impl.decode_payload("4ok\x1e" + bad)
    elif isinstance(bad, bytes):
        with pytest.raises(PacketError, match=message):
            eio_impl.decode_payload(b"4ok\x1e" + bad)
    else:
        with pytest.raises(PacketError, match="must be str or bytes"):
            eio_impl.decode_payload(bad)


@pytest.mark.parametrize(
    "body", ["", b"", "\x1e", b"\x1e", "4a\x1e", "\x1e4a", "4a\x1e\x1e4b", b"2\x1e\x1e2"]
)
def test_empty_payload_or_segment(eio_impl, body):
    with pytest.raises(PacketError, match="empty"):
        eio_impl.decode_payload(body)


@pytest.mark.parametrize("bad", ["x", 4, None, b"\x01", bytearray(b"")])
def test_binary_frame_must_be_bytes(eio_impl, bad):
    if isinstance(bad, (bytes, bytearray)):
        assert eio_impl.decode_packet(bad, binary=True) == (4, bytes(bad))
    else:
        with pytest.raises(PacketError, match="must be bytes"):
            eio_impl.decode_packet(bad, binary=True)


@pytest.mark.parametrize("packet_type", [7, -1, 2**70, -(2**70), "4", 4.0, None, b"4"])
def test_encode_rejects_bad_packet_types(eio_impl, packet_type):
    with pytest.raises(PacketError, match="invalid Engine.IO packet type"):
        eio_impl.encode_packet(packet_type, "x")
    with pytest.raises(PacketError, match="invalid Engine.IO packet type"):
        eio_impl.encode_payload([(4, "ok"), (packet_type, None)])


def test_encode_errors(eio_impl):
    # python-engineio raises ValueError for binary non-MESSAGE packets: PacketError is one
    for t in (0, 1, 2, 3, 5, 6):
        with pytest.raises(PacketError, match="only be of type MESSAGE"):
            eio_impl.encode_packet(t, b"x")
        with pytest.raises(ValueError):
            eio_impl.encode_payload([(t, b"x")])
    for data in (1, 1.5, {"a": 1}, ["x"], object()):
        with pytest.raises(TypeError, match="must be str, bytes or None"):
            eio_impl.encode_packet(4, data)
        with pytest.raises(TypeError, match="must be str, bytes or None"):
            eio_impl.encode_payload([(4, data)])
    with pytest.raises(PacketError, match="not encodable as UTF-8"):
        eio_impl.encode_packet(4, "a\ud800")
    with pytest.raises(PacketError, match="not encodable as UTF-8"):
        eio_impl.encode_payload([(4, "ok"), (4, "\udfff")])
    for shape in ([4], (4, "a", "b"), 4, None):
        with pytest.raises((TypeError, ValueError)):
            eio_impl.encode_payload([shape])


# --------------------------------------------------------------------------- python-engineio


class _NoJson:
    """python-engineio JSON-decodes text packets; the kernel leaves that to the caller."""

    @staticmethod
    def loads(_text):
        raise ValueError("raw text wanted")


@contextlib.contextmanager
def engineio_raw_text():
    saved = eio_packet.Packet.json
    eio_packet.Packet.json = _NoJson
    try:
        yield
    finally:
        eio_packet.Packet.json = saved


def oracle_encode_packet(packet_type, data, b64):
    encoded = eio_packet.Packet(packet_type, data).encode(b64=b64)
    return encoded if isinstance(encoded, bytes) else encoded.encode("utf-8")


def oracle_decode_packet(encoded):
    with engineio_raw_text():
        pkt = eio_packet.Packet(encoded_packet=encoded)
    return normalized((pkt.packet_type, pkt.data))


def oracle_encode_payload(pkts):
    return (
        eio_payload.Payload(packets=[eio_packet.Packet(t, data) for t, data in pkts])
        .encode()
        .encode("utf-8")
    )


def oracle_decode_payload(body):
    with engineio_raw_text():
        decoded = eio_payload.Payload(encoded_payload=body)
    return [normalized((p.packet_type, p.data)) for p in decoded.packets]


@given(pkt=packets(text=st.text()), b64=st.booleans())
@PROPS
def test_encode_packet_matches_python_engineio(eio_impl, pkt, b64):
    packet_type, data = pkt
    assert eio_impl.encode_packet(packet_type, data, b64=b64) == oracle_encode_packet(
        packet_type, data, b64
    )


@given(pkts=st.lists(packets(text=st.text()), max_size=16))
@PROPS
def test_encode_payload_matches_python_engineio(eio_impl, pkts):
    # \x1e in text is passed through unescaped by both, as by engine.io-parser
    assert eio_impl.encode_payload(pkts) == oracle_encode_payload(pkts)


@given(pkt=packets())
@PROPS
def test_decode_packet_matches_python_engineio(eio_impl, pkt):
    wire = oracle_encode_packet(*pkt, b64=True).decode("utf-8")
    assert eio_impl.decode_packet(wire) == oracle_decode_packet(wire) == normalized(pkt)
    assert eio_impl.decode_packet(wire.encode("utf-8")) == normalized(pkt)


@given(pkts=st.lists(packets(), min_size=1, max_size=16))
@PROPS
def test_decode_payload_matches_python_engineio(eio_impl, pkts):
    body = oracle_encode_payload(pkts)
    expected = [normalized(p) for p in pkts]
    assert oracle_decode_payload(body.decode("utf-8")) == expected
    assert eio_impl.decode_payload(body) == expected
    assert eio_impl.decode_payload(body.decode("utf-8")) == expected


def test_python_engineio_differences(eio_impl):
    """Deliberate differences from python-engineio, each following the protocol instead."""
    with engineio_raw_text():
        # it accepts any digit as a packet type; v4 has types 0-6 only
        assert eio_packet.Packet(encoded_packet="9x").packet_type == 9
        # it base64-decodes leniently, dropping characters outside the alphabet
        assert eio_packet.Packet(encoded_packet="bAQ I=").data == b"\x01\x02"
        # an empty POST body decodes to no packets; engine.io-parser reports a parse error
        assert eio_payload.Payload(encoded_payload="").packets == []
    for bad in ("9x", "bAQ I="):
        with pytest.raises(PacketError):
            eio_impl.decode_packet(bad)
    with pytest.raises(PacketError):
        eio_impl.decode_payload("")
    # it JSON-decodes text data ("4{}" gives a dict); the kernel returns the text
    assert eio_packet.Packet(encoded_packet="4[1]").data == [1]
    assert eio_impl.decode_packet("4[1]") == (4, "[1]")
    # it keeps "" for a packet without data; the kernel gives None
    assert eio_impl.decode_packet("4") == (4, None)


# --------------------------------------------------------------------------- round trips


@given(pkt=packets(), b64=st.booleans())
@PROPS
def test_packet_round_trip(eio_impl, pkt, b64):
    encoded = eio_impl.encode_packet(*pkt, b64=b64)
    binary_frame = isinstance(pkt[1], bytes) and not b64
    assert eio_impl.decode_packet(encoded, binary=binary_frame) == normalized(pkt)
    if not binary_frame:
        assert eio_impl.decode_packet(encoded.decode("utf-8")) == normalized(pkt)


@given(pkts=st.lists(packets(), min_size=1, max_size=20))
@PROPS
def test_payload_round_trip(eio_impl, pkts):
    body = eio_impl.encode_payload(pkts)
    assert body == b"\x1e".join(eio_impl.encode_packet(t, d, b64=True) for t, d in pkts)
    assert eio_impl.decode_payload(body) == [normalized(p) for p in pkts]
    assert eio_impl.decode_payload(body.decode("utf-8")) == [normalized(p) for p in pkts]


# --------------------------------------------------------------------------- compiled == pure

encode_types = st.one_of(
    st.integers(-2, 9), st.sampled_from([True, False, 4.0, "4", None, 2**70, -(2**70)])
)
encode_data = st.one_of(
    st.none(),
    any_text,
    st.binary(max_size=40),
    st.builds(bytearray, st.binary(max_size=8)),
    st.integers(),
    st.just({"a": 1}),
)


@given(packet_type=encode_types, data=encode_data, b64=st.booleans())
@PROPS
def test_pair_encode_packet(eio_pair, packet_type, data, b64):
    compiled, pure = eio_pair
    assert outcome(compiled.encode_packet, packet_type, data, b64) == outcome(
        pure.encode_packet, packet_type, data, b64
    )


@given(pkts=st.lists(st.tuples(encode_types, encode_data), max_size=6))
@PROPS
def test_pair_encode_payload(eio_pair, pkts):
    compiled, pure = eio_pair
    assert outcome(compiled.encode_payload, pkts) == outcome(pure.encode_payload, pkts)


@given(data=st.one_of(decoder_inputs, st.integers(), st.none()), binary=st.booleans())
@PROPS
def test_pair_decode_packet(eio_pair, data, binary):
    compiled, pure = eio_pair
    result = outcome(compiled.decode_packet, data, binary)
    assert result == outcome(pure.decode_packet, data, binary)
    assert result[0] == "ok" or result[1] is PacketError


@given(body=st.one_of(decoder_inputs, st.integers(), st.none()), limit=st.integers(0, 12))
@PROPS
def test_pair_decode_payload(eio_pair, body, limit):
    compiled, pure = eio_pair
    result = outcome(compiled.decode_payload, body, limit)
    assert result == outcome(pure.decode_payload, body, limit)
    assert result[0] == "ok" or result[1] is PacketError
