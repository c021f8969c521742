"""End-to-end benchmarks: real servers, the real load generator, fastsock beside Flask-SocketIO.

Each entry starts the benchmark app (``benches/e2e/app.py``) pinned to core 0 and runs
``benches/loadgen.py`` pinned to core 1 through one scenario, exactly as ``python -m
benches.e2e.run`` does for the full table::

    pytest benches/test_e2e.py                                    # N = 100, 1 s per scenario
    pytest benches/test_e2e.py --e2e-clients 100,1000,5000 --e2e-duration 3
    pytest benches/test_e2e.py --e2e-async-modes gevent,threading
    pytest benches/test_e2e.py --e2e-fastsock-option cork=false -k broadcast

pytest-benchmark's own table shows, for broadcast and fan-out, the wall time per delivery
(so ``OPS`` is deliveries per second) and, for latency, the p99 latency; the group name says
which. After the run a second table prints every figure side by side with its ratio to
Flask-SocketIO at the same N, both processes' CPU and the flags of ``benches.e2e.run`` (a
throughput figure counts only where the server's core is saturated and the load generator's
is not). ``--benchmark-json=out.json`` keeps the raw figures in ``extra_info``. Timings are
never asserted; zero lost messages is.
"""

import sys

import pytest
from e2e.run import Server, run_loadgen

# offered deliveries/s for the latency entry when Flask-SocketIO's broadcast rate at the same N
# and async mode was not measured earlier in the session (half of that rate is used when it was)
LATENCY_RATE = 10_000
LATENCY_FRACTION = 0.5
KEYS = ("deliveries_per_s", "server_cpu", "loadgen_cpu", "server_us_per_delivery",
        "loadgen_us_per_delivery", "deliveries_per_read", "p50_ms", "p99_ms", "lost")
BASELINE = "flask_socketio"


class ScenarioClock:
    """The e2e entries' pytest-benchmark timer: it reads what the scenario measured.

    A scenario runs for a fixed time, so the wall time of a round says nothing. The round
    advances this clock by the wall time per delivery (throughput) or by the p99 latency, and
    pytest-benchmark takes the difference of two readings around the round as usual.
    """

    __name__ = "scenario_clock"

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


CLOCK = ScenarioClock()


def _cases(config):
    clients = [int(x) for x in config.getoption("e2e_clients").split(",")]
    modes = config.getoption("e2e_async_modes").split(",")
    return [(impl, mode, n) for n in clients for mode in modes for impl in (BASELINE, "fastsock")]


def pytest_generate_tests(metafunc):
    cases = _cases(metafunc.config)
    ids = [f"{impl}-{mode}-N{n}" for impl, mode, n in cases]
    if "server" in metafunc.fixturenames:
        metafunc.parametrize("server", cases, ids=ids, indirect=True)
    elif "case" in metafunc.fixturenames:
        metafunc.parametrize("case", cases, ids=ids)


@pytest.fixture
def server(request):
    """A fresh benchmark server for each entry: a scenario never inherits another's backlog."""
    impl, mode, n = request.param
    options = request.config.getoption("e2e_fastsock_option") if impl == "fastsock" else None
    with Server(impl, mode, core=0, options=options) as srv:
        srv.impl, srv.async_mode, srv.clients = impl, mode, n
        yield srv


def _run(benchmark, e2e_results, server, scenario, extra=()):
    """One scenario against ``server`` as a benchmark round; the result is recorded."""
    config = e2e_results.config
    what = server.impl if server.impl.startswith("blaster") else server.async_mode
    benchmark.group = f"e2e {scenario} N={server.clients} {what} " + (
        "(time = p99 latency)" if scenario == "latency" else "(time = wall time per delivery)")

    def one_round():
        result = run_loadgen(server, server.clients, [scenario], core=1,
                             duration=config.getoption("e2e_duration"),
                             warmup=config.getoption("e2e_warmup"), extra=list(extra))
        r = result.get(scenario) or {}
        if scenario == "latency":
            CLOCK.now += (r.get("p99_ms") or 0.0) / 1e3
        elif r.get("deliveries_per_s"):
            CLOCK.now += 1.0 / r["deliveries_per_s"]
        return result

    result = benchmark.pedantic(one_round, rounds=1, iterations=1)
    assert result["errors"] == [], result["errors"]
    assert result["lost_connections"] == 0
    r = result[scenario]
    e2e_results.record(server.impl, server.async_mode, server.clients, scenario, r,
                       compiled=result["server"].get("compiled"))
    benchmark.extra_info.update({"impl": server.impl, "async_mode": server.async_mode,
                                 "clients": server.clients})
    benchmark.extra_info.update({k: r[k] for k in KEYS if k in r})
    return r


