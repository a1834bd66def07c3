"""A small web server for the page: Python's own ``http.server``, with the headers that let the page use threads.

ONNX Runtime Web runs the network on several threads only in a *cross-origin isolated* page (``SharedArrayBuffer``
is allowed only there), which the server asks for with two headers on every response:
``Cross-Origin-Opener-Policy: same-origin`` and ``Cross-Origin-Embedder-Policy: require-corp``. Without them
(``isolated=False``) the page still works, on one thread. Browsers allow the camera only on ``https://`` pages and on
``localhost``/``127.0.0.1``: the default host.
"""

from __future__ import annotations

import errno
import functools
import os
import socket
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

__all__ = ["ISOLATION_HEADERS", "make_server"]

ISOLATION_HEADERS = {"Cross-Origin-Opener-Policy": "same-origin", "Cross-Origin-Embedder-Policy": "require-corp"}


class _Handler(SimpleHTTPRequestHandler):
    extensions_map = {
        **SimpleHTTPRequestHandler.extensions_map,
        ".mjs": "text/javascript",
        ".js": "text/javascript",
        ".wasm": "application/wasm",
        ".onnx": "application/octet-stream",
        ".json": "application/json",
    }

    def end_headers(self) -> None:
        if self.server.isolated:
            for name, value in ISOLATION_HEADERS.items():
                self.send_header(name, value)
        self.send_header("Cross-Origin-Resource-Policy", "same-origin")
        self.send_header("Cache-Control", "no-cache")  # a re-exported network is seen at the next reload
        super().end_headers()

    def log_message(self, format: str, *args) -> None:
        if self.server.verbose:
            super().log_message(format, *args)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    isolated = True
    verbose = False


def make_server(
    folder: str | os.PathLike,
    host: str = "127.0.0.1",
    port: int = 8000,
    *,
    isolated: bool = True,
    verbose: bool = False,
) -> ThreadingHTTPServer:
    """A server for ``folder`` on ``host``:``port`` (0: any free port; ``server.server_address`` says which), not yet
    serving (call ``serve_forever()``). A port in use or a host that is not this machine's is a one-line OSError."""
    handler = functools.partial(_Handler, directory=str(Path(folder)))
    try:
        server = _Server((host, port), handler)
    except OSError as e:
        if e.errno == errno.EADDRINUSE:
            raise OSError(
                f"port {port} on {host} is in use (another program, or another `web`); "
                "choose another with --port, or --port 0 for any free port"
            ) from None
        if e.errno in (errno.EADDRNOTAVAIL, errno.EACCES) or isinstance(e, socket.gaierror):
            raise OSError(
                f"cannot serve on {host}:{port} ({e.strerror or e}); "
                "use --host 127.0.0.1 (this machine) or 0.0.0.0 (every network)"
            ) from None
        raise OSError(f"cannot serve on {host}:{port} ({e.strerror or e})") from None
    server.isolated, server.verbose = isolated, verbose
    return server
