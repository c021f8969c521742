"""The Engine.IO v4 server of fastsock (python-engineio's ``Server``/``WSGIApp`` API).

An echo server::

    from fastsock import engineio

    eio = engineio.Server(async_mode='gevent')

    @eio.on('message')
    def message(sid, data):
        eio.send(sid, data)

    engineio.make_server(engineio.WSGIApp(eio), port=5000).serve_forever()
"""

from .server import SUPPORTED_ASYNC_MODES, Server
from .serving import make_server
from .socket import PreparedMessage, Socket, VirtualSocket
from .wsgi import WSGIApp

__all__ = [
    "SUPPORTED_ASYNC_MODES",
    "PreparedMessage",
    "Server",
    "Socket",
    "VirtualSocket",
    "WSGIApp",
    "make_server",
]
