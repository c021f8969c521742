"""Room fan-out and the connection output core (pure-Python twin of ``fastsock._fanout_c``).

Both implementations behave identically: same states, same ``send()`` calls of the same sizes,
same error messages. The compiled one makes the send in C on the file descriptor and walks rooms
without Python-level work per recipient.

Design (``performance.md`` §3)
------------------------------
- **One output per connection** (:class:`Output`). ``write(frame)`` takes a complete WebSocket
  frame (a broadcast hands the *same* ``bytes`` object to every recipient) and only appends it
  to a list. Bytes go to the kernel with a non-blocking ``send()`` (``MSG_DONTWAIT``, and
  ``MSG_NOSIGNAL`` where it exists); what the kernel does not take stays in the list and the
  output becomes *blocked*: the mode layer watches the socket for writability and calls
  :meth:`Output.on_writable`. No queue, greenlet, timer or lock per frame.
- **Corking** (:class:`Corker`). With a corker, a write marks the output *dirty* (once) and the
  mode layer runs the corker before its loop waits for I/O: every dirty output then leaves in
  one ``send()`` however many frames it gathered. A buffer that reaches ``threshold`` (64 KB)
  is sent at once, and so is every dirty output when the bytes corked since the last run reach
  ``max_pending`` (4 MB): a broadcaster that never yields keeps bounded latency and memory.
  Without a corker (threading mode, or ``cork=False``) every write is sent at once.
- **Fan-out** (:func:`fanout`): one walk over a room's members appends the broadcast's shared
  frame to each WebSocket member's output; long-polling and virtual members get
  ``send_prepared``.

Slow consumers
--------------
The kernel's socket buffer absorbs a burst; past it, bytes wait in the output. A connection
whose unsent bytes go over ``limit`` (the Engine.IO server's ``max_write_buffer_size``, 4 MB by
default) is a reader that stopped reading: its output is cut off — buffer dropped, socket shut
down, ``error`` set to ``"output buffer over its limit of N bytes (peer not reading)"``. Shutting
the socket down wakes the connection's reader, which closes the session with reason
``transport error`` and logs the error. No other connection waits for it at any point: sends
never block, and a blocked output only costs its own buffer. Memory per connection is bounded
by ``limit`` plus one frame.

Mode hooks
----------
The mode layer subclasses :class:`Output` and overrides ``_on_blocked()`` (start watching for
writability) and ``_on_closed()`` (stop watching); the corker calls its ``schedule()`` when its
dirty list stops being empty. These run once per state change, never per frame. A hook that
raises cuts that one connection off.

Thread safety: this twin takes the ``lock`` given to an output around each method (the
threading mode gives one). The compiled twin needs none for a plain socket (its methods never
release the GIL) and takes it otherwise, exactly like this one.
"""

from __future__ import annotations

import socket as _socket_module
from collections.abc import Iterable
from typing import Any, Callable

CYTHON_COMPILED = False

__all__ = [
    "FLUSH_THRESHOLD",
    "MAX_PENDING",
    "SEND_MAX",
    "Corker",
    "Output",
    "fanout",
]

#: A corked output whose buffer reaches this many bytes is sent at once.
FLUSH_THRESHOLD = 64 * 1024
#: Bytes corked since the last run at which every dirty output is sent at once.
MAX_PENDING = 4 * 1024 * 1024
#: Most bytes copied together for one ``send()``.
SEND_MAX = 256 * 1024
# a head chunk at least this big is sent alone rather than copied into a join
_SEND_ALONE = 64 * 1024
# sent chunks are dropped from the front of the list in batches, not one by one
_COMPACT = 64

_FLAGS = getattr(_socket_module, "MSG_DONTWAIT", 0) | getattr(_socket_module, "MSG_NOSIGNAL", 0)
_WOULD_BLOCK = (BlockingIOError, InterruptedError)


