"""`reconcile status [POOL]` and `reconcile clear-quarantine POOL`.

status: per host pool, the pinned and running versions, hosts by version and state, the batch in progress,
users waiting to be signed out and their deadline, the next maintenance window, failures against the budget
and quarantines (-o json for machines). Exit 0, or 1 on an error (unknown pool, Azure unreachable).
clear-quarantine: removes the failed-version mark and failure count from the pool's tags, so the next apply
tries the pinned version again. Exit 0 (also when there was nothing to clear), 1 on error.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys

from reconciler.spec import DesiredStateError, load_desired
from reconciler.spec.suggest import did_you_mean

EXIT_OK, EXIT_ERROR = 0, 1


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--desired", default="desired", metavar="DIR", help="desired-state directory")
    parser.add_argument(
        "--arm-endpoint", help="ARM endpoint (default: $RECONCILE_ARM_ENDPOINT or Azure public)"
    )
    parser.add_argument("--ca-bundle", help="PEM bundle to trust (default: $RECONCILE_CA_BUNDLE)")


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
    from reconciler.planner.pool_target import PoolTarget

    desired = load_desired(args.desired)
    pools = desired.host_pools
    if names:
        known = [p.name for p in pools]
        missing = [n for n in names if n not in known]
        if missing:
            hint = did_you_mean(missing[0], known)
            raise LookupError(f"no HostPool named {missing[0]!r} in {args.desired}{hint}")
        pools = tuple(p for p in pools if p.name in names)
    return [PoolTarget.of(desired, p) for p in pools]


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
    from reconciler.engine.rollout_status import pool_status

    targets = _targets(args, [args.pool] if args.pool else None)
    with _connection(args) as conn:
        report = [pool_status(t, conn) for t in targets]
    if args.output == "json":
        print(json.dumps({"pools": report}, indent=2))
    else:
        sys.stdout.write("".join(render_pool(p) for p in report))
    return EXIT_OK


def _clear(args) -> int:
    from reconciler.engine.rollout_status import clear_quarantine

    [target] = _targets(args, [args.pool])
    with _connection(args) as conn:
        had = clear_quarantine(target, conn)
    print(f"{args.pool}: quarantine cleared" if had else f"{args.pool}: no quarantine to clear")
    return EXIT_OK


def render_pool(s: dict) -> str:
    if not s.get("exists"):
        return f"{s['pool']}: does not exist in Azure yet\n\n"
    lines = [f"{s['pool']}: {s['state']} ({s['mode']})"]
    running = ", ".join(f"{v}×{n}" for v, n in s["running"].items()) or "no hosts"
    pinned = s["pinned"] or "?"
    if not s["target_ready"] and s["target_why"]:
        pinned += f" (waits: {s['target_why']})"
    lines.append(f"  pinned {pinned}; running {running}")
    lines.append(f"  hosts {s['available']} available of {s['count']} wanted; floor {s['floor_hosts']}, "
                 f"{s['strategy']} batch {s['batch_size']}")  # fmt: skip
    for version, states in s["hosts"].items():
        lines.append(f"    {version}: " + ", ".join(f"{n} {state}" for state, n in states.items()))
    if s["batch_in_progress"]:
        lines.append("  batch in progress: " + ", ".join(s["batch_in_progress"]))
    for w in s["users_waiting"]:
        lines.append(f"  {w['host']}: {len(w['users'])} user(s) until {w['deadline']}; logoff {w['logoff']}")
    lines.append("  maintenance window: " + ("open now" if s["window_open"] else
                 f"closed, next opens {s['next_window'] or 'never'}"))  # fmt: skip
    if s["gate"]["why"]:
        lines.append(f"  ring gate: {s['gate']['why']}")
    f = s["failures"]
    lines.append(f"  failures {f['count']} of budget {f['budget']} (then {f['on_failure']})")
    for failed in s.get("failed_hosts") or []:
        lines.append(f"  failed host {failed['host']}: {failed['reason']}")
    if s["quarantined"]:
        lines.append(f"  QUARANTINED: {s['quarantined']} (reconcile clear-quarantine {s['pool']})")
    if s["next_check"]:
        lines.append(f"  next: {', '.join(s['next_step']) or 'check'} — {s['next_check']['why']} "
                     f"at {s['next_check']['at']}")  # fmt: skip
    for note in s["notes"]:
        lines.append(f"  note: {note}")
    return "\n".join(lines) + "\n\n"
