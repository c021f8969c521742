"""Running a function inside a gevent hub that belongs to another thread (a test server's)."""

from __future__ import annotations

import threading
from typing import Any, Callable


def call_in_hub(hub: Any, fn: Callable, *args: Any, timeout: float) -> Any:
    """Run ``fn(*args)`` in a new greenlet of ``hub`` and return its result (or raise its
    exception); ``TimeoutError`` when it has not returned within ``timeout`` seconds."""
    import gevent

    done = threading.Event()
    box: list = []

    def run() -> None:
        try:
            box.append((True, fn(*args)))
        except BaseException as exc:  # noqa: BLE001 - re-raised in the caller
            box.append((False, exc))
        done.set()

    hub.loop.run_callback_threadsafe(gevent.spawn, run)
    if not done.wait(timeout):
        raise TimeoutError(f"{fn!r} did not return within {timeout} s")
    ok, value = box[0]
    if not ok:
        raise value
    return value
