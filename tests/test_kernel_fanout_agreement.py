"""The fan-out kernel: compiled == pure on random sequences of writes, corker runs, partial
reads by the peer, writability, flushes, closes and aborts, on real socket pairs with small
send buffers (so sends are partial and outputs block and get cut off)."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_kernel_fanout import SMALL_BUF, drain, make_recording, pair

_WRITE = st.tuples(st.just("write"), st.sampled_from([0, 100, 1_000, 5_000, 20_000, 70_000]))
_STEP = st.one_of(
    _WRITE,
    _WRITE,
    st.tuples(st.just("run"), st.just(0)),
    st.tuples(st.just("read"), st.integers(1, 30_000)),
    st.tuples(st.just("writable"), st.just(0)),
    st.tuples(st.just("flush"), st.just(0)),
)
# the output lives through most of a sequence; a close or abort may come, then more steps
OPS = st.builds(
    lambda body, end, after: body + end + after,
    st.lists(_STEP, max_size=30),
    st.lists(st.sampled_from([("close", 0), ("abort", 0)]), max_size=1),
    st.lists(_STEP, max_size=10),
)


def _state(out, corker):
    return (
        out.buffered,
        out.closed,
        out.blocked,
        out.dirty,
        out.draining,
        out.error,
        corker.dirty_count,
        corker.pending,
    )


def _run_ops(impl, ops, limit, threshold, cork):
    a, b = pair(sndbuf=SMALL_BUF, rcvbuf=SMALL_BUF)
    corker = impl.Corker(threshold=threshold, max_pending=3 * threshold)
    out = make_recording(impl)(a, limit, corker if cork else None)
    trace = []
    counter = 0
    try:
        for op, n in ops:
            if op == "write":
                data = bytes((counter + k) % 251 for k in range(n))
                counter += n
                result = out.write(data)
            elif op == "run":
                result = corker.run()
            elif op == "read":
                result = drain(b, n)
            elif op == "writable":
                result = out.on_writable()
            elif op == "flush":
                result = out.flush()
            elif op == "close":
                result = out.close()
            else:
                result = out.abort("aborted")
            trace.append((op, result, _state(out, corker), tuple(out.events)))
        return trace
    finally:
        a.close()
        b.close()


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    ops=OPS,
    limit=st.sampled_from([20_000, 200_000, 1 << 20]),
    threshold=st.sampled_from([1_000, 30_000]),
    cork=st.booleans(),
)
def test_compiled_and_pure_agree(fanout_pair, ops, limit, threshold, cork):
    compiled, pure = fanout_pair
    assert _run_ops(compiled, ops, limit, threshold, cork) == _run_ops(
        pure, ops, limit, threshold, cork
    )


class _Member:
    __slots__ = ("_out", "closed", "got")

    def __init__(self, out, closed):
        self._out = out
        self.closed = closed
        self.got = []

    def send_prepared(self, prepared):
        self.got.append(prepared.frame)


class _Prepared:
    __slots__ = ("frame",)

    def __init__(self, frame):
        self.frame = frame


def _run_fanout(impl, kinds, skip_kind, skip_picks, n_messages, cork):
    pairs, members = [], []
    corker = impl.Corker() if cork else None
    for websocket, closed in kinds:
        if websocket:
            a, b = pair()
            pairs.append((a, b))
            members.append(_Member(impl.Output(a, 1 << 20, corker), closed))
        else:
            pairs.append(None)
            members.append(_Member(None, closed))
    picked = [members[i % len(members)] for i in skip_picks] if members else []
    skip = {"none": None, "one": picked[0] if picked else None, "set": set(picked)}[skip_kind]
    messages = [_Prepared(b"<%d>" % i) for i in range(n_messages)]
    count = impl.fanout({i: m for i, m in enumerate(members)}, messages, skip)
    if corker is not None:
        corker.run()
    seen = []
    for member, sockets in zip(members, pairs):
        seen.append(drain(sockets[1]) if sockets else b"".join(member.got))
        if sockets:
            sockets[0].close()
            sockets[1].close()
    return count, seen


@settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    kinds=st.lists(st.tuples(st.booleans(), st.booleans()), max_size=12),
    skip_kind=st.sampled_from(["none", "one", "set"]),
    skip_picks=st.lists(st.integers(0, 20), min_size=1, max_size=4),
    n_messages=st.integers(0, 3),
    cork=st.booleans(),
)
def test_fanout_compiled_and_pure_agree(
    fanout_pair, kinds, skip_kind, skip_picks, n_messages, cork
):
    compiled, pure = fanout_pair
    args = (kinds, skip_kind, skip_picks, n_messages, cork)
    assert _run_fanout(compiled, *args) == _run_fanout(pure, *args)
