"""The kept connection environs share their equal strings (fastsock.socketio.environs)."""

from fastsock.socketio.environs import MAX_POOLED, UNIQUE_VALUE_KEYS, share_strings


def fresh(s):
    """An equal string that is a new object (as a web server parsing a request makes)."""
    return "".join(list(s))


def environ(port):
    return {
        fresh("REQUEST_METHOD"): fresh("GET"),
        fresh("HTTP_USER_AGENT"): fresh("Mozilla/5.0 (X11; Linux x86_64)"),
        fresh("HTTP_SEC_WEBSOCKET_KEY"): fresh("dGhlIHNhbXBsZSBub25jZQ=="),
        fresh("REMOTE_PORT"): str(port),
        "wsgi.version": (1, 0),
        fresh("SERVER_PORT"): fresh("5000"),
    }


def test_equal_keys_and_values_become_one_object():
    pool = {}
    a, b = environ(40000), environ(40001)
    before = dict(a), dict(b)
    a_id = id(a)
    share_strings(a, pool)
    share_strings(b, pool)
    assert id(a) == a_id and (a, b) == before  # same dict, same contents, same order
    assert list(a) == list(before[0])
    for (ka, va), (kb, vb) in zip(a.items(), b.items()):
        assert ka is kb
        if ka == "wsgi.version" or ka in UNIQUE_VALUE_KEYS:
            continue
        assert va is vb, ka


def test_unique_values_stay_out_of_the_pool():
    pool = {}
    share_strings(environ(40000), pool)
    assert "40000" not in pool and "dGhlIHNhbXBsZSBub25jZQ==" not in pool
    assert "GET" in pool


def test_the_pool_is_bounded():
    pool = {}
    for i in range(3 * MAX_POOLED):
        share_strings({fresh("HTTP_X_TRACE"): f"trace-{i}"}, pool)
        assert len(pool) <= MAX_POOLED + 2


def test_other_mappings_are_left_alone():
    class Environ(dict):
        pass

    pool = {}
    share_strings(Environ(REQUEST_METHOD=fresh("GET")), pool)
    assert pool == {}
