"""`reconcile validate [--desired DIR] [-o text|json]`: check the desired state, print every error, exit 0 or 1.

Text: one line per error, `file:LINE:COL: field.path: message`, then a count. JSON (for editors and CI):
`{"valid": bool, "errors": [{"file", "line", "col", "field", "message"}], "counts": {...}}` on stdout. Both
print the same messages, in which a value that failed a secret-bearing field's check never appears.
"""

from __future__ import annotations

import argparse
import sys

from reconciler.cli.exits import EXIT_ERROR, EXIT_OK
from reconciler.render.cli_messages import render_desired_errors, render_validation_json
from reconciler.spec import DesiredStateError, load_desired


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
    parser.add_argument(
        "-o", "--output", choices=("text", "json"), default="text", help="output format (default: text)"
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    as_json = getattr(args, "output", "text") == "json"
    try:
        state = load_desired(args.desired)
    except DesiredStateError as exc:
        if as_json:
            sys.stdout.write(render_validation_json(errors=exc.errors))
        else:
            sys.stderr.write(render_desired_errors(exc.errors, args.desired))
        return EXIT_ERROR
    if as_json:
        sys.stdout.write(render_validation_json(counts=state.counts()))
    else:
        print(state.summary())
    return EXIT_OK
