"""The output path of a WebSocket connection: pre-framed bytes in, non-blocking ``send()`` out.

Every write to a connection — a handler's reply, a room broadcast's shared frame, a heartbeat
ping, a close frame — goes through its one :class:`Output`. The design follows
``performance.md`` §3:

- ``write(frame)`` takes bytes that are already a complete WebSocket frame (a broadcast hands
  the *same* ``bytes`` object to every recipient) and never blocks, switches greenlets or
  allocates a queue entry beyond one list append.
- Bytes go to the kernel with a non-blocking ``send()`` on the raw socket (``MSG_DONTWAIT``),
  skipping gevent's ``sendall`` wrapper. Only what the kernel does not take stays buffered, and a
  writability watcher (gevent) or the shared poller thread (threading) sends it later.
- Under gevent, frames written during one loop iteration leave together: a connection becomes
  *dirty* on its first write and the hub flushes all dirty connections in one loop callback
  (one ``send()`` per connection per iteration, however many frames), or at once when its
  buffer passes :data:`FLUSH_THRESHOLD`.
- Buffered bytes are capped (``limit``): a peer that stops reading is cut off with
  :meth:`Output.abort`, which shuts the socket down and so wakes the connection's reader to
  clean up. Other connections never wait for it.
"""

from __future__ import annotations

import logging
import selectors
import socket
import threading
from typing import Any

logger = logging.getLogger("fastsock.engineio")

#: Buffered bytes at which a connection is flushed at once instead of at the end of the loop
#: iteration, so a burst keeps latency and memory bounded.
FLUSH_THRESHOLD = 64 * 1024

# Non-blocking send on a blocking socket too (threading mode keeps the socket blocking for its
# reader thread). Windows has no MSG_DONTWAIT; there gevent's raw socket is non-blocking anyway.
_DONTWAIT = getattr(socket, "MSG_DONTWAIT", 0)
_WOULD_BLOCK = (BlockingIOError, InterruptedError)


def _raw_socket(sock: Any) -> Any:
    # gevent's socket wraps a non-blocking ``_socket.socket`` in ``_sock``; writing to that one
    # directly costs one syscall, where gevent's ``send`` adds a wrapper and a getsockopt.
    raw = getattr(sock, "_sock", None)
    return raw if raw is not None else sock


class Output:
    """Buffer and non-blocking sender shared by both async modes (see the module docstring).

    ``closed`` becomes true once no more bytes will be sent; ``error`` names why the output
    was cut off (buffer limit, send failure), or is ``None``.
    """

    __slots__ = (
        "_blocked",
        "_chunks",
        "_draining",
        "_raw",
        "_size",
        "closed",
        "error",
        "limit",
    )

    def __init__(self, sock: Any, limit: int) -> None:
        self._raw = _raw_socket(sock)
        self._chunks: list = []
        self._size = 0
        self._blocked = False  # waiting for the socket to become writable
        self._draining = False  # closing: send what is buffered, then FIN
        self.limit = limit
        self.closed = False
        self.error: str | None = None

    @property
    def buffered(self) -> int:
        """Bytes written but not yet taken by the kernel."""
        return self._size

    def _send_some(self) -> bool:
        """Send buffered bytes without blocking; True when nothing is left."""
        chunks = self._chunks
        data = chunks[0] if len(chunks) == 1 else b"".join(chunks)
        try:
            sent = self._raw.send(data, _DONTWAIT)
        except _WOULD_BLOCK:
            sent = 0
        except OSError as exc:
            self._cut(f"send failed: {exc}")
            return False
        if sent == len(data):
            chunks.clear()
            self._size = 0
            if self._draining:
                self._finish_drain()
            return True
        rest = memoryview(data)[sent:]  # the tail of a large frame is not copied
        self._chunks = [rest]
        self._size = len(rest)
        if self._size > self.limit:
            self._cut(f"output buffer over its limit of {self.limit} bytes (peer not reading)")
            return False
        return False

    def _shutdown(self, how: int) -> None:
        raw = self._raw
        if raw is not None:  # after release() the socket may be closed and its fd reused
            try:
                raw.shutdown(how)
            except OSError:
                pass

    def _finish_drain(self) -> None:
        self.closed = True
        self._shutdown(socket.SHUT_WR)  # FIN after the last frame; the reader lingers

    def _cut(self, error: str | None) -> None:
        """Stop writing, drop the buffer and shut the socket down (wakes the reader)."""
        if error is not None and self.error is None:
            self.error = error
        self.closed = True
        self._chunks = []
        self._size = 0
        self._stop_watching()
        self._shutdown(socket.SHUT_RDWR)

    def _stop_watching(self) -> None:
        """Stop waiting for writability (mode-specific)."""

    def abort(self, error: str | None = None) -> None:
        """Close now, discarding buffered bytes; the connection's reader wakes up and ends."""
        self._cut(error)

    def release(self) -> None:
        """Forget the socket: called by the reader just before the server closes it."""
        self.closed = True
        self._chunks = []
        self._size = 0
        self._stop_watching()
        self._raw = None


class _Flusher:
    """Flushes every dirty :class:`GeventOutput` once, in one hub loop callback."""

    __slots__ = ("dirty", "scheduled")

    def __init__(self) -> None:
        self.dirty: list = []
        self.scheduled = False

    def add(self, out: GeventOutput) -> None:
        self.dirty.append(out)
        if not self.scheduled:
            self.scheduled = True
            import gevent

            gevent.get_hub().loop.run_callback(self.run)

    def run(self) -> None:
        # Reset first: a write made while flushing schedules the next iteration's callback.
        self.scheduled = False
        dirty, self.dirty = self.dirty, []
        for out in dirty:
            try:
                out._flush()
            except Exception:  # one bad connection must not stop the others
                logger.exception("flushing a connection failed")
                out.abort("flush failed")


