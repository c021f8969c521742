# cython: language_level=3
"""Room fan-out and the connection output core, compiled.

The pure-Python twin is ``fastsock._fanout_py``; both behave identically (same states, same sends
of the same sizes, same error messages). See the twin's docstring for the design and the policy;
in short:

- :class:`Output` is one connection's output: a list of pending frames, a byte count, a cap on
  unsent bytes (``limit``), and a non-blocking ``send()`` (``MSG_DONTWAIT | MSG_NOSIGNAL``) made
  here in C on the socket's file descriptor. Only what the kernel does not take stays buffered.
- :class:`Corker` is the dirty list: frames written to a connection during one loop iteration
  leave together in one ``send()`` when the mode layer calls :meth:`Corker.run`, or at once when a
  buffer (``threshold``) or the corked total (``max_pending``) grows too big.
- :func:`fanout` walks a room and appends the shared WebSocket frame(s) of a broadcast to every
  WebSocket member's output; other members (polling, virtual) get ``send_prepared(message)``.

Mode-specific parts (gevent watchers and loop callbacks, the threading poller) live in the Python
layer (:mod:`fastsock.engineio.writer`). The kernel calls them only on state changes: the
``schedule`` callable of a corker when its dirty list stops being empty, and the ``_on_blocked``
/ ``_on_closed`` methods a subclass of :class:`Output` overrides.

Thread safety: every method here runs under the GIL without releasing it (the send never blocks),
so the outputs of the threading mode need no lock; an output that cannot use the C send (a socket
wrapper, TLS, a blocking socket on Windows) sends through the socket's own ``send`` method, which
releases the GIL, and then takes the ``lock`` it was given around each method.
"""

import os
import socket as _socket_module

import _socket

import cython

from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_GET_SIZE
from cpython.dict cimport PyDict_Values
from cpython.set cimport PySet_Contains

CYTHON_COMPILED = cython.compiled

__all__ = [
    "FLUSH_THRESHOLD",
    "MAX_PENDING",
    "SEND_MAX",
    "Corker",
    "Output",
    "fanout",
]

cdef extern from *:
    """
    /* One non-blocking send() on a socket, without SIGPIPE; *err is 0 when the kernel only
       refused for now (would block, interrupted), else the error code. */
    #if defined(_WIN32)
    #  ifndef _WINSOCKAPI_  /* windows.h may have brought winsock.h: it declares all we use */
    #    include <winsock2.h>
    #  endif
    #  if defined(_MSC_VER)
    #    pragma comment(lib, "ws2_32.lib")
    #  endif
    static Py_ssize_t fastsock_send(long long fd, const char *buf, Py_ssize_t len, int *err) {
        int n;
        if (len > 0x40000000) len = 0x40000000;
        /* Windows has no per-call MSG_DONTWAIT: only non-blocking sockets come here. */
        n = send((SOCKET)fd, buf, (int)len, 0);
        if (n == SOCKET_ERROR) {
            int e = WSAGetLastError();
            *err = (e == WSAEWOULDBLOCK || e == WSAEINTR) ? 0 : e;
            return -1;
        }
        *err = 0;
        return (Py_ssize_t)n;
    }
    static void fastsock_prepare_socket(long long fd) { (void)fd; }
    #define FASTSOCK_WINDOWS 1
    #else
    #  include <sys/types.h>
    #  include <sys/socket.h>
    #  include <errno.h>
    #  ifndef MSG_NOSIGNAL
         /* macOS: SO_NOSIGPIPE is set on the socket instead, and CPython ignores SIGPIPE. */
    #    define MSG_NOSIGNAL 0
    #  endif
    #  ifndef MSG_DONTWAIT
    #    define MSG_DONTWAIT 0
    #  endif
    static Py_ssize_t fastsock_send(long long fd, const char *buf, Py_ssize_t len, int *err) {
        ssize_t n = send((int)fd, buf, (size_t)len, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (n < 0) {
            int e = errno;
            *err = (e == EAGAIN || e == EWOULDBLOCK || e == EINTR) ? 0 : e;
            return -1;
        }
        *err = 0;
        return (Py_ssize_t)n;
    }
    static void fastsock_prepare_socket(long long fd) {
    #  ifdef SO_NOSIGPIPE
        int one = 1;
        (void)setsockopt((int)fd, SOL_SOCKET, SO_NOSIGPIPE, &one, sizeof(one));
    #  else
        (void)fd;
    #  endif
    }
    #define FASTSOCK_WINDOWS 0
    #endif
    """
    Py_ssize_t fastsock_send(long long fd, const char *buf, Py_ssize_t len, int *err) nogil
    void fastsock_prepare_socket(long long fd) nogil
    bint FASTSOCK_WINDOWS