@pytest.mark.benchmark(timer=CLOCK)
def test_broadcast(benchmark, e2e_results, server):
    """(a) a server-side loop broadcasting ~100-byte events to the room at full speed."""
    r = _run(benchmark, e2e_results, server, "broadcast")
    assert r["drained"] and r["lost"] == 0 and r["out_of_order"] == 0 and r["extra"] == 0
    assert r["broadcasts"] > 0


@pytest.mark.benchmark(timer=CLOCK)
def test_fanout(benchmark, e2e_results, server):
    """(b) client messages fanned out to the room by a handler with emit(..., to=room)."""
    r = _run(benchmark, e2e_results, server, "fanout")
    assert r["drained"] and r["lost"] == 0 and r["clients_wrong"] == 0
    assert r["messages"] > 0


@pytest.mark.benchmark(timer=CLOCK)
def test_latency(benchmark, e2e_results, server):
    """(c) latency percentiles at a fixed offered load below saturation."""
    base = e2e_results.get(BASELINE, server.async_mode, server.clients, "broadcast")
    rate = LATENCY_FRACTION * base["deliveries_per_s"] if base else LATENCY_RATE
    r = _run(benchmark, e2e_results, server, "latency", extra=["--latency-rate", str(rate)])
    assert r["drained"] and r["lost"] == 0 and r["out_of_order"] == 0
    assert r["samples"] > 0
    benchmark.extra_info["offered_per_s"] = r["offered_per_s"]


@pytest.mark.benchmark(group="e2e rss (time = wall time of the run; bytes in the summary)")
def test_rss_per_connection(benchmark, e2e_results, case):
    """(d) server RSS per idle connection, on a fresh server."""
    impl, mode, n = case
    options = e2e_results.config.getoption("e2e_fastsock_option") if impl == "fastsock" else None
    with Server(impl, mode, core=0, options=options) as srv:
        result = benchmark.pedantic(run_loadgen, args=(srv, n, ["rss"]),
                                    kwargs={"core": 1}, rounds=1, iterations=1)
    assert result["errors"] == []
    assert result["rss"]["bytes_per_conn"] is not None
    e2e_results.record(impl, mode, n, "rss", result["rss"],
                       compiled=result["server"].get("compiled"))
    benchmark.extra_info.update(impl=impl, async_mode=mode, **result["rss"])


@pytest.mark.benchmark(timer=CLOCK)
def test_loadgen_ceiling(benchmark, e2e_results):
    """The load generator's own rate against a server writing 64 pre-built frames per write."""
    n = max(int(x) for x in e2e_results.config.getoption("e2e_clients").split(","))
    with Server("blaster64", core=0) as srv:
        srv.impl, srv.async_mode, srv.clients = "blaster64", "-", n
        r = _run(benchmark, e2e_results, srv, "broadcast")
    assert r["drained"] and r["lost"] == 0 and r["out_of_order"] == 0


# --- the load generator's own correctness: its loss detector must not lie ---------------------
def _compiled_scan():
    from e2e import framescan

    try:
        return framescan.load_compiled()
    except Exception:  # noqa: BLE001 - no compiler: only the pure twin is tested
        return None


COMPILED_SCAN = _compiled_scan()


@pytest.fixture(params=["py", pytest.param("c", marks=pytest.mark.skipif(
    COMPILED_SCAN is None, reason="the compiled frame scanner does not build here"))])
