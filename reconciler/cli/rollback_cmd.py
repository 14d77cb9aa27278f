"""`reconcile rollback POOL [--to VERSION] [--commit]`: roll a pool back as a git change.

Reads Azure (as `plan` does), chooses the version to go back to (`planner.rollback.choose_rollback`), writes
that pin into the pool's desired/ file in place (the one line, comments kept), checks the edited tree still
loads, and prints the rollout the next `apply` will run for the pool. `--commit` commits the edit. Nothing is
changed in Azure: the next apply (or controller cycle) does it, from git.

Exit codes: 0 rolled back (file edited), 1 error (nothing edited).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from reconciler.cli.exits import EXIT_ERROR, EXIT_OK
from reconciler.cli.options import add_azure_connection
from reconciler.cli.plan_cmd import load_and_observe
from reconciler.gitops.git import GitError, commit
from reconciler.gitops.pin_edit import EditError, edit_file
from reconciler.planner import plan as make_plan
from reconciler.planner.limit import desired_addresses, limit_plan
from reconciler.planner.rollback import RollbackError, choose_rollback
from reconciler.render import render
from reconciler.render.cli_messages import render_desired_errors, render_error
from reconciler.spec import DesiredStateError, load_desired


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "rollback",
        help="pin a host pool back to its previous good version, as an edit of desired/ (and a commit)",
        description="Choose the version POOL goes back to (--to, else the version it last ran fully, else "
        "the newest published version before its current one), write that pin into the pool's desired/ "
        "file, and print the rollout the next apply will run. Changes nothing in Azure.",
    )
    parser.add_argument("pool", metavar="POOL", help="HostPool metadata.name")
    parser.add_argument("--to", metavar="VERSION", help="the version to pin (default: the previous good one)")
    parser.add_argument("--commit", action="store_true", help="commit the edit with git")
    parser.add_argument(
        "--author", help='commit author, "Name <email>" (default: $RECONCILE_GIT_AUTHOR or git\'s)'
    )
    parser.add_argument(
        "--desired", default="desired", metavar="DIR", help="desired-state directory (default: ./desired)"
    )
    add_azure_connection(parser)
    parser.set_defaults(func=run)


def _pin_line(pool) -> tuple[Path, int]:
    origin = pool.origin("spec.image.version")
    file, _, line = origin.rpartition(":")
    return Path(file), int(line)


def run(args: argparse.Namespace) -> int:
    loaded = load_and_observe(args)
    if loaded is None:
        return EXIT_ERROR
    desired, observed = loaded
    try:
        choice = choose_rollback(desired, observed, args.pool, args.to)
    except RollbackError as exc:
        sys.stderr.write(render_error(str(exc)))
        return EXIT_ERROR
    pool = desired.host_pool(args.pool)
    path, line = _pin_line(pool)
    before = path.read_text(encoding="utf-8")
    note = f"rolled back from {choice.abandoned} ({pool.pinned})" if choice.abandoned else "rolled back"
    try:
        edit_file(path, line, "version", pool.pinned, choice.target, note)
        edited = load_desired(args.desired)
    except EditError as exc:
        sys.stderr.write(render_error(f"{path}:{line}: cannot write the pin: {exc}"))
        return EXIT_ERROR
    except DesiredStateError as exc:
        path.write_text(before, encoding="utf-8")  # never leave a tree that does not load
        sys.stderr.write(render_desired_errors(exc.errors, args.desired))
        return EXIT_ERROR
    print(f"{args.pool}: pin {pool.pinned} → {choice.target} ({choice.why}); wrote {path}:{line}")
    full = make_plan(edited, observed, observed.observed_at)
    preview = limit_plan(full, [f"host-pool/{args.pool}"], desired_addresses(edited))
    sys.stdout.write(render(preview, "text"))
    if args.commit:
        message = (
            f"rollback {args.pool}: {choice.abandoned or pool.pinned} → {choice.target}\n\n"
            f"Chosen: {choice.why}.\nWritten by `reconcile rollback`; the next apply rolls the pool's hosts."
        )
        try:
            print(f"committed {commit([path], message, args.author)[:12]}")
        except GitError as exc:
            sys.stderr.write(render_error(str(exc)))
            return EXIT_ERROR
    return EXIT_OK
