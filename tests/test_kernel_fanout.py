"""The fan-out kernel: connection outputs, corking, slow readers and the room walk, on real
socket pairs, for both implementations (``fanout_impl``). Compiled == pure agreement is in
``test_kernel_fanout_agreement.py``."""

from __future__ import annotations

import socket
import threading

import pytest

SMALL_BUF = 4096


def pair(sndbuf: int | None = None, rcvbuf: int | None = None):
    """A connected pair of real sockets; ``a`` is the server side, ``b`` the peer."""
    a, b = socket.socketpair()
    if sndbuf is not None:
        a.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, sndbuf)
    if rcvbuf is not None:
        b.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    b.setblocking(False)
    return a, b


def tcp_pair():
    """A connected TCP pair on loopback (what servers really write to)."""
    listener = socket.create_server(("127.0.0.1", 0))
    b = socket.create_connection(listener.getsockname())
    a, _ = listener.accept()
    listener.close()
    b.setblocking(False)
    return a, b


def drain(sock, limit: int = 1 << 30) -> bytes:
    """Everything the peer can read right now (non-blocking)."""
    data = bytearray()
    while len(data) < limit:
        try:
            chunk = sock.recv(min(1 << 20, limit - len(data)))
        except BlockingIOError:
            break
        if not chunk:
            break
        data += chunk
    return bytes(data)


def eof(sock) -> bool:
    """True when the peer sees the end of the stream (after reading what is left)."""
    sock.settimeout(2)
    try:
        while True:
            chunk = sock.recv(1 << 20)
            if not chunk:
                return True
    except (ConnectionResetError, socket.timeout):
        return False
    finally:
        sock.setblocking(False)


class CountingSocket:
    """A socket wrapper counting ``send`` calls: not a plain socket, so both implementations
    send through its ``send`` method."""

    def __init__(self, sock):
        self.real = sock
        self.sends: list[int] = []

    def send(self, data, flags=0):
        sent = self.real.send(data, flags)
        self.sends.append(len(data))
        return sent

    def fileno(self):
        return self.real.fileno()

    def shutdown(self, how):
        self.real.shutdown(how)


def make_recording(impl):
    """An Output subclass recording its hook calls (as the mode layer would override them)."""

    class Recording(impl.Output):
        __slots__ = ("events",)

        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.events = []

        def _on_blocked(self):
            self.events.append("blocked")

        def _on_closed(self):
            self.events.append("closed")

    return Recording


# -- build ----------------------------------------------------------------------------------


def test_compiled_classes_have_no_dict(fanout_pair):
    compiled, _pure = fanout_pair
    assert compiled.CYTHON_COMPILED is True
    a, b = pair()
    out = compiled.Output(a, 1000)
    corker = compiled.Corker()
    for obj in (out, corker):
        assert not hasattr(obj, "__dict__")
        with pytest.raises(AttributeError):
            obj.anything = 1
    assert out.native is True
    # a mode-layer subclass with __slots__ stays dict-free too
    assert not hasattr(make_recording(compiled)(a, 1000), "__dict__")
    a.close()
    b.close()


def test_pure_twin_reports_not_compiled(fanout_impl):
    assert fanout_impl.CYTHON_COMPILED is (fanout_impl.__name__ == "fastsock._fanout_c")
    assert fanout_impl.FLUSH_THRESHOLD == 64 * 1024
    assert fanout_impl.MAX_PENDING == 4 * 1024 * 1024


def test_native_only_for_plain_sockets(fanout_impl):
    a, b = pair()
    plain = fanout_impl.Output(a, 1000)
    wrapped = fanout_impl.Output(CountingSocket(a), 1000)
    compiled = fanout_impl.CYTHON_COMPILED
    assert plain.native is compiled
    assert wrapped.native is False
    a.close()
    b.close()


# -- writing --------------------------------------------------------------------------------


def test_uncorked_write_is_sent_at_once(fanout_impl):
    a, b = tcp_pair()
    out = fanout_impl.Output(a, 1 << 20)
    assert out.write(b"hello") is True
    b.settimeout(2)
    assert b.recv(10) == b"hello"
    assert out.buffered == 0 and not out.dirty and not out.blocked
    assert out.write(b"") is True  # nothing to do
    assert out.write(bytearray(b"ba")) is True  # bytes-like is copied
    assert b.recv(10) == b"ba"
    with pytest.raises(TypeError):
        out.write("text")
    out.release()
    a.close()
    b.close()


