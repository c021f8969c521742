"""The Socket.IO v5 codec kernel (``fastsock._sio_c`` / ``fastsock._sio_py``): unit tests.

Interoperability with python-socketio and socket.io-parser is in ``test_kernel_sio_oracle.py``.
"""

# ruff: noqa: UP031 - %-templates keep the JSON braces in the expected packets readable

import json as stdlib_json

import flask
import flask.json
import pytest

from fastsock.exceptions import PacketError

PH0 = '{"_placeholder":true,"num":0}'
PH1 = '{"_placeholder":true,"num":1}'


def roundtrip(sio, encoded):
    """Decode ``encoded`` (a str, or the list ``encode()`` returns) into a new Packet."""
    if isinstance(encoded, list):
        pkt = sio.Packet(encoded_packet=encoded[0])
        for i, attachment in enumerate(encoded[1:]):
            assert pkt.add_attachment(attachment) is (i == len(encoded) - 2)
        return pkt
    pkt = sio.Packet(encoded_packet=encoded)
    assert pkt.attachment_count == 0
    return pkt


def test_constants(sio_impl):
    assert (
        sio_impl.CONNECT,
        sio_impl.DISCONNECT,
        sio_impl.EVENT,
        sio_impl.ACK,
        sio_impl.CONNECT_ERROR,
        sio_impl.BINARY_EVENT,
        sio_impl.BINARY_ACK,
    ) == tuple(range(7))
    assert sio_impl.packet_names[sio_impl.BINARY_ACK] == "BINARY_ACK"
    assert sio_impl.Packet.uses_binary_events is True
    assert sio_impl.MsgPackPacket.uses_binary_events is False
    assert sio_impl.Packet.max_attachments == 1000
    assert sio_impl.Packet.max_id_digits == 15


def test_compiled_flag_and_no_instance_dict(sio_impl):
    assert sio_impl.CYTHON_COMPILED is (sio_impl.__name__ == "fastsock._sio_c")
    for cls in (sio_impl.Packet, sio_impl.MsgPackPacket):
        assert not hasattr(cls(), "__dict__")
    with pytest.raises(AttributeError):
        sio_impl.Packet().max_attachments = 3


# Every example of the "Packet encoding" section and the sample session of the Socket.IO v5
# protocol document (github.com/socketio/socket.io-protocol), as (packet, encoded).
PROTOCOL_EXAMPLES = [
    ({"packet_type": 0, "namespace": "/"}, ["0"]),
    (
        {"packet_type": 0, "namespace": "/", "data": {"sid": "wZX3oN0bSVIhsaknAAAI"}},
        ['0{"sid":"wZX3oN0bSVIhsaknAAAI"}'],
    ),
    ({"packet_type": 0, "namespace": "/admin"}, ["0/admin,"]),
    (
        {"packet_type": 0, "namespace": "/admin", "data": {"sid": "oSO0OpakMV_3jnilAAAA"}},
        ['0/admin,{"sid":"oSO0OpakMV_3jnilAAAA"}'],
    ),
    (
        {"packet_type": 4, "namespace": "/", "data": {"message": "Not authorized"}},
        ['4{"message":"Not authorized"}'],
    ),
    ({"packet_type": 2, "namespace": "/", "data": ["foo"]}, ['2["foo"]']),
    ({"packet_type": 2, "namespace": "/admin", "data": ["bar"]}, ['2/admin,["bar"]']),
    (
        {"packet_type": 5, "namespace": "/", "data": ["baz", b"\x01\x02\x03\x04"]},
        ['51-["baz",%s]' % PH0, b"\x01\x02\x03\x04"],
    ),
    (
        {"packet_type": 5, "namespace": "/admin", "data": ["baz", b"\x01\x02", b"\x03\x04"]},
        ['52-/admin,["baz",%s,%s]' % (PH0, PH1), b"\x01\x02", b"\x03\x04"],
    ),
    ({"packet_type": 2, "namespace": "/", "data": ["foo"], "id": 12}, ['212["foo"]']),
    ({"packet_type": 3, "namespace": "/", "data": [], "id": 12}, ["312[]"]),
    ({"packet_type": 2, "namespace": "/admin", "data": ["foo"], "id": 13}, ['2/admin,13["foo"]']),
    ({"packet_type": 3, "namespace": "/admin", "data": ["bar"], "id": 13}, ['3/admin,13["bar"]']),
    (
        {"packet_type": 5, "namespace": "/", "data": ["foo", b"\x01\x02\x03\x04"], "id": 14},
        ['51-14["foo",%s]' % PH0, b"\x01\x02\x03\x04"],
    ),
    ({"packet_type": 3, "namespace": "/", "data": ["bar"], "id": 14}, ['314["bar"]']),
    (
        {"packet_type": 6, "namespace": "/", "data": ["bar", b"\x01\x02\x03\x04"], "id": 15},
        ['61-15["bar",%s]' % PH0, b"\x01\x02\x03\x04"],
    ),
    ({"packet_type": 1, "namespace": "/"}, ["1"]),
    ({"packet_type": 1, "namespace": "/admin"}, ["1/admin,"]),
    ({"packet_type": 2, "namespace": "/", "data": ["hey", "Jude"]}, ['2["hey","Jude"]']),
    (
        {"packet_type": 2, "namespace": "/admin", "data": ["tellme"], "id": 1},
        ['2/admin,1["tellme"]'],
    ),
    (
        {"packet_type": 6, "namespace": "/admin", "data": [b"\xff"], "id": 1},
        ["61-/admin,1[%s]" % PH0, b"\xff"],
    ),
]


