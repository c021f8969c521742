"""The ``ws`` kernel (RFC 6455 frames), on both implementations: RFC examples, every protocol
violation with its close code, limits, refusal after close or error, compiled build checks.

Properties (split invariance, wsproto as an oracle, compiled == pure) are in
``test_kernel_ws_properties.py``.
"""

from __future__ import annotations

import struct
import tracemalloc

import pytest

from fastsock.exceptions import WebSocketError

MASK = b"\x37\xfa\x21\x3d"  # the masking key of the RFC 6455 §5.7 examples


def raw_frame(b0: int, payload: bytes = b"", mask: bytes | None = MASK, length=None) -> bytes:
    """Any frame, valid or not: ``b0`` is FIN|RSV|opcode, ``length`` forces the length field
    (an int for the 7-bit field, or ``("16"|"64", value)`` for an extended one)."""
    b1 = 0x80 if mask is not None else 0
    n = len(payload) if length is None else length
    if isinstance(n, tuple):
        kind, value = n
        header = (
            struct.pack("!BBH", b0, b1 | 126, value)
            if kind == "16"
            else struct.pack("!BBQ", b0, b1 | 127, value)
        )
    elif n < 126:
        header = struct.pack("!BB", b0, b1 | n)
    elif n < 0x10000:
        header = struct.pack("!BBH", b0, b1 | 126, n)
    else:
        header = struct.pack("!BBQ", b0, b1 | 127, n)
    if mask is None:
        return header + payload
    return header + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


def feed_all(parser, data: bytes, step: int | None = None) -> list:
    """Feed ``data`` whole, or ``step`` bytes at a time; return every item."""
    if step is None:
        return list(parser.feed(data))
    items = []
    for i in range(0, len(data), step):
        items.extend(parser.feed(data[i : i + step]))
    return items


def expect_error(parser, data: bytes, code: int, match: str | None = None) -> WebSocketError:
    with pytest.raises(WebSocketError, match=match) as info:
        parser.feed(data)
    assert info.value.close_code == code
    return info.value


# ---------------------------------------------------------------------------------------------
# building frames


def test_constants(ws_impl):
    assert (ws_impl.CONTINUATION, ws_impl.TEXT, ws_impl.BINARY) == (0, 1, 2)
    assert (ws_impl.CLOSE, ws_impl.PING, ws_impl.PONG) == (8, 9, 10)


def test_rfc_examples_built(ws_impl):
    """RFC 6455 §5.7, byte for byte."""
    ws = ws_impl
    assert ws.build_frame(ws.TEXT, "Hello") == bytes.fromhex("810548656c6c6f")
    assert ws.build_frame(ws.TEXT, b"Hello", mask=MASK) == bytes.fromhex("818537fa213d7f9f4d5158")
    assert ws.build_frame(ws.TEXT, "Hel", fin=False) == bytes.fromhex("010348656c")
    assert ws.build_frame(ws.CONTINUATION, "lo") == bytes.fromhex("80026c6f")
    assert ws.build_frame(ws.PING, b"Hello") == bytes.fromhex("890548656c6c6f")
    assert ws.build_frame(ws.PONG, b"Hello", mask=MASK) == bytes.fromhex("8a8537fa213d7f9f4d5158")
    data = bytes(range(256))
    assert ws.build_frame(ws.BINARY, data) == b"\x82\x7e\x01\x00" + data
    data = bytes(65536)
    assert ws.build_frame(ws.BINARY, data) == b"\x82\x7f" + (65536).to_bytes(8, "big") + data


@pytest.mark.parametrize(
    "length, header",
    [
        (0, b"\x82\x00"),
        (125, b"\x82\x7d"),
        (126, b"\x82\x7e\x00\x7e"),
        (65535, b"\x82\x7e\xff\xff"),
        (65536, b"\x82\x7f\x00\x00\x00\x00\x00\x01\x00\x00"),
    ],
)
def test_length_encodings(ws_impl, length, header):
    payload = bytes(i % 251 for i in range(length))
    assert ws_impl.build_frame(ws_impl.BINARY, payload) == header + payload
    masked = ws_impl.build_frame(ws_impl.BINARY, payload, mask=MASK)
    masked_header = bytes([header[0], header[1] | 0x80]) + header[2:]
    assert masked == raw_frame(header[0], payload)
    assert masked[: len(header) + 4] == masked_header + MASK