def scanner(request, monkeypatch):
    """The load generator, made to use the pure or the compiled frame scanner."""
    import loadgen
    from e2e import framescan

    monkeypatch.setattr(loadgen, "scan", framescan.scan if request.param == "py" else COMPILED_SCAN)
    return loadgen.scan


def _client(sample=True):
    """A load-generator client wired to a minimal LoadGen stand-in, past the handshake."""
    import types

    import loadgen

    # past the handshake nothing awaits the client's futures: no event loop is needed
    no_loop = types.SimpleNamespace(create_future=lambda: None)
    lg = types.SimpleNamespace(loop=no_loop, sampling=sample, latencies=[],
                               delivered=0, reads=0, n_senders=3, errors=[],
                               fan_sent_next=lambda conn: None)
    conn = loadgen.Conn(lg, 0)
    conn.upgraded = True
    conn.sample = sample
    conn.sender = 2
    return lg, conn


def _frame(text):
    from loadgen import build_frame

    return build_frame(1, text)


@pytest.mark.parametrize("pad", [10, 60, 300, 70_000])  # 7-bit, 16-bit and 64-bit lengths
def test_loadgen_counts_any_split(scanner, pad):
    """Every seq is counted once, in order, however the byte stream is cut into reads."""
    import random

    frames = [_frame(f'42["b",[{seq},12.5,"{"x" * pad}"]]') for seq in range(1, 41)]
    frames[5:5] = [_frame(f'42["f",[{i},12.5,"y"]]') for i in (3, 5, 8)]
    stream = b"".join(frames)
    rng = random.Random(pad)
    for _ in range(20):
        lg, conn = _client()
        pos = 0
        while pos < len(stream):
            step = rng.randint(1, 300)
            conn.data_received(stream[pos:pos + step])
            pos += step
        assert (conn.cnt_b, conn.last_b, conn.bad_b) == (40, 40, 0)
        assert (conn.cnt_f, conn.sum_f, conn.sq_f) == (3, 16, 9 + 25 + 64)
        assert conn.inflight == -2  # 5 and 8 are sender 2's own messages coming back
        assert lg.delivered == 43 and len(lg.latencies) == 43 and not lg.errors


def test_loadgen_flags_gaps_and_duplicates(scanner):
    """A missing or repeated seq is counted as out of order; the count shows the loss."""
    lg, conn = _client(sample=False)
    for seq in (1, 2, 4, 4, 5):
        conn.data_received(_frame(f'42["b",[{seq},1.0,"x"]]'))
    assert (conn.cnt_b, conn.last_b, conn.bad_b) == (5, 5, 2)
    assert lg.latencies == []


@pytest.mark.skipif(COMPILED_SCAN is None, reason="the compiled frame scanner does not build here")
def test_compiled_scanner_agrees_with_pure():
    """Both scanners give the same results and errors on random streams and bad frames."""
    import random

    from e2e.framescan import scan

    rng = random.Random(7)
    for _ in range(200):
        parts = []
        for _ in range(rng.randint(0, 30)):
            kind = rng.random()
            pad = "x" * rng.choice([1, 50, 120, 200, 66_000])
            if kind < 0.5:
                parts.append(_frame(f'42["b",[{rng.randint(0, 50)},{rng.random():.6f},"{pad}"]]'))
            elif kind < 0.8:
                parts.append(_frame(f'42["f",[{rng.randint(0, 10**6)},3.25,"{pad}"]]'))
            else:
                parts.append(_frame(rng.choice(["2", "40", '431[{"seq":3}]', pad])))
        stream = b"".join(parts)
        stream = stream[:rng.randint(0, len(stream))]  # a partial frame at the end
        args = (rng.randint(0, 50), rng.random() < 0.5, 10.0)
        senders = rng.randint(1, 4), rng.randint(-1, 3)
        out_py, out_c = ([], []), ([], [])
        assert scan(stream, *args, *out_py, *senders) == COMPILED_SCAN(stream, *args, *out_c,
                                                                       *senders)
        assert out_py == out_c
    bad = [_frame('42["b",[x1,1.0,"x"]]'), _frame('42["b",[1"x"]]'), _frame('42["f",[,1.0]]'),
           _frame('42["b",[1,1.0x"]]'), b"\x81\x85abcd" + b"x" * 5]
    for data in bad:
        for fn in (scan, COMPILED_SCAN):
            with pytest.raises(ValueError):
                fn(data, 0, True, 0.0, [], [], 1, -1)
    for fn in (scan, COMPILED_SCAN):
        with pytest.raises(ValueError):
            fn(b"", 0, False, 0.0, [], [], 0, -1)


