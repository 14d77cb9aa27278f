"""HTTPS transport: a stdlib ThreadingHTTPServer bound to 127.0.0.1 with TLS per connection (handshake in the
worker thread), HTTP/1.1 keep-alive, TCP_NODELAY (without it every response stalls ~40 ms on delayed ACK) and an
explicit Content-Length on every response. When the latency model is on, each response waits out its drawn
service time here, in the request's worker thread and after the app lock is released, so concurrent requests
overlap their delays the way they overlap ARM's. The sandbox's clock goes out as the standard `Date` header (whole
seconds, the only server time Azure gives a client); `x-ms-sandbox-time` repeats it with fractions for tools
that inspect the sandbox, and no client of Azure may read it."""

from __future__ import annotations

import json
import socket
import ssl
import threading
import time
import uuid
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from .clock import iso
from .latency import LatencyModel
from .routing import make_request

QUIET = (ssl.SSLError, ConnectionError, socket.timeout, BrokenPipeError)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server_version = "sandbox-arm/1.0"
    sys_version = ""

    def _serve(self) -> None:
        app = self.server.app  # type: ignore[attr-defined]
        started = time.monotonic()
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        host = self.headers.get("Host") or f"127.0.0.1:{self.server.server_address[1]}"
        req = make_request(self.command, self.path, dict(self.headers.items()), body, f"https://{host}")
        resp = app.handle(req)
        payload = b"" if resp.body is None else json.dumps(resp.body).encode()
        delay = self.server.latency.delay_seconds(self.command, self.path, resp.status, resp.body)  # type: ignore[attr-defined]
        if delay > 0:
            # The sandbox's own handling time counts towards the drawn service time, as ARM's does.
            time.sleep(max(0.0, delay - (time.monotonic() - started)))
        # Not send_response(): it would add a second Date, in this machine's time.
        self.send_response_only(resp.status)
        self.send_header("Server", self.version_string())
        now = app.clock.now_ts()
        self.send_header("Date", formatdate(now, usegmt=True))
        self.send_header("x-ms-sandbox-time", iso(now))
        self.send_header("x-ms-request-id", str(uuid.uuid4()))
        crid = self.headers.get("x-ms-client-request-id")
        if crid:
            self.send_header("x-ms-client-request-id", crid)
        for key, value in resp.headers.items():
            self.send_header(key, value)
        if delay > 0:
            self.send_header("x-ms-sandbox-latency-ms", f"{delay * 1000:.1f}")
        if payload:
            self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(payload) if self.command != "HEAD" else 0))
        self.end_headers()
        if payload and self.command != "HEAD":
            self.wfile.write(payload)

    do_GET = do_PUT = do_POST = do_PATCH = do_DELETE = do_HEAD = _serve

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        return None


class TlsServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, port: int, context: ssl.SSLContext, app: Any) -> None:
        self.ssl_context = context
        self.app = app
        self.latency = LatencyModel(app.config)
        super().__init__(("127.0.0.1", port), Handler)

    def finish_request(self, request: Any, client_address: Any) -> None:
        try:
            request = self.ssl_context.wrap_socket(request, server_side=True)
        except (OSError, ssl.SSLError):
            return
        super().finish_request(request, client_address)

    def handle_error(self, request: Any, client_address: Any) -> None:
        import sys

        exc = sys.exc_info()[1]
        if isinstance(exc, QUIET):
            return
        super().handle_error(request, client_address)


class ServerThread:
    def __init__(self, port: int, context: ssl.SSLContext, app: Any) -> None:
        self.httpd = TlsServer(port, context, app)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.1}, name="sandbox-https", daemon=True
        )

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)