class Corker:
    """The dirty list of corked outputs: each output written to since the last :meth:`run` is
    in it once, and :meth:`run` gives each one ``send()`` for everything it gathered.

    :param schedule: called (with no argument) when the list stops being empty; the mode layer
                     arranges for :meth:`run` to be called before the loop waits for I/O.
                     ``None``: the owner calls :meth:`run` itself.
    :param threshold: a corked output whose buffer reaches this many bytes is sent at once.
    :param max_pending: when the bytes corked since the last run reach this total, every dirty
                        output is sent at once (a broadcaster that never yields stays bounded
                        in latency and memory).
    """

    __slots__ = ("_dirty", "_running", "_schedule", "max_pending", "pending", "threshold")

    def __init__(
        self,
        schedule: Callable[[], Any] | None = None,
        threshold: int = FLUSH_THRESHOLD,
        max_pending: int = MAX_PENDING,
    ) -> None:
        self._dirty: list = []
        self._schedule = schedule
        self._running = False
        self.threshold = threshold
        self.max_pending = max_pending
        self.pending = 0

    @property
    def dirty_count(self) -> int:
        """How many outputs wait for the next :meth:`run`."""
        return len(self._dirty)

    def _add(self, out: Output) -> None:
        self._dirty.append(out)
        if len(self._dirty) == 1 and self._schedule is not None:
            try:
                self._schedule()
            except Exception:  # noqa: BLE001 - nobody will run the list: send now, not never
                self._run()

    def _run(self) -> int:
        if self._running:  # a hook wrote while we flush: that output is in the next list
            return 0
        self._running = True
        try:
            dirty, self._dirty = self._dirty, []
            self.pending = 0
            for out in dirty:
                out._dirty = False
                try:
                    out.flush()
                except Exception as exc:  # noqa: BLE001 - one bad connection must not stop all
                    out._cut(f"flush failed: {exc!r}")
            return len(dirty)
        finally:
            self._running = False

    def run(self) -> int:
        """Send every dirty output's buffer (one ``send()`` each); returns how many there were."""
        return self._run()


