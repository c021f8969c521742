"""The ``threading`` async mode: OS threads, a bounded handler pool, blocking sockets.

Per WebSocket connection there is exactly one thread: the web server's request thread, which
becomes the connection's reader. Everything else is shared by all connections of the server:
one heartbeat thread, one write-poller thread (only busy while some connection has bytes the
kernel would not take) and a bounded pool of handler threads.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from typing import Any, Callable

logger = logging.getLogger("fastsock.engineio")


class Task(threading.Thread):
    """A daemon thread started by ``start_background_task``; ``join()`` waits for it."""

    def __init__(self, target: Callable, args: tuple = (), kwargs: dict | None = None) -> None:
        super().__init__(target=target, args=args, kwargs=kwargs or {}, daemon=True)


class HandlerPool:
    """A bounded pool of daemon threads that run event handlers.

    Threads are started lazily, one more only when no existing one is free, up to
    ``max_workers``; beyond that, calls wait in a FIFO queue. A pool (rather than a thread per
    event, as python-engineio does) keeps a burst of messages from creating a burst of threads.

    Every submitted call is matched, under the lock, to exactly one worker: a free one (which is
    then no longer counted free), a new one, or the next one to finish (``_backlog``). So a
    call never waits behind a slow one while a thread could run it.
    """

    def __init__(self, max_workers: int = 64) -> None:
        self.max_workers = max_workers
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._workers = 0
        self._idle = 0  # workers waiting for a call that no submitted call has claimed yet
        self._backlog = 0  # calls queued while every worker was busy

    def submit(self, fn: Callable, *args: Any) -> None:
        """Run ``fn(*args)`` on a pool thread; exceptions are the caller's to catch in ``fn``."""
        spawn = False
        with self._lock:
            if self._idle > 0:
                self._idle -= 1
            elif self._workers < self.max_workers:
                self._workers += 1
                spawn = True
            else:
                self._backlog += 1
        self._queue.put((fn, args))
        if spawn:
            threading.Thread(target=self._work, name="fastsock-handler", daemon=True).start()

    def _work(self) -> None:
        get = self._queue.get
        while True:
            fn, args = get()
            try:
                fn(*args)
            except BaseException:  # a handler must never kill a pool thread
                logger.exception("unhandled exception in a handler thread")
            fn = args = None  # do not keep the last call's arguments alive while idle
            with self._lock:
                if self._backlog > 0:
                    self._backlog -= 1  # the next queued call is this thread's
                else:
                    self._idle += 1


class ThreadingDriver:
    """Primitives of the ``threading`` async mode (see the module docstring)."""

    name = "threading"
    queue_class = queue.Queue
    queue_empty = queue.Empty
    event_class = threading.Event

    def __init__(self, max_handler_threads: int = 64) -> None:
        self.pool = HandlerPool(max_handler_threads)

    def spawn(self, target: Callable, *args: Any, **kwargs: Any) -> Task:
        """Start ``target`` in a new daemon thread and return it."""
        task = Task(target, args, kwargs)
        task.start()
        return task

    def run_handler(self, fn: Callable, *args: Any) -> None:
        """Run an event handler concurrently with the caller (on the bounded pool)."""
        self.pool.submit(fn, *args)

    sleep = staticmethod(time.sleep)

    def make_output(self, sock: Any, limit: int):
        """The output path of one WebSocket connection on ``sock``."""
        from .writer import ThreadOutput

        return ThreadOutput(sock, limit)
