# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""The load generator's receive path in C: one epoll loop, in its own thread, without the GIL.

During the broadcast, latency and fan-out scenarios the load generator hands its clients, but the
control connection and the fan-out senders, to ``RxLoop``: uvloop stops reading them
(``pause_reading``) and this loop reads them instead, with one ``recv`` per ready socket into
one shared buffer, counts the benchmark broadcasts (``42["b",[seq,ts,...]]``) and checks every
sequence number, counts the fanned-out messages (``42["f",[id,ts,...]]``) with the sum and sum
of squares of their ids, samples latency on marked connections and answers Engine.IO pings
itself. No Python object is touched per read, so the
load generator's cost per delivery is the kernel's ``recv`` and a few ns of frame walking: it
stays well below the server's, whose core also carries the loopback TCP stack.

When the scenario ends the state goes back to the Python clients (``state(i)``: the unparsed
tail, counters and any failure) and uvloop resumes reading. Linux only (epoll); elsewhere, or
without a compiler, the load generator keeps its uvloop path.
"""

from cpython.bytes cimport PyBytes_FromStringAndSize
from libc.errno cimport EAGAIN, EINTR, errno
from libc.stdio cimport snprintf
from libc.stdlib cimport free, malloc, realloc, strtod
from libc.string cimport memcmp, memcpy
from posix.time cimport CLOCK_MONOTONIC, clock_gettime, timespec

from e2e._wsframe cimport frame_payload


cdef extern from "sys/epoll.h" nogil:
    ctypedef union epoll_data_t:
        void* ptr
        int fd
        unsigned int u32
        unsigned long long u64

    struct epoll_event:
        unsigned int events
        epoll_data_t data

    int EPOLLIN
    unsigned int EPOLLET
    int EPOLL_CTL_ADD
    int EPOLL_CTL_DEL
    int EPOLL_CLOEXEC
    int epoll_create1(int flags)
    int epoll_ctl(int epfd, int op, int fd, epoll_event* event)
    int epoll_wait(int epfd, epoll_event* events, int maxevents, int timeout)


cdef extern from "sys/socket.h" nogil:
    ssize_t recv(int fd, void* buf, size_t n, int flags)
    ssize_t send(int fd, const void* buf, size_t n, int flags)
    int MSG_DONTWAIT
    int MSG_NOSIGNAL


cdef extern from "pthread.h" nogil:
    ctypedef struct pthread_mutex_t:
        pass
    int pthread_mutex_init(pthread_mutex_t* m, void* attr)
    int pthread_mutex_lock(pthread_mutex_t* m)
    int pthread_mutex_unlock(pthread_mutex_t* m)
    int pthread_mutex_destroy(pthread_mutex_t* m)


cdef extern from "unistd.h" nogil:
    int close(int fd)


cdef const char* B_PREFIX = b'42["b",['
cdef const char* F_PREFIX = b'42["f",['
cdef enum:
    PREFIX_LEN = 8
    BUF_SIZE = 262144   # one recv takes at most this much
    MAX_EVENTS = 4096
    WAIT_MS = 20        # how soon the loop sees stop()
    ERR_LEN = 200


cdef struct Client:
    int fd
    int reading      # still read by the loop: not closed, not failed
    int sample       # latency is sampled on this client
    int failed
    int eof          # the server closed the TCP connection (uvloop reports it on resume)
    int deferred     # readable, waiting in the deferred ring for the end of its interval
    double next_read # with an interval: not read again before this time
    long long last   # last broadcast seq seen; the next must be last + 1
    long long cnt
    long long bad    # broadcasts out of order
    unsigned long long cnt_f  # fanned-out messages, the sum and the sum of squares of their ids
    unsigned long long sum_f
    unsigned long long sq_f
    unsigned char mask[4]
    unsigned char* rest
    Py_ssize_t rest_len
    Py_ssize_t rest_cap
    char error[ERR_LEN]


cdef inline double _now() nogil:
    cdef timespec ts
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return ts.tv_sec + ts.tv_nsec * 1e-9


cdef class RxLoop:
    """Reads ``fds`` until ``stop()``; see the module docstring.

    ``interval``: seconds; a client is read at most once per interval (0: whenever it is
    readable). Sockets are then edge-triggered: a client that becomes readable sooner waits in
    a ring until its interval is over, so the frames that arrive meanwhile leave in one ``recv``
    (one window-update ACK, one wake-up), however many other clients keep the loop busy, and no
    syscall is spent on re-arming it.
    """

    cdef Client* clients
    cdef int n
    cdef int epfd
    cdef unsigned char* buf
    cdef Py_ssize_t buf_cap
    cdef double* lat
    cdef Py_ssize_t n_lat
    cdef Py_ssize_t lat_cap
    cdef pthread_mutex_t lat_lock
    cdef int stopping
    cdef double interval
    cdef int* rearm_fd      # deferred clients, roughly in order of their next_read (a ring)
    cdef Py_ssize_t rearm_head
    cdef Py_ssize_t rearm_len
    cdef public int sampling
    cdef readonly long long delivered
    cdef readonly long long reads
    cdef readonly long long pongs
    cdef readonly long long unexpected
    cdef char first_unexpected[ERR_LEN]

    def __cinit__(self, fds, lasts, samples, masks, rests, double interval=0.0):
        cdef int i
        cdef epoll_event ev
        cdef bytes rest, mask
        cdef Client* c
        self.n = len(fds)
        if not (len(lasts) == len(samples) == len(masks) == len(rests) == self.n):
            raise ValueError("fds, lasts, samples, masks and rests must have the same length")
        pthread_mutex_init(&self.lat_lock, NULL)
        self.interval = interval
        self.epfd = -1
        self.clients = <Client*>malloc(max(1, self.n) * sizeof(Client))
        self.rearm_fd = <int*>malloc(max(1, self.n) * sizeof(int))
        if self.rearm_fd == NULL:
            raise MemoryError()
        self.buf_cap = BUF_SIZE
        self.buf = <unsigned char*>malloc(self.buf_cap)
        if self.clients == NULL or self.buf == NULL:
            raise MemoryError()
        for i in range(self.n):
            self.clients[i].rest = NULL
        self.epfd = epoll_create1(EPOLL_CLOEXEC)
        if self.epfd < 0:
            raise OSError(errno, "epoll_create1 failed")
        for i in range(self.n):
            c = &self.clients[i]
            c.fd = fds[i]
            c.reading = 1
            c.sample = 1 if samples[i] else 0
            c.failed = c.eof = c.deferred = 0
            c.next_read = 0.0
            c.last = lasts[i]
            c.cnt = c.bad = 0
            c.cnt_f = c.sum_f = c.sq_f = 0
            c.error[0] = 0
            mask = masks[i]
            if len(mask) != 4:
                raise ValueError("a mask is 4 bytes")
            memcpy(c.mask, <const char*>mask, 4)
            rest = rests[i]
            c.rest_len = c.rest_cap = len(rest)
            if c.rest_len:
                c.rest = <unsigned char*>malloc(c.rest_cap)
                if c.rest == NULL:
                    raise MemoryError()
                memcpy(c.rest, <const char*>rest, c.rest_len)
            ev.events = EPOLLIN | (EPOLLET if interval > 0 else 0)
            ev.data.u64 = i
            if epoll_ctl(self.epfd, EPOLL_CTL_ADD, c.fd, &ev) < 0:
                raise OSError(errno, f"epoll_ctl ADD of fd {c.fd} failed")

    def __dealloc__(self):
        cdef int i
        if self.clients != NULL:
            for i in range(self.n):
                free(self.clients[i].rest)
            free(self.clients)
        free(self.buf)
        free(self.lat)
        free(self.rearm_fd)
        if self.epfd >= 0:
            close(self.epfd)
        pthread_mutex_destroy(&self.lat_lock)

    # --- the loop -------------------------------------------------------------------
    def run(self):
        """Read until ``stop()`` is called (from another thread); releases the GIL."""
        with nogil:
            self._loop()

    def stop(self):
        self.stopping = 1

    cdef void _loop(self) noexcept nogil:
        cdef epoll_event events[MAX_EVENTS]
        cdef int k, j, timeout
        cdef double now
        cdef Client* c
        while not self.stopping:
            timeout = WAIT_MS
            if self.rearm_len:
                now = _now()
                while self.rearm_len:
                    c = &self.clients[self.rearm_fd[self.rearm_head]]
                    if c.next_read > now:
                        timeout = min(WAIT_MS, 1 + <int>((c.next_read - now) * 1e3))
                        break
                    self.rearm_head = (self.rearm_head + 1) % self.n
                    self.rearm_len -= 1
                    c.deferred = 0
                    self._read_due(c, now)
            k = epoll_wait(self.epfd, events, MAX_EVENTS, timeout)
            if self.interval > 0:
                now = _now()
            for j in range(k):
                c = &self.clients[events[j].data.u64]
                if self.interval <= 0:
                    self._read(c)
                elif c.deferred:
                    pass  # already waiting for its turn
                elif c.next_read <= now:
                    self._read_due(c, now)
                else:  # edge-triggered: remember it, epoll will not tell us again
                    c.deferred = 1
                    self.rearm_fd[(self.rearm_head + self.rearm_len) % self.n] = (
                        <int>(c - self.clients))
                    self.rearm_len += 1

    cdef void _read_due(self, Client* c, double now) noexcept nogil:
        # Edge-triggered: read until the socket is empty (a short read means it is), so no
        # data is left without an edge to announce it.
        c.next_read = now + self.interval
        while c.reading and self._read(c):
            pass

    cdef int _read(self, Client* c) noexcept nogil:
        """One ``recv``; returns 1 when the socket may hold more (a full read, EINTR)."""
        cdef Py_ssize_t have = c.rest_len, pos, left, want
        cdef ssize_t r
        cdef unsigned char* grown
        if not c.reading:
            return 0
        if have:
            memcpy(self.buf, c.rest, have)
        want = self.buf_cap - have
        r = recv(c.fd, self.buf + have, want, MSG_DONTWAIT)
        if r == 0:
            c.eof = 1
            self._drop(c)
            return 0
        if r < 0:
            if errno == EINTR:
                return 1
            if errno != EAGAIN:  # EWOULDBLOCK == EAGAIN on Linux
                self._fail(c, b"recv failed")
            return 0
        self.reads += 1
        have += r
        pos = self._frames(c, self.buf, have, _now() if c.sample and self.sampling else 0.0)
        left = have - pos
        if left > c.rest_cap:
            grown = <unsigned char*>realloc(c.rest, left)
            if grown == NULL:
                self._fail(c, b"out of memory")
                return 0
            c.rest, c.rest_cap = grown, left
        if left:
            memcpy(c.rest, self.buf + pos, left)
        c.rest_len = left
        if left > self.buf_cap // 2:  # a frame larger than half the buffer: make room for it
            grown = <unsigned char*>realloc(self.buf, self.buf_cap * 2)
            if grown == NULL:
                self._fail(c, b"out of memory")
                return 0
            self.buf, self.buf_cap = grown, self.buf_cap * 2
        return 1 if r == want else 0

    cdef Py_ssize_t _frames(self, Client* c, const unsigned char* p, Py_ssize_t n,
                            double now) noexcept nogil:
        """Walk the complete frames in ``p[:n]``; return the bytes consumed."""
        cdef Py_ssize_t pos = 0, start, end, i, comma
        cdef unsigned long long size
        cdef int opcode
        cdef long long seq
        cdef double ts
        cdef char* endp
        while n - pos >= 2 and c.reading:
            start = frame_payload(p, pos, n, &size)
            if start == -1:
                break
            if start == -2:
                self._fail(c, b"server sent a masked frame")
                return pos
            if size > <unsigned long long>(n - start):
                break
            end = start + <Py_ssize_t>size
            opcode = p[pos] & 0x0F
            if opcode == 1 and size >= PREFIX_LEN and (
                    memcmp(p + start, B_PREFIX, PREFIX_LEN) == 0
                    or memcmp(p + start, F_PREFIX, PREFIX_LEN) == 0):
                i = start + PREFIX_LEN
                seq = 0
                while i < end and p[i] >= 48 and p[i] <= 57:
                    seq = seq * 10 + (p[i] - 48)
                    i += 1
                if i == start + PREFIX_LEN or i >= end or p[i] != 44:
                    self._fail(c, b"malformed sequence number in a benchmark event")
                    return pos
                if p[start + 4] == 98:  # "b": a broadcast, in sequence
                    if seq != c.last + 1:
                        c.bad += 1
                    c.last = seq
                    c.cnt += 1
                else:  # "f": a fanned-out message id
                    c.cnt_f += 1
                    c.sum_f += <unsigned long long>seq
                    c.sq_f += <unsigned long long>seq * <unsigned long long>seq
                self.delivered += 1
                if c.sample and self.sampling:
                    comma = i
                    i += 1
                    while i < end and p[i] != 44:
                        i += 1
                    if i >= end:
                        self._fail(c, b"no timestamp in a benchmark event")
                        return pos
                    # the number is followed by a comma inside the frame: strtod stops there
                    ts = strtod(<const char*>p + comma + 1, &endp)
                    if endp != <char*>p + i:
                        self._fail(c, b"malformed timestamp in a benchmark event")
                        return pos
                    self._sample(now - ts)
            elif opcode == 1 and size == 1 and p[start] == 50:  # Engine.IO ping "2": pong "3"
                self._pong(c, 1, <const unsigned char*>b"3", 1)
            elif opcode == 9:  # WebSocket ping: pong with its payload
                self._pong(c, 10, p + start, <Py_ssize_t>size)
            elif opcode == 8:
                self._fail(c, b"server closed the WebSocket")
                return end
            else:
                if self.unexpected == 0:
                    snprintf(self.first_unexpected, ERR_LEN, b"opcode %d: %.*s", opcode,
                             <int>(size if size < 120 else 120), p + start)
                self.unexpected += 1
            pos = end
        return pos

    cdef void _pong(self, Client* c, int opcode, const unsigned char* payload,
                    Py_ssize_t size) noexcept nogil:
        cdef unsigned char frame[6 + 125]
        cdef Py_ssize_t i
        if size > 125:
            self._fail(c, b"control frame over 125 bytes")
            return
        frame[0] = 0x80 | opcode
        frame[1] = 0x80 | <unsigned char>size
        memcpy(frame + 2, c.mask, 4)
        for i in range(size):
            frame[6 + i] = payload[i] ^ c.mask[i & 3]
        if send(c.fd, frame, 6 + size, MSG_DONTWAIT | MSG_NOSIGNAL) != 6 + size:
            self._fail(c, b"could not send a pong")
            return
        self.pongs += 1

    cdef void _sample(self, double latency) noexcept nogil:
        cdef double* grown
        pthread_mutex_lock(&self.lat_lock)
        if self.n_lat == self.lat_cap:
            grown = <double*>realloc(self.lat, max(4096, 2 * self.lat_cap) * sizeof(double))
            if grown == NULL:  # drop the sample rather than the measurement
                pthread_mutex_unlock(&self.lat_lock)
                return
            self.lat = grown
            self.lat_cap = max(4096, 2 * self.lat_cap)
        self.lat[self.n_lat] = latency
        self.n_lat += 1
        pthread_mutex_unlock(&self.lat_lock)

    cdef void _drop(self, Client* c) noexcept nogil:
        cdef epoll_event ev
        if c.reading:
            c.reading = 0
            epoll_ctl(self.epfd, EPOLL_CTL_DEL, c.fd, &ev)

    cdef void _fail(self, Client* c, const char* reason) noexcept nogil:
        if not c.failed:
            c.failed = 1
            snprintf(c.error, ERR_LEN, b"%s", reason)
        self._drop(c)

    # --- results (call from Python; safe while the loop runs) --------------------------
    def take_latencies(self):
        """The latency samples taken so far, in seconds; clears them."""
        cdef Py_ssize_t i
        pthread_mutex_lock(&self.lat_lock)
        try:
            out = [self.lat[i] for i in range(self.n_lat)]
            self.n_lat = 0
        finally:
            pthread_mutex_unlock(&self.lat_lock)
        return out

    cdef object _lowest(self, bint fanouts):
        # the lowest last seq (or fan-out count) over the clients still read, None if none
        cdef int i
        cdef long long value, low = 0
        cdef bint any_ = False
        for i in range(self.n):
            if self.clients[i].reading:
                value = <long long>self.clients[i].cnt_f if fanouts else self.clients[i].last
                if not any_ or value < low:
                    low, any_ = value, True
        return low if any_ else None

    def min_last(self):
        """The lowest last-seen sequence number over the clients still read (None if none)."""
        return self._lowest(False)

    def min_fanouts(self):
        """The lowest fanned-out message count over the clients still read (None if none)."""
        return self._lowest(True)

    def first_unexpected_frame(self):
        return self.first_unexpected.decode("utf-8", "replace") if self.unexpected else None

    def state(self, int i):
        """Client ``i``: ``(rest, last, count, out_of_order, error or None, eof, fanouts,
        sum_of_ids, sum_of_squares_of_ids)``.

        Only call it once ``run()`` has returned: ``rest`` is the unparsed tail to hand back.
        """
        cdef Client* c
        if i < 0 or i >= self.n:
            raise IndexError(i)
        c = &self.clients[i]
        rest = PyBytes_FromStringAndSize(<char*>c.rest, c.rest_len) if c.rest_len else b""
        error = c.error.decode("utf-8", "replace") if c.failed else None
        return rest, c.last, c.cnt, c.bad, error, bool(c.eof), c.cnt_f, c.sum_f, c.sq_f
