"""The output path of a WebSocket connection: the mode layer over the ``fanout`` kernel.

Every write to a connection — a handler's reply, a room broadcast's shared frame, a heartbeat
ping, a close frame — goes through its one output, an instance of the kernel's
:class:`~fastsock._fanout_py.Output` (compiled: ``fastsock._fanout_c``). The kernel holds the
buffer and makes the non-blocking ``send()`` on the file descriptor; this module adds what
depends on the async mode, and is called only on state changes, never per frame:

- **gevent** (:class:`GeventOutput`): writes are *corked*. A connection becomes dirty on its
  first write and the hub's :class:`~fastsock._fanout_py.Corker` sends each dirty connection's
  frames in one ``send()``. The first flush of a loop iteration runs as a loop callback, so a
  reply leaves before the greenlet that wrote it runs again; writes made after that flush in the
  same iteration (a broadcaster yielding with ``sleep(0)``) wait for a zero timer that fires
  after the loop has polled for I/O: at most two flushes per iteration, however many frames.
  A buffer reaching :data:`FLUSH_THRESHOLD`, or :data:`MAX_PENDING` bytes corked in all, is sent
  at once. When the kernel refuses bytes a writability watcher (created on first need) sends
  the rest.
- **threading** (:class:`ThreadOutput`): every write is sent at once; a backlog is finished by
  one poller thread for the whole process.
- ``cork=False`` (the Engine.IO server option; default from ``FASTSOCK_CORK``): gevent outputs
  send every write at once too.

Slow readers: a connection whose unsent bytes exceed the server's ``max_write_buffer_size``
(4 MB by default) is cut off — buffer dropped, socket shut down — which wakes its reader; the
session then closes with reason ``transport error`` and the cause is logged. Sends never block,
so no other connection ever waits for it.
"""

from __future__ import annotations

import os
import selectors
import socket
import threading
from typing import Any

from .._kernels import fanout as _fanout

#: Buffered bytes at which a connection is sent at once instead of at the end of the loop
#: iteration, so a burst keeps latency and memory bounded.
FLUSH_THRESHOLD = _fanout.FLUSH_THRESHOLD
#: Bytes corked across all connections at which every dirty connection is sent at once (a
#: broadcaster that never yields).
MAX_PENDING = _fanout.MAX_PENDING

#: The kernel's output class: every connection output is an instance.
Output = _fanout.Output

#: Default of the Engine.IO server's ``cork`` option (``FASTSOCK_CORK=0`` turns it off).
CORK_DEFAULT = os.environ.get("FASTSOCK_CORK", "1").strip().lower() not in ("0", "false", "no")


def cork_option(server: Any) -> bool:
    """The ``cork`` option of an Engine.IO server (:data:`CORK_DEFAULT` when it has none)."""
    cork = getattr(server, "cork", None)
    return CORK_DEFAULT if cork is None else bool(cork)


def _raw_socket(sock: Any) -> Any:
    # gevent's socket wraps a non-blocking ``_socket.socket`` in ``_sock``; writing to that one
    # directly costs one syscall, where gevent's ``send`` adds a wrapper and a getsockopt. A TLS
    # socket is never unwrapped: its bytes must go through the TLS layer.
    if hasattr(sock, "_sslobj"):
        return sock
    raw = getattr(sock, "_sock", None)
    return raw if raw is not None else sock


class _HubCork:
    """The corker of one gevent hub and how its runs are scheduled (see the module docstring)."""

    __slots__ = ("_flushed", "_loop", "_timer", "corker")

    def __init__(self, loop: Any) -> None:
        self._loop = loop
        self._timer = loop.timer(0.0)
        self._flushed = False  # a callback flush already ran in this loop iteration
        self.corker = _fanout.Corker(self._schedule, FLUSH_THRESHOLD, MAX_PENDING)

    def _schedule(self) -> None:
        # After this iteration's callback flush the end-of-iteration timer is armed already.
        if not self._flushed:
            self._loop.run_callback(self._run)

    def _run(self) -> None:
        self._flushed = True
        self._timer.start(self._end_of_iteration)
        self.corker.run()

    def _end_of_iteration(self) -> None:
        self._flushed = False
        self.corker.run()


def _hub_corker() -> Any:
    import gevent

    hub = gevent.get_hub()
    cork = getattr(hub, "_fastsock_cork", None)
    if cork is None:
        cork = hub._fastsock_cork = _HubCork(hub.loop)
    return cork.corker


def _closed(out: Any) -> None:
    # Forget the session (no reference cycle outlives the connection). If the output was cut
    # off (over its limit, a failed send), tell the session at once rather than when the reader
    # gets to the shut-down socket, which under gevent may be only after a long run of
    # callbacks (a broadcaster yielding with sleep(0) never lets the loop poll).
    session = out.session
    if session is not None:
        out.session = None
        if out.error is not None:
            session._output_cut(out.error)


class GeventOutput(Output):
    """The gevent output: corked per loop iteration, a lazily created writability watcher.

    ``session``: the Engine.IO session it serves (set by the session), told once with
    ``session._output_cut(error)`` when the output is cut off.
    """

    __slots__ = ("_watcher", "session")

    def __init__(self, sock: Any, limit: int, cork: bool | None = None) -> None:
        if cork is None:
            cork = CORK_DEFAULT
        super().__init__(_raw_socket(sock), limit, _hub_corker() if cork else None)
        self._watcher = None
        self.session = None

    def set_cork(self, cork: bool) -> None:
        """Turn corking on or off for this connection (the server's ``cork`` option)."""
        self.corker = _hub_corker() if cork else None

    def _on_blocked(self) -> None:
        watcher = self._watcher
        if watcher is None:
            import gevent

            watcher = self._watcher = gevent.get_hub().loop.io(self._raw.fileno(), 2)
        watcher.start(self._on_io)

    def _on_io(self) -> None:
        # Runs in the hub: the kernel only sends what the socket takes, it never blocks.
        if not self.on_writable():
            watcher = self._watcher
            if watcher is not None:
                watcher.stop()

    def _on_closed(self) -> None:
        watcher = self._watcher
        if watcher is not None:
            self._watcher = None
            watcher.stop()
            watcher.close()
        _closed(self)


class ThreadOutput(Output):
    """The threading output: writes go out at once; a backlog goes to the poller thread.

    ``session``: the Engine.IO session it serves (set by the session), told once with
    ``session._output_cut(error)`` when the output is cut off.
    """

    __slots__ = ("session",)

    def __init__(self, sock: Any, limit: int) -> None:
        # The lock is used only where a send can release the GIL (see the fanout kernel).
        super().__init__(_raw_socket(sock), limit, None, threading.Lock())
        self.session = None

    def set_cork(self, cork: bool) -> None:
        """Threads have no loop iteration to cork: every write is sent at once."""

    def _on_blocked(self) -> None:
        _poller().add(self)

    def _on_closed(self) -> None:
        _closed(self)


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
            raw = out._raw
            try:
                fd = raw.fileno()
            except (OSError, AttributeError):  # released meanwhile
                continue
            if fd < 0 or out.closed:
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
                elif not out.on_writable():
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
