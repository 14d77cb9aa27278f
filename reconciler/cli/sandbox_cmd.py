"""`reconcile sandbox serve`: the local ARM emulator (argument parsing only; the server is reconciler.sandbox)."""

from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:
    from reconciler.sandbox.main import add_arguments, serve

    parser = subparsers.add_parser("sandbox", help="run the local Azure Resource Manager emulator")
    sub = parser.add_subparsers(dest="sandbox_command", metavar="ACTION", required=True)
    serve_parser = sub.add_parser("serve", help="serve until SIGINT/SIGTERM; prints one JSON line when ready")
    add_arguments(serve_parser)
    serve_parser.set_defaults(func=serve)
