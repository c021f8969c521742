"""The per-connection writer and the heartbeat timer structure, on socket pairs."""

from __future__ import annotations

import socket
import threading
import time

import pytest

from fastsock.engineio.async_threading import ThreadingDriver
from fastsock.engineio.heartbeat import Heartbeat
from fastsock.engineio.writer import FLUSH_THRESHOLD, GeventOutput, ThreadOutput


class CountingSocket:
    """Wraps a socket to count ``send`` calls (the writer's only syscall)."""

    def __init__(self, sock):
        self._sock = self
        self.real = sock
        self.sends = 0

    def send(self, data, flags=0):
        self.sends += 1
        return self.real.send(data, flags)

    def __getattr__(self, name):
        return getattr(self.real, name)


def _read_all(sock, size, timeout=5.0):
    sock.settimeout(timeout)
    data = b""
    while len(data) < size:
        chunk = sock.recv(1 << 20)
        if not chunk:
            break
        data += chunk
    return data


def test_gevent_writes_of_one_iteration_leave_in_one_send():
    import gevent
    import gevent.socket

    server, client = gevent.socket.socketpair()
    counting = CountingSocket(server)
    out = GeventOutput(counting, limit=1 << 20)
    frames = [b"frame-%d|" % i for i in range(50)]
    for frame in frames:
        out.write(frame)
    assert counting.sends == 0  # corked until the hub runs its loop
    gevent.sleep(0)
    assert counting.sends == 1
    assert _read_all(client, sum(map(len, frames))) == b"".join(frames)
    out.write(b"x" * (FLUSH_THRESHOLD + 1))  # a big write goes out at once
    assert counting.sends == 2
    out.release()
    server.close()
    client.close()


def test_gevent_backlog_is_sent_when_writable_and_capped():
    import gevent
    import gevent.socket

    server, client = gevent.socket.socketpair()
    out = GeventOutput(server, limit=2 << 20)
    chunk = b"y" * 65536
    total = 0
    while not out.buffered:  # fill the kernel buffers until the writer has to keep bytes
        out.write(chunk)
        total += len(chunk)
        gevent.sleep(0)
    assert not out.closed
    received = []

    def drain():
        received.append(_read_all(client, total))

    reader = gevent.spawn(drain)
    reader.join(5)
    assert received[0] == b"y" * total and out.buffered == 0
    # a peer that stops reading: the output is cut once its buffer passes the limit
    for _ in range(200):
        if out.closed:
            break
        out.write(chunk)
        gevent.sleep(0)
    assert out.closed and "limit" in out.error
    out.release()
    server.close()
    client.close()


def test_thread_output_writes_at_once_and_poller_finishes_backlog():
    server, client = socket.socketpair()
    out = ThreadOutput(server, limit=64 << 20)
    out.write(b"now")
    client.settimeout(2)
    assert client.recv(10) == b"now"
    chunk = bytes(range(256)) * 1024
    for _ in range(40):  # 10 MB: far more than the socket buffers hold
        out.write(chunk)
    assert out.buffered > 0
    data = _read_all(client, 40 * len(chunk))
    assert data == chunk * 40
    deadline = time.monotonic() + 2
    while out.buffered and time.monotonic() < deadline:
        time.sleep(0.01)
    assert out.buffered == 0
    out.close()  # graceful: FIN after the buffered bytes
    assert client.recv(10) == b""
    out.release()
    server.close()
    client.close()


def test_thread_output_cut_off_wakes_the_reader():
    server, client = socket.socketpair()
    out = ThreadOutput(server, limit=256 * 1024)
    woke = threading.Event()

    def reader():
        server.recv(10)  # the connection's reader, blocked
        woke.set()

    threading.Thread(target=reader, daemon=True).start()
    chunk = b"z" * 65536
    for _ in range(200):
        if not out.write(chunk):
            break
    assert out.closed and out.error
    assert woke.wait(2)
    server.close()
    client.close()


# -- heartbeat -------------------------------------------------------------------------------


class FakeSocket:
    def __init__(self):
        self._hb_gen = 0
        self._awaiting_pong = False
        self.closed = False
        self.pings = 0

    def _send_ping(self):
        self.pings += 1


