"""Loads the load generator's compiled receive loop (``_rxloop.pyx``, built on first use).

``load()`` returns the ``RxLoop`` class, or ``None`` where it cannot run: not Linux (it uses
epoll), no compiler or Cython, or ``LOADGEN_RX=uvloop`` in the environment. The load generator
then reads every client with uvloop, as it does outside the broadcast and latency scenarios.
"""

from __future__ import annotations

import os
import sys


def load_compiled():
    """The compiled ``RxLoop`` class, built with ``pyximport`` on first use (raises on failure)."""
    import pyximport

    pyximport.install(language_level=3, inplace=False)
    from e2e import _rxloop

    return _rxloop.RxLoop


def load():
    """``RxLoop``, or ``None`` when the uvloop receive path must be used instead."""
    if os.environ.get("LOADGEN_RX", "") == "uvloop" or not sys.platform.startswith("linux"):
        return None
    try:
        return load_compiled()
    except Exception as exc:  # noqa: BLE001 - no compiler, no Cython: uvloop does the job
        print(f"loadgen: compiled receive loop unavailable ({exc!r}); reading with uvloop",
              file=sys.stderr)
        return None