def test_build_options(ws_impl):
    ws = ws_impl
    assert ws.build_frame(ws.BINARY, b"z", rsv1=True) == b"\xc2\x01z"
    assert ws.build_frame(ws.BINARY, b"z", fin=False, rsv1=True) == b"\x42\x01z"
    assert ws.build_frame(ws.TEXT, "é") == b"\x81\x02\xc3\xa9"
    assert ws.build_frame(ws.BINARY, bytearray(b"ab")) == b"\x82\x02ab"
    assert ws.build_frame(ws.BINARY, memoryview(b"ab")) == b"\x82\x02ab"
    assert ws.build_frame(ws.BINARY, b"ab", mask=bytearray(MASK)) == raw_frame(0x82, b"ab")
    assert ws.build_frame(ws.PING) == b"\x89\x00"
    assert ws.build_frame(ws.PONG, b"x" * 125)[:2] == b"\x8a\x7d"
    assert ws.build_frame(3, b"") == b"\x83\x00"  # reserved opcodes are encodable (for tests)
    assert type(ws.build_frame(ws.TEXT, "x")) is bytes


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"opcode": 16}, "4 bits"),
        ({"opcode": -1}, "4 bits"),
        ({"opcode": 9, "payload": b"x" * 126}, "125"),
        ({"opcode": 8, "fin": False}, "fragmented"),
        ({"opcode": 2, "mask": b"abc"}, "4 bytes"),
        ({"opcode": 2, "mask": b"abcde"}, "4 bytes"),
    ],
)
def test_build_frame_rejects(ws_impl, kwargs, match):
    with pytest.raises(ValueError, match=match):
        ws_impl.build_frame(**kwargs)


def test_build_frame_type_errors(ws_impl):
    with pytest.raises(TypeError):
        ws_impl.build_frame(ws_impl.BINARY, 5)
    with pytest.raises(TypeError):
        ws_impl.build_frame(ws_impl.BINARY, b"", mask=4)


def test_build_close(ws_impl):
    ws = ws_impl
    assert ws.build_close() == b"\x88\x02\x03\xe8"
    assert ws.build_close(1001, "bye") == b"\x88\x05\x03\xe9bye"
    assert ws.build_close(4999, "é") == b"\x88\x04\x13\x87\xc3\xa9"
    assert len(ws.build_close(1000, "x" * 123)) == 127
    with pytest.raises(ValueError):
        ws.build_close(1000, "x" * 124)
    for code in (0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, 70000, -1):
        with pytest.raises(ValueError, match="may not be sent"):
            ws.build_close(code)


def test_accept_key(ws_impl):
    # RFC 6455 §1.3
    assert ws_impl.accept_key("dGhlIHNhbXBsZSBub25jZQ==") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
    assert ws_impl.accept_key(b"dGhlIHNhbXBsZSBub25jZQ==") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="


# ---------------------------------------------------------------------------------------------
# parsing valid streams


def test_rfc_examples_parsed(ws_impl):
    ws = ws_impl
    parser = ws.FrameParser()
    assert parser.feed(bytes.fromhex("818537fa213d7f9f4d5158")) == [(ws.TEXT, "Hello")]
    assert parser.feed(bytes.fromhex("8a8537fa213d7f9f4d5158")) == [(ws.PONG, b"Hello")]
    server = ws.FrameParser(require_mask=False)
    stream = bytes.fromhex("810548656c6c6f010348656c890548656c6c6f80026c6f")
    assert server.feed(stream) == [(ws.TEXT, "Hello"), (ws.PING, b"Hello"), (ws.TEXT, "Hello")]
    data = bytes(range(256)) * 256
    assert server.feed(ws.build_frame(ws.BINARY, data)) == [(ws.BINARY, data)]


def test_masked_text_and_binary(ws_impl):
    ws = ws_impl
    parser = ws.FrameParser()
    stream = (
        raw_frame(0x81, "héllo ✓".encode())
        + raw_frame(0x82, b"\x00\xff" * 100)
        + raw_frame(0x81, b"")
        + raw_frame(0x82, b"")
        + raw_frame(0x89, b"")
        + raw_frame(0x82, bytes(70000))
    )
    expected = [
        (ws.TEXT, "héllo ✓"),
        (ws.BINARY, b"\x00\xff" * 100),
        (ws.TEXT, ""),
        (ws.BINARY, b""),
        (ws.PING, b""),
        (ws.BINARY, bytes(70000)),
    ]
    assert parser.feed(stream) == expected
    for step in (1, 2, 3, 7, 13, 1000):
        assert feed_all(ws.FrameParser(), stream, step) == expected
    for item in expected:
        assert type(item[1]) in (str, bytes)


def test_item_types(ws_impl):
    ws = ws_impl
    items = ws.FrameParser().feed(
        raw_frame(0x82, b"ab") + raw_frame(0x89, b"p") + raw_frame(0x8A, b"q")
    )
    assert [type(payload) for _, payload in items] == [bytes, bytes, bytes]


def test_feed_accepts_buffers(ws_impl):
    ws = ws_impl
    frame = raw_frame(0x81, b"hi")
    assert ws.FrameParser().feed(bytearray(frame)) == [(ws.TEXT, "hi")]
    assert ws.FrameParser().feed(memoryview(frame)) == [(ws.TEXT, "hi")]
    with pytest.raises(TypeError):
        ws.FrameParser().feed("text")


