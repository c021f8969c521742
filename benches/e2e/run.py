"""End-to-end benchmark runner: fastsock vs Flask-SocketIO, one table, same run.

For every client count N and implementation it starts ``benches/e2e/app.py`` pinned to one core
(``taskset -c 0``), runs ``benches/loadgen.py`` pinned to the other (``taskset -c 1``) through the
scenarios, and prints one table with the ratios to Flask-SocketIO and both processes' CPU::

    python -m benches.e2e.run                                      # N = 100, 1000, 5000
    python -m benches.e2e.run --clients 100,1000 --duration 1      # a quick run (< 1 minute)
    python -m benches.e2e.run --impls flask_socketio,fastsock,blaster64,blaster1  # + ceiling
    python -m benches.e2e.run --async-modes gevent,threading       # threading mode too
    python -m benches.e2e.run --burst 10                           # 10 broadcasts per yield
    FASTSOCK_NO_EXTENSIONS=1 python -m benches.e2e.run             # fastsock's pure twins
    python -m benches.e2e.run --fastsock-option some_option=false  # a fastsock SocketIO knob

Scenarios: (a) ``broadcast`` - a server loop broadcasting ~100-byte events to the room at full
speed; (b) ``fanout`` - client messages fanned out by a handler with ``emit(..., to=room)``;
(c) ``latency`` - p50/p99 at a fixed offered load (by default 50 % of Flask-SocketIO's broadcast
rate at the same N); (d) ``rss`` - server RSS per idle connection; (e) messages lost, in every row.

A throughput figure counts only where the server's core is saturated and the load generator's
is not (below 90 % of its core): rows that violate it are flagged (``srv<90%``, ``lg>=90%``;
``LOSS`` for any lost, duplicated or reordered message; ``behind`` when the latency run did not
deliver its offered load). On a shared machine the server may not get its whole core:
``srv us/dlv`` (server CPU time per delivery) is the figure that survives that, ``srv
dlv/s@core`` the rate it implies on a full core, ``others %`` what other processes took of the
server's / load generator's core during the window (``shared`` from 10 %). ``lg us/dlv`` and
``dlv/read`` show the load generator's headroom: its cost per delivery falls as reads take more
frames, down to ~0.1 us against the blaster (``blaster64``: 64 pre-built frames per write).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import time

import psutil

HERE = os.path.dirname(os.path.abspath(__file__))
BENCHES = os.path.dirname(HERE)
APP = os.path.join(HERE, "app.py")
BLASTER = os.path.join(HERE, "blaster.py")
LOADGEN = os.path.join(BENCHES, "loadgen.py")
BASELINE = "flask_socketio"
SCENARIOS = ("rss", "broadcast", "fanout", "latency")
SATURATED = 90.0  # % of a core
SHARED = 10.0  # % of our cores other processes may take during a window before a row is flagged


def pinned(cmd: list[str], core: int | None) -> list[str]:
    """``cmd`` prefixed with ``taskset -c core`` (when a core is given and taskset exists)."""
    if core is None or shutil.which("taskset") is None:
        return cmd
    return ["taskset", "-c", str(core), *cmd]


class Server:
    """A benchmark server process (the Flask app or the blaster) on an ephemeral port."""

    def __init__(self, impl: str, async_mode: str = "gevent", core: int | None = 0,
                 batch: int = 64, options: list[str] | None = None) -> None:
        if impl.startswith("blaster"):
            # "blaster16" writes 16 frames per write; plain "blaster" uses ``batch``
            cmd = [sys.executable, BLASTER, "--batch", impl[len("blaster"):] or str(batch)]
        else:
            cmd = [sys.executable, APP, "--impl", impl, "--async-mode", async_mode, "--port", "0"]
            cmd += [f"--option={o}" for o in options or ()]
        self.cmd = pinned(cmd, core)
        self.proc = subprocess.Popen(self.cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                     text=True)
        self.pid = self.proc.pid  # taskset execs the command: same pid
        self.port = self._wait_listening(30.0)
        self.url = f"http://127.0.0.1:{self.port}"

    def _wait_listening(self, timeout: float) -> int:
        # Servers bind port 0; the port is read from the process's listening socket, so the
        # server code stays exactly what a user would run.
        deadline = time.monotonic() + timeout
        proc = psutil.Process(self.pid)
        conns = getattr(proc, "net_connections", None) or proc.connections
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited: {' '.join(self.cmd)}\n{self.proc.stderr.read()}")
            ports = [c.laddr.port for c in conns(kind="tcp") if c.status == psutil.CONN_LISTEN]
            if ports:
                return ports[0]
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"server did not listen within {timeout} s: {' '.join(self.cmd)}")

    def stop(self) -> None:
        """Terminate the server (SIGTERM, then SIGKILL after 5 s)."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc.stderr.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def run_loadgen(server: Server, clients: int, scenarios, *, core: int | None = 1,
                duration: float = 3.0, warmup: float = 1.0, latency_rate: float | None = None,
                extra: list[str] | None = None, timeout: float = 900.0) -> dict:
    """Run ``benches/loadgen.py`` against ``server``; return its JSON result."""
    cmd = [sys.executable, LOADGEN, "--url", server.url, "--clients", str(clients),
           "--scenarios", ",".join(scenarios), "--duration", str(duration),
           "--warmup", str(warmup), "--server-pid", str(server.pid), "--json", *(extra or [])]
    if latency_rate is not None:
        cmd += ["--latency-rate", str(latency_rate)]
    out = subprocess.run(pinned(cmd, core), capture_output=True, text=True, timeout=timeout,
                         check=False)
    if out.returncode != 0:
        raise RuntimeError(f"loadgen failed ({out.returncode}): {' '.join(cmd)}\n{out.stderr}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def measure(impl: str, clients: int, scenarios, *, async_mode: str = "gevent",
            latency_rate: float | None = None, server_core: int | None = 0,
            loadgen_core: int | None = 1, batch: int = 64, options: list[str] | None = None,
            **kw) -> dict:
    """Start ``impl``'s server, run the load generator through ``scenarios``, stop the server.

    The blaster only measures the load generator's ceiling, so it runs only ``broadcast``, with
    small client receive buffers so the backlog it builds drains quickly.
    """
    if impl.startswith("blaster"):
        scenarios = [s for s in scenarios if s == "broadcast"] or ["broadcast"]
        # the blaster outruns the load generator by design: bound the backlog it builds
        kw["extra"] = [*kw.get("extra", []), "--rcvbuf", "16384"]
    background = background_load([server_core, loadgen_core])
    with Server(impl, async_mode, server_core, batch, options) as server:
        result = run_loadgen(server, clients, scenarios, core=loadgen_core,
                             latency_rate=latency_rate, **kw)
    if result["server"].get("compiled") is False:
        impl += "-py"  # FASTSOCK_NO_EXTENSIONS=1 or a failed build: the pure-Python twins
    result["impl"] = impl if impl.startswith("blaster") else f"{impl}/{async_mode}"
    result["background_cpu"] = background
    return result