# integer values are used so they can be cythonized: the same numbers are the public constants.
cdef enum:
    C_FLUSH_THRESHOLD = 64 * 1024
    C_MAX_PENDING = 4 * 1024 * 1024
    C_SEND_MAX = 256 * 1024
    # a head chunk at least this big is sent alone rather than copied into a join
    C_SEND_ALONE = 64 * 1024
    # sent chunks are dropped from the front of the list in batches, not one by one
    C_COMPACT = 64

FLUSH_THRESHOLD = C_FLUSH_THRESHOLD
MAX_PENDING = C_MAX_PENDING
SEND_MAX = C_SEND_MAX

# the flags of the fallback send through a socket object's own ``send`` method
cdef int _PY_FLAGS = (getattr(_socket_module, "MSG_DONTWAIT", 0)
                      | getattr(_socket_module, "MSG_NOSIGNAL", 0))
cdef object _SHUT_WR = _socket_module.SHUT_WR
cdef object _SHUT_RDWR = _socket_module.SHUT_RDWR
cdef tuple _WOULD_BLOCK = (BlockingIOError, InterruptedError)
cdef type _NATIVE = _socket.socket  # the C socket type (``socket.socket`` subclasses it)


cdef object _ssl_types():
    try:
        import ssl
    except ImportError:  # pragma: no cover - Python built without OpenSSL
        return ()
    return (ssl.SSLSocket,)


cdef bint _is_native(object sock) except -1:
    # The C send is only safe on a plain C socket: never on a wrapper (whose send may do more),
    # never on TLS (bytes would bypass the encryption), and on Windows only when non-blocking.
    if not isinstance(sock, _NATIVE) or isinstance(sock, _ssl_types()):
        return False
    if FASTSOCK_WINDOWS and sock.gettimeout() != 0.0:
        return False
    return sock.fileno() >= 0


cdef str _send_error(int err):
    return f"send failed: {OSError(err, os.strerror(err))}"


cdef class Corker:
    """The dirty list of corked outputs: each output written to since the last :meth:`run` is
    in it once, and :meth:`run` gives each one ``send()`` for everything it gathered.

    :param schedule: called (with no argument) when the list stops being empty; the mode layer
                     arranges for :meth:`run` to be called before the loop waits for I/O.
                     ``None``: the owner calls :meth:`run` itself.
    :param threshold: a corked output whose buffer reaches this many bytes is sent at once.
    :param max_pending: when the bytes corked since the last run reach this total, every dirty
                        output is sent at once (a broadcaster that never yields stays bounded
                        in latency and memory).
    """

    cdef list _dirty
    cdef object _schedule
    cdef bint _running
    cdef public Py_ssize_t threshold
    cdef public Py_ssize_t max_pending
    cdef readonly Py_ssize_t pending

    def __init__(self, schedule=None, threshold=FLUSH_THRESHOLD, max_pending=MAX_PENDING):
        self._dirty = []
        self._schedule = schedule
        self._running = False
        self.threshold = threshold
        self.max_pending = max_pending
        self.pending = 0

    @property
    def dirty_count(self):
        """How many outputs wait for the next :meth:`run`."""
        return len(self._dirty)

    cdef int _add(self, Output out) except -1:
        self._dirty.append(out)
        if len(self._dirty) == 1 and self._schedule is not None:
            try:
                self._schedule()
            except Exception:  # nobody will run the list: send now rather than never
                self._run()
        return 0

    cdef Py_ssize_t _run(self) except -1:
        cdef list dirty
        cdef Output out
        if self._running:  # a hook wrote while we flush: that output is in the next list
            return 0
        self._running = True
        try:
            dirty = self._dirty
            self._dirty = []
            self.pending = 0
            for out in dirty:
                out.dirty = False
                try:
                    if out._lock is None:
                        out._flush()
                    else:
                        out.flush()
                except Exception as exc:  # one bad connection must not stop the others
                    out._cut(f"flush failed: {exc!r}")
            return len(dirty)
        finally:
            self._running = False

    def run(self):
        """Send every dirty output's buffer (one ``send()`` each); returns how many there were."""
        return self._run()


