"""The JSON adapter kernel (``fastsock._json_c`` / ``fastsock._json_py``)."""

# ruff: noqa: UP031 - %-templates keep the JSON braces in the expected packets readable

import datetime
import decimal
import json as stdlib_json
import uuid

import flask
import flask.json
import orjson
import pytest
from flask.json.provider import DefaultJSONProvider
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fastsock.exceptions import PacketError

MODULES = {"orjson": orjson, "json": stdlib_json, "flask.json": flask.json}


@pytest.fixture(params=sorted(MODULES))
def module(request):
    return MODULES[request.param]


@pytest.fixture
def app():
    return flask.Flask(__name__)


def test_compiled_flag(json_impl):
    assert json_impl.CYTHON_COMPILED is (json_impl.__name__ == "fastsock._json_c")


def test_no_instance_dict(json_impl):
    adapter = json_impl.JsonAdapter()
    assert not hasattr(adapter, "__dict__")
    with pytest.raises(AttributeError):
        adapter.module = stdlib_json


def test_default_is_orjson_and_shared(json_impl):
    assert json_impl.JsonAdapter().module is orjson
    assert json_impl.default_adapter() is json_impl.default_adapter()
    assert json_impl.default_adapter().module is orjson


def test_dumps_compact(json_impl, module):
    adapter = json_impl.JsonAdapter(module)
    assert adapter.module is module
    text = adapter.dumps({"a": [1, 2, {"b": None}], "c": True})
    assert isinstance(text, str)
    assert text == '{"a":[1,2,{"b":null}],"c":true}'
    raw = adapter.dumps_bytes(["x", 1.5])
    assert isinstance(raw, bytes) and raw == b'["x",1.5]'


def test_orjson_options(json_impl):
    adapter = json_impl.JsonAdapter()
    # non-str keys are allowed, as the stdlib does
    assert adapter.dumps({1: "a", None: 2}) == '{"1":"a","null":2}'
    # orjson writes UTF-8; the str and bytes outputs agree
    assert adapter.dumps(["é€😀"]) == '["é€😀"]'
    assert adapter.dumps_bytes(["é€😀"]) == '["é€😀"]'.encode()


def test_stdlib_escapes_non_ascii(json_impl):
    adapter = json_impl.JsonAdapter(stdlib_json)
    assert adapter.dumps(["é"]) == '["\\u00e9"]'
    assert adapter.dumps_bytes(["é"]) == b'["\\u00e9"]'


def test_orjson_falls_back_to_stdlib_for_what_only_it_refuses(json_impl):
    adapter = json_impl.JsonAdapter()
    big = 2**70
    assert adapter.dumps([big]) == f"[{big}]"
    assert adapter.dumps_bytes({"n": -big}) == f'{{"n":{-big}}}'.encode()
    deep = []
    for _ in range(300):  # orjson stops at 254 levels
        deep = [deep]
    assert adapter.loads(adapter.dumps(deep)) == deep
    assert adapter.dumps(["é", big]) == f'["é",{big}]'  # still UTF-8, like orjson


@pytest.mark.parametrize(
    "value, type_name",
    [({1, 2}, "set"), (object(), "object"), ([b"raw"], "bytes"), ({"x": 1j}, "complex")],
)
def test_not_serializable_is_type_error(json_impl, module, value, type_name):
    adapter = json_impl.JsonAdapter(module)
    for dump in (adapter.dumps, adapter.dumps_bytes):
        with pytest.raises(TypeError, match=type_name):
            dump(value)


def test_circular_and_too_deep_are_type_errors(json_impl, module):
    adapter = json_impl.JsonAdapter(module)
    circular = []
    circular.append(circular)
    with pytest.raises(TypeError):
        adapter.dumps(circular)
    deep = []
    for _ in range(100_000):
        deep = [deep]
    with pytest.raises(TypeError):
        adapter.dumps_bytes(deep)


def test_big_int_and_surrogates_with_orjson(json_impl):
    adapter = json_impl.JsonAdapter()
    with pytest.raises(TypeError):
        adapter.dumps(["\ud800"])  # a lone surrogate cannot be UTF-8
    with pytest.raises(TypeError):
        adapter.dumps_bytes([2**70, "\ud800"])  # neither by the stdlib fallback


