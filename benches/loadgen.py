"""A Socket.IO load generator that is faster than the servers it measures.

One process, asyncio on uvloop, raw TCP sockets and our own minimal WebSocket client: it speaks
Engine.IO v4 / Socket.IO v5 over ``transport=websocket`` directly (no polling, no compression),
answers pings, joins every client to one room and then drives the scenarios of
``benches/e2e/app.py`` through a control connection::

    python benches/loadgen.py --url http://127.0.0.1:PORT --clients 1000 \\
        --scenarios rss,broadcast,fanout,latency --duration 3 --server-pid PID

During the broadcast, latency and fan-out scenarios every client but the control connection and
the fan-out senders is read by a compiled epoll loop in its own thread (``e2e/_rxloop.pyx``, built on first use; ``--receiver
uvloop`` or a machine without a compiler keeps uvloop): the load generator then spends about a
``recv`` per read and a few ns per frame, far less than the server per delivery. Elsewhere
deliveries are counted per frame without decoding them (``e2e/framescan.py``, compiled on first
use). The sequence number of every event is checked (each client must receive every broadcast
exactly once, in order) and the timestamp in the payload is parsed only on a strided sample of
connections, for latency. The generator reports its own CPU share and CPU time per delivery next
to the server's, so its headroom is visible in every figure. Its ceiling is measured against
``e2e/blaster.py``, a stand-in server that writes pre-built frames (``--impls blaster64``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import socket
import sys
import threading
import time
from urllib.parse import urlsplit

import psutil
from e2e.framescan import load as load_scanner
from e2e.rxloop import load as load_rxloop

try:
    from fastsock._ws_c import build_frame
except ImportError:  # a pure build: the twin has the same behaviour
    from fastsock._ws_py import build_frame

# the frame walker: compiled on first use (pyximport), else its pure-Python twin
scan, SCAN_COMPILED = load_scanner()
# the compiled receive loop of the broadcast scenarios, or None (then uvloop reads)
RxLoop = load_rxloop()

TEXT = 1
PONG = 10
CLOSE = 8
ROOM = "bench"
# Connections sampled for latency: about this many, strided over the whole room (parsing the
# timestamp of every frame would cost the load generator ~0.3 us per delivery).
LATENCY_CONNS = 50

clock = time.monotonic


def raise_fd_limit() -> int:
    """Raise the soft RLIMIT_NOFILE to the hard limit; return the new soft limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


def cpu_seconds() -> float:
    """CPU time (user + system) this process has used."""
    t = os.times()
    return t.user + t.system