def test_fragmentation_with_interleaved_control(ws_impl):
    ws = ws_impl
    euro = "€".encode()  # split across fragments in the middle of the character
    stream = (
        raw_frame(0x01, b"a" + euro[:1])
        + raw_frame(0x89, b"ping")
        + raw_frame(0x00, euro[1:2])
        + raw_frame(0x8A, b"pong")
        + raw_frame(0x00, b"")
        + raw_frame(0x80, euro[2:] + b"z")
        + raw_frame(0x02, b"bin")
        + raw_frame(0x89, b"")
        + raw_frame(0x80, b"ary")
        + raw_frame(0x81, b"next")
        + raw_frame(0x88, b"\x03\xe8done")
    )
    expected = [
        (ws.PING, b"ping"),
        (ws.PONG, b"pong"),
        (ws.TEXT, "a€z"),
        (ws.PING, b""),
        (ws.BINARY, b"binary"),
        (ws.TEXT, "next"),
        (ws.CLOSE, (1000, "done")),
    ]
    assert ws.FrameParser().feed(stream) == expected
    for step in (1, 5, 9):
        assert feed_all(ws.FrameParser(), stream, step) == expected


def test_require_mask_false_accepts_both(ws_impl):
    ws = ws_impl
    parser = ws.FrameParser(require_mask=False)
    stream = raw_frame(0x81, b"m") + raw_frame(0x81, b"u", mask=None)
    assert parser.feed(stream) == [(ws.TEXT, "m"), (ws.TEXT, "u")]


def test_close_items(ws_impl):
    ws = ws_impl
    assert ws.FrameParser().feed(raw_frame(0x88)) == [(ws.CLOSE, (None, ""))]
    for code in (
        1000,
        1001,
        1002,
        1003,
        1007,
        1008,
        1009,
        1010,
        1011,
        1012,
        1013,
        1014,
        3000,
        3999,
        4000,
        4999,
    ):
        payload = code.to_bytes(2, "big") + "ok ✓".encode()
        assert ws.FrameParser().feed(raw_frame(0x88, payload)) == [(ws.CLOSE, (code, "ok ✓"))]


def test_max_message_size_boundaries(ws_impl):
    ws = ws_impl
    assert ws.FrameParser(max_message_size=10).feed(raw_frame(0x82, bytes(10))) == [
        (ws.BINARY, bytes(10))
    ]
    expect_error(ws.FrameParser(max_message_size=10), raw_frame(0x82, bytes(11)), 1009)
    # Fragments count together; control frames do not count.
    parser = ws.FrameParser(max_message_size=10)
    assert parser.feed(raw_frame(0x02, bytes(6)) + raw_frame(0x89, bytes(100))) == [
        (ws.PING, bytes(100))
    ]
    assert parser.feed(raw_frame(0x00, bytes(4), mask=MASK)[:6]) == []
    assert parser.feed(raw_frame(0x00, bytes(4))[6:]) == []
    expect_error(parser, raw_frame(0x80, bytes(1)), 1009, "larger than the limit of 10 bytes")
    # A new message starts counting from zero.
    parser = ws.FrameParser(max_message_size=4)
    assert parser.feed(raw_frame(0x81, b"abcd") * 3) == [(ws.TEXT, "abcd")] * 3
    assert ws.FrameParser(max_message_size=0).feed(raw_frame(0x81)) == [(ws.TEXT, "")]
    with pytest.raises(ValueError):
        ws.FrameParser(max_message_size=-1)


def test_max_message_size_from_header_alone(ws_impl):
    """Only the header of a huge frame is fed: refused at once, nothing buffered."""
    ws = ws_impl
    for length in (1_000_001, 1 << 40, (1 << 63) - 1):
        header = raw_frame(0x82, length=length)
        expect_error(ws.FrameParser(), header, 1009)
        parser = ws.FrameParser()
        assert parser.feed(header[:3]) == []
        expect_error(parser, header[3:], 1009)


def test_memory_grows_with_received_bytes_not_announced_length(ws_impl):
    ws = ws_impl
    parser = ws.FrameParser(max_message_size=1 << 30)
    tracemalloc.start()
    try:
        assert parser.feed(raw_frame(0x82, length=50_000_000) + b"x" * 100) == []
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 1_000_000


# ---------------------------------------------------------------------------------------------
# violations


