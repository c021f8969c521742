"""``WSGIApp``: routes Engine.IO requests to the server, serves static files, delegates the rest."""

from __future__ import annotations

import mimetypes
import os
from typing import Any, Callable


class WSGIApp:
    """WSGI application serving Engine.IO at ``/<engineio_path>/``.

    :param engineio_app: the :class:`~fastsock.engineio.Server`.
    :param wsgi_app: the application that receives every other request (e.g. a Flask app's
                     ``wsgi_app``); without one they get 404.
    :param static_files: a dict mapping URL paths to files or directories, as in
                         python-engineio: ``{'/': 'index.html', '/static': './public',
                         '/app.js': {'filename': 'app.js', 'content_type': 'text/javascript'}}``.
    :param engineio_path: the URL prefix of the Engine.IO endpoint.

    Example::

        eio = fastsock.engineio.Server()
        app = fastsock.engineio.WSGIApp(eio, static_files={'/': 'index.html'})
    """

    def __init__(
        self,
        engineio_app: Any,
        wsgi_app: Callable | None = None,
        static_files: dict | None = None,
        engineio_path: str = "engine.io",
    ) -> None:
        self.engineio_app = engineio_app
        self.wsgi_app = wsgi_app
        self.static_files = static_files or {}
        path = "/" + engineio_path.strip("/") + "/"
        self.engineio_path = "/" if path == "//" else path

    def __call__(self, environ: dict, start_response: Callable) -> Any:
        path = environ.get("PATH_INFO") or "/"
        if path.startswith(self.engineio_path) or path + "/" == self.engineio_path:
            return self.engineio_app.handle_request(environ, start_response)
        if self.static_files:
            found = static_file(path, self.static_files)
            if found is not None:
                return _serve_file(found, start_response)
        if self.wsgi_app is not None:
            return self.wsgi_app(environ, start_response)
        return self.not_found(start_response)

    @staticmethod
    def not_found(start_response: Callable) -> list[bytes]:
        """The 404 response for a path nothing serves."""
        start_response("404 Not Found", [("Content-Type", "text/plain")])
        return [b"Not Found"]


def static_file(path: str, static_files: dict) -> dict | None:
    """The ``{'filename', 'content_type'}`` a URL path maps to, or ``None``.

    An exact entry wins; otherwise the longest entry that is a prefix of the path at a ``/``
    boundary maps to a directory. ``..`` segments are refused; a directory serves
    ``index.html``.
    """
    entry, rest = static_files.get(path), ""
    if entry is None:
        prefix = path
        while entry is None and "/" in prefix:
            prefix, last = prefix.rsplit("/", 1)
            rest = "/" + last + rest
            entry = static_files.get(prefix) or static_files.get(prefix + "/")
        if entry is None:
            return None
    if ".." in rest.split("/"):
        return None
    info = {"filename": entry} if isinstance(entry, str) else dict(entry)
    filename = info["filename"]
    if rest:
        filename = filename.rstrip("/") + rest
    if filename.endswith("/") or os.path.isdir(filename):
        filename = filename.rstrip("/") + "/index.html"
    info["filename"] = filename
    if "content_type" not in info:
        info["content_type"] = mimetypes.guess_type(filename)[0] or "application/octet-stream"
    return info


def _serve_file(info: dict, start_response: Callable) -> list[bytes]:
    try:
        with open(info["filename"], "rb") as f:
            body = f.read()
    except OSError:
        return WSGIApp.not_found(start_response)
    start_response(
        "200 OK", [("Content-Type", info["content_type"]), ("Content-Length", str(len(body)))]
    )
    return [body]
