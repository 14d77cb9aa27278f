"""`reconcile validate [--desired DIR] [-o text|json]`: check the desired state, print every error, exit 0 or 1.

Text: one line per error, `file:LINE:COL: field.path: message`, then a count. JSON (for editors and CI):
`{"valid": bool, "errors": [{"file", "line", "col", "field", "message"}], "counts": {...}}` on stdout. Both
print the same messages, in which a value that failed a secret-bearing field's check never appears.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict

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
            errors = [asdict(e) for e in exc.errors]
            print(json.dumps({"valid": False, "errors": errors}, indent=2, ensure_ascii=False))
            return EXIT_INVALID
        for error in exc.errors:
            print(error, file=sys.stderr)
        count = len(exc.errors)
        print(f"{count} error{'s' if count != 1 else ''} in desired state {args.desired}", file=sys.stderr)
        return EXIT_INVALID
    if as_json:
        print(json.dumps({"valid": True, "errors": [], "counts": state.counts()}, indent=2))
    else:
        print(state.summary())
    return EXIT_OK