VIOLATIONS = [
    # (name, stream, close code)
    ("unmasked", raw_frame(0x81, b"hi", mask=None), 1002),
    ("rsv1", raw_frame(0xC1, b"hi"), 1002),
    ("rsv2", raw_frame(0xA1, b"hi"), 1002),
    ("rsv3", raw_frame(0x91, b"hi"), 1002),
    *[(f"opcode {op}", raw_frame(0x80 | op), 1002) for op in (3, 4, 5, 6, 7, 11, 12, 13, 14, 15)],
    ("fragmented ping", raw_frame(0x09, b"x"), 1002),
    ("fragmented close", raw_frame(0x08, b"\x03\xe8"), 1002),
    ("ping of 126 bytes", raw_frame(0x89, bytes(126)), 1002),
    ("pong 16-bit length 10", raw_frame(0x8A, bytes(10), length=("16", 10)), 1002),
    ("continuation first", raw_frame(0x80, b"x"), 1002),
    ("unfinished continuation first", raw_frame(0x00, b"x"), 1002),
    ("text inside fragmented", raw_frame(0x01, b"a") + raw_frame(0x81, b"b"), 1002),
    ("binary inside fragmented", raw_frame(0x02, b"a") + raw_frame(0x02, b"b"), 1002),
    ("64-bit length msb", raw_frame(0x82, length=("64", 1 << 63)), 1002),
    ("64-bit length all ones", raw_frame(0x82, length=("64", (1 << 64) - 1)), 1002),
    ("close of 1 byte", raw_frame(0x88, b"\x03"), 1002),
    *[
        (f"close code {code}", raw_frame(0x88, code.to_bytes(2, "big")), 1002)
        for code in (0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535)
    ],
    ("invalid utf-8 text", raw_frame(0x81, b"\xff"), 1007),
    ("surrogate in text", raw_frame(0x81, b"\xed\xa0\x80"), 1007),
    ("truncated utf-8 text", raw_frame(0x81, b"ab\xe2\x82"), 1007),
    ("invalid utf-8 fragment", raw_frame(0x01, b"ok\xc0\xaf"), 1007),
    ("truncated utf-8 at end", raw_frame(0x01, b"\xe2") + raw_frame(0x80, b"\x82"), 1007),
    ("invalid utf-8 close reason", raw_frame(0x88, b"\x03\xe8\xff"), 1007),
    ("too big", raw_frame(0x82, length=1_000_001), 1009),
    ("too big text", raw_frame(0x81, length=("64", 5_000_000)), 1009),
    ("data after close", raw_frame(0x88) + raw_frame(0x81, b"late"), 1002),
]


@pytest.mark.parametrize(
    "stream, code", [v[1:] for v in VIOLATIONS], ids=[v[0] for v in VIOLATIONS]
)
def test_violation(ws_impl, stream, code):
    err = expect_error(ws_impl.FrameParser(), stream, code)
    assert str(err)
    # Split into single bytes: the same error, never a different one.
    parser = ws_impl.FrameParser()
    with pytest.raises(WebSocketError) as info:
        feed_all(parser, stream, 1)
    assert info.value.close_code == code
    assert str(info.value) == str(err)


def test_fragmented_utf8_fails_fast(ws_impl):
    """Bad UTF-8 in a first fragment fails before the message ends."""
    err = expect_error(ws_impl.FrameParser(), raw_frame(0x01, b"\xff"), 1007, "UTF-8")
    assert err.items == []


def test_refuses_input_after_error(ws_impl):
    ws = ws_impl
    parser = ws.FrameParser()
    first = raw_frame(0x81, b"ok")
    err = expect_error(parser, first + raw_frame(0x81, b"\xff") + first, 1007)
    assert err.items == [(ws.TEXT, "ok")]  # completed before the violation
    for data in (first, b""):
        again = expect_error(parser, data, 1007, "already failed")
        assert again.items == []


def test_refuses_input_after_close(ws_impl):
    ws = ws_impl
    parser = ws.FrameParser()
    assert parser.feed(raw_frame(0x01, b"part") + raw_frame(0x88, b"\x03\xe9")) == [
        (ws.CLOSE, (1001, ""))
    ]
    assert parser.feed(b"") == []
    expect_error(parser, b"\x81", 1002, "after a close frame")
    expect_error(parser, b"", 1002, "already failed")
    # Trailing bytes in the same call as the close frame: the close item travels on the error.
    err = expect_error(ws.FrameParser(), raw_frame(0x88) + b"\x00", 1002)
    assert err.items == [(ws.CLOSE, (None, ""))]


def test_no_instance_dict(ws_impl):
    parser = ws_impl.FrameParser()
    assert not hasattr(parser, "__dict__")
    with pytest.raises(AttributeError):
        parser.anything = 1


def test_compiled_module_is_compiled(ws_pair):
    compiled, pure = ws_pair
    assert compiled.CYTHON_COMPILED is True
    assert compiled.__file__.endswith((".so", ".pyd"))
    assert sorted(compiled.__all__) == sorted(pure.__all__)
    for name in pure.__all__:
        assert hasattr(compiled, name), name
