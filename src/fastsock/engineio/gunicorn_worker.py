"""A gunicorn worker: gevent pywsgi with fastsock's WebSocket handler.

    gunicorn -k fastsock.engineio.gunicorn_worker.GeventWebSocketWorker -w 1 module:app

``-k gevent`` works too (the WebSocket socket is then taken from ``gunicorn.sock`` and each
connection keeps its request greenlet as its reader); this worker adds fastsock's handler, so
idle WebSocket connections hold no greenlet and release their request objects.
"""

from __future__ import annotations

from gunicorn.workers.ggevent import GeventPyWSGIWorker, PyWSGIHandler

from .gevent_handler import WebSocketHandler


class GunicornWebSocketHandler(WebSocketHandler, PyWSGIHandler):
    """fastsock's handler with gunicorn's access logging and environ additions."""


class GeventWebSocketWorker(GeventPyWSGIWorker):
    """gunicorn's gevent pywsgi worker using :class:`GunicornWebSocketHandler`."""

    wsgi_handler = GunicornWebSocketHandler
