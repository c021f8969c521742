"""The ``gevent`` async mode: greenlets on one hub, non-blocking sockets.

An idle WebSocket connection served by fastsock's pywsgi handler has no greenlet: a read
watcher on the hub wakes it, and a greenlet runs only while received frames are processed
(under other gevent servers, e.g. gunicorn's gevent worker, the request's greenlet stays as
the connection's reader: one greenlet per connection). Writes never switch greenlets: they
append to the connection's output, which the hub flushes once per loop iteration (see
:mod:`.writer`). Event handlers run in a raw greenlet each (cheaper than ``gevent.Greenlet``,
which keeps links and a result).
"""

from __future__ import annotations

import logging
from typing import Any, Callable

import gevent
import gevent.event
import gevent.queue

logger = logging.getLogger("fastsock.engineio")


class Task(gevent.Greenlet):
    """A greenlet started by ``start_background_task``; ``join()`` waits for it."""

    def __init__(self, target: Callable, args: tuple = (), kwargs: dict | None = None) -> None:
        super().__init__(target, *args, **(kwargs or {}))


def _run_logged(fn: Callable, *args: Any) -> None:
    try:
        fn(*args)
    except gevent.GreenletExit:
        pass
    except BaseException:  # a handler must never take the hub down
        logger.exception("unhandled exception in a handler greenlet")


class GeventDriver:
    """Primitives of the ``gevent`` async mode (see the module docstring)."""

    name = "gevent"
    queue_class = gevent.queue.JoinableQueue
    queue_empty = gevent.queue.Empty
    event_class = gevent.event.Event

    def __init__(self, **_: Any) -> None:
        pass

    def spawn(self, target: Callable, *args: Any, **kwargs: Any) -> Task:
        """Start ``target`` in a new greenlet and return it."""
        task = Task(target, args, kwargs)
        task.start()
        return task

    def run_handler(self, fn: Callable, *args: Any) -> None:
        """Run an event handler concurrently with the caller, in a greenlet of its own."""
        gevent.spawn_raw(_run_logged, fn, *args)

    sleep = staticmethod(gevent.sleep)

    def make_output(self, sock: Any, limit: int):
        """The output path of one WebSocket connection on ``sock``."""
        from .writer import GeventOutput

        return GeventOutput(sock, limit)
