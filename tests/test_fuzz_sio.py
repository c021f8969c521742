"""Fuzzing the Socket.IO decoders: whatever a peer sends, only ``PacketError`` escapes.

The number of examples per test comes from ``FASTSOCK_FUZZ_EXAMPLES`` (default 300), e.g.::

    FASTSOCK_FUZZ_EXAMPLES=100000 pytest tests/test_fuzz_sio.py -p no:cacheprovider
"""

import os

import msgpack
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
    suppress_health_check=list(HealthCheck),
)

# Text that looks like a packet often enough to get past the header into JSON and placeholders.
HEADER = st.sampled_from(["", "0", "1", "2", "3", "4", "5", "6", "51-", "52-", "61-", "50-"])
NAMESPACE = st.sampled_from(["", "/", "/a,", "/a?x=1,", "/é,", "/", ","])
ID = st.sampled_from(["", "0", "1", "12", "9" * 15, "9" * 16, "00"])
JSON_BITS = st.sampled_from(
    [
        '{"_placeholder":true,"num":0}',
        '{"_placeholder":true,"num":1}',
        '{"_placeholder":true}',
        '"connect"',
        '"ev"',
        "[",
        "]",
        "{",
        "}",
        ",",
        ":",
        '"',
        "null",
        "true",
        "1",
        "-1",
        "1e999",
        "\\u0000",
        "\\ud800",
        " ",
        "NaN",
        '{"num":0}',
        "0.5",
    ]
)
JSONISH = st.lists(JSON_BITS | st.text(max_size=3), max_size=12).map("".join)
TEXT = st.one_of(
    st.text(max_size=40),
    st.builds(lambda *parts: "".join(parts), HEADER, NAMESPACE, ID, JSONISH),
)
ATTACHMENTS = st.lists(st.binary(max_size=8) | st.text(max_size=4) | st.none(), max_size=4)


@FUZZ
@given(first=TEXT | st.binary(max_size=20), rest=ATTACHMENTS)
def test_text_decoder_raises_only_packet_error(sio_impl, first, rest):
    try:
        pkt = sio_impl.Packet(encoded_packet=first)
    except PacketError:
        return
    for attachment in rest:
        try:
            done = pkt.add_attachment(attachment)
        except PacketError:
            return
        assert isinstance(done, bool)
    # whatever was accepted can be sent again
    if len(pkt.attachments) == pkt.attachment_count:
        pkt.encode()


MSGPACK_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**64 - 1)
    | st.text(max_size=5)
    | st.binary(max_size=5)
    | st.floats(),
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(st.text(max_size=4) | st.integers(-5, 5), children, max_size=3)
    ),
    max_leaves=8,
)
MSGPACK_PACKETS = st.fixed_dictionaries(
    {},
    optional={
        "type": st.integers(-1, 8) | MSGPACK_VALUES,
        "nsp": st.sampled_from(["/", "/x", None, 3, b"/"]),
        "data": MSGPACK_VALUES,
        "id": st.integers(-2, 10**16) | MSGPACK_VALUES,
    },
).map(lambda d: msgpack.packb(d))


@FUZZ
@given(wire=MSGPACK_PACKETS | st.binary(max_size=30) | st.text(max_size=5))
def test_msgpack_decoder_raises_only_packet_error(sio_impl, wire):
    try:
        sio_impl.MsgPackPacket(encoded_packet=wire)
    except PacketError:
        pass