class Output:
    """One connection's output: frames in, non-blocking ``send()`` out (see the module docstring).

    :param sock: the connection's socket (written through its ``send`` method; the compiled
                 twin sends on the file descriptor of a plain socket).
    :param limit: the most bytes the kernel may have refused before the connection is cut off
                  as a slow reader.
    :param corker: the :class:`Corker` of the loop (writes wait for its next run), or ``None``
                   (every write is sent at once: threading mode, or corking disabled).
    :param lock: taken around every method when the output is shared between threads.

    State (read-only): ``buffered`` (bytes not yet taken by the kernel), ``closed`` (no more
    bytes will be sent), ``blocked`` (waiting for writability), ``dirty`` (in the corker's
    list), ``draining`` (closing: buffered bytes go first, then FIN), ``error`` (why the output
    was cut off, or ``None``), ``native`` (the compiled twin's C send is used: never here).

    A subclass (the mode layer) overrides ``_on_blocked()`` — the kernel refused bytes: watch
    for writability and call :meth:`on_writable` — and ``_on_closed()`` — stop watching. Both
    are called once per state change, never per frame.
    """

    __slots__ = (
        "_blocked",
        "_chunks",
        "_closed",
        "_corker",
        "_dirty",
        "_draining",
        "_error",
        "_fd",
        "_head",
        "_lock",
        "_offset",
        "_raw",
        "_size",
        "limit",
    )

    native = False

    def __init__(
        self, sock: Any, limit: int, corker: Corker | None = None, lock: Any = None
    ) -> None:
        self._raw = sock
        self._fd = sock.fileno()
        self._chunks: list = []
        self._head = 0
        self._offset = 0
        self._size = 0
        self.limit = limit
        self._corker = corker
        self._lock = lock
        self._closed = False
        self._blocked = False
        self._dirty = False
        self._draining = False
        self._error: str | None = None

    # read-only state, as the compiled twin's ``readonly`` attributes
    closed = property(lambda self: self._closed, doc="No more bytes will be sent.")
    blocked = property(lambda self: self._blocked, doc="Waiting for the socket to be writable.")
    dirty = property(lambda self: self._dirty, doc="In the corker's list for its next run.")
    draining = property(lambda self: self._draining, doc="Closing: sends what is left, then FIN.")
    error = property(lambda self: self._error, doc="Why the output was cut off, or None.")

    @property
    def buffered(self) -> int:
        """Bytes written but not yet taken by the kernel."""
        return self._size

    @property
    def corker(self) -> Corker | None:
        """The :class:`Corker` this output's writes wait for, or ``None`` (sent at once)."""
        return self._corker

    @corker.setter
    def corker(self, corker: Corker | None) -> None:
        if corker is not None and not isinstance(corker, Corker):
            raise TypeError(f"corker must be a Corker or None, not {type(corker).__name__}")
        self._corker = corker

    # -- hooks of the mode layer --------------------------------------------------------------

    def _on_blocked(self) -> None:
        """The kernel refused bytes: arrange for :meth:`on_writable` (override)."""

    def _on_closed(self) -> None:
        """The output is closed: stop watching the socket (override)."""

    def _hook(self, blocked: bool) -> None:
        try:
            if blocked:
                self._on_blocked()
            else:
                self._on_closed()
        except Exception as exc:  # noqa: BLE001 - the mode layer failed: cut only this one
            if not self._closed:
                self._cut(f"{'blocked' if blocked else 'closed'} hook failed: {exc!r}")

    # -- the data path ------------------------------------------------------------------------

    def _write(self, data: bytes) -> bool:
        if self._closed or self._draining:
            return False
        if type(data) is not bytes:
            data = bytes(data)  # a copy: the caller may change a bytearray afterwards
        n = len(data)
        if n == 0:
            return True
        self._chunks.append(data)
        self._size += n
        if self._blocked:
            if self._size > self.limit:
                self._cut(self._over_limit())
                return False
            return True
        corker = self._corker
        if corker is None or self._size >= corker.threshold:
            self._flush()
            return True
        if not self._dirty:
            self._dirty = True
            corker._add(self)
        corker.pending += n
        if corker.pending >= corker.max_pending:
            corker._run()
        return True

    def _over_limit(self) -> str:
        return f"output buffer over its limit of {self.limit} bytes (peer not reading)"

    def _flush(self) -> bool:
        """Send what is buffered unless blocked; True when nothing is left."""
        if self._closed or self._blocked or self._size == 0:
            return self._size == 0
        if self._send_some():
            return True
        if not self._closed:
            self._blocked = True
            self._hook(True)
        return False

    def _send_some(self) -> bool:
        """One send of the buffer's head; True when nothing is left."""
        chunks = self._chunks
        count = len(chunks)
        head = self._head
        first = chunks[head]
        rest = len(first) - self._offset
        end = head + 1
        if rest < _SEND_ALONE:
            total = rest
            while end < count and total + len(chunks[end]) <= SEND_MAX:
                total += len(chunks[end])
                end += 1
        if end > head + 1:
            # Several small frames: one copy into one buffer, so one send() takes them all.
            data = b"".join([first[self._offset :], *chunks[head + 1 : end]])
            for i in range(head, end - 1):
                chunks[i] = None
            head = self._head = end - 1
            chunks[head] = data
            self._offset = 0
        else:
            data = first
        rest = len(data) - self._offset
        if self._raw.fileno() != self._fd:  # closed behind our back: never write a reused fd
            self._cut("send failed: the socket was closed")
            return False
        try:
            if self._offset:
                sent = self._raw.send(memoryview(data)[self._offset :], _FLAGS)
            else:
                sent = self._raw.send(data, _FLAGS)
        except _WOULD_BLOCK:
            sent = 0
        except Exception as exc:  # noqa: BLE001 - OSError, or a wrapper refusing the flags (TLS)
            self._cut(f"send failed: {exc}")
            return False
        self._size -= sent
        if sent == rest:
            chunks[head] = None
            head += 1
            self._offset = 0
            if head == count:
                chunks.clear()
                self._head = 0
                if self._draining:
                    self._finish_drain()
                return True
        else:
            self._offset += sent
        if head >= _COMPACT and head * 2 >= count:
            del chunks[:head]
            head = 0
        self._head = head
        if self._size > self.limit:
            self._cut(self._over_limit())
        return False

    def _clear(self) -> None:
        self._chunks = []
        self._head = 0
        self._offset = 0
        self._size = 0
        self._blocked = False

    def _mark_closed(self) -> None:
        if not self._closed:
            self._closed = True
            self._hook(False)

    def _shutdown(self, how: int) -> None:
        raw = self._raw
        if raw is not None:  # after release() the socket may be closed and its fd reused
            try:
                raw.shutdown(how)
            except OSError:
                pass

    def _finish_drain(self) -> None:
        self._mark_closed()
        self._shutdown(_socket_module.SHUT_WR)  # FIN after the last frame; the reader lingers

    def _cut(self, error: str | None) -> None:
        """Stop writing, drop the buffer and shut the socket down (wakes the reader)."""
        if error is not None and self._error is None:
            self._error = error
        self._clear()
        self._mark_closed()
        self._shutdown(_socket_module.SHUT_RDWR)

    # -- the public methods -------------------------------------------------------------------

    def write(self, data: bytes) -> bool:
        """Queue one complete frame (``bytes``); False when the output no longer accepts it
        (closed, closing, or just cut off for going over its limit)."""
        lock = self._lock
        if lock is None:
            return self._write(data)
        with lock:
            return self._write(data)

    def flush(self) -> bool:
        """Send what is buffered now (unless waiting for writability); True when nothing is
        left."""
        lock = self._lock
        if lock is None:
            return self._flush()
        with lock:
            return self._flush()

    def on_writable(self) -> bool:
        """The socket became writable: send what the kernel takes. Returns True while the
        output still waits for writability, False once the mode layer can stop watching."""
        lock = self._lock
        if lock is None:
            return self._on_writable()
        with lock:
            return self._on_writable()

    def _on_writable(self) -> bool:
        if self._closed or not self._blocked:
            return False
        if self._send_some():
            self._blocked = False
            return False
        return not self._closed

    def close(self) -> None:
        """Send what is buffered, then half-close (FIN); no writes are accepted after this."""
        lock = self._lock
        if lock is None:
            self._close()
            return
        with lock:
            self._close()

    def _close(self) -> None:
        if self._closed or self._draining:
            return
        self._draining = True
        if self._size == 0:
            self._finish_drain()
        elif not self._blocked:
            self._flush()

    def abort(self, error: str | None = None) -> None:
        """Close now, discarding buffered bytes; the connection's reader wakes up and ends."""
        lock = self._lock
        if lock is None:
            self._cut(error)
            return
        with lock:
            self._cut(error)

    def release(self) -> None:
        """Forget the socket: called by the reader just before the socket is closed."""
        lock = self._lock
        if lock is None:
            self._release()
            return
        with lock:
            self._release()

    def _release(self) -> None:
        self._clear()
        self._mark_closed()
        self._raw = None
        self._fd = -1