@pytest.mark.parametrize(
    "text",
    [
        "",
        "[",
        "{'a': 1}",
        "[1,]",
        '{"a" 1}',
        "nul",
        "[1] x",
        "\x00",
        b"\xff\xfe",
        b'["\xc3"]',
        5,
        None,
        "[" * 100_000,
    ],
)
def test_invalid_json_is_packet_error(json_impl, module, text):
    adapter = json_impl.JsonAdapter(module)
    with pytest.raises(PacketError, match="invalid JSON"):
        adapter.loads(text)


def test_loads_str_and_bytes(json_impl, module):
    adapter = json_impl.JsonAdapter(module)
    assert adapter.loads('{"a":[1,"é"]}') == {"a": [1, "é"]}
    assert adapter.loads('{"a":[1,"é"]}'.encode()) == {"a": [1, "é"]}


def test_flask_json_outside_app_context(json_impl):
    adapter = json_impl.JsonAdapter(flask.json)
    when = datetime.datetime(2024, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc)
    uid = uuid.UUID(int=1)
    # flask.json's own default handler is used outside an app context
    assert adapter.dumps({"b": when, "a": uid, "d": decimal.Decimal("1.5")}) == (
        '{"b":"Tue, 02 Jan 2024 03:04:05 GMT","a":"%s","d":"1.5"}' % uid
    )


def test_flask_json_inside_app_context_uses_the_app_provider(json_impl, app):
    class Provider(DefaultJSONProvider):
        @staticmethod
        def default(o):
            if isinstance(o, set):
                return sorted(o)
            return DefaultJSONProvider.default(o)

    app.json = Provider(app)
    adapter = json_impl.JsonAdapter(flask.json)
    with pytest.raises(TypeError):
        adapter.dumps({1, 2})
    with app.app_context():
        # the app's provider: its default handler, and Flask's sort_keys=True
        assert adapter.dumps({"b": {3, 1}, "a": 1}) == '{"a":1,"b":[1,3]}'
        assert adapter.loads(b'{"x":[1]}') == {"x": [1]}
        with pytest.raises(PacketError):
            adapter.loads("{")
        with pytest.raises(TypeError):
            adapter.dumps(object())


class CountingModule:
    """A stand-in JSON module that records its calls (no global state involved)."""

    def __init__(self):
        self.calls = []

    def dumps(self, obj, **kwargs):
        self.calls.append(("dumps", kwargs))
        return stdlib_json.dumps(obj, **kwargs)

    def loads(self, text):
        self.calls.append(("loads", text))
        return stdlib_json.loads(text)


def test_adapters_are_independent(json_impl):
    first, second = CountingModule(), CountingModule()
    a, b = json_impl.JsonAdapter(first), json_impl.JsonAdapter(second)
    assert a.dumps([1]) == "[1]"
    assert b.loads("[2]") == [2]
    assert first.calls == [("dumps", {"separators": (",", ":")})]
    assert second.calls == [("loads", "[2]")]
    # building other adapters changed nothing shared
    assert json_impl.default_adapter().module is orjson
    assert json_impl.default_adapter().dumps({"k": "é"}) == '{"k":"é"}'


def test_module_returning_bytes(json_impl):
    class BytesModule:
        @staticmethod
        def dumps(obj, **kwargs):
            return orjson.dumps(obj)

        loads = staticmethod(orjson.loads)

    adapter = json_impl.JsonAdapter(BytesModule)
    assert adapter.dumps(["é"]) == '["é"]'
    assert adapter.dumps_bytes(["é"]) == '["é"]'.encode()


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**64 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(value=json_values)
def test_roundtrip(json_impl, value):
    for module in (orjson, stdlib_json):
        adapter = json_impl.JsonAdapter(module)
        assert adapter.loads(adapter.dumps(value)) == value
        assert adapter.loads(adapter.dumps_bytes(value)) == value
        assert adapter.dumps_bytes(value) == adapter.dumps(value).encode()


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(value=json_values | st.sets(st.integers(), max_size=2), text=st.text(max_size=20))
def test_compiled_matches_pure(json_pair, value, text):
    compiled, pure = json_pair
    for module in (orjson, stdlib_json):
        results = []
        for impl in (compiled, pure):
            adapter = impl.JsonAdapter(module)
            outcome = []
            for call, arg in (
                (adapter.dumps, value),
                (adapter.dumps_bytes, value),
                (adapter.loads, text),
                (adapter.loads, text.encode()),
            ):
                try:
                    outcome.append(("ok", call(arg)))
                except (TypeError, PacketError) as exc:
                    outcome.append((type(exc).__name__, str(exc)))
            results.append(outcome)
        assert results[0] == results[1]
