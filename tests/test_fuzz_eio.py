"""Fuzzing the Engine.IO decoders: whatever a peer sends, only PacketError escapes.

The number of examples per test comes from ``FASTSOCK_FUZZ_EXAMPLES`` (default 300 so the
normal suite stays fast); a long run::

    FASTSOCK_FUZZ_EXAMPLES=100000 pytest tests/test_fuzz_eio.py -p no:cacheprovider -q
"""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fastsock.exceptions import PacketError

EXAMPLES = int(os.environ.get("FASTSOCK_FUZZ_EXAMPLES", "300"))
# A long fuzz run needs more than the suite's per-test timeout: allow 100 ms per example.
pytestmark = pytest.mark.timeout(max(300, EXAMPLES // 10))

FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# Fragments near the grammar (type digits, the base64 prefix and alphabet, padding, the record
# separator, multi-byte, truncated and invalid UTF-8) so that random input gets past the first
# check often, plus fully arbitrary bytes and text (surrogates included).
_FRAGMENTS = [
    b"0",
    b"1",
    b"2",
    b"3",
    b"4",
    b"5",
    b"6",
    b"7",
    b"9",
    b"b",
    b"=",
    b"==",
    b"+",
    b"/",
    b"A",
    b"QUJD",
    b"\x1e",
    b"\x1e\x1e",
    b"probe",
    b"{}",
    b"\xe2\x82\xac",
    b"\xe2\x82",
    b"\xff",
    b"\xc0\xaf",
    b"\xed\xa0\x80",
    b"\xf4\x90\x80\x80",
    b"\x00",
    b" ",
    b"\n",
]
near_bytes = st.lists(st.sampled_from(_FRAGMENTS), max_size=40).map(b"".join)
near_text = near_bytes.map(lambda b: b.decode("utf-8", "surrogateescape"))
any_text = st.text(st.characters(blacklist_categories=()))
inputs = st.one_of(
    near_bytes,
    near_text,
    st.binary(max_size=200),
    any_text,
    st.builds(bytearray, near_bytes),
    st.builds(memoryview, near_bytes),
    st.sampled_from([None, 0, 4, 4.0, [], ["4x"], {}, object()]),
)


def _check_packet(packet_type, data):
    assert 0 <= packet_type <= 6
    assert data is None or isinstance(data, (str, bytes))
    assert not isinstance(data, bytes) or packet_type == 4
    assert data != ""


@given(encoded=inputs, binary=st.booleans())
@FUZZ
def test_fuzz_decode_packet(eio_impl, encoded, binary):
    try:
        result = eio_impl.decode_packet(encoded, binary=binary)
    except PacketError:
        return
    packet_type, data = result
    if binary:
        assert result == (4, bytes(encoded))
    else:
        _check_packet(packet_type, data)


@given(body=inputs, max_packets=st.one_of(st.just(10_000), st.integers(0, 12)))
@FUZZ
def test_fuzz_decode_payload(eio_impl, body, max_packets):
    try:
        packets = eio_impl.decode_payload(body, max_packets=max_packets)
    except PacketError:
        return
    assert 1 <= len(packets) <= max_packets
    for packet_type, data in packets:
        _check_packet(packet_type, data)