@pytest.mark.parametrize("fields, wire", PROTOCOL_EXAMPLES)
def test_protocol_examples_encode(sio_impl, fields, wire):
    encoded = sio_impl.Packet(**fields).encode()
    assert encoded == (wire[0] if len(wire) == 1 else wire)


@pytest.mark.parametrize("fields, wire", PROTOCOL_EXAMPLES)
def test_protocol_examples_decode(sio_impl, fields, wire):
    pkt = roundtrip(sio_impl, wire if len(wire) > 1 else wire[0])
    assert pkt.packet_type == fields["packet_type"]
    assert pkt.namespace == (None if fields["namespace"] == "/" else fields["namespace"])
    assert pkt.id == fields.get("id")
    assert pkt.data == fields.get("data")
    assert pkt.attachments == wire[1:]


def test_event_becomes_binary_automatically(sio_impl):
    blob = bytearray(b"\x00\x01")
    pkt = sio_impl.Packet(sio_impl.EVENT, ["up", {"a": [1, {"b": blob}]}, (b"t",)])
    assert pkt.packet_type == sio_impl.BINARY_EVENT
    ack = sio_impl.Packet(sio_impl.ACK, [b"x"], id=7)
    assert ack.packet_type == sio_impl.BINARY_ACK
    assert ack.encode() == ["61-7[%s]" % PH0, b"x"]
    encoded = pkt.encode()
    assert encoded == ['52-["up",{"a":[1,{"b":%s}]},[%s]]' % (PH0, PH1), blob, b"t"]
    assert roundtrip(sio_impl, encoded).data == ["up", {"a": [1, {"b": b"\x00\x01"}]}, [b"t"]]


def test_encode_does_not_modify_the_data(sio_impl):
    inner = {"b": b"x", "c": [1]}
    shared = ["unchanged"]
    data = ["ev", inner, shared, (b"y",)]
    sio_impl.Packet(sio_impl.EVENT, data).encode()
    assert data == ["ev", {"b": b"x", "c": [1]}, ["unchanged"], (b"y",)]
    assert data[1] is inner