def background_load(cores, seconds: float = 0.5) -> list[float | None]:
    """Busy % of ``cores`` over ``seconds`` before a measurement: other people's work."""
    busy = psutil.cpu_percent(interval=seconds, percpu=True)
    return [busy[c] if c is not None and c < len(busy) else None for c in cores]


# --- the table -------------------------------------------------------------------------
def rows_of(result: dict, base: dict | None) -> list[dict]:
    """Table rows of one measured result, with ratios to ``base`` (same N, the baseline)."""
    rows = []
    for name in SCENARIOS:
        r = result.get(name)
        if r is None:
            continue
        b = (base or {}).get(name) or {}
        row = {"scenario": name, "N": result["clients"], "impl": result["impl"],
               "bg": "/".join(_num(x, 0) or "-" for x in result.get("background_cpu", []))}
        if name == "rss":
            kb = r["bytes_per_conn"] / 1024 if r.get("bytes_per_conn") is not None else None
            row["value"] = f"{kb:.1f} KB/conn" if kb is not None else "-"
            if b.get("bytes_per_conn") and r.get("bytes_per_conn"):
                row["ratio"] = b["bytes_per_conn"] / r["bytes_per_conn"]
            rows.append(row)
            continue
        others = (r.get("server_core_others"), r.get("loadgen_core_others"))
        row["others"] = "/".join(_num(x, 0) or "-" for x in others)
        row.update(srv=r.get("server_cpu"), lg=r["loadgen_cpu"], lost=r["lost"],
                   us=r.get("server_us_per_delivery"), lg_us=r["loadgen_us_per_delivery"],
                   per_read=r["deliveries_per_read"], p50=r.get("p50_ms"), p99=r.get("p99_ms"))
        flags = []
        if r["lost"] or r.get("out_of_order") or r.get("clients_wrong") or not r["drained"]:
            flags.append("LOSS")
        if r["loadgen_cpu"] >= SATURATED:
            flags.append("lg>=90%")
        if any((x or 0) >= SHARED for x in others):
            flags.append("shared")
        if name == "latency":
            row["value"] = f"{r['deliveries_per_s']:,.0f}/{r['offered_per_s']:,.0f} dlv/s"
            # allow for the window cutting through a broadcast or two
            if r["deliveries"] < r["offered_per_s"] * r["seconds"] * 0.95 - 2 * result["clients"]:
                flags.append("behind")
            if b.get("p99_ms") and r.get("p99_ms"):
                row["ratio"] = b["p99_ms"] / r["p99_ms"]
        else:
            row["value"] = f"{r['deliveries_per_s']:,.0f} dlv/s"
            if (r.get("server_cpu") or 0) < SATURATED:
                flags.append("srv<90%")
            if b.get("deliveries_per_s"):
                row["ratio"] = r["deliveries_per_s"] / b["deliveries_per_s"]
        row["flag"] = " ".join(flags) or "ok"
        rows.append(row)
    return rows


