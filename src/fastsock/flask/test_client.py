"""``SocketIOTestClient``: an in-process, synchronous Socket.IO client for testing an app.

It talks to the server through an in-process virtual Engine.IO connection
(:meth:`fastsock.engineio.Server.connect_virtual`): what it emits is encoded into real Socket.IO
packets and handled synchronously in the caller (so handler exceptions reach the test), and what
the server sends it arrives as encoded packets, so data is serialized at the moment it is emitted.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from flask.testing import EnvironBuilder

from .. import socketio as _sio
from .._kernels import sio as _sio_kernel
from .queues import PendingQueueManager

if TYPE_CHECKING:
    import flask

    from .extension import SocketIO

# Socket.IO v5 packet types
CONNECT, DISCONNECT, EVENT, ACK, CONNECT_ERROR, BINARY_EVENT, BINARY_ACK = range(7)


class SocketIOTestClient:
    """A test client for a fastsock (or Flask-SocketIO) application, like Flask's test client but
    for Socket.IO. Usually made with :meth:`SocketIO.test_client`.

    :param app: The Flask application instance.
    :param socketio: The application's ``SocketIO`` instance.
    :param namespace: The namespace to connect to, ``'/'`` by default.
    :param query_string: A custom query string for the connection request.
    :param headers: A dictionary of custom HTTP headers.
    :param auth: Authentication data sent with the connection.
    :param flask_test_client: The Flask test client in use: its cookies (and so the user session
                              set by HTTP routes) go with the connection request.
    """

    def __init__(
        self,
        app: flask.Flask,
        socketio: SocketIO,
        namespace: str | None = None,
        query_string: str | None = None,
        headers: dict | None = None,
        auth: Any = None,
        flask_test_client: Any = None,
    ) -> None:
        self.app = app
        self.socketio = socketio
        self.flask_test_client = flask_test_client
        #: the Engine.IO session id of this client's (virtual) connection
        self.eio_sid: str | None = None
        self.callback_counter = 0
        self.connected: dict = {}
        self.queue: list = []
        self.acks: dict | None = None
        # the server may deliver from background tasks while the test reads the queue
        self._lock = threading.Lock()
        self._partial: Any = None  # a binary packet still waiting for attachments
        server = socketio.server
        queue_classes = tuple(
            cls for cls in (getattr(_sio, "PubSubManager", None), PendingQueueManager) if cls
        )
        if isinstance(server.manager, queue_classes):
            raise RuntimeError(  # noqa: TRY004 - Flask-SocketIO's exception
                "Test client cannot be used with a message queue. Disable the queue on your "
                "test configuration."
            )
        # the server's own packet factory: same serializer and JSON module as the server uses
        self._packet_class = (
            getattr(server, "_new_packet", None)
            or getattr(server, "packet_class", None)
            or _sio_kernel.Packet
        )
        self.connect(namespace=namespace, query_string=query_string, headers=headers, auth=auth)

    # -- the client API -----------------------------------------------------------------------

    def is_connected(self, namespace: str | None = None) -> bool:
        """Whether the client is connected to ``namespace`` (``'/'`` by default)."""
        return self.connected.get(namespace or "/", False)

    def connect(
        self,
        namespace: str | None = None,
        query_string: str | None = None,
        headers: dict | None = None,
        auth: Any = None,
    ) -> None:
        """Connect the client to ``namespace`` (``'/'`` by default).

        The constructor already connects once; call this to connect further namespaces, or again
        after a disconnect.
        """
        namespace = namespace or "/"
        environ = self._environ(query_string, headers)
        eio = self.socketio.server.eio
        if self.eio_sid is None or eio.get_socket(self.eio_sid) is None:
            self.eio_sid = eio.connect_virtual(environ, self._deliver)
            if self.eio_sid is None:
                self.connected[namespace] = False
                return
        else:
            # like a new handshake on the existing connection: later events see this request
            self.socketio.server.environ[self.eio_sid] = environ
        self._send(self._packet_class(CONNECT, auth, namespace=namespace))

    def disconnect(self, namespace: str | None = None) -> None:
        """Disconnect the client from ``namespace`` (``'/'`` by default)."""
        if not self.is_connected(namespace):
            raise RuntimeError("not connected")
        self._send(self._packet_class(DISCONNECT, namespace=namespace))
        self.connected.pop(namespace or "/", None)

    def emit(self, event: str, *args: Any, **kwargs: Any) -> Any:
        """Emit an event to the server.

        :param event: The event name.
        :param args: The event arguments.
        :param callback: ``True`` to request an acknowledgement: the arguments the server
                         acknowledges with are returned (one value, or a list of several).
        :param namespace: The namespace of the event, ``'/'`` by default.
        """
        namespace = kwargs.pop("namespace", None)
        if not self.is_connected(namespace):
            raise RuntimeError("not connected")
        ack_id = None
        if kwargs.pop("callback", False):
            self.callback_counter += 1
            ack_id = self.callback_counter
        self._send(
            self._packet_class(EVENT, data=[event, *args], namespace=namespace, id=ack_id)
        )
        ack, self.acks = self.acks, None
        if ack is not None:
            return ack["args"][0] if len(ack["args"]) == 1 else ack["args"]
        return None

    def send(self, data: Any, json: bool = False, callback: bool = False,
             namespace: str | None = None) -> Any:
        """Send a text message (the ``'message'`` event), or a JSON one with ``json=True``; see
        :meth:`emit` for ``callback``."""
        return self.emit("json" if json else "message", data, callback=callback,
                         namespace=namespace)

    def get_received(self, namespace: str | None = None) -> list:
        """The events received from the server in ``namespace`` since the last call.

        Each is a dict with ``name``, ``args`` (a list, or the payload itself for ``'message'``
        and ``'json'``) and ``namespace``.
        """
        if not self.is_connected(namespace):
            raise RuntimeError("not connected")
        namespace = namespace or "/"
        with self._lock:
            received = [pkt for pkt in self.queue if pkt["namespace"] == namespace]
            self.queue = [pkt for pkt in self.queue if pkt["namespace"] != namespace]
        return received

    # -- plumbing ---------------------------------------------------------------------------

    def _environ(self, query_string: str | None, headers: dict | None) -> dict:
        """The WSGI environ of a connection request, with the Flask client's cookies."""
        url = "/socket.io"
        if query_string:
            if not query_string.startswith("?"):
                query_string = "?" + query_string
            url += query_string
        client = self.flask_test_client
        builder = EnvironBuilder(
            self.app,
            path=url,
            headers=headers,
            environ_base=getattr(client, "environ_base", None),
        )
        try:
            environ = builder.get_environ()
        finally:
            builder.close()
        environ["flask.app"] = self.app
        if client is not None:
            if hasattr(client, "_add_cookies_to_wsgi"):  # Flask >= 2.3
                client._add_cookies_to_wsgi(environ)
            else:  # Flask 2.2
                client.cookie_jar.inject_wsgi(environ)
        return environ

    def _send(self, pkt: Any) -> None:
        encoded = pkt.encode()
        eio = self.socketio.server.eio
        if isinstance(encoded, list):
            for part in encoded:
                eio.receive_virtual(self.eio_sid, part)
        else:
            eio.receive_virtual(self.eio_sid, encoded)

    def _deliver(self, data: str | bytes) -> None:
        """Receive one Engine.IO message from the server."""
        if self._partial is not None:
            if self._partial.add_attachment(data):
                pkt, self._partial = self._partial, None
                self._received(pkt)
            return
        pkt = self._packet_class(encoded_packet=data)
        if getattr(pkt, "attachment_count", 0):
            self._partial = pkt
        else:
            self._received(pkt)

    def _received(self, pkt: Any) -> None:
        namespace = pkt.namespace or "/"
        packet_type = pkt.packet_type
        if packet_type == EVENT or packet_type == BINARY_EVENT:
            name = pkt.data[0]
            if name == "message" or name == "json":
                args = pkt.data[1] if len(pkt.data) > 1 else None
            else:
                args = pkt.data[1:]
            with self._lock:
                self.queue.append({"name": name, "args": args, "namespace": namespace})
        elif packet_type == ACK or packet_type == BINARY_ACK:
            self.acks = {"args": pkt.data, "namespace": namespace}
        elif packet_type == CONNECT:
            self.connected[namespace] = True
        elif packet_type == DISCONNECT or packet_type == CONNECT_ERROR:
            self.connected[namespace] = False
