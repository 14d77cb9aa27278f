"""`reconcile run`: the long-lived GitOps controller (see README.md). Parsing and exit codes only."""

from __future__ import annotations

import argparse
import re
import sys

from reconciler.cli.options import add_azure_connection
from reconciler.controller.app import RunOptions, serve
from reconciler.controller.logs import setup_logging, teardown_logging
from reconciler.controller.notify import SHAPES
from reconciler.render.cli_messages import render_error
from reconciler.spec import parse_duration


def seconds(value: str) -> float:
    """A duration (``30s``, ``15m``, ``1h``) or plain seconds (``2.5``)."""
    if re.fullmatch(r"\d+(\.\d+)?", value.strip()):
        return float(value)
    try:
        return parse_duration(value).total_seconds()
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "run",
        help="run as a controller: reconcile desired state from git on an interval",
        description="Fetch the desired state (git or a folder), reconcile it on an interval with leader "
        "election, and serve /healthz /readyz /metrics /status. Stops on SIGTERM after in-flight calls.",
    )
    src = p.add_argument_group("source (one of)")
    src.add_argument("--desired", metavar="DIR", help="desired-state folder (e.g. kept fresh by git-sync)")
    src.add_argument("--git-url", metavar="URL", help="git repository (https://, ssh:// or file://)")
    src.add_argument("--git-ref", default="main", metavar="REF", help="branch, tag or commit (default: main)")
    src.add_argument(
        "--git-path", default="desired", metavar="PATH", help="folder in the repository (default: desired)"
    )
    src.add_argument(
        "--git-token-file", metavar="FILE", help="HTTPS token file (default: $RECONCILE_GIT_TOKEN)"
    )
    src.add_argument("--git-ssh-key-file", metavar="FILE", help="SSH private key file")
    src.add_argument("--git-known-hosts", metavar="FILE", help="known_hosts for SSH (default: accept new)")
    src.add_argument("--workdir", metavar="DIR", help="where the clone lives (default: a temp folder)")
    p.add_argument(
        "--interval",
        type=seconds,
        metavar="D",
        help="time between cycles, e.g. 15m (default: Settings spec.controller.interval, 15m)",
    )
    p.add_argument(
        "--poll", type=seconds, default=60.0, metavar="D", help="source check period (default: 1m)"
    )
    p.add_argument(
        "--retry-interval",
        type=seconds,
        default=30.0,
        metavar="D",
        help="first retry after a failed cycle; doubles up to --interval (default: 30s)",
    )
    p.add_argument(
        "--state",
        default="local:./state",
        metavar="STORE",
        help="local:DIR or blob:ACCOUNT_URL/CONTAINER | blob:CONNSTR/CONTAINER | blob:CONTAINER "
        "(connection string from $AZURE_STORAGE_CONNECTION_STRING) (default: local:./state)",
    )
    p.add_argument(
        "--lease-ttl", type=seconds, default=30.0, metavar="D", help="leader lease, 15-60s (default: 30s)"
    )
    p.add_argument("--identity", metavar="NAME", help="this replica's name (default: $POD_NAME or host-pid)")
    p.add_argument("--dry-run", action="store_true", help="observe and plan only; report drift, never write")
    p.add_argument(
        "--listen",
        default="127.0.0.1:8080",
        metavar="HOST:PORT",
        help="probe and metrics address (default: 127.0.0.1:8080; 'off' disables)",
    )
    p.add_argument("--log-format", choices=("json", "text"), default="json", help="log lines (default: json)")
    p.add_argument("--webhook", metavar="URL", help="notification webhook (default: $RECONCILE_WEBHOOK_URL)")
    p.add_argument(
        "--webhook-format", choices=SHAPES, default="generic", help="body shape (default: generic)"
    )
    p.add_argument("--once", action="store_true", help="run one cycle and exit (0 ok, 1 failed)")
    p.add_argument(
        "--release",
        action="store_true",
        help="write versions whose build triggers fired into desired/ and commit them (see `reconcile release`)",
    )
    p.add_argument(
        "--push", action="store_true", help="with --release: push the commit (needed with --git-url)"
    )
    p.add_argument(
        "--release-branch", metavar="BRANCH", help="with --push: push releases here, for a pull request"
    )
    p.add_argument(
        "--git-author",
        metavar='"NAME <EMAIL>"',
        help="release commits' author (default: $RECONCILE_GIT_AUTHOR)",
    )
    p.add_argument("--parallelism", type=int, default=4, metavar="N", help="concurrent actions (default: 4)")
    add_azure_connection(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.desired and args.git_url:
        sys.stderr.write(render_error("give --desired or --git-url, not both"))
        return 1
    if (args.push or args.release_branch) and not args.release:
        sys.stderr.write(render_error("--push and --release-branch go with --release"))
        return 1
    if args.release and args.git_url and not args.push:
        sys.stderr.write(
            render_error("--release with --git-url needs --push (the checkout is reset each fetch)")
        )
        return 1
    if not 15 <= args.lease_ttl <= 60:
        sys.stderr.write(render_error("--lease-ttl must be 15-60 s (Azure's rule for blob leases)"))
        return 1
    options = RunOptions(
        desired=args.desired,
        git_url=args.git_url,
        git_ref=args.git_ref,
        git_path=args.git_path,
        git_token_file=args.git_token_file,
        git_ssh_key_file=args.git_ssh_key_file,
        git_known_hosts=args.git_known_hosts,
        workdir=args.workdir,
        interval=args.interval,
        poll=args.poll,
        retry_base=args.retry_interval,
        state=args.state,
        lease_ttl=args.lease_ttl,
        identity=args.identity,
        dry_run=args.dry_run,
        listen=None if args.listen == "off" else args.listen,
        webhook=args.webhook,
        webhook_format=args.webhook_format,
        once=args.once,
        arm_endpoint=args.arm_endpoint,
        ca_bundle=args.ca_bundle,
        parallelism=args.parallelism,
        release=args.release,
        push=args.push,
        release_branch=args.release_branch,
        git_author=args.git_author,
    )
    redactor = setup_logging(args.log_format)
    try:
        return serve(options, redactor=redactor)
    except Exception as exc:  # StoreError, a bad --state, an unreachable store: one line, no traceback
        sys.stderr.write(render_error(f"{type(exc).__name__}: {(str(exc).splitlines() or [''])[0][:300]}"))
        return 1
    finally:
        teardown_logging()