def format_table(rows: list[dict]) -> str:
    """Render rows as a fixed-width text table."""
    head = ("scenario", "N", "impl", "value", "vs base", "p50 ms", "p99 ms", "srv %", "lg %",
            "srv us/dlv", "srv dlv/s@core", "lg us/dlv", "dlv/read", "bg %", "others %", "lost",
            "flag")
    lines = []
    for r in rows:
        us = r.get("us")
        lines.append((
            r["scenario"], str(r["N"]), r["impl"], r["value"],
            f"{r['ratio']:.2f}x" if r.get("ratio") else "",
            _num(r.get("p50")), _num(r.get("p99")), _num(r.get("srv"), 0), _num(r.get("lg"), 0),
            _num(us, 2), f"{1e6 / us:,.0f}" if us else "", _num(r.get("lg_us"), 2),
            _num(r.get("per_read"), 1), r.get("bg", ""), r.get("others", ""),
            _num(r.get("lost"), 0),
            r.get("flag", ""),
        ))
    widths = [max(len(h), *(len(x[i]) for x in lines)) if lines else len(h)
              for i, h in enumerate(head)]
    out = ["  ".join(h.ljust(w) for h, w in zip(head, widths))]
    out.append("  ".join("-" * w for w in widths))
    out += ["  ".join(c.ljust(w) for c, w in zip(line, widths)) for line in lines]
    return "\n".join(out)


