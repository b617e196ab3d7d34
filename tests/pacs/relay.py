"""A small DICOMweb relay in front of Orthanc, for what Orthanc does not do: a series still arriving
(metadata without its last instance), bearer tokens, TLS with a certificate of our own."""

from __future__ import annotations

import json
import ssl
import threading
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


class _Relay(BaseHTTPRequestHandler):
    upstream = ""
    drop_last_metadata = False
    token: str | None = None

    def do_GET(self):  # http.server's name
        if self.token is not None and self.headers.get("Authorization") != f"Bearer {self.token}":
            self.send_response(401)
            self.send_header("WWW-Authenticate", 'Bearer realm="test"')
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        with urllib.request.urlopen(self.upstream + self.path) as response:
            status, body, kind = response.status, response.read(), response.headers.get("Content-Type")
        if self.drop_last_metadata and self.path.split("?")[0].endswith("/metadata"):
            body = json.dumps(json.loads(body)[:-1]).encode()
        self.send_response(status)
        if kind:
            self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@contextmanager
def relay(
    upstream: str,
    *,
    drop_last_metadata: bool = False,
    token: str | None = None,
    certificate: tuple[Path, Path] | None = None,
) -> Iterator[str]:
    """Serve the relay on a free port while the block runs; yields its URL. ``certificate``: (cert, key)
    PEM files for HTTPS."""
    handler = type(
        "Handler", (_Relay,), {"upstream": upstream, "drop_last_metadata": drop_last_metadata, "token": token}
    )
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    scheme = "http"
    if certificate is not None:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(*map(str, certificate))
        server.socket = context.wrap_socket(server.socket, server_side=True)
        scheme = "https"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"{scheme}://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