def test_many_attachments_in_order(sio_impl):
    blobs = [bytes([i]) * i for i in range(12)]
    data = [
        "many",
        {"first": blobs[0], "rest": [{"n": i, "blob": b} for i, b in enumerate(blobs[1:], 1)]},
    ]
    encoded = sio_impl.Packet(sio_impl.EVENT, data, namespace="/ns", id=99).encode()
    assert encoded[0].startswith("512-/ns,99[")
    assert encoded[1:] == blobs
    pkt = sio_impl.Packet(encoded_packet=encoded[0])
    assert pkt.attachment_count == 12
    for blob in blobs[:-1]:
        assert pkt.add_attachment(blob) is False
    assert pkt.data[1]["first"] == {"_placeholder": True, "num": 0}  # not yet replaced
    assert pkt.add_attachment(blobs[-1]) is True
    assert pkt.data == data and pkt.id == 99 and pkt.namespace == "/ns"
    with pytest.raises(PacketError, match="unexpected binary attachment"):
        pkt.add_attachment(b"extra")


def test_placeholders_may_repeat_and_appear_anywhere(sio_impl):
    text = '52-["e",[[%s]],{"x":{"y":%s,"z":%s}}]' % (PH1, PH0, PH1)
    pkt = sio_impl.Packet(encoded_packet=text)
    pkt.add_attachment(b"zero")
    assert pkt.add_attachment(bytearray(b"one"))
    assert pkt.data == ["e", [[b"one"]], {"x": {"y": b"zero", "z": b"one"}}]
    # a placeholder-shaped dict in a non-binary packet is plain data
    pkt = sio_impl.Packet(encoded_packet='2["e",%s]' % PH0)
    assert pkt.data == ["e", {"_placeholder": True, "num": 0}]


def test_forced_binary_without_attachments_is_sent_as_plain(sio_impl):
    # python-socketio writes "50-[...]", which socket.io-parser rejects ("Illegal attachments");
    # we follow the JavaScript parser and send an EVENT/ACK, and still accept "50-" on input.
    pkt = sio_impl.Packet(sio_impl.EVENT, ["a"], binary=True)
    assert pkt.packet_type == sio_impl.BINARY_EVENT
    assert pkt.encode() == '2["a"]'
    assert sio_impl.Packet(sio_impl.ACK, [], id=3, binary=True).encode() == "33[]"
    decoded = sio_impl.Packet(encoded_packet='50-["a"]')
    assert (decoded.packet_type, decoded.attachment_count, decoded.data) == (5, 0, ["a"])


def test_binary_false_and_binary_on_other_types(sio_impl):
    pkt = sio_impl.Packet(sio_impl.EVENT, ["a", b"x"], binary=False)
    assert pkt.packet_type == sio_impl.EVENT
    with pytest.raises(TypeError):
        pkt.encode()  # JSON cannot hold bytes
    with pytest.raises(ValueError, match="binary"):
        sio_impl.Packet(sio_impl.CONNECT, {"token": b"x"})
    with pytest.raises(ValueError, match="binary"):
        sio_impl.Packet(sio_impl.DISCONNECT, binary=True)
    explicit = sio_impl.Packet(sio_impl.BINARY_ACK, [b"x"], id=1)
    assert explicit.encode() == ["61-1[%s]" % PH0, b"x"]


def test_namespaces(sio_impl):
    P = sio_impl.Packet
    assert P(sio_impl.EVENT, ["a"], namespace=None).encode() == '2["a"]'
    assert P(sio_impl.EVENT, ["a"], namespace="/").encode() == '2["a"]'
    # python-socketio writes '2,["a"]' for an empty namespace; socket.io-parser omits it
    assert P(sio_impl.EVENT, ["a"], namespace="").encode() == '2["a"]'
    assert P(sio_impl.EVENT, ["a"], namespace="/a/b-c.d").encode() == '2/a/b-c.d,["a"]'
    assert P(sio_impl.EVENT, ["a"], namespace="/é", id=5).encode() == '2/é,5["a"]'
    assert P(encoded_packet="1/chat").namespace == "/chat"  # no trailing comma
    assert P(encoded_packet="1/chat,").namespace == "/chat"
    assert P(encoded_packet="1/,").namespace == "/"
    # a Socket.IO v4 client's query string after the namespace is dropped, as python-socketio does
    pkt = P(encoded_packet='0/chat?token=abc&x=1,{"a":1}')
    assert (pkt.namespace, pkt.data) == ("/chat", {"a": 1})