cdef class Output:
    """One connection's output: frames in, non-blocking ``send()`` out (see the module docstring).

    :param sock: the connection's socket (a plain socket object: the C send is used on its file
                 descriptor; anything else is written through its ``send`` method).
    :param limit: the most bytes the kernel may have refused before the connection is cut off
                  as a slow reader.
    :param corker: the :class:`Corker` of the loop (writes wait for its next run), or ``None``
                   (every write is sent at once: threading mode, or corking disabled).
    :param lock: taken around every method when the output is shared between threads and the
                 send can release the GIL (see the module docstring).

    State (read-only): ``buffered`` (bytes not yet taken by the kernel), ``closed`` (no more
    bytes will be sent), ``blocked`` (waiting for writability), ``dirty`` (in the corker's
    list), ``draining`` (closing: buffered bytes go first, then FIN), ``error`` (why the output
    was cut off, or ``None``), ``native`` (the C send is used).

    A subclass (the mode layer) overrides ``_on_blocked()`` — the kernel refused bytes: watch
    for writability and call :meth:`on_writable` — and ``_on_closed()`` — stop watching. Both
    are called once per state change, never per frame.
    """

    cdef readonly object _raw
    cdef long long _fd
    cdef readonly bint native
    cdef list _chunks
    cdef Py_ssize_t _head
    cdef Py_ssize_t _offset
    cdef Py_ssize_t _size
    cdef public Py_ssize_t limit
    cdef Corker _corker
    cdef object _lock
    cdef readonly bint closed
    cdef readonly bint blocked
    cdef readonly bint dirty
    cdef readonly bint draining
    cdef readonly object error

    def __init__(self, sock, limit, corker=None, lock=None):
        self._raw = sock
        self.native = _is_native(sock)
        self._fd = sock.fileno()
        if self.native:
            fastsock_prepare_socket(self._fd)
        self._chunks = []
        self._head = 0
        self._offset = 0
        self._size = 0
        self.limit = limit
        self._corker = corker
        # A C send never releases the GIL, which makes every method atomic: no lock is needed.
        self._lock = None if self.native else lock
        self.closed = False
        self.blocked = False
        self.dirty = False
        self.draining = False
        self.error = None

    @property
    def buffered(self):
        """Bytes written but not yet taken by the kernel."""
        return self._size

    @property
    def corker(self):
        """The :class:`Corker` this output's writes wait for, or ``None`` (sent at once)."""
        return self._corker

    @corker.setter
    def corker(self, corker):
        if corker is not None and not isinstance(corker, Corker):
            raise TypeError(f"corker must be a Corker or None, not {type(corker).__name__}")
        self._corker = corker

    # -- hooks of the mode layer --------------------------------------------------------------

    def _on_blocked(self):
        """The kernel refused bytes: arrange for :meth:`on_writable` (override)."""

    def _on_closed(self):
        """The output is closed: stop watching the socket (override)."""

    cdef int _hook(self, bint blocked) except -1:
        try:
            if blocked:
                self._on_blocked()
            else:
                self._on_closed()
        except Exception as exc:  # the mode layer failed for this connection: cut it, only it
            if not self.closed:
                self._cut(f"{'blocked' if blocked else 'closed'} hook failed: {exc!r}")
        return 0

    # -- the data path ------------------------------------------------------------------------

    cdef int _write(self, object data) except -1:
        cdef Py_ssize_t n
        cdef Corker corker
        if self.closed or self.draining:
            return 0
        if type(data) is not bytes:
            data = bytes(data)  # a copy: the caller may change a bytearray afterwards
        n = PyBytes_GET_SIZE(data)
        if n == 0:
            return 1
        self._chunks.append(data)
        self._size += n
        if self.blocked:
            if self._size > self.limit:
                self._cut(self._over_limit())
                return 0
            return 1
        corker = self._corker
        if corker is None or self._size >= corker.threshold:
            self._flush()
            return 1
        if not self.dirty:
            self.dirty = True
            corker._add(self)
        corker.pending += n
        if corker.pending >= corker.max_pending:
            corker._run()
        return 1

    cdef str _over_limit(self):
        return f"output buffer over its limit of {self.limit} bytes (peer not reading)"

    cdef int _flush(self) except -1:
        """Send what is buffered unless blocked; 1 when nothing is left."""
        if self.closed or self.blocked or self._size == 0:
            return self._size == 0
        if self._send_some():
            return 1
        if not self.closed:
            self.blocked = True
            self._hook(True)
        return 0

    cdef int _send_some(self) except -1:
        """One send of the buffer's head; 1 when nothing is left."""
        cdef list chunks = self._chunks
        cdef Py_ssize_t count = len(chunks)
        cdef Py_ssize_t head = self._head
        cdef Py_ssize_t i, end, total, sent, rest
        cdef bytes first = <bytes>chunks[head]
        cdef bytes data
        cdef int err = 0
        rest = PyBytes_GET_SIZE(first) - self._offset
        end = head + 1
        if rest < C_SEND_ALONE:
            total = rest
            while end < count and total + PyBytes_GET_SIZE(<bytes>chunks[end]) <= C_SEND_MAX:
                total += PyBytes_GET_SIZE(<bytes>chunks[end])
                end += 1
        if end > head + 1:
            # Several small frames: one copy into one buffer, so one send() takes them all.
            data = b"".join([first[self._offset:]] + chunks[head + 1:end])
            for i in range(head, end - 1):
                chunks[i] = None
            head = self._head = end - 1
            chunks[head] = data
            self._offset = 0
        else:
            data = first
        # the bytes to send: data[offset:]
        rest = PyBytes_GET_SIZE(data) - self._offset
        if self._raw.fileno() != self._fd:  # closed behind our back: never write a reused fd
            self._cut("send failed: the socket was closed")
            return 0
        if self.native:
            sent = fastsock_send(self._fd, PyBytes_AS_STRING(data) + self._offset, rest, &err)
            if sent < 0:
                if err:
                    self._cut(_send_error(err))
                    return 0
                sent = 0
        else:
            try:
                if self._offset:
                    sent = self._raw.send(memoryview(data)[self._offset:], _PY_FLAGS)
                else:
                    sent = self._raw.send(data, _PY_FLAGS)
            except _WOULD_BLOCK:
                sent = 0
            except Exception as exc:  # OSError, or a wrapper refusing the flags (TLS sockets)
                self._cut(f"send failed: {exc}")
                return 0
        self._size -= sent
        if sent == rest:
            chunks[head] = None
            head += 1
            self._offset = 0
            if head == count:
                chunks.clear()
                self._head = 0
                if self.draining:
                    self._finish_drain()
                return 1
        else:
            self._offset += sent
        if head >= C_COMPACT and head * 2 >= count:
            del chunks[:head]
            head = 0
        self._head = head
        if self._size > self.limit:
            self._cut(self._over_limit())
        return 0

    cdef int _clear(self) except -1:
        self._chunks = []
        self._head = 0
        self._offset = 0
        self._size = 0
        self.blocked = False
        return 0

    cdef int _mark_closed(self) except -1:
        if not self.closed:
            self.closed = True
            self._hook(False)
        return 0

    cdef int _shutdown(self, how) except -1:
        raw = self._raw
        if raw is not None:  # after release() the socket may be closed and its fd reused
            try:
                raw.shutdown(how)
            except OSError:
                pass
        return 0

    cdef int _finish_drain(self) except -1:
        self._mark_closed()
        self._shutdown(_SHUT_WR)  # FIN after the last frame; the reader lingers
        return 0

    cdef int _cut(self, error) except -1:
        """Stop writing, drop the buffer and shut the socket down (wakes the reader)."""
        if error is not None and self.error is None:
            self.error = error
        self._clear()
        self._mark_closed()
        self._shutdown(_SHUT_RDWR)
        return 0

    # -- the public methods -------------------------------------------------------------------

    def write(self, data):
        """Queue one complete frame (``bytes``); False when the output no longer accepts it
        (closed, closing, or just cut off for going over its limit)."""
        if self._lock is None:
            return self._write(data) == 1
        with self._lock:
            return self._write(data) == 1

    def flush(self):
        """Send what is buffered now (unless waiting for writability); True when nothing is
        left."""
        if self._lock is None:
            return self._flush() == 1
        with self._lock:
            return self._flush() == 1

    def on_writable(self):
        """The socket became writable: send what the kernel takes. Returns True while the
        output still waits for writability, False once the mode layer can stop watching."""
        if self._lock is None:
            return self._on_writable() == 1
        with self._lock:
            return self._on_writable() == 1

    cdef int _on_writable(self) except -1:
        if self.closed or not self.blocked:
            return 0
        if self._send_some():
            self.blocked = False
            return 0
        return not self.closed

    def close(self):
        """Send what is buffered, then half-close (FIN); no writes are accepted after this."""
        if self._lock is None:
            self._close()
            return
        with self._lock:
            self._close()

    cdef int _close(self) except -1:
        if self.closed or self.draining:
            return 0
        self.draining = True
        if self._size == 0:
            self._finish_drain()
        elif not self.blocked:
            self._flush()
        return 0

    def abort(self, error=None):
        """Close now, discarding buffered bytes; the connection's reader wakes up and ends."""
        if self._lock is None:
            self._cut(error)
            return
        with self._lock:
            self._cut(error)

    def release(self):
        """Forget the socket: called by the reader just before the socket is closed."""
        if self._lock is None:
            self._release()
            return
        with self._lock:
            self._release()

    cdef int _release(self) except -1:
        self._clear()
        self._mark_closed()
        self._raw = None
        self._fd = -1
        return 0


