"""An echoing Engine.IO app for the gunicorn tests (``EIO_ASYNC_MODE`` picks the mode)."""

import os

from fastsock import engineio

eio = engineio.Server(
    async_mode=os.environ.get("EIO_ASYNC_MODE", "threading"), ping_interval=0.3, ping_timeout=1
)


@eio.on("message")
def message(sid, data):
    if data == "__close__":
        eio.disconnect(sid)
    else:
        eio.send(sid, data)


app = engineio.WSGIApp(eio)