def test_ack_ids(sio_impl):
    P = sio_impl.Packet
    assert P(sio_impl.EVENT, ["a"], id=0).encode() == '20["a"]'
    assert P(encoded_packet='20["a"]').id == 0
    assert P(encoded_packet='2/x,007["a"]').id == 7
    biggest = 10**15 - 1
    assert P(encoded_packet='3%d["ok"]' % biggest).id == biggest
    with pytest.raises(PacketError, match="ack id too long"):
        P(encoded_packet='3%d["ok"]' % (biggest + 1))
    with pytest.raises(PacketError, match="ack id too long"):
        P(encoded_packet="3" + "9" * 5000 + "[]")


def test_connect_disconnect_and_errors(sio_impl):
    P = sio_impl.Packet
    assert P(sio_impl.CONNECT).encode() == "0"
    assert P(sio_impl.CONNECT, {"token": "123"}, namespace="/admin").encode() == (
        '0/admin,{"token":"123"}'
    )
    pkt = P(encoded_packet='0/admin,{"token":"123"}')
    assert (pkt.packet_type, pkt.namespace, pkt.data) == (0, "/admin", {"token": "123"})
    assert P(encoded_packet="0").data is None
    err = {"message": "Not authorized", "data": {"code": 401}}
    assert P(sio_impl.CONNECT_ERROR, err, namespace="/x").encode() == (
        '4/x,{"message":"Not authorized","data":{"code":401}}'
    )
    assert P(encoded_packet='4"plain string"').data == "plain string"  # Socket.IO v4 servers
    assert P(encoded_packet="4").data is None
    assert P(sio_impl.DISCONNECT, namespace="/x").encode() == "1/x,"
    assert P(encoded_packet="1/x,").packet_type == sio_impl.DISCONNECT
    # no data -> no JSON, whatever the type (as both references)
    assert P(sio_impl.EVENT).encode() == "2"


def test_event_names(sio_impl):
    P = sio_impl.Packet
    assert P(encoded_packet="2[42]").data == [42]  # socket.io-parser allows numbers
    assert P(encoded_packet='2["connecting"]').data == ["connecting"]
    for name in (
        "connect",
        "connect_error",
        "disconnect",
        "disconnecting",
        "newListener",
        "removeListener",
    ):
        with pytest.raises(PacketError, match="reserved event name"):
            P(encoded_packet='2["%s",1]' % name)
        with pytest.raises(PacketError, match="reserved event name"):
            P(encoded_packet='51-["%s",%s]' % (name, PH0))
    # an ack may carry anything, reserved words included
    assert P(encoded_packet='31["connect"]').data == ["connect"]


MALFORMED = [
    ("", "empty"),
    ("7", "packet type"),
    ("9[]", "packet type"),
    ("a", "packet type"),
    ("-1", "packet type"),
    ('٣["a"]', "packet type"),  # a non-ASCII digit
    ('5["a"]', "attachment count"),
    ('5-["a"]', "attachment count"),
    ("51", "attachment count"),
    ("5x-[]", "attachment count"),
    ('51["a"]', "attachment count"),
    ('51001-["a"]', "too many"),
    ('59999999999-["a"]', "too many"),
    ("2", "EVENT payload"),
    ("2/chat,", "EVENT payload"),
    ("21", "EVENT payload"),
    ("2[]", "EVENT payload"),
    ("2{}", "EVENT payload"),
    ('2"x"', "EVENT payload"),
    ("2null", "EVENT payload"),
    ("2[null]", "event name"),
    ("2[true]", "event name"),
    ('2[["a"]]', "event name"),
    ("3", "ACK payload"),
    ("31", "ACK payload"),
    ("31{}", "ACK payload"),
    ("0[]", "CONNECT payload"),
    ('0"x"', "CONNECT payload"),
    ("0null", "CONNECT payload"),
    ("4[]", "CONNECT_ERROR payload"),
    ("4true", "CONNECT_ERROR payload"),
    ("4null", "CONNECT_ERROR payload"),
    ("1{}", "DISCONNECT"),
    ("1/x,[]", "DISCONNECT"),
    ("1null", "DISCONNECT"),
    ('2["a"', "invalid JSON"),
    ('2["a"]]', "invalid JSON"),
    ('2/x,1["a",]', "invalid JSON"),
    ("2 x", "invalid JSON"),
    ('2-["a"]', "invalid JSON"),
    ('21-["a"]', "invalid JSON"),
    ("6[]", "attachment count"),
    ("61-[]", "reference 0"),
    ('52-["a",%s]' % PH0, "reference 1"),
    ('51-["a",%s]' % PH1, "placeholder"),
    ('51-["a",{"_placeholder":true}]', "placeholder"),
    ('51-["a",{"_placeholder":true,"num":"0"}]', "placeholder"),
    ('51-["a",{"_placeholder":true,"num":0.0}]', "placeholder"),
    ('51-["a",{"_placeholder":true,"num":-1}]', "placeholder"),
    ('51-["a",{"_placeholder":true,"num":true}]', "placeholder"),
    ('50-["a",%s]' % PH0, "placeholder"),
]


