"""`reconcile plan`: observe Azure, compare with desired/, print the plan (text, JSON or Markdown).

Exit codes: 0 success (with --detailed-exitcode: no changes), 1 error (invalid desired state, Azure
unreachable, planning errors such as an immutable field that cannot change), 2 changes pending
(--detailed-exitcode only). Errors reaching Azure print one clean line, never a traceback.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from pathlib import Path

from reconciler.cli.exits import EXIT_CHANGES, EXIT_ERROR, EXIT_OK
from reconciler.cli.options import add_azure_connection
from reconciler.planner import plan as make_plan
from reconciler.planner.limit import LimitError, desired_addresses, limit_plan
from reconciler.render import FORMATS, render, render_json, render_markdown
from reconciler.render.cli_messages import render_desired_errors, render_error, render_plan_stats
from reconciler.render.markdown_fit import GITHUB_COMMENT_LIMIT
from reconciler.spec import DesiredStateError, load_desired

MIN_MAX_CHARS = 1000


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "plan",
        help="show what reconcile would change in Azure (changes nothing)",
        description="Observe every subscription the desired state names (list calls only), compare, and print "
        "an ordered, explained plan with rollout previews. Nothing is changed in Azure.",
    )
    parser.add_argument(
        "--desired", default="desired", metavar="DIR", help="desired-state directory (default: ./desired)"
    )
    parser.add_argument(
        "-o", "--output", choices=FORMATS, default="text", help="output format (default: text)"
    )
    parser.add_argument(
        "--out", metavar="PLANFILE", help="also save the plan as JSON, for `reconcile apply PLANFILE`"
    )
    parser.add_argument(
        "--detailed-exitcode", action="store_true", help="exit 0 = no changes, 1 = error, 2 = changes"
    )
    parser.add_argument(
        "--limit",
        action="append",
        default=[],
        metavar="KIND/NAME",
        help="only these resources and what they depend on (repeatable), e.g. host-pool/hp-prod",
    )
    parser.add_argument(
        "--max-chars",
        type=_max_chars,
        default=GITHUB_COMMENT_LIMIT,
        metavar="N",
        help="with -o markdown: cut the plan between whole sections to at most N characters, with a note "
        f"(default: {GITHUB_COMMENT_LIMIT}, GitHub's comment limit; the JSON plan always has everything)",
    )
    parser.add_argument("--stats", action="store_true", help="print ARM call counts and timings to stderr")
    add_azure_connection(parser)
    parser.set_defaults(func=run)


def _max_chars(text: str) -> int:
    # Below this the summary and the note saying what was cut cannot fit.
    if not text.isdigit() or int(text) < MIN_MAX_CHARS:
        raise argparse.ArgumentTypeError(f"must be a whole number of at least {MIN_MAX_CHARS}")
    return int(text)


def _observe(desired, args):
    # The SDK logs each failed token attempt as a WARNING with a multi-line text; the one-line error below
    # says the same once. Imported here so `reconcile validate` and `--help` never load the Azure SDK.
    logging.getLogger("azure").setLevel(logging.ERROR)
    from reconciler.azure.connection import Connection, ConnectionSettings
    from reconciler.engine.reconcile import Reconciler, subscriptions_of_desired

    settings = ConnectionSettings.from_env(arm_endpoint=args.arm_endpoint, ca_bundle=args.ca_bundle)
    with Connection(settings) as connection:
        return Reconciler(connection).observe(subscriptions_of_desired(desired), desired=desired)


def _azure_error_message(exc: Exception) -> str:
    from reconciler.azure.connection import describe_error

    return render_error(describe_error(exc))


def load_and_observe(args: argparse.Namespace):
    """(desired, observed), or None after printing why not (bad desired state, Azure unreachable)."""
    try:
        desired = load_desired(args.desired)
    except DesiredStateError as exc:
        sys.stderr.write(render_desired_errors(exc.errors, args.desired))
        return None
    try:
        return desired, _observe(desired, args)
    except KeyboardInterrupt:
        raise
    except Exception as exc:  # any failure reaching Azure: one clean line, no traceback
        sys.stderr.write(_azure_error_message(exc))
        return None


def run(args: argparse.Namespace) -> int:
    loaded = load_and_observe(args)
    if loaded is None:
        return EXIT_ERROR
    desired, observed = loaded
    cpu = time.process_time()
    result = make_plan(desired, observed, observed.observed_at)
    cpu = time.process_time() - cpu
    if args.limit:
        try:
            result = limit_plan(result, args.limit, desired_addresses(desired))
        except LimitError as exc:
            sys.stderr.write(render_error(str(exc)))
            return EXIT_ERROR
    colour = args.output == "text" and sys.stdout.isatty() and "NO_COLOR" not in os.environ
    if args.output == "markdown":
        sys.stdout.write(render_markdown(result, max_chars=args.max_chars))
    else:
        sys.stdout.write(render(result, args.output, colour=colour))
    if args.out:
        Path(args.out).write_text(render_json(result), encoding="utf-8")
        print(f"plan saved to {args.out}", file=sys.stderr)
    if args.stats:
        sys.stderr.write(render_plan_stats(observed.counts(), observed.calls.to_dict(), cpu))
    if result.has_errors:
        return EXIT_ERROR
    if args.detailed_exitcode and result.has_changes:
        return EXIT_CHANGES
    return EXIT_OK