_flusher = _Flusher()


class GeventOutput(Output):
    """The gevent output: corked per loop iteration, a lazily created writability watcher."""

    __slots__ = ("_dirty", "_watcher")

    def __init__(self, sock: Any, limit: int) -> None:
        super().__init__(sock, limit)
        self._dirty = False
        self._watcher = None

    def write(self, data: bytes) -> bool:
        """Queue one complete frame; False when the output is closed."""
        if self.closed or self._draining:
            return False
        self._chunks.append(data)
        size = self._size = self._size + len(data)
        if self._blocked:
            if size > self.limit:
                self._cut(f"output buffer over its limit of {self.limit} bytes (peer not reading)")
                return False
        elif size >= FLUSH_THRESHOLD:
            self._flush()
        elif not self._dirty:
            self._dirty = True
            _flusher.add(self)
        return True

    def _flush(self) -> None:
        self._dirty = False
        if self.closed or self._blocked or not self._chunks:
            return
        if self._send_some() or self.closed:
            return
        self._blocked = True
        watcher = self._watcher
        if watcher is None:
            import gevent

            watcher = self._watcher = gevent.get_hub().loop.io(self._raw.fileno(), 2)
        watcher.start(self._on_writable)

    def _on_writable(self) -> None:
        # Runs in the hub: must not block, so it only sends what the kernel takes.
        if self.closed:
            self._stop_watching()
        elif self._send_some():
            self._blocked = False
            self._stop_watching()

    def _stop_watching(self) -> None:
        watcher = self._watcher
        if watcher is not None:
            watcher.stop()
            if self.closed:
                watcher.close()
                self._watcher = None

    def close(self) -> None:
        """Send what is buffered, then half-close (FIN); no writes are accepted after this."""
        if self.closed or self._draining:
            return
        self._draining = True
        if not self._chunks:
            self._finish_drain()
        elif not self._blocked:
            self._flush()


class ThreadOutput(Output):
    """The threading output: writes go out at once under a lock; backlog goes to the poller."""

    __slots__ = ("_lock",)

    def __init__(self, sock: Any, limit: int) -> None:
        super().__init__(sock, limit)
        self._lock = threading.Lock()

    def write(self, data: bytes) -> bool:
        """Send one complete frame now if the kernel takes it; False when closed."""
        with self._lock:
            if self.closed or self._draining:
                return False
            self._chunks.append(data)
            self._size += len(data)
            if self._blocked:
                if self._size > self.limit:
                    self._cut(
                        f"output buffer over its limit of {self.limit} bytes (peer not reading)"
                    )
                    return False
                return True
            if not self._send_some() and not self.closed:
                self._blocked = True
                _poller().add(self)
            return True

    def _on_writable(self) -> bool:
        """Called by the poller thread; True while the output still waits for writability."""
        with self._lock:
            if self.closed:
                return False
            if self._send_some():
                self._blocked = False
                return False
            return not self.closed

    def close(self) -> None:
        """Send what is buffered, then half-close (FIN); no writes are accepted after this."""
        with self._lock:
            if self.closed or self._draining:
                return
            self._draining = True
            if not self._chunks:
                self._finish_drain()

    def abort(self, error: str | None = None) -> None:
        """Close now, discarding buffered bytes; the connection's reader wakes up and ends."""
        with self._lock:
            self._cut(error)

    def release(self) -> None:
        """Forget the socket: called by the reader just before the server closes it."""
        with self._lock:
            super().release()


class _Poller:
    """One thread for the whole process that finishes the writes the kernel refused."""

    def __init__(self) -> None:
        self._selector = selectors.DefaultSelector()
        self._new: list = []
        self._lock = threading.Lock()
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._wake_w.setblocking(False)
        self._selector.register(self._wake_r, selectors.EVENT_READ, None)
        threading.Thread(target=self._run, name="fastsock-write-poller", daemon=True).start()

    def add(self, out: ThreadOutput) -> None:
        with self._lock:
            self._new.append(out)
        try:
            self._wake_w.send(b"x")
        except OSError:  # the wake-up pipe is full: the poller is awake anyway
            pass

    def _register(self) -> None:
        with self._lock:
            new, self._new = self._new, []
        selector = self._selector
        for out in new:
            try:
                fd = out._raw.fileno()
            except (OSError, AttributeError):  # released meanwhile
                continue
            if fd < 0:
                continue
            old = selector.get_map().get(fd)
            if old is not None:  # a stale entry for a closed connection whose fd was reused
                selector.unregister(fd)
            try:
                selector.register(fd, selectors.EVENT_WRITE, out)
            except (OSError, ValueError):  # closed meanwhile: its reader cleans up
                pass

    def _run(self) -> None:
        selector = self._selector
        while True:
            self._register()
            for key, _ in selector.select(timeout=1.0):
                out = key.data
                if out is None:
                    try:
                        while self._wake_r.recv(4096):
                            pass
                    except OSError:
                        pass
                elif not out._on_writable():
                    selector.unregister(key.fd)
            for key in list(selector.get_map().values()):
                if key.data is not None and key.data.closed:
                    selector.unregister(key.fd)


_poller_instance: _Poller | None = None
_poller_lock = threading.Lock()


def _poller() -> _Poller:
    global _poller_instance
    if _poller_instance is None:
        with _poller_lock:
            if _poller_instance is None:
                _poller_instance = _Poller()
    return _poller_instance
