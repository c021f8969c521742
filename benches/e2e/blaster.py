"""A trivially fast stand-in server, to measure the load generator's own ceiling.

It speaks just enough Engine.IO v4 / Socket.IO v5 over WebSocket for ``benches/loadgen.py`` (the
handshake, connect, the ``join``/``fan``/``bench_*`` events of ``benches/e2e/app.py``) and
broadcasts by writing one pre-built chunk of ``--batch`` frames to every member, so it spends a
few tens of nanoseconds per delivery and the load generator becomes the bottleneck::

    taskset -c 0 python benches/e2e/blaster.py --batch 64
    python -m benches.e2e.run --impls blaster      # the load generator's ceiling, in the table

The frames are exactly those a real server sends (``42["b",[seq,ts,"xx.."]]``, unmasked).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import sys
import time

try:
    from fastsock import _ws_c as ws
except ImportError:  # a pure build
    from fastsock import _ws_py as ws

TEXT = ws.TEXT
# Each member's kernel send buffer is kept small and the broadcast waits until every member's
# kernel took the last chunk: what is in flight stays a few chunks per member, so the backlog (and
# the time to drain it after the window) stays small even at thousands of members.
SNDBUF = 16 * 1024


class Client(asyncio.Protocol):
    """One WebSocket client of the blaster."""

    def __init__(self, server: Blaster) -> None:
        self.server = server
        self.transport = None
        self.head = b""
        self.parser = None
        self.connected = False

    def connection_made(self, transport) -> None:
        self.transport = transport
        transport.get_extra_info("socket").setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, SNDBUF)

    def connection_lost(self, exc) -> None:
        self.server.members.discard(self)
        if self.connected:
            self.server.connected -= 1

    def data_received(self, data: bytes) -> None:
        if self.parser is None:
            self.head += data
            end = self.head.find(b"\r\n\r\n")
            if end < 0:
                return
            key = b""
            for line in self.head[:end].split(b"\r\n"):
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"sec-websocket-key":
                    key = value.strip()
            self.transport.write(
                b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                b"Connection: Upgrade\r\nSec-WebSocket-Accept: "
                + ws.accept_key(key).encode() + b"\r\n\r\n"
            )
            self.send('0{"sid":"blaster","upgrades":[],"pingInterval":25000,'
                      '"pingTimeout":20000,"maxPayload":1000000}')
            self.parser = ws.FrameParser()
            data, self.head = self.head[end + 4:], b""
        for opcode, payload in self.parser.feed(data):
            if opcode == ws.CLOSE:
                self.transport.close()
            elif opcode == TEXT:
                self.packet(payload)

    def send(self, text: str) -> None:
        self.transport.write(ws.build_frame(TEXT, text))

    def packet(self, text: str) -> None:
        if text == "40":
            self.connected = True
            self.server.connected += 1
            self.send('40{"sid":"blaster"}')
        elif text.startswith("42"):
            body = text.index("[")
            ack = text[2:body]
            event, *args = json.loads(text[body:])
            result = self.server.event(self, event, args)
            if ack:
                self.send(f"43{ack}{json.dumps([result])}")


class Blaster:
    """The server: a room of clients and a broadcast task writing pre-built chunks."""

    def __init__(self, batch: int) -> None:
        self.batch = batch
        self.members: set[Client] = set()
        self.seq = 0
        self.task = None
        self.connected = 0
        self.fanouts = 0

    def event(self, client: Client, event: str, args: list):
        if event == "join":
            self.members.add(client)
            return len(self.members)
        if event == "fan":
            self.fanouts += 1
            frame = ws.build_frame(TEXT, "42" + json.dumps(["f", args[0]], separators=(",", ":")))
            for member in self.members:
                member.transport.write(frame)
            return None
        if event == "bench_start":
            self.stop()
            self.seq = 0
            self.task = asyncio.ensure_future(self.broadcast(args[0]))
            return {"ok": True}
        if event == "bench_stop":
            self.stop()
            return {"seq": self.seq}
        return {"impl": "blaster", "pid": os.getpid(), "joined": len(self.members),
                "connected": self.connected, "fanouts": self.fanouts, "seq": self.seq}

    def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()
            self.task = None

    async def broadcast(self, cfg: dict) -> None:
        rate = cfg.get("rate")
        pad = "x" * max(1, int(cfg.get("size", 100)) - 40)
        batch = 1 if rate else self.batch
        t0 = time.monotonic()
        k = 0
        while True:
            if rate:
                ts = t0 + k / rate
                delay = ts - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
            else:
                ts = time.monotonic()
            first = self.seq + 1
            self.seq += batch
            chunk = b"".join(
                ws.build_frame(TEXT, f'42["b",[{seq},{ts:.6f},"{pad}"]]')
                for seq in range(first, self.seq + 1)
            )
            for member in self.members:
                member.transport.write(chunk)
            k += 1
            await asyncio.sleep(0)
            while any(m.transport.get_write_buffer_size() for m in self.members):
                await asyncio.sleep(0.001)


async def serve(args: argparse.Namespace) -> None:
    loop = asyncio.get_running_loop()
    blaster = Blaster(args.batch)
    server = await loop.create_server(lambda: Client(blaster), args.host, args.port, backlog=4096)
    port = server.sockets[0].getsockname()[1]
    print(f"blaster pid {os.getpid()} port {port}", file=sys.stderr, flush=True)
    await server.serve_forever()


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description="trivially fast Socket.IO broadcast stand-in")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--batch", type=int, default=64, help="frames per write at full speed")
    args = p.parse_args(argv)
    import uvloop

    uvloop.run(serve(args))


if __name__ == "__main__":
    main()
