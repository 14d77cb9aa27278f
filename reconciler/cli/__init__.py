"""`reconcile` command line: argument parsing and exit codes only.

Each subcommand lives in its own module exposing ``register(subparsers)``; the module adds its parser and
sets ``func`` to a callable ``(args) -> int`` that returns the process exit code.

Exit codes (documented in README.md):
  0  success (for ``plan --detailed-exitcode``: no changes)
  1  error: invalid desired state, failed action, refused operation
  2  ``plan --detailed-exitcode`` only: changes are pending
  130 interrupted
"""

from __future__ import annotations

import argparse
import importlib
import sys

from reconciler import __version__

# Subcommand modules, in the order `reconcile --help` lists them. A module that is not present yet is skipped,
# so the CLI grows with the packages behind it.
SUBCOMMANDS = ("validate", "schema", "plan", "apply", "status", "run", "sandbox")

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_CHANGES = 2
EXIT_INTERRUPTED = 130


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="reconcile",
        description="Declarative reconciler for Azure Virtual Desktop images, host pools and rollouts.",
    )
    parser.add_argument("--version", action="version", version=f"reconcile {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in SUBCOMMANDS:
        try:
            module = importlib.import_module(f"reconciler.cli.{name}_cmd")
        except ModuleNotFoundError as exc:
            if exc.name == f"reconciler.cli.{name}_cmd":
                continue
            raise
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help(sys.stderr)
        return EXIT_ERROR
    try:
        return int(args.func(args))
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