@pytest.mark.parametrize("text, message", MALFORMED)
def test_malformed(sio_impl, text, message):
    with pytest.raises(PacketError, match=message):
        sio_impl.Packet(encoded_packet=text)


@pytest.mark.parametrize("value", [b'2["a"]', bytearray(b"2"), 2, ["2"]])
def test_text_decoder_rejects_non_text(sio_impl, value):
    with pytest.raises(PacketError, match="must be text"):
        sio_impl.Packet(encoded_packet=value)


def test_attachment_errors(sio_impl):
    P = sio_impl.Packet
    pkt = P(encoded_packet='51-["a",%s]' % PH0)
    with pytest.raises(PacketError, match="expected a binary attachment"):
        pkt.add_attachment('2["text while waiting"]')
    with pytest.raises(PacketError, match="unexpected binary attachment"):
        P(encoded_packet='2["a"]').add_attachment(b"x")
    assert pkt.add_attachment(b"ok") and pkt.data == ["a", b"ok"]


def test_placeholder_limit_override_by_subclass(sio_impl):
    class Small(sio_impl.Packet):
        max_attachments = 2
        max_id_digits = 3

    assert Small(encoded_packet='52-["a",%s,%s]' % (PH0, PH1)).attachment_count == 2
    with pytest.raises(PacketError, match="too many binary attachments"):
        Small(encoded_packet='53-["a"]')
    assert Small(encoded_packet='2999["a"]').id == 999
    with pytest.raises(PacketError, match="ack id too long"):
        Small(encoded_packet='21000["a"]')

    class Big(sio_impl.Packet):
        max_id_digits = 40

    assert Big(encoded_packet='2%d["a"]' % 10**30).id == 10**30


def test_nesting_limit(sio_impl):
    deep = b"x"
    for _ in range(500):
        deep = [deep]  # with the outer list: 501 levels
    with pytest.raises(TypeError, match="nested"):
        sio_impl.Packet(sio_impl.EVENT, ["a", deep])
    assert sio_impl.Packet(sio_impl.EVENT, ["a", deep[0]]).packet_type == sio_impl.BINARY_EVENT
    text = '51-["a",' + "[" * 600 + PH0 + "]" * 600 + "]"
    with pytest.raises(PacketError, match="nested"):
        sio_impl.Packet(encoded_packet=text)


class ObjectPacket:
    """Mix-in: a user serializer that sends each packet as one JSON object."""

    def encode(self):
        return stdlib_json.dumps(self._to_dict())

    def decode(self, encoded_packet):
        d = stdlib_json.loads(encoded_packet)
        self.packet_type, self.data = d["type"], d["data"]
        self.namespace, self.id = d["nsp"], d.get("id")
        # returning None counts as "no attachments", as in python-socketio


def test_user_subclass_overrides_encode_decode(sio_impl):
    class MyPacket(ObjectPacket, sio_impl.Packet):
        uses_binary_events = False

    pkt = MyPacket(sio_impl.EVENT, ["ev", b"\x00".decode()], namespace="/n", id=4)
    pkt.extra = "subclasses get a __dict__"
    wire = pkt.encode()
    assert stdlib_json.loads(wire) == {"type": 2, "data": ["ev", "\x00"], "nsp": "/n", "id": 4}
    back = MyPacket(encoded_packet=wire)
    assert (back.packet_type, back.data, back.namespace, back.id, back.attachment_count) == (
        2,
        ["ev", "\x00"],
        "/n",
        4,
        0,
    )
    assert MyPacket(sio_impl.EVENT, [b"x"]).packet_type == sio_impl.EVENT  # no binary events


