"""`reconcile ui`: the dashboard without a controller, on loopback by default.

It observes Azure (or the sandbox: $RECONCILE_ARM_ENDPOINT) the way `reconcile status` does, at most every
--interval seconds while a page is open, and serves the pages `reconcile run` serves at `/`. Read-only.
Exit 0 on Ctrl-C, 1 when the desired state is invalid or the address cannot be bound.
"""

from __future__ import annotations

import argparse
import ipaddress
import logging
import sys
import threading

from reconciler.cli.exits import EXIT_ERROR, EXIT_OK
from reconciler.cli.options import add_azure_connection

DEFAULT_PORT = 8484


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "ui",
        help="serve the live estate dashboard locally (no controller needed)",
        description="Observe the estate the desired state declares and serve the dashboard (Estate, Pools, "
        "Builds, Pending) on http://127.0.0.1:PORT/. Binding another address needs an explicit --host.",
    )
    p.add_argument("--desired", default="desired", metavar="DIR", help="desired-state directory")
    p.add_argument("--port", type=int, default=DEFAULT_PORT, metavar="N", help=f"default {DEFAULT_PORT}")
    p.add_argument(
        "--host",
        default=None,
        metavar="ADDR",
        help="address to bind (default 127.0.0.1; anything else shows the estate to whoever reaches it)",
    )
    p.add_argument(
        "--interval", type=float, default=5.0, metavar="S", help="observe at most every S seconds (default 5)"
    )
    add_azure_connection(p)
    p.set_defaults(func=run_ui)


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class UiServer:
    """The dashboard server and the connection it observes through; `stop()` closes both."""

    def __init__(
        self, desired_dir: str, host: str, port: int, *, interval: float, arm_endpoint=None, ca_bundle=None
    ) -> None:
        from reconciler.controller.estate import ViewSource, connection, gather_view, pool_targets
        from reconciler.controller.http import Probes, ProbeServer
        from reconciler.spec import load_desired

        self.conn = connection(arm_endpoint, ca_bundle)

        def gather(history: list) -> dict:
            desired = load_desired(desired_dir)  # re-read: the user may be editing it
            return gather_view(desired, self.conn, pool_targets(desired, None, desired_dir), history=history)

        self.view = ViewSource(gather, interval=interval)
        probes = Probes(lambda: (True, "ok"), lambda: (True, "ok"), lambda: b"", self.view, self.view)
        try:
            self.server = ProbeServer(f"{host}:{port}", probes)
        except BaseException:
            self.conn.close()
            raise

    @property
    def port(self) -> int:
        return self.server.port

    def start(self) -> UiServer:
        self.server.start()
        return self

    def stop(self) -> None:
        self.server.stop()
        self.conn.close()


def run_ui(args: argparse.Namespace) -> int:
    from reconciler.spec import DesiredStateError, load_desired

    host = args.host or "127.0.0.1"
    if not is_loopback(host):
        print(
            f"warning: serving on {host}: anyone who reaches it sees the estate (read-only)", file=sys.stderr
        )
    try:
        load_desired(args.desired)
    except DesiredStateError as exc:
        for error in exc.errors:
            print(error, file=sys.stderr)
        print(f"{len(exc.errors)} error(s) in desired state {args.desired}", file=sys.stderr)
        return EXIT_ERROR
    logging.getLogger("azure").setLevel(logging.ERROR)
    try:
        ui = UiServer(
            args.desired,
            host,
            args.port,
            interval=args.interval,
            arm_endpoint=args.arm_endpoint,
            ca_bundle=args.ca_bundle,
        ).start()
    except OSError as exc:
        print(f"error: cannot listen on {host}:{args.port}: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_ERROR
    shown = f"[{host}]" if ":" in host else host
    print(f"dashboard on http://{shown}:{ui.port}/ (Ctrl-C stops)", file=sys.stderr)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        ui.stop()
    return EXIT_OK
