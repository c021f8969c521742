# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""Compiled twin of ``framescan.scan`` (same arguments, results and errors; see there).

Built on first use by ``pyximport``. It exists because in Python each frame costs the load
generator ~0.7 us, about what a fast server spends per delivery; in C it is a few tens of ns,
so the load generator's cost per delivery is the kernel's ``recv`` and little else.
"""

from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_GET_SIZE
from libc.stdlib cimport strtod
from libc.string cimport memcmp

from e2e._wsframe cimport frame_payload

cdef const char* B_PREFIX = b'42["b",['
cdef const char* F_PREFIX = b'42["f",['
cdef Py_ssize_t PREFIX_LEN = 8


cdef inline Py_ssize_t _number_end(const unsigned char* p, Py_ssize_t i, Py_ssize_t end):
    # index of the comma that ends the number starting at i, or -1
    while i < end:
        if p[i] == 44:
            return i
        i += 1
    return -1


cdef long long _seq(const unsigned char* p, Py_ssize_t i, Py_ssize_t comma) except? -1:
    cdef long long v = 0
    if comma <= i:  # no comma (-1) or no digit
        raise ValueError("malformed sequence number in a benchmark event")
    while i < comma:
        if p[i] < 48 or p[i] > 57:
            raise ValueError("malformed sequence number in a benchmark event")
        v = v * 10 + (p[i] - 48)
        i += 1
    return v


cdef double _ts(const unsigned char* p, Py_ssize_t comma, Py_ssize_t end) except? -1.0:
    cdef Py_ssize_t stop = _number_end(p, comma + 1, end)
    cdef char* endp
    if stop < 0:
        raise ValueError("no timestamp in a benchmark event")
    # the number is followed by a comma, so strtod cannot run past it
    cdef double ts = strtod(<const char*>p + comma + 1, &endp)
    if endp != <char*>p + stop:
        raise ValueError("malformed timestamp in a benchmark event")
    return ts


def scan(bytes data, long long last, bint sample, double now, list latencies, list others,
         long long n_senders, long long sender):
    """See ``framescan.scan``."""
    cdef const unsigned char* p = <const unsigned char*>PyBytes_AS_STRING(data)
    cdef Py_ssize_t n = PyBytes_GET_SIZE(data)
    cdef Py_ssize_t pos = 0, start, end, comma
    cdef unsigned long long size
    cdef long long nb = 0, bad = 0, nf = 0, own = 0, seq
    # per call, ids are small enough that their squares cannot overflow 64 bits
    cdef unsigned long long sum_f = 0, sq_f = 0
    if n_senders < 1:
        raise ValueError("n_senders must be at least 1")
    while n - pos >= 2:
        start = frame_payload(p, pos, n, &size)
        if start == -1:
            break
        if start == -2:
            raise ValueError("server sent a masked frame")
        if size > <unsigned long long>(n - start):
            break
        end = start + <Py_ssize_t>size
        if size >= 8 and memcmp(p + start, B_PREFIX, 8) == 0:
            comma = _number_end(p, start + PREFIX_LEN, end)
            seq = _seq(p, start + PREFIX_LEN, comma)
            if seq != last + 1:
                bad += 1
            last = seq
            nb += 1
            if sample:
                latencies.append(now - _ts(p, comma, end))
        elif size >= 8 and memcmp(p + start, F_PREFIX, 8) == 0:
            comma = _number_end(p, start + PREFIX_LEN, end)
            seq = _seq(p, start + PREFIX_LEN, comma)
            nf += 1
            sum_f += <unsigned long long>seq
            sq_f += <unsigned long long>seq * <unsigned long long>seq
            if seq % n_senders == sender:
                own += 1
            if sample:
                latencies.append(now - _ts(p, comma, end))
        else:
            others.append((p[pos] & 0x0F, data[start:end]))
        pos = end
    return pos, nb, last, bad, nf, sum_f, sq_f, own