@pytest.fixture
def timeouts():
    fired = []
    yield fired


def _heartbeat(fired, monitor=True, interval=0.05, timeout=0.05):
    return Heartbeat(ThreadingDriver(), interval, timeout, monitor, fired.append)


def test_ping_then_timeout(timeouts):
    hb = _heartbeat(timeouts)
    sock = FakeSocket()
    started = time.monotonic()
    hb.start(sock)
    while not timeouts and time.monotonic() - started < 2:
        time.sleep(0.005)
    elapsed = time.monotonic() - started
    assert timeouts == [sock] and sock.pings == 1
    assert 0.09 <= elapsed < 1.5
    hb.stop()


def test_pongs_keep_a_connection_alive(timeouts):
    hb = _heartbeat(timeouts, interval=0.05, timeout=0.3)
    sock = FakeSocket()
    hb.start(sock)
    deadline = time.monotonic() + 0.5
    while time.monotonic() < deadline:
        if sock._awaiting_pong:
            hb.pong(sock)
        time.sleep(0.005)
    assert timeouts == [] and sock.pings >= 5
    hb.stop()


def test_forget_and_closed_cancel_timers(timeouts):
    hb = _heartbeat(timeouts)
    a, b = FakeSocket(), FakeSocket()
    hb.start(a)
    hb.start(b)
    hb.forget(a)
    b.closed = True
    time.sleep(0.3)
    assert timeouts == [] and a.pings == 0 and b.pings == 0
    hb.stop()


def test_without_monitor_the_next_ping_notices(timeouts):
    hb = _heartbeat(timeouts, monitor=False, interval=0.1, timeout=0.01)
    sock = FakeSocket()
    started = time.monotonic()
    hb.start(sock)
    while not timeouts and time.monotonic() - started < 2:
        time.sleep(0.005)
    assert timeouts == [sock] and time.monotonic() - started >= 0.19
    hb.stop()


def test_many_connections_one_task(timeouts):
    hb = _heartbeat(timeouts, interval=0.05, timeout=0.05)
    socks = [FakeSocket() for _ in range(2000)]
    threads_before = threading.active_count()
    for sock in socks:
        hb.start(sock)
    deadline = time.monotonic() + 3
    while len(timeouts) < 2000 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert len(timeouts) == 2000 and all(s.pings == 1 for s in socks)
    assert threading.active_count() - threads_before <= 1  # one heartbeat thread
    hb.stop()


def test_linger_callback(timeouts):
    from fastsock.engineio import heartbeat

    hb = _heartbeat(timeouts)
    called = threading.Event()
    saved, heartbeat.LINGER = heartbeat.LINGER, 0.05
    try:
        hb.linger(called.set)
        assert called.wait(2)
    finally:
        heartbeat.LINGER = saved
        hb.stop()


# -- threading handler pool ------------------------------------------------------------------


def test_handler_pool_never_queues_behind_a_busy_worker():
    from fastsock.engineio.async_threading import HandlerPool

    pool = HandlerPool(max_workers=4)
    release = threading.Event()
    ran = threading.Event()
    pool.submit(release.wait, 5)  # one slow call
    time.sleep(0.05)
    for _ in range(10):  # quick calls keep one worker busy-then-idle
        pool.submit(time.sleep, 0)
    pool.submit(ran.set)  # must not wait for the slow call
    assert ran.wait(2)
    release.set()


def test_handler_pool_is_bounded_and_drains_its_backlog():
    from fastsock.engineio.async_threading import HandlerPool

    pool = HandlerPool(max_workers=3)
    release = threading.Event()
    done: list = []
    for _ in range(3):
        pool.submit(release.wait, 5)
    for i in range(5):
        pool.submit(done.append, i)
    time.sleep(0.1)
    assert done == [] and pool._workers == 3  # bounded: the rest waits
    release.set()
    deadline = time.monotonic() + 2
    while len(done) < 5 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert sorted(done) == list(range(5))
    assert pool._backlog == 0 and pool._idle == 3
