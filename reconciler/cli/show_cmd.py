"""`reconcile show PLANFILE`: print a plan saved by `reconcile plan --out PLANFILE`, in full.

Nothing is observed or sent to Azure: the file is read, checked to be a plan this version understands, and
rendered by `reconciler.render` in the format asked for (text, JSON or Markdown), exactly as `plan` would
have printed it, with every value in full (secrets stay redacted: the saved file never held them).
Exit 0, or 1 when the file cannot be read or is not a saved plan.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from reconciler.cli.exits import EXIT_ERROR, EXIT_OK
from reconciler.model.plan import Plan, PlanFormatError
from reconciler.render import FORMATS, render
from reconciler.render.cli_messages import render_error


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "show",
        help="print a saved plan (from `plan --out PLANFILE`) in full",
        description="Render a plan saved with `reconcile plan --out PLANFILE` as text, JSON or Markdown, with "
        "full values. Reads only the file; nothing is sent to Azure.",
    )
    parser.add_argument("planfile", metavar="PLANFILE", help="a plan saved by `reconcile plan --out`")
    parser.add_argument(
        "-o", "--output", choices=FORMATS, default="text", help="output format (default: text)"
    )
    parser.set_defaults(func=run)


def read_plan(path: str) -> Plan:
    """The plan saved at `path`; ValueError with a one-line reason when it is not one."""
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ValueError(f"plan file {path} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        raise ValueError(f"cannot read plan file {path}: {reason}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"not a saved plan: {path} is not JSON (line {exc.lineno}: {exc.msg})") from None
    if not isinstance(data, dict) or "changes" not in data:
        raise ValueError(f"not a saved plan: {path} has no 'changes' (save one with `reconcile plan --out`)")
    try:
        return Plan.from_dict(data)
    except PlanFormatError as exc:
        raise ValueError(f"{exc} (in {path})") from None
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"not a saved plan: {path}: {type(exc).__name__} {exc}") from None


def run(args: argparse.Namespace) -> int:
    try:
        plan = read_plan(args.planfile)
    except ValueError as exc:
        sys.stderr.write(render_error(str(exc)))
        return EXIT_ERROR
    colour = args.output == "text" and sys.stdout.isatty() and "NO_COLOR" not in os.environ
    sys.stdout.write(render(plan, args.output, colour=colour, source=args.planfile))
    return EXIT_OK