def test_subclass_overriding_binary_helpers(sio_impl):
    calls = []

    class Tracing(sio_impl.Packet):
        @classmethod
        def data_is_binary(cls, data):
            calls.append("is_binary")
            return super().data_is_binary(data)

        @classmethod
        def deconstruct_binary(cls, data):
            calls.append("deconstruct")
            return super().deconstruct_binary(data)

        @classmethod
        def reconstruct_binary(cls, data, attachments):
            calls.append("reconstruct")
            return super().reconstruct_binary(data, attachments)

        def decode(self, encoded_packet):
            calls.append("decode")
            return super().decode(encoded_packet)

    encoded = Tracing(sio_impl.EVENT, ["a", b"b"]).encode()
    pkt = Tracing(encoded_packet=encoded[0])
    assert pkt.add_attachment(encoded[1]) and pkt.data == ["a", b"b"]
    assert calls == ["is_binary", "deconstruct", "decode", "reconstruct"]


def test_json_adapter_per_packet(sio_impl):
    from fastsock._json_py import JsonAdapter

    data = ["ev", {"é": 1.0}]
    assert sio_impl.Packet(sio_impl.EVENT, data).encode() == '2["ev",{"é":1.0}]'
    stdlib = JsonAdapter(stdlib_json)
    assert sio_impl.Packet(sio_impl.EVENT, data, json=stdlib).encode() == (
        '2["ev",{"\\u00e9":1.0}]'
    )
    # a bare module is wrapped in an adapter
    bare = sio_impl.Packet(sio_impl.EVENT, data, json=stdlib_json)
    assert bare.encode() == '2["ev",{"\\u00e9":1.0}]'
    assert bare.json.module is stdlib_json
    assert sio_impl.Packet(encoded_packet='2["a",1]', json=stdlib_json).data == ["a", 1]
    # flask.json inside an app context: the app's provider (sort_keys=True)
    app = flask.Flask(__name__)
    with app.app_context():
        pkt = sio_impl.Packet(sio_impl.EVENT, ["e", {"b": 1, "a": 2}], json=flask.json)
        assert pkt.encode() == '2["e",{"a":2,"b":1}]'


def test_helpers_repr_and_to_dict(sio_impl):
    P = sio_impl.Packet
    assert P.data_is_binary({"a": [(1, bytearray())]}) is True
    assert P.data_is_binary({b"key": "value"}) is False  # keys are not payload
    data = ["a", {"k": b"v"}]
    stripped, attachments = P.deconstruct_binary(data)
    assert stripped == ["a", {"k": {"_placeholder": True, "num": 0}}]
    assert attachments == [b"v"]
    assert P.reconstruct_binary(stripped, attachments) == data
    pkt = P(sio_impl.ACK, ["x"], namespace="/n", id=3)
    assert pkt._to_dict() == {"type": 3, "data": ["x"], "nsp": "/n", "id": 3}
    assert repr(pkt) == "<Packet type=3 namespace='/n' id=3 data=['x']>"


def test_decode_resets_fields(sio_impl):
    pkt = sio_impl.Packet(sio_impl.EVENT, ["a"], namespace="/n", id=1)
    assert pkt.decode('2["b"]') == 0
    assert (pkt.packet_type, pkt.namespace, pkt.id, pkt.data) == (2, None, None, ["b"])
    assert pkt.decode('51-["c",%s]' % PH0) == 1
    assert pkt.attachment_count == 1 and pkt.attachments == []


def test_encode_rejects_invalid_packet_type(sio_impl):
    for bad in (7, -1, "2", None, True):
        with pytest.raises(ValueError, match="packet type"):
            sio_impl.Packet(bad, ["a"], binary=False).encode()