def fanout(members: Any, messages: Any, skip: Any = None) -> int:
    """Send prepared messages to every member of a room.

    :param members: the room: a ``dict`` whose values are the members (copied once, so joins
                    and leaves during the walk are harmless), or any iterable of members.
    :param messages: the prepared message, or a sequence of them (a binary event's parts, sent
                     to each member in order); each has ``frame``, the complete WebSocket frame.
    :param skip: ``None``, a member, or a ``set``/``frozenset`` of members not to send to.

    A member whose ``_out`` is an :class:`Output` and that is not ``closed`` gets the frames
    appended to its output (corked, or sent at once); any other member (long-polling, virtual)
    gets ``member.send_prepared(message)`` for each message. Returns how many members were
    sent to.
    """
    seq: Iterable = list(members.values()) if isinstance(members, dict) else list(members)
    msgs = (messages,) if hasattr(messages, "frame") else tuple(messages)
    if not msgs:
        return 0
    frames = tuple(message.frame for message in msgs)
    skip_set = isinstance(skip, (set, frozenset))
    count = 0
    for member in seq:
        if skip is not None:
            if skip_set:
                if member in skip:
                    continue
            elif member is skip:
                continue
        out = getattr(member, "_out", None)
        if isinstance(out, Output):
            if member.closed:
                continue
            for frame in frames:
                out.write(frame)
        else:
            for message in msgs:
                member.send_prepared(message)
        count += 1
    return count
