# cython: language_level=3
"""The WebSocket frame header walk shared by the load generator's compiled frame walkers
(``_framescan.pyx`` and ``_rxloop.pyx``)."""


cdef inline Py_ssize_t frame_payload(const unsigned char* p, Py_ssize_t pos, Py_ssize_t n,
                                     unsigned long long* size) noexcept nogil:
    """Where the payload of the server frame at ``p[pos:n]`` (at least 2 bytes) starts, with
    its length in ``size``: -1 while the header is incomplete, -2 for a masked frame (a server
    never masks)."""
    cdef unsigned long long s = p[pos + 1]
    cdef int k
    if s < 126:
        size[0] = s
        return pos + 2
    if s == 126:
        if n - pos < 4:
            return -1
        size[0] = (p[pos + 2] << 8) | p[pos + 3]
        return pos + 4
    if s == 127:
        if n - pos < 10:
            return -1
        s = 0
        for k in range(8):
            s = (s << 8) | p[pos + 2 + k]
        size[0] = s
        return pos + 10
    return -2