class Conn(asyncio.Protocol):
    """One WebSocket Socket.IO client; counts the benchmark events it receives."""

    def __init__(self, lg: LoadGen, idx: int) -> None:
        self.lg = lg
        self.idx = idx
        self.transport = None
        self.mask = os.urandom(4)
        self.rest = b""
        self.upgraded = False
        self.joined = lg.loop.create_future()
        self.closed = False
        self.acks: dict[int, asyncio.Future] = {}
        self.next_ack = 1
        self.sample = False
        self.sender = -1  # this client's index among the fan-out senders, or -1
        self.inflight = 0
        self.reset()

    def reset(self) -> None:
        """Zero the per-scenario counters."""
        self.cnt_b = self.last_b = self.bad_b = 0
        self.cnt_f = self.sum_f = self.sq_f = 0

    # --- transport callbacks -------------------------------------------------------------
    def connection_made(self, transport) -> None:
        self.transport = transport
        host = self.lg.host
        key = "dGhlIHNhbXBsZSBub25jZQ=="  # any 16-byte base64 value is a valid key
        transport.write(
            f"GET {self.lg.path}?EIO=4&transport=websocket HTTP/1.1\r\nHost: {host}\r\n"
            f"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
            "Sec-WebSocket-Version: 13\r\n\r\n".encode("latin-1")
        )

    def connection_lost(self, exc) -> None:
        if not self.closed:  # not closed by us: the server dropped this client
            self.lg.lost_conns += 1
        self.closed = True
        if not self.joined.done():
            self.joined.set_exception(ConnectionError(f"client {self.idx} closed: {exc}"))
        for fut in self.acks.values():
            if not fut.done():
                fut.set_exception(ConnectionError("connection closed"))

    def data_received(self, data: bytes) -> None:
        if self.rest:
            data = self.rest + data
            self.rest = b""
        if not self.upgraded:
            end = data.find(b"\r\n\r\n")
            if end < 0:
                self.rest = data
                return
            if not data.startswith(b"HTTP/1.1 101"):
                self.fail(f"handshake refused: {data[:end].decode('latin-1')!r}")
                return
            self.upgraded = True
            data = data[end + 4:]
        lg = self.lg
        smp = self.sample and lg.sampling
        others: list = []
        try:
            pos, nb, last, bad, nf, sum_f, sq_f, own = scan(
                data, self.last_b, smp, clock() if smp else 0.0, lg.latencies, others,
                lg.n_senders, self.sender,
            )
        except ValueError as exc:
            self.fail(str(exc))
            return
        if pos < len(data):
            self.rest = data[pos:]
        if nb:
            self.cnt_b += nb
            self.last_b = last
            self.bad_b += bad
        if nf:
            self.cnt_f += nf
            self.sum_f += sum_f
            self.sq_f += sq_f
            for _ in range(own):
                self.inflight -= 1
                lg.fan_sent_next(self)
        lg.delivered += nb + nf
        lg.reads += 1
        for opcode, payload in others:
            try:
                self.control_frame(opcode, payload)
            except ValueError as exc:  # a malformed ack
                self.fail(f"bad packet {payload[:80]!r}: {exc}")
            if self.closed:
                return

    # --- everything that is not a benchmark event ----------------------------------------
    def control_frame(self, opcode: int, payload: bytes) -> None:
        """Handle a frame that is not a benchmark event: pings, connect, acks, close."""
        if opcode == CLOSE:
            self.fail("server closed the WebSocket")
            return
        if opcode == 9:
            self.transport.write(build_frame(PONG, payload, mask=self.mask))
            return
        if opcode != TEXT or not payload:
            return
        kind = payload[:1]
        if kind == b"2":
            self.send_text("3")
        elif kind == b"0":
            self.send_text("40")
        elif payload.startswith(b"40"):
            self.emit("join", ROOM, callback=self._joined)
        elif payload.startswith(b"43"):
            body = payload.index(b"[")
            fut = self.acks.pop(int(payload[2:body]), None)
            if fut is not None and not fut.done():
                fut.set_result(json.loads(payload[body:]))
        elif payload.startswith(b"44"):
            self.fail(f"connect refused: {payload[2:].decode('utf-8', 'replace')}")
        elif kind == b"1" or payload.startswith(b"41"):
            self.fail("server closed the session")

    def _joined(self, fut: asyncio.Future) -> None:
        if not self.joined.done():
            if fut.exception() is not None:
                self.joined.set_exception(fut.exception())
            else:
                self.joined.set_result(True)

    def fail(self, reason: str) -> None:
        """Record a protocol failure and close the connection."""
        self.lg.errors.append(f"client {self.idx}: {reason}")
        if not self.joined.done():
            self.joined.set_exception(ConnectionError(reason))
        self.closed = True
        if self.transport is not None:
            self.transport.abort()

    def send_text(self, text: str) -> None:
        """Send one Engine.IO packet as a masked text frame."""
        if not self.closed:
            self.transport.write(build_frame(TEXT, text, mask=self.mask))

    def emit(self, event: str, *args, ack: bool = False, callback=None) -> asyncio.Future | None:
        """Emit a Socket.IO event; with ``ack`` or a ``callback``, return the ack's future."""
        data = json.dumps([event, *args], separators=(",", ":"))
        fut = None
        if ack or callback is not None:
            ack = self.next_ack
            self.next_ack += 1
            fut = self.acks[ack] = self.lg.loop.create_future()
            if callback is not None:
                fut.add_done_callback(callback)
            self.send_text(f"42{ack}{data}")
        else:
            self.send_text(f"42{data}")
        return fut


