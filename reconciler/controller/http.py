"""The controller's HTTP endpoints: /healthz, /readyz, /metrics, /status (plain stdlib server, one thread).

- ``/healthz``: 200 while the loop's heartbeat is fresh (it beats at least every poll interval), else 503:
  a wedged loop gets the pod restarted.
- ``/readyz``: 200 when this replica is a leader or a healthy standby and its last cycle did not fail; 503
  before the first cycle, after a failed one, or without a valid desired state.
- ``/metrics``: Prometheus text exposition.
- ``/status``: JSON, the controller's own view (role, commits, last cycle, its report).
- ``/`` and the dashboard's other pages, ``/api/view`` (the estate view-model as JSON) and ``/fragment/*``
  (what the pages poll), when a view callable is given (reconciler.render.dashboard). Read-only: GET only
  (the stdlib server answers 501 to any other method).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST

from reconciler.render.dashboard import HEADERS, respond


class Probes:
    """What the endpoints answer; the controller provides these four callables."""

    def __init__(
        self,
        healthy: Callable[[], tuple[bool, str]],
        ready: Callable[[], tuple[bool, str]],
        metrics: Callable[[], bytes],
        status: Callable[[], dict[str, Any]],
        view: Callable[[], dict[str, Any]] | None = None,
    ) -> None:
        self.healthy, self.ready, self.metrics, self.status = healthy, ready, metrics, status
        self.view = view


def _handler(probes: Probes):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args) -> None:  # probes every few seconds would flood the log
            pass

        def _send(self, code: int, body: bytes, ctype: str, headers: dict[str, str] | None = None) -> None:
            self.send_response(code)
            self.send_header("Content-Type", ctype)
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            path = self.path.split("?", 1)[0].rstrip("/")
            try:
                if path in ("/healthz", "/readyz"):
                    ok, why = (probes.healthy if path == "/healthz" else probes.ready)()
                    self._send(200 if ok else 503, (why + "\n").encode(), "text/plain; charset=utf-8")
                elif path == "/metrics":
                    self._send(200, probes.metrics(), CONTENT_TYPE_LATEST)
                elif path == "/status":
                    body = json.dumps(probes.status(), indent=2, default=str).encode()
                    self._send(200, body, "application/json")
                elif probes.view is not None and (page := respond(self.path, probes.view)):
                    code, ctype, body = page
                    self._send(code, body, ctype, HEADERS)
                else:
                    self._send(404, b"not found: try / /healthz /readyz /metrics /status\n", "text/plain")
            except Exception as exc:  # an endpoint must answer, not drop the connection
                self._send(500, f"{type(exc).__name__}\n".encode(), "text/plain")

    return Handler


class ProbeServer:
    """Serve ``probes`` on ``host:port`` (port 0: any free port; see ``.port``) in a daemon thread."""

    def __init__(self, listen: str, probes: Probes) -> None:
        host, _, port = listen.rpartition(":")
        self._server = ThreadingHTTPServer((host or "127.0.0.1", int(port)), _handler(probes))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="probes", daemon=True)

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    def start(self) -> ProbeServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
