"""`reconcile release`: evaluate build triggers against Azure and write each due ImageVersion into desired/.

Exit codes, like `plan --detailed-exitcode`: 0 nothing due, 1 error (invalid desired state, Azure unreachable,
a due release that cannot be written, git refused), 2 released (files written, and committed with --commit).
This is the step a scheduled CI job runs before opening a pull request.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from reconciler.cli.exits import EXIT_ERROR, EXIT_OK, EXIT_RELEASED
from reconciler.cli.options import add_azure_connection
from reconciler.cli.plan_cmd import load_and_observe
from reconciler.render.cli_messages import render_error


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "release",
        help="write the ImageVersions whose build triggers fired into desired/ (and commit them)",
        description="Observe Azure (and the marketplace versions of `latest` sources), evaluate each "
        "ImageBuild's triggers (schedule, sourceImageUpdate, recipeChange) and write one ImageVersion per due "
        "build to desired/versions/<definition>/<version>.yaml, pinning the resolved source version.",
    )
    p.add_argument(
        "--desired", default="desired", metavar="DIR", help="desired-state directory (default: ./desired)"
    )
    p.add_argument("--build", metavar="NAME", help="only this ImageBuild")
    p.add_argument("--commit", action="store_true", help="git commit the written files")
    p.add_argument(
        "--author",
        metavar="'NAME <EMAIL>'",
        help="commit author and committer (default: $RECONCILE_GIT_AUTHOR, else git's configuration)",
    )
    add_azure_connection(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from reconciler.gitops.writeback import WriteBackError, release
    from reconciler.planner.triggers import evaluate, release_folder

    loaded = load_and_observe(args)
    if loaded is None:
        return EXIT_ERROR
    desired, observed = loaded
    if args.build and desired.image_build(args.build) is None:
        sys.stderr.write(render_error(f"no ImageBuild named {args.build!r} in {args.desired}"))
        return EXIT_ERROR
    report = evaluate(desired, observed, observed.observed_at, only=args.build)
    for waiting in (b for b in report.blocked if b.waiting):  # passes by itself: not an error
        print(f"{waiting.origin}: {waiting.message}")
    blocked = [b for b in report.blocked if not b.waiting]
    for b in blocked:
        sys.stderr.write(render_error(f"{b.origin}: {b.message}"))
    if not report.due:
        print("Nothing due: no build's trigger fired." if not blocked else "Nothing released.")
        return EXIT_ERROR if blocked else EXIT_OK
    try:
        done = release(
            Path(args.desired),
            report.due,
            release_folder,
            loaded=True,  # load_and_observe loaded it
            commit_them=args.commit,
            author=args.author,
        )
    except WriteBackError as exc:
        sys.stderr.write(render_error(str(exc)))
        return EXIT_ERROR
    for build, why in done.blocked:
        sys.stderr.write(render_error(f"release of {build} blocked: {why}"))
    for w in done.written:
        print(f"released {w.path}: {w.summary}")
    if done.commit:
        print(f"committed {done.commit[:12]}")
    if not done.written:
        return EXIT_ERROR
    return EXIT_ERROR if blocked or done.blocked else EXIT_RELEASED