def test_corked_writes_leave_in_one_send(fanout_impl):
    a, b = pair()
    counting = CountingSocket(a)
    scheduled = []
    corker = fanout_impl.Corker(lambda: scheduled.append(1))
    out = fanout_impl.Output(counting, 1 << 20, corker)
    frames = [b"frame-%d|" % i for i in range(50)]
    for frame in frames:
        assert out.write(frame)
    assert scheduled == [1]  # once, when the dirty list stopped being empty
    assert counting.sends == [] and out.dirty and corker.dirty_count == 1
    assert corker.pending == sum(map(len, frames)) == out.buffered
    assert corker.run() == 1
    assert counting.sends == [sum(map(len, frames))]
    assert drain(b) == b"".join(frames)
    assert not out.dirty and corker.dirty_count == 0 and corker.pending == 0
    assert corker.run() == 0
    out.write(b"again")
    assert scheduled == [1, 1]
    a.close()
    b.close()


def test_threshold_sends_at_once(fanout_impl):
    a, b = pair()
    counting = CountingSocket(a)
    corker = fanout_impl.Corker(threshold=1000)
    out = fanout_impl.Output(counting, 1 << 20, corker)
    out.write(b"x" * 600)
    assert counting.sends == []
    out.write(b"y" * 400)  # the buffer reaches the threshold
    assert counting.sends == [1000] and out.buffered == 0
    assert drain(b) == b"x" * 600 + b"y" * 400
    corker.run()  # still listed: nothing left to send
    assert counting.sends == [1000]
    a.close()
    b.close()


def test_max_pending_runs_every_dirty_output(fanout_impl):
    corker = fanout_impl.Corker(threshold=1 << 20, max_pending=3000)
    pairs = [pair() for _ in range(4)]
    outs = [fanout_impl.Output(a, 1 << 20, corker) for a, _ in pairs]
    for out in outs[:3]:
        out.write(b"z" * 900)
    assert corker.dirty_count == 3
    outs[3].write(b"z" * 400)  # 3100 corked bytes: everything goes now
    assert corker.dirty_count == 0 and corker.pending == 0
    for (a, b), size in zip(pairs, (900, 900, 900, 400)):
        assert drain(b) == b"z" * size
        a.close()
        b.close()


def test_failing_schedule_sends_at_once(fanout_impl):
    def schedule():
        raise RuntimeError("no loop")

    a, b = pair()
    corker = fanout_impl.Corker(schedule)
    out = fanout_impl.Output(a, 1 << 20, corker)
    out.write(b"abc")
    assert drain(b) == b"abc" and not out.dirty
    a.close()
    b.close()


def test_corker_must_be_a_corker(fanout_impl):
    a, b = pair()
    out = fanout_impl.Output(a, 1000)
    with pytest.raises(TypeError):
        out.corker = object()
    corker = fanout_impl.Corker()
    out.corker = corker
    assert out.corker is corker
    out.corker = None
    assert out.corker is None
    a.close()
    b.close()


# -- blocked sockets, slow readers ----------------------------------------------------------


def test_backlog_waits_for_writability(fanout_impl):
    a, b = pair(sndbuf=SMALL_BUF)
    out = make_recording(fanout_impl)(a, 1 << 20)
    frame = bytes(range(256)) * 4
    for _ in range(64):
        out.write(frame)
    assert out.blocked and out.buffered > 0
    assert out.events == ["blocked"]  # once per state change, not per frame
    received = bytearray()
    while True:
        received += drain(b)
        if not out.on_writable():
            break
    received += drain(b)
    assert bytes(received) == frame * 64
    assert not out.blocked and out.buffered == 0 and out.events == ["blocked"]
    assert out.on_writable() is False  # spurious wake-up: nothing to do
    a.close()
    b.close()


def test_slow_reader_is_cut_off_at_the_limit(fanout_impl):
    a, b = pair(sndbuf=SMALL_BUF)
    out = make_recording(fanout_impl)(a, 10_000)
    frame = b"s" * 1000
    accepted = 0
    while out.write(frame):
        accepted += 1
        assert out.buffered <= 10_000
        assert accepted < 10_000
    assert out.closed and out.buffered == 0
    assert out.error == "output buffer over its limit of 10000 bytes (peer not reading)"
    assert out.events == ["blocked", "closed"]
    assert out.write(frame) is False
    assert eof(b)  # shut down: the connection's reader wakes up
    a.close()
    b.close()


