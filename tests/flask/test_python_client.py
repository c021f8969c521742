"""The Flask-SocketIO example app driven by the python-socketio client over real sockets."""

import threading

import pytest
import socketio

TRANSPORTS = {
    "polling": ["polling"],
    "websocket": ["websocket"],
    "upgrade": ["polling", "websocket"],
}

CASES = [
    ("flask_socketio", "threading", "upgrade"),  # the oracle
    *[("fastsock", mode, transport) for mode in ("gevent", "threading")
      for transport in TRANSPORTS],
]


class Recorder:
    """Collects events of a python-socketio client and waits for them."""

    def __init__(self, client, *events, namespace="/"):
        self.events = {}
        self.cond = threading.Condition()
        for event in events:
            client.on(event, self._handler(event), namespace=namespace)

    def _handler(self, event):
        def handler(*args):
            with self.cond:
                self.events.setdefault(event, []).append(args)
                self.cond.notify_all()

        return handler

    def wait(self, event, count=1, timeout=5):
        with self.cond:
            self.cond.wait_for(lambda: len(self.events.get(event, [])) >= count, timeout)
            return self.events.get(event, [])


@pytest.mark.parametrize(("lib", "async_mode", "transport"), CASES,
                         ids=["-".join(case) for case in CASES])
def test_python_client(example_server, lib, async_mode, transport):
    url = example_server(lib, async_mode).url
    sio = socketio.Client(reconnection=False)
    root = Recorder(sio, "hello", "message", "binary", "question", "answered", "disconnect")
    chat = Recorder(sio, "motd", "announcement", namespace="/chat")
    sio.on("question", lambda q: ("forty-two", len(q)))
    sio.connect(url + "?q=py", auth={"user": "py"}, namespaces=["/", "/chat"],
                transports=TRANSPORTS[transport], wait_timeout=5)
    try:
        assert root.wait("hello") == [({"user": "py", "query": "py"},)]
        assert chat.wait("motd") == [("welcome to /chat",)]
        if transport == "upgrade":
            for _ in range(100):
                if sio.transport() == "websocket":
                    break
                sio.sleep(0.02)
        assert sio.transport() == TRANSPORTS[transport][-1]

        assert sio.call("echo", (1, "two", {"x": [3]}), timeout=5) == (1, "two", {"x": [3]})
        sio.send("hi")
        assert root.wait("message") == [("echo: hi",)]
        assert sio.call("binary", (b"\x00\x01\xfe", {"k": "v"}), timeout=5) == (
            b"\x00\x01\xfe\xff", 3)
        assert root.wait("binary") == [(b"\xfe\x01\x00", {"size": 3, "meta": {"k": "v"}})]
        assert sio.call("rename", "renamed", timeout=5) == "renamed"
        assert sio.call("whoami", timeout=5) == "renamed"
        assert sio.call("join", "r1", timeout=5) == ["r1"]
        assert sio.call("enter", "c1", namespace="/chat", timeout=5) == "c1"
        assert sio.call("bytes", b"\x09", namespace="/chat", timeout=5) == {
            "len": 1, "data": b"\x09"}
        sio.emit("ask", "why?")
        assert root.wait("answered") == [({"question": "why?", "answer": ["forty-two", 4]},)]
        assert sio.call("boom", timeout=5) == {"error": "ValueError", "message": "boom"}
        sio.emit("kick")
        assert len(root.wait("disconnect")) == 1
        assert "/" not in sio.namespaces and "/chat" in sio.namespaces
    finally:
        sio.disconnect()