# --- the compiled receive loop of the broadcast scenarios --------------------------------------
def _rxloop_class():
    from e2e import rxloop

    try:
        return rxloop.load_compiled()
    except Exception:  # noqa: BLE001 - no compiler: the load generator keeps uvloop
        return None


RXLOOP = _rxloop_class()
needs_rxloop = pytest.mark.skipif(RXLOOP is None or not sys.platform.startswith("linux"),
                                  reason="the compiled receive loop (epoll) does not build here")


def _unmask(frame: bytes) -> tuple[int, bytes]:
    """``(opcode, payload)`` of one masked client frame with a 7-bit length."""
    assert frame[1] & 0x80, "client frames must be masked"
    size, mask = frame[1] & 0x7F, frame[2:6]
    return frame[0] & 0x0F, bytes(b ^ mask[i % 4] for i, b in enumerate(frame[6:6 + size]))


def _start_rx(rx):
    """Run ``rx`` in a thread (the peers' writes must not wait for a reader)."""
    import threading

    thread = threading.Thread(target=rx.run, daemon=True)
    thread.start()
    return thread


def _finish_rx(rx, thread, until, timeout=5.0):
    """Stop ``rx`` once ``until()`` is true; returns after ``run()`` returned."""
    import time

    deadline = time.monotonic() + timeout
    while not until() and time.monotonic() < deadline:
        time.sleep(0.005)
    rx.stop()
    thread.join(2)
    assert not thread.is_alive(), "RxLoop.run() did not return after stop()"


@needs_rxloop
@pytest.mark.parametrize("interval", [0.0, 0.003])  # read whenever readable / re-armed one-shot
@pytest.mark.parametrize("pad", [10, 300, 70_000])
def test_rxloop_counts_checks_and_answers_pings(pad, interval):
    """Every broadcast counted once across arbitrary splits; gaps flagged; pings answered; the
    unparsed tail and the counters come back for uvloop; latency sampled only when asked."""
    import random
    import socket
    import time

    pairs = [socket.socketpair() for _ in range(3)]
    ts = time.monotonic() - 0.5

    def frame(seq):
        return _frame(f'42["b",[{seq},{ts:.6f},"{"x" * pad}"]]')

    seqs = list(range(5, 31))
    lossy = [s for s in seqs if s != 17]  # client 1: seq 17 lost, seq 20 repeated
    lossy.insert(lossy.index(20), 20)
    head = frame(5)
    # client 0 arrives with part of frame 5 left over from uvloop; client 2 is not sampled
    rx = RXLOOP([a.fileno() for a, _ in pairs], [4, 4, 4], [True, True, False],
                [b"abcd", b"\x00\x00\x00\x00", b"wxyz"], [head[:3], b"", b""], interval)
    rx.sampling = 1
    thread = _start_rx(rx)
    rng = random.Random(pad)
    for i, (_, b) in enumerate(pairs):
        data = b"".join(frame(s) for s in (lossy if i == 1 else seqs))
        data = data[3:] if i == 0 else data
        pos = 0
        while pos < len(data):
            step = rng.randint(1, 5000)
            b.sendall(data[pos:pos + step])
            pos += step
        b.sendall(_frame("2"))
    last_piece = _frame('42["b",[31,1.0,"x"]]')
    pairs[2][1].sendall(last_piece[:4])  # a partial frame at the end stays for uvloop
    _finish_rx(rx, thread, lambda: rx.pongs == 3 and (rx.min_last() or 0) >= 30)
    for i, (a, b) in enumerate(pairs):
        rest, last, count, bad, error, eof, *fanouts = rx.state(i)
        assert error is None and not eof and fanouts == [0, 0, 0]
        assert last == 30
        assert (count, bad) == ((26, 2) if i == 1 else (26, 0))
        # the partial frame is either the loop's unparsed tail or, when it arrived after the
        # client's last read, still in the socket: uvloop reads it after resume_reading()
        a.setblocking(False)
        try:
            unread = a.recv(64)
        except BlockingIOError:
            unread = b""
        assert rest + unread == (last_piece[:4] if i == 2 else b"")
        b.settimeout(2)
        assert _unmask(b.recv(64)) == (1, b"3")  # the Engine.IO pong, masked
    lat = rx.take_latencies()
    assert len(lat) == 2 * 26 and all(0.5 <= x < 30 for x in lat)
    assert rx.take_latencies() == []
    assert rx.delivered == 3 * 26 and rx.unexpected == 0
    for a, b in pairs:
        a.close()
        b.close()