def test_limit_checked_after_a_partial_send(fanout_impl):
    a, b = pair(sndbuf=SMALL_BUF)
    out = fanout_impl.Output(a, 1000)
    assert out.write(b"p" * 200_000) is True  # accepted, then too much was refused
    assert out.closed and "limit of 1000 bytes" in out.error
    a.close()
    b.close()


def test_close_sends_the_backlog_then_fin(fanout_impl):
    a, b = pair(sndbuf=SMALL_BUF)
    out = make_recording(fanout_impl)(a, 1 << 20)
    data = b"c" * 100_000
    out.write(data)
    assert out.blocked
    out.close()
    assert out.draining and not out.closed
    assert out.write(b"late") is False
    received = bytearray()
    while out.on_writable():
        received += drain(b)
    assert out.closed and out.error is None and out.events == ["blocked", "closed"]
    received += drain(b)
    assert bytes(received) == data
    assert eof(b)
    a.close()
    b.close()


def test_close_flushes_a_corked_buffer(fanout_impl):
    a, b = pair()
    corker = fanout_impl.Corker()
    out = fanout_impl.Output(a, 1 << 20, corker)
    out.write(b"bye")
    out.close()
    assert out.closed and out.draining
    assert drain(b) == b"bye" and eof(b)
    corker.run()  # the listed output is already closed: harmless
    a.close()
    b.close()


def test_abort_discards_and_wakes_the_reader(fanout_impl):
    a, b = pair(sndbuf=SMALL_BUF)
    out = make_recording(fanout_impl)(a, 1 << 20)
    out.write(b"a" * 100_000)
    out.abort("going away")
    assert out.closed and out.buffered == 0 and out.error == "going away"
    out.abort("second reason")  # the first reason stays
    assert out.error == "going away"
    assert out.events == ["blocked", "closed"]
    woke = threading.Event()

    def reader():
        a.recv(10)  # returns at once: the socket was shut down
        woke.set()

    threading.Thread(target=reader, daemon=True).start()
    assert woke.wait(2)
    a.close()
    b.close()


def test_release_forgets_the_socket(fanout_impl):
    a, b = pair()
    out = make_recording(fanout_impl)(a, 1 << 20)
    out.release()
    assert out.closed and out._raw is None and out.events == ["closed"]
    assert out.write(b"x") is False
    out.abort("after release")  # no socket to shut down: no error
    a.sendall(b"still open")  # the socket itself was not shut down
    assert drain(b) == b"still open"
    a.close()
    b.close()


def test_socket_closed_without_release_is_never_written(fanout_impl):
    a, b = pair()
    b.close()
    out = fanout_impl.Output(a, 1 << 20)
    a.close()
    assert out.write(b"x") is True
    assert out.closed and out.error == "send failed: the socket was closed"


def test_send_error_cuts_off(fanout_impl):
    a, b = pair()
    out = fanout_impl.Output(a, 1 << 20)
    b.close()
    out.write(b"x")  # EPIPE, without SIGPIPE
    assert out.closed and out.error == "send failed: [Errno 32] Broken pipe"
    a.close()


def test_a_wrapper_whose_send_raises_is_cut_off(fanout_impl):
    class NoFlags(CountingSocket):
        def send(self, data, flags=0):
            if flags:  # what an ssl.SSLSocket does
                raise ValueError("non-zero flags not allowed")
            return super().send(data)

    a, b = pair()
    out = fanout_impl.Output(NoFlags(a), 1 << 20)
    assert out.write(b"x") is True
    assert out.closed and out.error == "send failed: non-zero flags not allowed"
    a.close()
    b.close()


def test_failing_hook_cuts_only_that_output(fanout_impl):
    class Failing(fanout_impl.Output):
        __slots__ = ()

        def _on_blocked(self):
            raise RuntimeError("no watcher")

    a, b = pair(sndbuf=SMALL_BUF)
    out = Failing(a, 1 << 20)
    out.write(b"f" * 100_000)
    assert out.closed and out.error == "blocked hook failed: RuntimeError('no watcher')"
    a.close()
    b.close()