def fanout(members, messages, skip=None):
    """Send prepared messages to every member of a room, in C.

    :param members: the room: a ``dict`` whose values are the members (copied once, so joins
                    and leaves during the walk are harmless), or any iterable of members.
    :param messages: the prepared message, or a sequence of them (a binary event's parts, sent
                     to each member in order); each has ``frame``, the complete WebSocket frame.
    :param skip: ``None``, a member, or a ``set``/``frozenset`` of members not to send to.

    A member whose ``_out`` is an :class:`Output` and that is not ``closed`` gets the frames
    appended to its output (corked, or sent at once); any other member (long-polling, virtual)
    gets ``member.send_prepared(message)`` for each message. Returns how many members were
    sent to.
    """
    cdef list seq
    cdef tuple msgs, frames
    cdef object member, out, frame, message
    cdef Output o
    cdef bint skip_set
    cdef Py_ssize_t count = 0
    if isinstance(members, dict):
        seq = PyDict_Values(members)
    else:
        seq = list(members)
    if hasattr(messages, "frame"):
        msgs = (messages,)
    else:
        msgs = tuple(messages)
    if not msgs:
        return 0
    frames = tuple([message.frame for message in msgs])
    skip_set = isinstance(skip, (set, frozenset))
    for member in seq:
        if skip is not None:
            if skip_set:
                if PySet_Contains(skip, member):
                    continue
            elif member is skip:
                continue
        out = getattr(member, "_out", None)
        if isinstance(out, Output):
            if member.closed:
                continue
            o = <Output>out
            if o._lock is None:
                for frame in frames:
                    o._write(frame)
            else:
                for frame in frames:
                    o.write(frame)
        else:
            for message in msgs:
                member.send_prepared(message)
        count += 1
    return count
