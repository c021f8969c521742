"""The eio kernel's ``compress`` (HTTP compression of polling responses), c and py.

The threshold and the choice of encoding are checked against a real python-engineio server's
responses; where it ignores what RFC 9110 says about Accept-Encoding (q-values, case), the
difference is written down in a test.
"""

from __future__ import annotations

import gzip
import io
import zlib

import engineio
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

PROPS = settings(
    max_examples=150,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)


def outcome(func, *args, **kwargs):
    """A comparable result: the return value, or the exception's type and message."""
    try:
        return "ok", func(*args, **kwargs)
    except Exception as exc:  # noqa: BLE001 - compared between implementations
        return "error", type(exc), str(exc)


accept_headers = st.lists(
    st.tuples(
        st.sampled_from(["gzip", "deflate", "GZip", "*", "br", "identity", "x-gzip", ""]),
        st.sampled_from(
            [
                "",
                ";q=0",
                ";q=1",
                ";q=0.5",
                ";q=0.500",
                ";q=1.0",
                ";q=2",
                ";q=abc",
                "; q=0.9",
                ";level=1;q=0.1",
                ";q=",
                ";Q=0.2",
                ";q=0.1234",
                ";q=1.001",
            ]
        ),
    ),
    max_size=5,
).map(lambda entries: ", ".join(name + params for name, params in entries))


@given(
    header=st.one_of(accept_headers, st.none(), st.text(max_size=20)),
    size=st.integers(0, 40),
    threshold=st.integers(0, 41),
)
@PROPS
def test_pair_compress(eio_pair, header, size, threshold):
    compiled, pure = eio_pair
    body = b"x" * size
    assert outcome(compiled.compress, body, header, threshold) == outcome(
        pure.compress, body, header, threshold
    )


# --------------------------------------------------------------------------- compression


def engineio_polling_response(threshold, accept_encoding):
    """A real python-engineio server's handshake response: (Content-Encoding, body)."""
    server = engineio.Server(
        async_mode="threading", compression_threshold=threshold, monitor_clients=False
    )
    environ = {
        "REQUEST_METHOD": "GET",
        "QUERY_STRING": "EIO=4&transport=polling",
        "PATH_INFO": "/engine.io/",
        "wsgi.url_scheme": "http",
        "HTTP_HOST": "localhost",
        "wsgi.input": io.BytesIO(b""),
    }
    if accept_encoding is not None:
        environ["HTTP_ACCEPT_ENCODING"] = accept_encoding
    headers = {}
    body = b"".join(server.handle_request(environ, lambda s, h: headers.update(h)))
    return headers.get("Content-Encoding"), body


def test_compression_threshold_matches_python_engineio(eio_impl):
    # its handshake body has a fixed length (random 20-character sid)
    _, plain = engineio_polling_response(10**6, "gzip")
    size = len(plain)
    for threshold in (0, size - 1, size, size + 1):
        engineio_encoding, _ = engineio_polling_response(threshold, "gzip")
        _, encoding = eio_impl.compress(plain, "gzip", threshold)
        assert encoding == engineio_encoding, threshold
    assert eio_impl.compress(plain, "gzip", size)[1] == "gzip"
    assert eio_impl.compress(plain, "gzip", size + 1) == (plain, None)


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "gzip",
        "deflate",
        "gzip, deflate",
        "deflate, gzip",
        "br",
        "br, deflate",
        "identity",
        "gzip;q=0.8, deflate;q=0.8",
    ],
)
def test_chosen_encoding_matches_python_engineio(eio_impl, header):
    engineio_encoding, _ = engineio_polling_response(0, header)
    assert eio_impl.compress(b"x" * 100, header, 0)[1] == engineio_encoding


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("gzip;q=0, deflate", "deflate"),  # python-engineio: gzip (ignores q-values)
        ("gzip;q=0", None),  # python-engineio: gzip
        ("gzip;q=0.5, deflate", "deflate"),  # higher q wins
        ("deflate;q=0.1, gzip;q=0.2", "gzip"),
        ("gzip;q=0.5, deflate;q=0.5", "gzip"),  # tie: client order
        ("deflate;q=0.5, gzip;q=0.5", "deflate"),
        ("GZIP", "gzip"),  # content codings are case-insensitive; python-engineio: none
        ("*", "gzip"),
        ("*;q=0", None),
        ("gzip;q=0, *", "deflate"),
        ("br, *;q=0.1, deflate;q=0.2", "deflate"),
        ("gzip;q=abc, deflate", "deflate"),  # malformed q: entry ignored
        ("gzip;q=2", None),
        ("gzip; q=1.000", "gzip"),
        ("identity;q=1, gzip;q=0.001", "gzip"),
        (" , ,gzip", "gzip"),
    ],
)
def test_accept_encoding_q_values(eio_impl, header, expected):
    body = b"y" * 2000
    compressed, encoding = eio_impl.compress(body, header, 1024)
    assert encoding == expected
    if expected is None:
        assert compressed is body


def test_compressed_bodies(eio_impl):
    body = ("4" + "hello world " * 200).encode()
    gz, encoding = eio_impl.compress(body, "gzip", 1024)
    assert encoding == "gzip"
    assert gzip.decompress(gz) == body
    assert gz[:2] == b"\x1f\x8b" and gz[4:8] == b"\0\0\0\0"  # gzip, mtime 0: deterministic
    engineio_gzip = engineio.Server._gzip(None, body)
    assert gzip.decompress(engineio_gzip) == body
    deflated, encoding = eio_impl.compress(body, "deflate", 1024)
    assert encoding == "deflate"
    assert deflated == engineio.Server._deflate(None, body) == zlib.compress(body)
    assert zlib.decompress(deflated) == body
    small = b"4hi"
    assert eio_impl.compress(small, "gzip, deflate", 1024)[0] is small
