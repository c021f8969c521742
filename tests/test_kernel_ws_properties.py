"""Properties of the ``ws`` kernel on both implementations: any split of a stream gives the same
items, frames round-trip through wsproto in both directions, compiled == pure."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_kernel_ws import raw_frame
from wsproto.frame_protocol import FrameProtocol, Opcode

from fastsock.exceptions import WebSocketError

PROPERTY = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

masks = st.binary(min_size=4, max_size=4)
controls = st.tuples(st.sampled_from([9, 10]), st.binary(max_size=125))
data_messages = st.one_of(
    st.tuples(st.just(1), st.text(max_size=200)),
    st.tuples(st.just(2), st.binary(max_size=200)),
    st.tuples(st.just(2), st.integers(126, 70_000).map(lambda n: bytes([n % 251]) * n)),
)


def split_points(draw, length: int, max_cuts: int) -> list[int]:
    cuts = sorted(draw(st.lists(st.integers(0, length), max_size=max_cuts)))
    return [0, *cuts, length]


def chunks(data: bytes, bounds: list[int]) -> list[bytes]:
    return [data[a:b] for a, b in zip(bounds, bounds[1:])]


@st.composite
def client_streams(draw):
    """(stream, expected items): fragmented messages, interleaved controls, random masks."""
    frames, expected = [], []
    for opcode, message in draw(st.lists(st.one_of(data_messages, controls), max_size=6)):
        if opcode >= 8:
            frames.append(raw_frame(0x80 | opcode, message, draw(masks)))
            expected.append((opcode, message))
            continue
        payload = message.encode() if opcode == 1 else message
        # Fragments cut anywhere, also inside a UTF-8 sequence.
        pieces = chunks(payload, split_points(draw, len(payload), 3))
        for i, piece in enumerate(pieces):
            fin = i == len(pieces) - 1
            frames.append(
                raw_frame((0x80 if fin else 0) | (opcode if i == 0 else 0), piece, draw(masks))
            )
            if not fin and draw(st.booleans()):
                ctrl_op, ctrl = draw(controls)
                frames.append(raw_frame(0x80 | ctrl_op, ctrl, draw(masks)))
                expected.append((ctrl_op, ctrl))
        expected.append((opcode, message))
    if draw(st.booleans()):
        code = draw(st.sampled_from([1000, 1001, 1011, 3000, 4999]))
        reason = draw(st.text(max_size=20))
        frames.append(raw_frame(0x88, code.to_bytes(2, "big") + reason.encode(), draw(masks)))
        expected.append((8, (code, reason)))
    return b"".join(frames), expected


@PROPERTY
@given(case=client_streams(), data=st.data())
def test_any_split_gives_the_same_items(ws_impl, case, data):
    stream, expected = case
    parser = ws_impl.FrameParser()
    items = []
    for chunk in chunks(stream, split_points(data.draw, len(stream), 12)):
        items.extend(parser.feed(chunk))
    assert items == expected


def _wsproto_items(proto: FrameProtocol, data: bytes) -> list:
    """Items in our format from wsproto frames: data frames reassembled into messages."""
    proto.receive_bytes(data)
    items, parts = [], []
    for frame in proto.received_frames():
        if frame.opcode is Opcode.CLOSE:
            code, reason = frame.payload
            items.append((8, (None if code == 1005 else int(code), reason)))
        elif frame.opcode in (Opcode.PING, Opcode.PONG):
            items.append((int(frame.opcode), bytes(frame.payload)))
        else:
            parts.append(frame.payload)
            if frame.message_finished:
                if isinstance(parts[0], str):
                    items.append((1, "".join(parts)))
                else:
                    items.append((2, b"".join(bytes(p) for p in parts)))
                parts = []
    return items


@st.composite
def messages_with_fragments(draw):
    """[(opcode, message, fragments)]: what to send, and how to cut data messages."""
    out = []
    for opcode, message in draw(st.lists(st.one_of(data_messages, controls), max_size=6)):
        if opcode == 1:
            # wsproto's sender takes str fragments: cut at character boundaries.
            pieces = chunks(message, split_points(draw, len(message), 3))
        elif opcode == 2:
            pieces = chunks(message, split_points(draw, len(message), 3))
        else:
            pieces = [message]
        out.append((opcode, message, pieces))
    return out


@PROPERTY
@given(
    messages=messages_with_fragments(),
    mask=st.one_of(st.none(), masks),
    close=st.sampled_from([None, (1000, ""), (1001, "bye ✓"), (4000, "x" * 100)]),
)
def test_our_frames_parse_in_wsproto(ws_impl, messages, mask, close):
    """Server frames we build parse in a wsproto client; masked ones in a wsproto server."""
    ws = ws_impl
    frames, expected = [], []
    for opcode, message, pieces in messages:
        for i, piece in enumerate(pieces):
            fin = i == len(pieces) - 1
            frames.append(
                ws.build_frame(opcode if i == 0 else ws.CONTINUATION, piece, fin=fin, mask=mask)
            )
        expected.append((opcode, message))
    if close is not None:
        frames.append(
            ws.build_close(*close)
            if mask is None
            else ws.build_frame(
                ws.CLOSE, close[0].to_bytes(2, "big") + close[1].encode(), mask=mask
            )
        )
        expected.append((8, close))
    peer = FrameProtocol(client=mask is None, extensions=[])
    assert _wsproto_items(peer, b"".join(frames)) == expected


@PROPERTY
@given(
    messages=messages_with_fragments(),
    data=st.data(),
    close=st.sampled_from([None, (1000, ""), (1003, "nope"), (3000, "é" * 40)]),
)
def test_wsproto_client_frames_parse_in_ours(ws_impl, messages, data, close):
    proto = FrameProtocol(client=True, extensions=[])
    frames, expected = [], []
    for opcode, message, pieces in messages:
        if opcode == 9:
            frames.append(proto.ping(message))
        elif opcode == 10:
            frames.append(proto.pong(message))
        else:
            for i, piece in enumerate(pieces):
                frames.append(proto.send_data(piece, fin=i == len(pieces) - 1))
        expected.append((opcode, message))
    if close is not None:
        frames.append(proto.close(*close))
        expected.append((8, close))
    stream = b"".join(bytes(f) for f in frames)
    parser = ws_impl.FrameParser()
    items = []
    for chunk in chunks(stream, split_points(data.draw, len(stream), 8)):
        items.extend(parser.feed(chunk))
    assert items == expected


# Streams mixing valid frames, broken headers and garbage, for the compiled == pure check.
_header_bytes = st.integers(0, 255)
_noise_frames = st.one_of(
    client_streams().map(lambda case: case[0]),
    st.builds(
        lambda b0, payload, mask: raw_frame(b0, payload, mask),
        _header_bytes,
        st.binary(max_size=130),
        st.one_of(st.none(), masks),
    ),
    st.builds(
        lambda b0, n, mask: raw_frame(b0, length=("64", n), mask=mask),
        _header_bytes,
        st.integers(0, (1 << 64) - 1),
        st.one_of(st.none(), masks),
    ),
    st.binary(max_size=20),
)


def _run(parser, pieces: list[bytes]) -> list:
    """What a parser does with each piece: its items, or the error it raised."""
    trace = []
    for piece in pieces:
        try:
            trace.append(("items", parser.feed(piece)))
        except WebSocketError as exc:
            trace.append(("error", str(exc), exc.close_code, exc.items))
    return trace


@PROPERTY
@given(
    parts=st.lists(_noise_frames, max_size=6),
    data=st.data(),
    max_size=st.sampled_from([0, 5, 200, 1_000_000]),
    require_mask=st.booleans(),
)
def test_compiled_equals_pure(ws_pair, parts, data, max_size, require_mask):
    compiled, pure = ws_pair
    stream = b"".join(parts)
    pieces = chunks(stream, split_points(data.draw, len(stream), 10)) + [b""]
    results = [
        _run(impl.FrameParser(max_message_size=max_size, require_mask=require_mask), pieces)
        for impl in (compiled, pure)
    ]
    assert results[0] == results[1]


@PROPERTY
@given(
    opcode=st.integers(0, 15),
    payload=st.one_of(st.binary(max_size=300), st.text(max_size=80)),
    fin=st.booleans(),
    rsv1=st.booleans(),
    mask=st.one_of(st.none(), masks),
)
def test_compiled_builds_what_pure_builds(ws_pair, opcode, payload, fin, rsv1, mask):
    compiled, pure = ws_pair
    outcome = []
    for impl in (compiled, pure):
        try:
            outcome.append(impl.build_frame(opcode, payload, fin=fin, rsv1=rsv1, mask=mask))
        except ValueError as exc:
            outcome.append(("ValueError", str(exc)))
    assert outcome[0] == outcome[1]
