"""`reconcile` command line: argument parsing and exit codes only.

Each subcommand lives in its own module exposing ``register(subparsers)``; the module adds its parser and
sets ``func`` to a callable ``(args) -> int`` that returns the process exit code.

Exit codes (reconciler/cli/exits.py; documented in README.md):
  0  success (for ``plan --detailed-exitcode``: no changes)
  1  error: invalid desired state, failed action, refused operation, and usage errors (an unknown flag, a
     missing argument): argparse's own 2 would read as "changes pending" to a CI job running
     ``plan --detailed-exitcode``
  2  ``plan --detailed-exitcode`` only: changes are pending
  130 interrupted
"""

from __future__ import annotations

import argparse
import importlib
import re
import sys

from reconciler import __version__
from reconciler.cli.exits import EXIT_ERROR, EXIT_INTERRUPTED
from reconciler.spec.suggest import did_you_mean

_INVALID_CHOICE = re.compile(r"invalid choice: '([^']*)' \(choose from (.*)\)")

# Subcommand modules, in the order `reconcile --help` lists them. A module that is not present yet is skipped,
# so the CLI grows with the packages behind it.
SUBCOMMANDS = (
    "validate",
    "schema",
    "plan",
    "show",
    "apply",
    "release",
    "rollback",
    "accept",
    "status",
    "ui",
    "logs",
    "run",
    "sandbox",
)


class UsageError(Exception):
    """A command line argparse refused; `str()` is one line: the cause, then where help is."""


class Parser(argparse.ArgumentParser):
    """argparse, except that a usage error is one line and exits 1, never 2.

    Exit 2 is `plan --detailed-exitcode`'s "changes pending"; a typo in a CI job must not read as drift.
    Subparsers inherit this class (`add_subparsers` uses the parent's type)."""

    def error(self, message: str):  # type: ignore[override]
        choice = _INVALID_CHOICE.search(message)
        if choice:
            options = [c.strip().strip("'") for c in choice.group(2).split(",")]
            message += did_you_mean(choice.group(1), options)
        raise UsageError(f"error: {message} (see `{self.prog} --help`)")

    def parse_args(self, args=None, namespace=None):  # type: ignore[override]
        """As argparse, but an unknown flag after a subcommand names that subcommand's help."""
        parsed, extras = self.parse_known_args(args, namespace)
        if extras:
            command = getattr(parsed, "command", None)
            prog = f"{self.prog} {command}" if command else self.prog
            raise UsageError(f"error: unrecognized arguments: {' '.join(extras)} (see `{prog} --help`)")
        return parsed


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
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
    try:
        args = parser.parse_args(argv)
    except UsageError as exc:
        print(" ".join(str(exc).split()), file=sys.stderr)
        return EXIT_ERROR
    except SystemExit as exc:  # --help and --version print and exit 0
        return exc.code if isinstance(exc.code, int) else EXIT_ERROR
    if not getattr(args, "func", None):
        parser.print_help(sys.stderr)
        return EXIT_ERROR
    try:
        return int(args.func(args))
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