@needs_rxloop
def test_rxloop_reports_bad_frames_and_eof():
    """A masked or malformed server frame fails that client only; EOF is reported, not an error;
    an unexpected frame is counted with its text."""
    import socket

    pairs = [socket.socketpair() for _ in range(5)]
    rx = RXLOOP([a.fileno() for a, _ in pairs], [0] * 5, [False] * 5, [b"abcd"] * 5, [b""] * 5,
                interval=0.002)  # the loop also sleeps between rounds here
    thread = _start_rx(rx)
    pairs[0][1].sendall(b"\x81\x85abcd" + b"x" * 5)
    pairs[1][1].sendall(_frame('42["b",[x1,1.0,"x"]]'))
    pairs[2][1].close()
    pairs[3][1].sendall(_frame('42["b",[1,1.0,"x"]]') + _frame("41"))
    pairs[4][1].sendall(_frame('42["b",[1,1.0,"x"]]'))
    _finish_rx(rx, thread, lambda: rx.delivered == 2 and rx.unexpected == 1 and rx.min_last() == 1)
    states = [rx.state(i) for i in range(5)]
    assert states[0][4] == "server sent a masked frame"
    assert "malformed sequence number" in states[1][4]
    assert states[2][4] is None and states[2][5] is True
    assert states[3][1:5] == (1, 1, 0, None) and states[4][1:5] == (1, 1, 0, None)
    assert rx.first_unexpected_frame() == "opcode 1: 41"
    for a, b in pairs:
        a.close()
        b.close()


@needs_rxloop
def test_rxloop_counts_fanned_out_messages():
    """Fanned-out ids are counted with their sum and sum of squares (a duplicate hiding a loss
    changes them), interleaved with broadcasts, and sampled for latency."""
    import socket

    pairs = [socket.socketpair() for _ in range(2)]
    rx = RXLOOP([a.fileno() for a, _ in pairs], [0, 0], [True, False], [b"abcd"] * 2, [b""] * 2)
    rx.sampling = 1
    thread = _start_rx(rx)
    ids = {0: [3, 5, 8, 13], 1: [3, 5, 5, 13]}  # client 1: 8 lost, 5 twice
    for i, (_, b) in enumerate(pairs):
        b.sendall(_frame('42["b",[1,1.0,"x"]]') + b"".join(
            _frame(f'42["f",[{m},1.0,"pad"]]') for m in ids[i]))
    _finish_rx(rx, thread, lambda: rx.min_fanouts() == 4 and rx.min_last() == 1)
    for i in range(2):
        *_, count, total, squares = rx.state(i)
        assert (count, total, squares) == (4, sum(ids[i]), sum(m * m for m in ids[i]))
    assert rx.state(0)[6:] != rx.state(1)[6:]
    assert len(rx.take_latencies()) == 5 and rx.delivered == 10
    for a, b in pairs:
        a.close()
        b.close()
