"""Fuzzing ``FrameParser.feed``: arbitrary bytes, arbitrarily split, on both implementations.

Only ``WebSocketError`` may escape, items are well formed, a failed parser stays failed, and
nothing hangs. ``FASTSOCK_FUZZ_EXAMPLES`` sets the number of examples (default 300), e.g.

    FASTSOCK_FUZZ_EXAMPLES=100000 pytest tests/test_fuzz_ws.py -k "c]"
"""

from __future__ import annotations

import faulthandler
import os
import struct

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fastsock.exceptions import WebSocketError

EXAMPLES = int(os.environ.get("FASTSOCK_FUZZ_EXAMPLES", "300"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)
# One example parses at most a few hundred KB: far below this unless the parser loops forever.
HANG_SECONDS = 60
# pytest-timeout's default budget per test is for ordinary tests; a long fuzz run gets one in
# proportion to its examples (generation dominates: a few ms each on a busy machine).
TIME_BUDGET = pytest.mark.timeout(max(300, EXAMPLES // 10))


@st.composite
def frame_like(draw):
    """Bytes shaped like a frame: any first byte, a length field of any width (often a lie),
    a mask or not, then some payload."""
    b0 = draw(
        st.one_of(
            st.sampled_from([0x00, 0x01, 0x02, 0x80, 0x81, 0x82, 0x88, 0x89, 0x8A]),
            st.integers(0, 255),
        )
    )
    masked = draw(st.booleans())
    payload = draw(
        st.one_of(
            st.binary(max_size=140),
            st.text(max_size=40).map(str.encode),
            st.builds(
                lambda code, reason: code.to_bytes(2, "big") + reason,
                st.integers(0, 65535),
                st.binary(max_size=10),
            ),
        )
    )
    length = draw(
        st.one_of(
            st.just(len(payload)),
            st.integers(0, 125),
            st.sampled_from([126, 127, 65535, 65536, 1_000_000, 1_000_001, (1 << 63) - 1, 1 << 63]),
            st.integers(0, (1 << 64) - 1),
        )
    )
    width = draw(st.sampled_from(["auto", "16", "64"]))
    b1 = 0x80 if masked else 0
    if width == "16" or (width == "auto" and 126 <= length < 0x10000):
        header = struct.pack("!BBH", b0, b1 | 126, length & 0xFFFF)
    elif width == "64" or length >= 0x10000:
        header = struct.pack("!BBQ", b0, b1 | 127, length)
    else:
        header = struct.pack("!BB", b0, b1 | length)
    if masked:
        header += draw(st.binary(min_size=4, max_size=4))
    return header + payload


@st.composite
def valid_frame(draw, b0=None):
    """A well-formed client frame (perhaps out of place in its stream), to reach deep states."""
    if b0 is None:
        b0 = draw(st.sampled_from([0x01, 0x02, 0x00, 0x80, 0x81, 0x82, 0x88, 0x89, 0x8A]))
    if b0 == 0x88:
        payload = draw(
            st.one_of(
                st.just(b""),
                st.builds(
                    lambda code, reason: code.to_bytes(2, "big") + reason.encode(),
                    st.sampled_from([1000, 1001, 1014, 3000, 4999]),
                    st.text(max_size=20),
                ),
            )
        )
    elif b0 >= 0x88:
        payload = draw(st.binary(max_size=125))
    else:
        payload = draw(st.one_of(st.text(max_size=60).map(str.encode), st.binary(max_size=300)))
    length = len(payload)
    if length < 126:
        header = struct.pack("!BB", b0, 0x80 | length)
    else:
        header = struct.pack("!BBH", b0, 0x80 | 126, length)
    mask = draw(st.binary(min_size=4, max_size=4))
    return header + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


@st.composite
def fragmented_message(draw):
    """A whole fragmented message, maybe with a control frame between its fragments."""
    frames = [draw(valid_frame(draw(st.sampled_from([0x01, 0x02]))))]
    for _ in range(draw(st.integers(0, 3))):
        if draw(st.booleans()):
            frames.append(draw(valid_frame(draw(st.sampled_from([0x89, 0x8A])))))
        frames.append(draw(valid_frame(0x00)))
    frames.append(draw(valid_frame(0x80)))
    return b"".join(frames)


@st.composite
def fuzz_input(draw):
    """(stream, split points): valid and frame-like pieces and raw garbage, then bit flips."""
    pieces = st.one_of(
        valid_frame(), fragmented_message(), valid_frame(), frame_like(), st.binary(max_size=64)
    )
    stream = bytearray(b"".join(draw(st.lists(pieces, max_size=10))))
    for index, bit in draw(
        st.lists(st.tuples(st.integers(0, 1 << 20), st.integers(0, 7)), max_size=3)
    ):
        if stream:
            stream[index % len(stream)] ^= 1 << bit
    cuts = sorted(draw(st.lists(st.integers(0, len(stream)), max_size=12)))
    return bytes(stream), [0, *cuts, len(stream)]


parser_options = st.fixed_dictionaries(
    {
        "max_message_size": st.sampled_from([1_000_000, 0, 1, 125, 70_000, 1_000_000, 1 << 62]),
        "require_mask": st.booleans(),
    }
)

ITEM_TYPES = {1: str, 2: bytes, 9: bytes, 10: bytes}


def _check_item(item) -> None:
    assert type(item) is tuple and len(item) == 2
    opcode, payload = item
    if opcode == 8:
        code, reason = payload
        assert code is None or 1000 <= code <= 4999
        assert type(reason) is str
    else:
        assert type(payload) is ITEM_TYPES[opcode]


def _feed_pieces(parser, stream: bytes, bounds: list[int]) -> list:
    """Feed the pieces; check every outcome; return a trace to compare implementations."""
    trace = []
    failed = closed = False
    for a, b in zip(bounds, bounds[1:]):
        try:
            items = parser.feed(stream[a:b])
        except WebSocketError as exc:
            assert exc.close_code in (1002, 1007, 1009)
            assert str(exc)
            for item in exc.items:
                _check_item(item)
            failed = True
            trace.append(("error", str(exc), exc.close_code, exc.items))
            continue
        assert not failed, "a failed parser accepted more input"
        assert not closed or not items, "items after a close frame"
        for item in items:
            _check_item(item)
            closed = closed or item[0] == 8
        trace.append(("items", items))
    return trace


def _guarded(run):
    faulthandler.dump_traceback_later(HANG_SECONDS, exit=True)
    try:
        return run()
    finally:
        faulthandler.cancel_dump_traceback_later()


@TIME_BUDGET
@FUZZ
@given(case=fuzz_input(), options=parser_options)
def test_fuzz_feed(ws_impl, case, options):
    stream, bounds = case
    _guarded(lambda: _feed_pieces(ws_impl.FrameParser(**options), stream, bounds))


@TIME_BUDGET
@FUZZ
@given(case=fuzz_input(), options=parser_options)
def test_fuzz_compiled_equals_pure(ws_pair, case, options):
    stream, bounds = case
    traces = [
        _guarded(lambda impl=impl: _feed_pieces(impl.FrameParser(**options), stream, bounds))
        for impl in ws_pair
    ]
    assert traces[0] == traces[1]
