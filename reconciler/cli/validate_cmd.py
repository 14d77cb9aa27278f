"""`reconcile validate [--desired DIR]`: check the desired state, print every error, exit 0 or 1."""

from __future__ import annotations

import argparse
import sys

from reconciler.spec import DesiredStateError, load_desired

EXIT_OK = 0
EXIT_INVALID = 1


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "validate",
        help="check the desired state (YAML) and report every error with file:line:col",
        description="Load every *.yaml/*.yml under the desired directory, validate and cross-check it. "
        "Nothing is sent to Azure. Exit 0 when valid, 1 when not.",
    )
    parser.add_argument(
        "--desired", default="desired", metavar="DIR", help="desired-state directory (default: ./desired)"
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    try:
        state = load_desired(args.desired)
    except DesiredStateError as exc:
        for error in exc.errors:
            print(error, file=sys.stderr)
        count = len(exc.errors)
        print(f"{count} error{'s' if count != 1 else ''} in desired state {args.desired}", file=sys.stderr)
        return EXIT_INVALID
    print(state.summary())
    return EXIT_OK