class LoadGen:
    """Opens the clients and runs the scenarios; every figure is measured over one window."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        url = urlsplit(args.url)
        self.host = url.hostname or "127.0.0.1"
        self.port = url.port or 80
        self.path = "/" + args.path.strip("/") + "/"
        self.loop = asyncio.get_running_loop()
        self.conns: list[Conn] = []
        self.errors: list[str] = []
        self.lost_conns = 0
        self.delivered = 0
        self.reads = 0  # data_received calls: deliveries / reads is the batching factor
        # during broadcast and fan-out scenarios: (RxLoop, its thread, the clients it reads,
        # the clients uvloop still reads)
        self.rx = None
        self.sampling = False
        self.latencies: list[float] = []
        self.n_senders = 1
        self.fan_ids: list[int] = []  # next message id of each sender
        self.fan_sending = False
        self.fan_sent = self.fan_sum = self.fan_sq = 0
        # ~size bytes once framed as 42["f",[id,ts,"pad"]]
        self.pad = "x" * max(1, args.size - 40)
        self.server = None
        if args.server_pid:
            self.server = psutil.Process(args.server_pid)
        # the cores the two processes are pinned to (None when not pinned to exactly one)
        own = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else ()
        self.loadgen_core = next(iter(own)) if len(own) == 1 else None
        affinity = getattr(self.server, "cpu_affinity", None)  # not on macOS
        theirs = affinity() if affinity is not None else []
        self.server_core = theirs[0] if len(theirs) == 1 else None

    # --- connections -----------------------------------------------------------------
    async def open_clients(self, count: int) -> list[Conn]:
        """Open ``count`` clients, each connected and joined to the room."""
        limit = asyncio.Semaphore(self.args.connect_concurrency)
        start = len(self.conns)

        async def one(idx: int) -> Conn:
            async with limit:
                sock = None
                if self.args.rcvbuf:
                    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, self.args.rcvbuf)
                    sock.setblocking(False)
                    await self.loop.sock_connect(sock, (self.host, self.port))
                    _, conn = await self.loop.create_connection(lambda: Conn(self, idx), sock=sock)
                else:
                    _, conn = await self.loop.create_connection(
                        lambda: Conn(self, idx), self.host, self.port
                    )
                await asyncio.wait_for(conn.joined, 30)
                return conn

        conns = await asyncio.gather(*(one(start + i) for i in range(count)))
        self.conns.extend(conns)
        return conns

    def close_clients(self, conns: list[Conn]) -> None:
        """Close ``conns`` (a WebSocket close frame, then the socket)."""
        for c in conns:
            if not c.closed:
                c.closed = True
                c.transport.write(build_frame(CLOSE, b"\x03\xe8", mask=c.mask))
                c.transport.close()
        gone = set(conns)
        self.conns = [c for c in self.conns if c not in gone]

    # --- measurement helpers ---------------------------------------------------------------
    async def server_stats(self) -> dict:
        """The server app's counters (``bench_stats``), asked over the first connection."""
        return (await self.conns[0].emit("bench_stats", ack=True))[0]

    def server_cpu(self) -> float:
        if self.server is None:
            return 0.0
        t = self.server.cpu_times()
        return t.user + t.system

    def server_rss(self) -> int:
        return self.server.memory_info().rss if self.server is not None else 0

    # --- the compiled receive loop ------------------------------------------------------
    def start_rx(self, interval_us: float, keep=()) -> None:
        """Hand every client but the control connection and ``keep`` to the receive loop."""
        if RxLoop is None or self.args.receiver == "uvloop":
            return
        kept = set(keep)
        conns = [c for c in self.conns[1:] if not c.closed and c not in kept]
        for c in conns:
            c.transport.pause_reading()
        rx = RxLoop([c.transport.get_extra_info("socket").fileno() for c in conns],
                    [c.last_b for c in conns], [c.sample for c in conns],
                    [c.mask for c in conns], [c.rest for c in conns],
                    interval_us * 1e-6)
        for c in conns:
            c.rest = b""
        thread = threading.Thread(target=rx.run, name="rxloop", daemon=True)
        thread.start()
        taken = set(conns)
        # the clients uvloop still reads, fixed while the loop runs (the credit task asks often)
        self.rx = (rx, thread, conns, [c for c in self.conns if c not in taken])

    def stop_rx(self) -> None:
        """Stop the receive loop and give its clients' state back to uvloop."""
        if self.rx is None:
            return
        rx, thread, conns, _ = self.rx
        self.rx = None
        rx.stop()
        thread.join()  # within the loop's 20 ms epoll timeout
        self.delivered += rx.delivered
        self.reads += rx.reads
        if rx.unexpected:
            self.errors.append(f"{rx.unexpected} unexpected frames during a broadcast, the first "
                               f"{rx.first_unexpected_frame()!r}")
        for i, c in enumerate(conns):
            rest, last, cnt, bad, error, _eof, cnt_f, sum_f, sq_f = rx.state(i)
            c.rest, c.last_b = rest, last
            c.cnt_b += cnt
            c.bad_b += bad
            c.cnt_f += cnt_f
            c.sum_f += sum_f
            c.sq_f += sq_f
            if error is not None:
                c.fail(error)
            elif not c.closed:
                c.transport.resume_reading()  # an EOF the loop saw reaches connection_lost

    def counts(self) -> tuple[int, int]:
        """Deliveries and reads so far, the receive loop's included."""
        if self.rx is None:
            return self.delivered, self.reads
        rx = self.rx[0]
        return self.delivered + rx.delivered, self.reads + rx.reads

    def uvloop_conns(self) -> list[Conn]:
        """The clients uvloop reads (all of them unless the receive loop runs)."""
        return self.conns if self.rx is None else self.rx[3]

    def all_seen(self, seq: int) -> bool:
        """Whether every client still connected has seen broadcast ``seq``."""
        if not all(c.last_b >= seq or c.closed for c in self.uvloop_conns()):
            return False
        low = self.rx[0].min_last() if self.rx is not None else None
        return low is None or low >= seq

    def all_fanned(self, total: int) -> bool:
        """Whether every client still connected has received ``total`` fanned-out messages."""
        if not all(c.cnt_f >= total or c.closed for c in self.uvloop_conns()):
            return False
        low = self.rx[0].min_fanouts() if self.rx is not None else None
        return low is None or low >= total

    def min_seen(self) -> int:
        """The last broadcast seq every client still connected has seen."""
        low = self.rx[0].min_last() if self.rx is not None else None
        seen = [c.last_b for c in self.uvloop_conns() if not c.closed]
        if low is not None:
            seen.append(low)
        return min(seen, default=0)

    async def send_credit(self, ctrl: Conn) -> None:
        """Tell the server's broadcast loop, every ``--credit-interval``, what all have seen."""
        sent = -1
        while not ctrl.closed:
            seen = self.min_seen()
            if seen != sent:
                ctrl.emit("bench_credit", seen)
                sent = seen
            await asyncio.sleep(self.args.credit_interval)

    async def window(self, seconds: float) -> dict:
        """Measure deliveries and CPU shares over ``seconds``, with latency sampling on."""
        self.latencies = []
        rx = self.rx[0] if self.rx is not None else None
        if rx is not None:
            rx.take_latencies()
            rx.sampling = 1
        self.sampling = True
        t0, (d0, r0) = clock(), self.counts()
        c0, s0, k0 = cpu_seconds(), self.server_cpu(), psutil.cpu_times(percpu=True)
        await asyncio.sleep(seconds)
        t1, (d1, r1) = clock(), self.counts()
        c1, s1, k1 = cpu_seconds(), self.server_cpu(), psutil.cpu_times(percpu=True)
        self.sampling = False
        if rx is not None:
            rx.sampling = 0
            self.latencies += rx.take_latencies()
        wall = t1 - t0
        n = max(1, d1 - d0)
        out = {
            "seconds": round(wall, 3),
            "deliveries": d1 - d0,
            "deliveries_per_s": round((d1 - d0) / wall, 1),
            "deliveries_per_read": round((d1 - d0) / max(1, r1 - r0), 2),
            "loadgen_cpu": round(100 * (c1 - c0) / wall, 1),
            "loadgen_us_per_delivery": round(1e6 * (c1 - c0) / n, 3),
            "server_cpu": round(100 * (s1 - s0) / wall, 1) if self.server else None,
            "server_us_per_delivery": round(1e6 * (s1 - s0) / n, 3) if self.server else None,
        }
        # what other processes took from our two cores during the window: on a shared machine
        # a figure is only as good as the share of its core the process actually got
        out["server_core_others"] = others_on(self.server_core, k0, k1, out["server_cpu"])
        out["loadgen_core_others"] = others_on(self.loadgen_core, k0, k1, out["loadgen_cpu"])
        out.update(percentiles(self.latencies))
        return out

    async def until(self, predicate, timeout: float) -> bool:
        """Poll ``predicate`` until it is true or ``timeout`` passes."""
        deadline = clock() + timeout
        while not predicate():
            if clock() > deadline:
                return False
            await asyncio.sleep(0.05)
        return True

    # --- scenarios -------------------------------------------------------------------
    async def scenario_rss(self, baseline: int) -> dict:
        """(d) Server RSS per idle connection: RSS with every client joined minus baseline."""
        await asyncio.sleep(self.args.settle)
        rss = self.server_rss()
        n = len(self.conns)
        return {"baseline_rss": baseline, "rss": rss, "clients": n,
                "bytes_per_conn": round((rss - baseline) / n, 1) if self.server else None}

    async def broadcast(self, cfg: dict, seconds: float, rx_interval_us: float = 0.0) -> dict:
        """Run the server's broadcast loop with ``cfg``, measure a window, check every seq.

        ``rx_interval_us``: the compiled receive loop reads each client at most this often.
        """
        for c in self.conns:
            c.reset()
        ctrl = self.conns[0]
        self.start_rx(rx_interval_us)
        credit = None
        try:
            if cfg.get("window"):
                credit = asyncio.ensure_future(self.send_credit(ctrl))
            await ctrl.emit("bench_start", cfg, ack=True)
            await asyncio.sleep(self.args.warmup)
            out = await self.window(seconds)
            stop = await ctrl.emit("bench_stop", ack=True)
            final = stop[0]["seq"]
            if credit is not None:
                credit.cancel()
            drained = await self.until(lambda: self.all_seen(final), self.args.drain)
            # how often the server waited for the load generator (0: it was never ahead)
            out["credit_waits"] = (await self.server_stats()).get("credit_waits")
        finally:
            if credit is not None:
                credit.cancel()
            self.stop_rx()
        out["receiver"] = "uvloop" if RxLoop is None or self.args.receiver == "uvloop" else "epoll"
        lost = sum(max(0, final - c.cnt_b) for c in self.conns)
        out.update(broadcasts=final, lost=lost, drained=drained,
                   out_of_order=sum(c.bad_b for c in self.conns),
                   extra=sum(max(0, c.cnt_b - final) for c in self.conns))
        return out

    async def scenario_fanout(self) -> dict:
        """(b) Client messages fanned out by the server with ``emit(..., to=room)``."""
        a = self.args
        for c in self.conns:
            c.reset()
        senders = self.conns[1:1 + a.senders] or self.conns[:1]
        self.n_senders = len(senders)
        self.fan_ids = list(range(self.n_senders))
        self.fan_sent = self.fan_sum = self.fan_sq = 0
        handled = (await self.server_stats()).get("fanouts", 0)
        # the senders stay with uvloop: each sends its next message when its own comes back
        self.start_rx(a.rx_interval_us, keep=senders)
        try:
            self.fan_sending = True
            for i, c in enumerate(senders):
                c.sender = i
                for _ in range(a.window):
                    self.fan_sent_next(c)
            await asyncio.sleep(self.args.warmup)
            out = await self.window(a.duration)
            self.fan_sending = False
            total = self.fan_sent
            drained = await self.until(lambda: self.all_fanned(total), self.args.drain)
        finally:
            self.fan_sending = False
            self.stop_rx()
        out["receiver"] = "uvloop" if RxLoop is None or self.args.receiver == "uvloop" else "epoll"
        for c in senders:
            c.sender = -1
        handled = (await self.server_stats()).get("fanouts", 0) - handled
        if handled != total:
            self.errors.append(f"fan-out: server handled {handled} messages, we sent {total}")
        lost = sum(max(0, total - c.cnt_f) for c in self.conns)
        # count, sum and sum of squares of the ids together catch a duplicate hiding a loss
        wrong = sum(1 for c in self.conns
                    if (c.cnt_f, c.sum_f, c.sq_f) != (total, self.fan_sum, self.fan_sq))
        out.update(messages=total, senders=self.n_senders, window=a.window, lost=lost,
                   drained=drained, clients_wrong=wrong)
        return out

    def fan_sent_next(self, conn: Conn) -> None:
        """Let a fan-out sender send its next message if the scenario is still running."""
        if not self.fan_sending or conn.closed:
            return
        i = conn.sender
        # ids are unique over all senders; id % senders tells every receiver whose message it is
        mid = self.fan_ids[i] + self.n_senders
        self.fan_ids[i] = mid
        self.fan_sent += 1
        self.fan_sum += mid
        self.fan_sq += mid * mid
        conn.inflight += 1
        conn.emit("fan", [mid, round(clock(), 6), self.pad])

    # --- main ------------------------------------------------------------------------
    async def run(self) -> dict:
        """Connect the clients and run the selected scenarios; return the results."""
        a = self.args
        result: dict = {"clients": a.clients, "fd_limit": raise_fd_limit(), "errors": self.errors}
        warm = await self.open_clients(min(10, a.clients))
        result["server"] = await self.server_stats()
        self.close_clients(warm)
        await asyncio.sleep(a.settle)
        baseline = self.server_rss()
        t0 = clock()
        await self.open_clients(a.clients)
        result["connect_seconds"] = round(clock() - t0, 2)
        stats = await self.server_stats()
        if stats.get("connected", len(self.conns)) != len(self.conns):
            self.errors.append(f"server counts {stats['connected']} clients, we opened "
                               f"{len(self.conns)}")
        stride = max(1, len(self.conns) // LATENCY_CONNS)
        for c in self.conns[::stride]:
            c.sample = True
        scenarios = a.scenarios.split(",")
        if "rss" in scenarios:
            result["rss"] = await self.scenario_rss(baseline)
        if "broadcast" in scenarios:
            cfg = {"burst": a.burst, "size": a.size, "window": a.window_broadcasts}
            result["broadcast"] = await self.broadcast(cfg, a.duration, a.rx_interval_us)
        if "fanout" in scenarios:
            result["fanout"] = await self.scenario_fanout()
        if "latency" in scenarios:
            rate = a.latency_rate
            if rate is None:
                if "broadcast" not in result:
                    raise SystemExit("--latency-rate is needed without the broadcast scenario")
                rate = a.latency_fraction * result["broadcast"]["deliveries_per_s"]
            per_s = rate / len(self.conns)
            cfg = {"burst": 1, "size": a.size, "rate": per_s}
            # at large N the offered load is a few broadcasts a second: measure enough of them
            out = await self.broadcast(cfg, max(a.duration, a.latency_broadcasts / per_s))
            out["offered_per_s"] = round(rate, 1)
            out["offered_broadcasts_per_s"] = round(per_s, 3)
            result["latency"] = out
        result["lost_connections"] = self.lost_conns
        self.close_clients(list(self.conns))
        return result


def others_on(core: int | None, before, after, ours: float | None) -> float | None:
    """Busy % of ``core`` between two ``psutil.cpu_times(percpu=True)``, minus ``ours``."""
    if core is None or ours is None or core >= len(after):
        return None
    b, a = before[core], after[core]
    total = sum(a) - sum(b)
    idle = (a.idle - b.idle) + (getattr(a, "iowait", 0.0) - getattr(b, "iowait", 0.0))
    if total <= 0:
        return None
    return round(max(0.0, 100 * (total - idle) / total - ours), 1)


def percentiles(samples: list[float]) -> dict:
    """p50/p99/max of latency samples, in milliseconds."""
    if not samples:
        return {"samples": 0}
    s = sorted(samples)
    n = len(s)
    return {"samples": n, "p50_ms": round(1e3 * s[n // 2], 3),
            "p99_ms": round(1e3 * s[min(n - 1, (n * 99) // 100)], 3),
            "max_ms": round(1e3 * s[-1], 3)}


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--url", required=True, help="server base URL, e.g. http://127.0.0.1:5000")
    p.add_argument("--path", default="socket.io", help="Socket.IO path (default socket.io)")
    p.add_argument("--clients", type=int, default=100)
    p.add_argument("--scenarios", default="rss,broadcast,fanout,latency",
                   help="comma-separated: rss, broadcast, fanout, latency")
    p.add_argument("--duration", type=float, default=3.0, help="measured seconds per scenario")
    p.add_argument("--warmup", type=float, default=1.0, help="seconds before each window")
    p.add_argument("--settle", type=float, default=1.0, help="seconds before reading RSS")
    p.add_argument("--drain", type=float, default=30.0, help="max seconds to wait for the tail")
    p.add_argument("--burst", type=int, default=1, help="broadcasts between server yields")
    p.add_argument("--size", type=int, default=100, help="approximate event size in bytes")
    p.add_argument("--window-broadcasts", type=int, default=2000,
                   help="broadcast: the server may run at most this many broadcasts ahead of "
                        "what every client has seen (0: no limit; the server then outruns a "
                        "slower load generator until its slow-reader limit cuts clients off)")
    p.add_argument("--credit-interval", type=float, default=0.005,
                   help="broadcast: seconds between the credits that report progress")
    p.add_argument("--senders", type=int, default=8, help="fan-out: clients sending")
    p.add_argument("--window", type=int, default=2, help="fan-out: messages in flight per sender")
    p.add_argument("--latency-rate", type=float, default=None,
                   help="latency: offered deliveries/s (default: a fraction of broadcast)")
    p.add_argument("--latency-fraction", type=float, default=0.5)
    p.add_argument("--latency-broadcasts", type=int, default=10,
                   help="latency: measure at least this many broadcasts")
    p.add_argument("--server-pid", type=int, default=None, help="server pid, for CPU and RSS")
    p.add_argument("--connect-concurrency", type=int, default=64)
    p.add_argument("--rcvbuf", type=int, default=0,
                   help="SO_RCVBUF of every client (default: the kernel's, autotuned); a small "
                        "one bounds the backlog a blaster builds, for the ceiling test only")
    p.add_argument("--receiver", choices=("auto", "uvloop"), default="auto",
                   help="broadcast scenarios: read with the compiled epoll loop where it builds "
                        "(auto, default) or always with uvloop")
    p.add_argument("--rx-interval-us", type=float, default=20_000.0,
                   help="broadcast and fan-out scenarios: the compiled receive loop polls at "
                        "most once per this many microseconds, so each recv takes several "
                        "frames (a client "
                        "of a full-speed broadcast gets only ~100 frames/s at N=1000, and each "
                        "read costs the load generator the ACK processing of the server's "
                        "socket too); it adds up to that much to those rows' latency "
                        "columns. The latency scenario always polls at once.")
    p.add_argument("--json", action="store_true", help="print the results as one JSON object")
    return p.parse_args(argv)


async def amain(args: argparse.Namespace) -> dict:
    return await LoadGen(args).run()


def main(argv=None) -> None:
    args = parse_args(argv)
    raise_fd_limit()
    try:
        import uvloop
    except ImportError:  # still works, but the figures are then not the ones we publish
        print("warning: uvloop not installed, using the default asyncio loop", file=sys.stderr)
        result = asyncio.run(amain(args))
    else:
        result = uvloop.run(amain(args))
    result["event_loop"] = "uvloop" if "uvloop" in sys.modules else "asyncio"
    result["scanner"] = "compiled" if SCAN_COMPILED else "pure"
    print(json.dumps(result, indent=None if args.json else 2))


if __name__ == "__main__":
    main()
