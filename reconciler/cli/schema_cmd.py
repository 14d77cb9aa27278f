"""`reconcile schema`: print the JSON Schema of the desired-state language (for editors and CI)."""

from __future__ import annotations

import argparse
import json
import sys

from reconciler.spec import schema


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "schema",
        help="print the JSON Schema (draft 2020-12) of desired-state documents",
        description="Print the JSON Schema of every desired-state kind, with defaults. Point "
        "yaml-language-server at it: `# yaml-language-server: $schema=./desired-state.schema.json`.",
    )
    parser.add_argument("--output", "-o", metavar="FILE", help="write to FILE instead of standard output")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    text = json.dumps(schema(), indent=2, sort_keys=False) + "\n"
    if args.output:
        try:
            with open(args.output, "w", encoding="utf-8") as out:
                out.write(text)
        except OSError as exc:
            print(f"error: cannot write {args.output}: {exc.strerror or exc}", file=sys.stderr)
            return 1
        return 0
    sys.stdout.write(text)
    return 0
