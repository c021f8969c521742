"""End-to-end benchmarks, small configuration: real servers, the real load generator.

Each test starts the benchmark app (``benches/e2e/app.py``) pinned to core 0 and runs
``benches/loadgen.py`` pinned to core 1 through one scenario with 100 clients, exactly as
``python -m benches.e2e.run`` does for the full table::

    pytest benches/test_e2e.py --benchmark-columns=rounds,mean --benchmark-sort=name

The benchmark time is that of the whole run (connects included) and means little; the figures
are in ``extra_info`` (``--benchmark-json=out.json`` keeps them): deliveries/s, both processes'
CPU share and CPU time per delivery, latency percentiles, bytes per connection. Timings are
never asserted; zero lost messages is.
"""

import importlib

import pytest
from e2e.run import Server, run_loadgen

CLIENTS = 100
DURATION = 1.0
WARMUP = 0.5
# offered deliveries/s for the latency test: well below Flask-SocketIO's saturation at N=100
LATENCY_RATE = 10_000
KEYS = ("deliveries_per_s", "server_cpu", "loadgen_cpu", "server_us_per_delivery",
        "loadgen_us_per_delivery", "deliveries_per_read", "p50_ms", "p99_ms", "lost")


def _fastsock_problem():
    """Why fastsock's Flask ``SocketIO`` cannot be benchmarked yet, or ``None`` when it can."""
    problem = "no SocketIO in fastsock or fastsock.flask"
    for name in ("fastsock", "fastsock.flask"):
        try:
            mod = importlib.import_module(name)
        except Exception as exc:  # noqa: BLE001 - work in progress may fail with anything
            problem = f"import {name}: {exc!r}"
            continue
        if hasattr(mod, "SocketIO"):
            return None
    return problem


FASTSOCK_PROBLEM = _fastsock_problem()


IMPLS = [
    "flask_socketio",
    pytest.param("fastsock", marks=pytest.mark.skipif(
        FASTSOCK_PROBLEM is not None, reason=f"fastsock not ready: {FASTSOCK_PROBLEM}")),
]


@pytest.fixture(scope="module", params=IMPLS)
def server(request):
    """A benchmark server of one implementation, shared by the module's tests."""
    with Server(request.param, "gevent", core=0) as srv:
        srv.impl = request.param
        yield srv


def _run(benchmark, server, scenario, **kw):
    result = benchmark.pedantic(
        run_loadgen, args=(server, CLIENTS, [scenario]),
        kwargs=dict(core=1, duration=DURATION, warmup=WARMUP, **kw), rounds=1, iterations=1,
    )
    assert result["errors"] == [], result["errors"]
    assert result["lost_connections"] == 0
    r = result[scenario]
    benchmark.extra_info.update({"impl": server.impl, "clients": CLIENTS})
    benchmark.extra_info.update({k: r[k] for k in KEYS if k in r})
    return r


@pytest.mark.benchmark(group="e2e broadcast N=100")
def test_broadcast(benchmark, server):
    """(a) a server-side loop broadcasting ~100-byte events to the room at full speed."""
    r = _run(benchmark, server, "broadcast")
    assert r["drained"] and r["lost"] == 0 and r["out_of_order"] == 0 and r["extra"] == 0
    assert r["broadcasts"] > 0


@pytest.mark.benchmark(group="e2e fanout N=100")
def test_fanout(benchmark, server):
    """(b) client messages fanned out to the room by a handler with emit(..., to=room)."""
    r = _run(benchmark, server, "fanout")
    assert r["drained"] and r["lost"] == 0 and r["clients_wrong"] == 0
    assert r["messages"] > 0


@pytest.mark.benchmark(group="e2e latency N=100")
def test_latency(benchmark, server):
    """(c) latency percentiles at a fixed offered load below saturation."""
    r = _run(benchmark, server, "latency", extra=["--latency-rate", str(LATENCY_RATE)])
    assert r["drained"] and r["lost"] == 0 and r["out_of_order"] == 0
    assert r["samples"] > 0
    benchmark.extra_info["offered_per_s"] = r["offered_per_s"]


@pytest.mark.benchmark(group="e2e rss N=100")
@pytest.mark.parametrize("impl_name", [p if isinstance(p, str) else p.values[0] for p in IMPLS])
def test_rss_per_connection(benchmark, impl_name):
    """(d) server RSS per idle connection, on a fresh server."""
    if impl_name == "fastsock" and FASTSOCK_PROBLEM is not None:
        pytest.skip(f"fastsock not ready: {FASTSOCK_PROBLEM}")
    with Server(impl_name, "gevent", core=0) as srv:
        result = benchmark.pedantic(run_loadgen, args=(srv, CLIENTS, ["rss"]),
                                    kwargs={"core": 1}, rounds=1, iterations=1)
    assert result["errors"] == []
    benchmark.extra_info.update(impl=impl_name, **result["rss"])


@pytest.mark.benchmark(group="e2e loadgen ceiling N=100")
def test_loadgen_ceiling(benchmark):
    """The load generator's own rate against a server writing 64 pre-built frames per write."""
    with Server("blaster64", core=0) as srv:
        srv.impl = "blaster64"
        r = _run(benchmark, srv, "broadcast")
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