def test_threads_never_tear_frames(fanout_impl):
    """Outputs shared by threads (threading mode): frames stay whole and in order per writer,
    the pure twin through its lock, the compiled one because its methods keep the GIL."""
    a, b = tcp_pair()
    out = fanout_impl.Output(a, 1 << 30, lock=threading.Lock())
    received = bytearray()
    done = threading.Event()

    def reader():
        while not done.is_set():
            received.extend(drain(b))
            if out.blocked:
                out.on_writable()
        received.extend(drain(b))

    def writer(tid):
        for i in range(2000):
            out.write(b"<%d:%d>" % (tid, i))

    r = threading.Thread(target=reader)
    r.start()
    writers = [threading.Thread(target=writer, args=(t,)) for t in range(4)]
    for w in writers:
        w.start()
    for w in writers:
        w.join()
    while out.buffered:
        out.on_writable()
        received.extend(drain(b))
    done.set()
    r.join()
    received.extend(drain(b))
    frames = bytes(received).split(b">")[:-1]
    assert len(frames) == 8000
    seen = {t: [] for t in range(4)}
    for frame in frames:
        tid, i = frame.lstrip(b"<").split(b":")
        seen[int(tid)].append(int(i))
    assert all(seq == list(range(2000)) for seq in seen.values())
    a.close()
    b.close()


# -- fan-out --------------------------------------------------------------------------------


class Prepared:
    """What ``Server.prepare`` returns, as far as the kernel cares."""

    __slots__ = ("data", "frame")

    def __init__(self, data: bytes):
        self.data = data
        self.frame = b"F[" + data + b"]"


class Member:
    """A WebSocket member: the kernel reads ``_out`` and ``closed``."""

    __slots__ = ("_out", "closed", "name")

    def __init__(self, name, out):
        self.name = name
        self._out = out
        self.closed = False

    def send_prepared(self, prepared):  # never called for a WebSocket member
        raise AssertionError("slow path used for a WebSocket member")


class PollingMember:
    """A member without an output: gets ``send_prepared`` calls."""

    def __init__(self, name):
        self.name = name
        self.closed = False
        self._out = None
        self.got: list = []

    def send_prepared(self, prepared):
        self.got.append(prepared.data)


def test_fanout_to_a_room(fanout_impl):
    corker = fanout_impl.Corker()
    pairs = [pair() for _ in range(5)]
    members = {
        f"s{i}": Member(f"s{i}", fanout_impl.Output(a, 1 << 20, corker))
        for i, (a, _) in enumerate(pairs)
    }
    polling = PollingMember("p")
    members["p"] = polling
    one = Prepared(b"one")
    assert fanout_impl.fanout(members, one) == 6
    assert corker.dirty_count == 5 and polling.got == [b"one"]
    parts = (Prepared(b"a"), Prepared(b"b"))
    skipped = members["s1"]
    assert fanout_impl.fanout(members, parts, skipped) == 5
    assert fanout_impl.fanout(members, [Prepared(b"c")], {members["s2"], polling}) == 4
    members["s3"].closed = True  # closing: its output may still send the close frames
    assert fanout_impl.fanout(list(members.values()), (Prepared(b"d"),), frozenset()) == 5
    assert fanout_impl.fanout(members, ()) == 0
    corker.run()
    expected = {
        0: b"F[one]F[a]F[b]F[c]F[d]",
        1: b"F[one]F[c]F[d]",
        2: b"F[one]F[a]F[b]F[d]",
        3: b"F[one]F[a]F[b]F[c]",
        4: b"F[one]F[a]F[b]F[c]F[d]",
    }
    for i, (a, b) in enumerate(pairs):
        assert drain(b) == expected[i], i
        a.close()
        b.close()
    assert polling.got == [b"one", b"a", b"b", b"d"]


def test_fanout_snapshot_tolerates_membership_changes(fanout_impl):
    members = {}

    class Joiner(PollingMember):
        def send_prepared(self, prepared):
            super().send_prepared(prepared)
            members[f"new{len(members)}"] = PollingMember("late")  # a join during the walk
            members.pop("victim", None)

    members["j"] = Joiner("j")
    victim = PollingMember("victim")
    members["victim"] = victim
    assert fanout_impl.fanout(members, Prepared(b"x")) == 2
    assert victim.got == [b"x"]  # it was in the room when the walk began


def test_fanout_uses_the_output_of_a_subclass(fanout_impl):
    a, b = pair()
    out = make_recording(fanout_impl)(a, 1 << 20)
    assert fanout_impl.fanout([Member("m", out)], Prepared(b"sub")) == 1
    assert drain(b) == b"F[sub]"
    a.close()
    b.close()
