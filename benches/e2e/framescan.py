"""The load generator's hot loop: walk the server's WebSocket frames, count benchmark events.

``scan`` is written twice, as in fastsock itself: here in Python, and in ``_framescan.pyx``
(compiled on first use with ``pyximport``, so ``benches/`` needs no build step). ``load()``
returns the compiled one unless ``LOADGEN_PURE=1`` is set or it cannot be built. Both have the
same behaviour, which ``benches/test_e2e.py`` checks.

A benchmark event is a text frame whose payload starts ``42["b",[`` (server broadcast) or
``42["f",[`` (fan-out), followed by the sequence number (or message id) and the timestamp::

    42["b",[1234,5678.123456,"xxxx"]]

Only those two numbers are ever parsed; any other frame is handed back for the slow path.
"""

from __future__ import annotations

import os

B_PREFIX = b'42["b",['
F_PREFIX = b'42["f",['
PREFIX_LEN = 8
COMMA = 44


def scan(data: bytes, last: int, sample: bool, now: float, latencies: list, others: list,
         n_senders: int, sender: int) -> tuple:
    """Walk the complete frames at the start of ``data``.

    :param last: the last broadcast seq this client saw; the next must be ``last + 1``.
    :param sample: parse the timestamps and append ``now - ts`` to ``latencies``.
    :param others: receives ``(opcode, payload)`` of every frame that is not a benchmark event.
    :param n_senders: fan-out ids are ``k * n_senders + sender``; this client's own messages
                      coming back are counted in ``own`` (``sender`` is -1 when not sending).
    :returns: ``(consumed, n_broadcast, last, out_of_order, n_fanout, sum_ids, sum_sq_ids,
              own)``; ``consumed`` bytes were whole frames, the rest waits for more data.

    Raises ``ValueError`` for a masked server frame or a malformed benchmark event.
    """
    if n_senders < 1:
        raise ValueError("n_senders must be at least 1")
    n = len(data)
    pos = nb = bad = nf = sum_f = sq_f = own = 0
    while n - pos >= 2:
        size = data[pos + 1]
        if size < 126:
            start = pos + 2
        elif size == 126:
            if n - pos < 4:
                break
            start = pos + 4
            size = (data[pos + 2] << 8) | data[pos + 3]
        elif size == 127:
            if n - pos < 10:
                break
            start = pos + 10
            size = int.from_bytes(data[pos + 2:start], "big")
        else:
            raise ValueError("server sent a masked frame")
        end = start + size
        if end > n:
            break
        if data.startswith(B_PREFIX, start):
            seq, comma = _number(data, start + PREFIX_LEN, end)
            if seq != last + 1:
                bad += 1
            last = seq
            nb += 1
            if sample:
                latencies.append(now - float(data[comma + 1:data.index(COMMA, comma + 1, end)]))
        elif data.startswith(F_PREFIX, start):
            mid, comma = _number(data, start + PREFIX_LEN, end)
            nf += 1
            sum_f += mid
            sq_f += mid * mid
            if mid % n_senders == sender:
                own += 1
            if sample:
                latencies.append(now - float(data[comma + 1:data.index(COMMA, comma + 1, end)]))
        else:
            others.append((data[pos] & 0x0F, data[start:end]))
        pos = end
    return pos, nb, last, bad, nf, sum_f, sq_f, own


def _number(data: bytes, start: int, end: int) -> tuple[int, int]:
    """The decimal number at ``start`` and the index of the comma after it."""
    comma = data.find(COMMA, start, end)
    digits = data[start:comma]
    if comma < 0 or not digits.isdigit():  # only ASCII digits, as the compiled twin
        raise ValueError("malformed sequence number in a benchmark event")
    return int(digits), comma


def load_compiled():
    """The compiled ``scan``, built with ``pyximport`` on first use (raises ImportError)."""
    import pyximport

    pyximport.install(language_level=3, inplace=False)
    from e2e import _framescan

    return _framescan.scan


def load() -> tuple:
    """``(scan, compiled)``: the compiled scanner unless ``LOADGEN_PURE=1`` or it fails to build."""
    if os.environ.get("LOADGEN_PURE", "") not in ("", "0"):
        return scan, False
    try:
        return load_compiled(), True
    except Exception:  # noqa: BLE001 - no compiler, no Cython: the twin does the same job
        return scan, False
