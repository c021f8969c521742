"""Heartbeats for every connection of a server from one timer structure and one task.

Engine.IO v4: the server sends PING every ``ping_interval``; a connection whose PONG does not
arrive within ``ping_timeout`` is closed with reason PING_TIMEOUT.

Every ping is due ``ping_interval`` after it is scheduled and every pong deadline
``ping_timeout`` after its ping, so each kind of timer is appended in deadline order: two FIFO
deques replace a heap or a wheel (O(1) to arm, O(1) to fire) and one task — a greenlet or a
thread, never one per connection — sleeps until the earliest head. Re-arming a connection bumps
its generation number instead of searching the deque; stale entries are skipped when they
reach the head. A third deque holds the linger deadline of closing WebSocket connections.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from typing import Any, Callable

logger = logging.getLogger("fastsock.engineio")

#: Seconds a closing WebSocket waits for its peer to close the TCP connection.
LINGER = 2.0

_now = time.monotonic


class Heartbeat:
    """Schedules pings and pong deadlines (and close lingers) for one server's connections.

    ``monitor=False`` keeps sending pings but only notices a missing pong when the next ping is
    due, instead of after ``timeout``.
    """

    def __init__(
        self,
        driver: Any,
        interval: float,
        timeout: float,
        monitor: bool,
        on_timeout: Callable[[Any], None],
    ) -> None:
        self.interval = interval
        self.timeout = timeout
        self.monitor = monitor
        self._driver = driver
        self._on_timeout = on_timeout
        self._pings: deque = deque()
        self._deadlines: deque = deque()
        self._lingers: deque = deque()
        self._event = None
        self._task = None
        self._stopped = False
        self._begin_lock = threading.Lock()

    # -- arming (any thread or greenlet) -----------------------------------------------------

    def start(self, sock: Any) -> None:
        """Begin the ping cycle of a newly opened connection."""
        sock._hb_gen += 1
        sock._awaiting_pong = False
        self._push(self._pings, _now() + self.interval, sock, sock._hb_gen)

    def pong(self, sock: Any) -> None:
        """A PONG arrived: cancel its deadline and schedule the next ping."""
        if sock._awaiting_pong:
            sock._awaiting_pong = False
            sock._hb_gen += 1
            self._push(self._pings, _now() + self.interval, sock, sock._hb_gen)

    @staticmethod
    def forget(sock: Any) -> None:
        """Cancel every timer of a closing connection."""
        sock._hb_gen += 1

    def linger(self, callback: Callable[[], None]) -> None:
        """Call ``callback()`` (from the heartbeat task) after :data:`LINGER` seconds."""
        self._push(self._lingers, _now() + LINGER, callback, None)

    def _push(self, timers: deque, deadline: float, item: Any, gen: Any) -> None:
        entry = (deadline, item, gen)
        timers.append(entry)
        if self._task is None:
            self._begin()
        elif timers[0] is entry:
            # Only a new head can be earlier than what the task sleeps until. Testing the head
            # after appending (not emptiness before) is race-free against the task's popping.
            self._event.set()

    # -- the task --------------------------------------------------------------------------

    def _begin(self) -> None:
        # Started on first use, not at Server() time: gunicorn forks and gevent patches later.
        with self._begin_lock:
            if self._task is None and not self._stopped:
                self._event = self._driver.event_class()
                self._task = self._driver.spawn(self._run)

    def stop(self) -> None:
        """Stop the task (``Server.shutdown``)."""
        self._stopped = True
        if self._event is not None:
            self._event.set()
        task, self._task = self._task, None
        if task is not None:
            task.join()

    def _run(self) -> None:
        event = self._event
        while not self._stopped:
            # Clear before looking, so a push made while we look wakes the next wait at once.
            event.clear()
            now = _now()
            try:
                wake = self._fire_due(now)
            except Exception:  # the one heartbeat task must survive anything
                logger.exception("heartbeat error")
                wake = now + 0.1
            event.wait(None if wake is None else max(wake - _now(), 0.0))

    def _fire_due(self, now: float) -> float | None:
        pings, deadlines, lingers = self._pings, self._deadlines, self._lingers
        while pings and pings[0][0] <= now:
            _, sock, gen = pings.popleft()
            if sock._hb_gen == gen and not sock.closed:
                self._due(sock, now)
        while deadlines and deadlines[0][0] <= now:
            _, sock, gen = deadlines.popleft()
            if sock._hb_gen == gen and not sock.closed:
                self._due(sock, now)
        while lingers and lingers[0][0] <= now:
            lingers.popleft()[1]()
        heads = [timers[0][0] for timers in (pings, deadlines, lingers) if timers]
        return min(heads) if heads else None

    def _due(self, sock: Any, now: float) -> None:
        if sock._awaiting_pong:
            sock._hb_gen += 1
            self._on_timeout(sock)
            return
        sock._awaiting_pong = True
        sock._send_ping()
        if self.monitor:
            self._deadlines.append((now + self.timeout, sock, sock._hb_gen))
        else:
            self._pings.append((now + self.interval, sock, sock._hb_gen))
