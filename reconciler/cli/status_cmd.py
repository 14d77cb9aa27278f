"""`reconcile status [POOL]` and `reconcile clear-quarantine POOL`.

status: per host pool, the pinned and running versions, hosts by version and state, the batch in progress,
users waiting to be signed out and their deadline, the next maintenance window, failures against the budget
and quarantines, then its conditions (Ready, Reconciling, Stalled; -o json for machines,
with every version's and build's conditions too, and the estate, builds and pending waits: the estate
view-model of reconciler/render/estate_view.py, which the dashboard renders too); without POOL, the
builds whose last run failed, with the cause apply recorded and whether they run again. Exit 0, or 1 on
an error (unknown pool, Azure unreachable).
clear-quarantine: removes the failed-version mark and failure count from the pool's tags, so the next apply
tries the pinned version again. Exit 0 (also when there was nothing to clear), 1 on error.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys

from reconciler.cli.exits import EXIT_ERROR, EXIT_OK
from reconciler.cli.options import add_azure_connection
from reconciler.spec import DesiredStateError, load_desired


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--desired", default="desired", metavar="DIR", help="desired-state directory")
    add_azure_connection(parser)


def register(subparsers: argparse._SubParsersAction) -> None:
    status = subparsers.add_parser(
        "status",
        help="show host pools' session hosts and rollout progress",
        description="Per host pool: pinned and running versions, hosts by version and state, the batch in "
        "progress, users waiting with their deadline, the next maintenance window, failures and quarantines.",
    )
    status.add_argument("pool", nargs="?", help="only this host pool (metadata.name)")
    status.add_argument("-o", "--output", choices=("text", "json"), default="text")
    _common(status)
    status.set_defaults(func=run_status)
    clear = subparsers.add_parser(
        "clear-quarantine",
        help="let a halted host pool try its pinned version again",
        description="Remove the quarantine mark (failed version) and failure count from a host pool.",
    )
    clear.add_argument("pool", help="host pool (metadata.name)")
    _common(clear)
    clear.set_defaults(func=run_clear)


def _targets(args, names: list[str] | None):
    return _desired_and_targets(args, names)[1]


def _desired_and_targets(args, names: list[str] | None):
    from reconciler.controller.estate import pool_targets

    desired = load_desired(args.desired)
    return desired, pool_targets(desired, names, args.desired)


def _connection(args):
    logging.getLogger("azure").setLevel(logging.ERROR)
    from reconciler.azure.connection import Connection, ConnectionSettings

    return Connection(ConnectionSettings.from_env(arm_endpoint=args.arm_endpoint, ca_bundle=args.ca_bundle))


def _guard(fn, args) -> int:
    try:
        return fn(args)
    except DesiredStateError as exc:
        for error in exc.errors:
            print(error, file=sys.stderr)
        print(f"{len(exc.errors)} error(s) in desired state {args.desired}", file=sys.stderr)
        return EXIT_ERROR
    except LookupError as exc:
        print(f"error: {exc.args[0]}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        raise
    except Exception as exc:  # reaching Azure: one clean line, cause first, never a traceback
        from reconciler.azure.connection import describe_error

        print(f"error: {describe_error(exc)}", file=sys.stderr)
        return EXIT_ERROR


def run_status(args: argparse.Namespace) -> int:
    return _guard(_status, args)


def run_clear(args: argparse.Namespace) -> int:
    return _guard(_clear, args)


def _status(args) -> int:
    from reconciler.controller.estate import gather_view
    from reconciler.render.status import render_status

    desired, targets = _desired_and_targets(args, [args.pool] if args.pool else None)
    with _connection(args) as conn:
        view = gather_view(desired, conn, targets, only_pools={args.pool} if args.pool else None)
    if args.output == "json":
        print(json.dumps(view, indent=2))
    else:
        sys.stdout.write(render_status(view))
    return EXIT_OK


def _clear(args) -> int:
    from reconciler.engine.rollout_status import clear_quarantine

    [target] = _targets(args, [args.pool])
    with _connection(args) as conn:
        had = clear_quarantine(target, conn)
    print(f"{args.pool}: quarantine cleared" if had else f"{args.pool}: no quarantine to clear")
    return EXIT_OK