def _num(v, digits: int = 2) -> str:
    return "" if v is None else f"{v:,.{digits}f}"


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description="fastsock vs Flask-SocketIO end-to-end benchmarks")
    p.add_argument("--impls", default="flask_socketio,fastsock",
                   help="comma-separated: flask_socketio, fastsock, blaster[K] (the "
                        "load generator's ceiling against a server writing K frames per write)")
    p.add_argument("--async-modes", default="gevent", help="comma-separated: gevent, threading")
    p.add_argument("--clients", default="100,1000,5000", help="comma-separated client counts")
    p.add_argument("--scenarios", default=",".join(SCENARIOS))
    p.add_argument("--duration", type=float, default=3.0, help="measured seconds per scenario")
    p.add_argument("--warmup", type=float, default=1.0)
    p.add_argument("--burst", type=int, default=1, help="server broadcasts between yields")
    p.add_argument("--latency-fraction", type=float, default=0.5,
                   help="latency load as a fraction of Flask-SocketIO's broadcast rate")
    p.add_argument("--batch", type=int, default=64, help="blaster: frames per write")
    p.add_argument("--fastsock-option", action="append", default=[], metavar="KEY=VALUE",
                   help="extra fastsock SocketIO() keyword argument (VALUE as JSON), repeatable")
    p.add_argument("--loadgen-arg", action="append", default=[], metavar="ARG",
                   help="extra benches/loadgen.py argument, repeatable "
                        "(e.g. --loadgen-arg=--rx-interval-us=500)")
    p.add_argument("--server-core", type=int, default=0)
    p.add_argument("--loadgen-core", type=int, default=1)
    p.add_argument("--json-out", help="also write every raw result to this JSON file")
    return p.parse_args(argv)


def main(argv=None) -> None:
    args = parse_args(argv)
    scenarios = args.scenarios.split(",")
    impls = args.impls.split(",")
    modes = args.async_modes.split(",")
    combos = [(i, "-") if i.startswith("blaster") else (i, m) for i in impls for m in modes]
    combos = list(dict.fromkeys(combos))
    # the baseline (Flask-SocketIO under gevent, else the first implementation listed) runs
    # first at each N: the others' ratios and latency load are derived from it
    combos.sort(key=lambda c: c != (BASELINE, "gevent"))
    base_combo = combos[0]
    extra = ["--burst", str(args.burst), "--latency-fraction", str(args.latency_fraction),
             *args.loadgen_arg]
    results, rows = [], []
    for n in (int(x) for x in args.clients.split(",")):
        base = None
        for impl, mode in combos:
            rate = None
            if base is not None and "broadcast" in base:
                rate = args.latency_fraction * base["broadcast"]["deliveries_per_s"]
            print(f"# N={n} {impl}/{mode} ...", file=sys.stderr, flush=True)
            try:
                res = measure(impl, n, scenarios, async_mode=mode, latency_rate=rate,
                              server_core=args.server_core, loadgen_core=args.loadgen_core,
                              batch=args.batch, duration=args.duration, warmup=args.warmup,
                              extra=extra,
                              options=args.fastsock_option if impl == "fastsock" else None)
            except (RuntimeError, subprocess.TimeoutExpired, ValueError) as exc:
                print(f"# N={n} {impl}/{mode} failed: {exc}", file=sys.stderr, flush=True)
                continue
            if (impl, mode) == base_combo:
                base = res
            results.append(res)
            rows += rows_of(res, base)
    rows.sort(key=lambda r: (SCENARIOS.index(r["scenario"]), r["N"]))
    scanners = sorted({r.get("scanner", "?") for r in results})
    print(f"# server pinned to core {args.server_core}, load generator to core "
          f"{args.loadgen_core} ({'/'.join(scanners)} frame scanner); {os.cpu_count()} cores; "
          f"'vs base' = times better than {'/'.join(base_combo)} (throughput, p99 latency, bytes per "
          "connection); bg % = load on the server/loadgen cores just before the run; others % "
          "= what other processes took of those cores during the window ('shared' when >= "
          f"{SHARED:.0f} %)")
    print(format_table(rows))
    if args.json_out:
        with open(args.json_out, "w") as f:
            json.dump(results, f, indent=1)


if __name__ == "__main__":
    main()
