"""`reconcile apply`: observe, plan (or load a saved plan and refuse it if stale), confirm, execute, recap.

Exit codes: 0 applied (or nothing to do); 1 error: invalid desired state, planning errors, a stale plan, the
lock held by another apply, refused confirmation, any failed change, or work left unfinished at --timeout.
The store's lock is held from before observing until the history is written.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import threading
from datetime import datetime
from pathlib import Path

from reconciler.model.observed import ObserveScope
from reconciler.model.plan import Plan, PlanFormatError
from reconciler.render import render
from reconciler.render.recap import render_recap_json, render_recap_text
from reconciler.spec import DesiredStateError, load_desired
from reconciler.spec.durations import parse_duration
from reconciler.store import LocalStore, LockHeld, StoreError

EXIT_OK, EXIT_ERROR = 0, 1


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "apply",
        help="change Azure to match the desired state (or apply a saved plan)",
        description="Observe, plan and execute: galleries, definitions, Image Builder builds, versions, "
        "replication, retention and host pools. With PLANFILE (from `reconcile plan --out`), apply exactly "
        "that plan, refusing it if Azure changed since.",
    )
    p.add_argument("planfile", nargs="?", metavar="PLANFILE", help="a plan saved by `reconcile plan --out`")
    p.add_argument(
        "--desired", default="desired", metavar="DIR", help="desired-state directory (default: ./desired)"
    )
    p.add_argument("--auto-approve", action="store_true", help="apply without asking")
    p.add_argument(
        "--parallelism", type=int, default=8, metavar="N", help="changes in flight at once (default 8)"
    )
    p.add_argument(
        "--limit",
        action="append",
        default=[],
        metavar="KIND/NAME",
        help="only these resources and what they depend on (repeatable)",
    )
    p.add_argument("-o", "--output", choices=("text", "json"), default="text", help="recap format")
    p.add_argument(
        "--state",
        default=os.environ.get("RECONCILE_STATE", "state"),
        metavar="DIR",
        help="state directory: lock, history, operation tokens (default: ./state)",
    )
    p.add_argument(
        "--timeout", metavar="DURATION", help="stop waiting after this long (server time), e.g. 2h"
    )
    p.add_argument(
        "--commit",
        default=os.environ.get("RECONCILE_GIT_COMMIT"),
        metavar="SHA",
        help="git commit to tag created resources with (default: $RECONCILE_GIT_COMMIT)",
    )
    p.add_argument("--arm-endpoint", help="ARM endpoint (default: $RECONCILE_ARM_ENDPOINT or Azure public)")
    p.add_argument("--ca-bundle", help="PEM bundle to trust (default: $RECONCILE_CA_BUNDLE)")
    p.set_defaults(func=run)


def _fail(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return EXIT_ERROR


def run(args: argparse.Namespace) -> int:
    interactive = sys.stdin.isatty()
    if not args.auto_approve and not interactive:
        return _fail(
            "refusing to apply without --auto-approve: standard input is not a terminal to confirm on"
        )
    if args.parallelism < 1:
        return _fail("--parallelism must be at least 1")
    timeout = None
    if args.timeout:
        try:
            timeout = parse_duration(args.timeout)
        except ValueError as exc:
            return _fail(f"--timeout: {exc}")
    desired, saved = None, None
    if args.planfile:
        try:
            saved = Plan.from_dict(json.loads(Path(args.planfile).read_text(encoding="utf-8")))
        except (OSError, ValueError, KeyError, PlanFormatError) as exc:
            return _fail(f"cannot read plan {args.planfile}: {exc}")
    else:
        try:
            desired = load_desired(args.desired)
        except DesiredStateError as exc:
            for error in exc.errors:
                print(error, file=sys.stderr)
            return _fail(f"{len(exc.errors)} error(s) in desired state {args.desired}")
    store = LocalStore(args.state)
    try:
        lease = store.acquire("apply", owner="reconcile apply")
    except LockHeld as exc:
        return _fail(f"another apply is running: {exc}")
    except StoreError as exc:
        return _fail(f"state store {args.state}: {exc}")
    try:
        return _locked(args, store, desired, saved, timeout, interactive)
    finally:
        store.release(lease)


def _locked(args, store, desired, saved, timeout, interactive) -> int:
    logging.getLogger("azure").setLevel(logging.ERROR)
    from reconciler.azure.connection import Connection, ConnectionSettings, describe_error
    from reconciler.azure.observe import observe
    from reconciler.azure.writes import Writer
    from reconciler.azure.writes_clock import ServerClock
    from reconciler.azure.writes_reads import Reader
    from reconciler.engine.actions import ActionEnv
    from reconciler.engine.actions.env import COMMIT_TAG
    from reconciler.engine.apply import apply_plan, record
    from reconciler.engine.operations import OperationLedger
    from reconciler.engine.stale import stale_reasons, subscriptions_of
    from reconciler.planner import plan as make_plan
    from reconciler.planner.limit import LimitError, desired_addresses, limit_plan

    settings = ConnectionSettings.from_env(arm_endpoint=args.arm_endpoint, ca_bundle=args.ca_bundle)
    with Connection(settings) as conn:
        try:
            if saved is not None:
                subs = subscriptions_of(saved)
            else:
                subs = sorted({r.subscription_id.lower() for r in (*desired.galleries, *desired.image_builds,
                                                                  *desired.host_pools)})  # fmt: skip
            observed = observe(ObserveScope.of(subs), conn)
        except Exception as exc:  # noqa: BLE001 -- one clean line, never a traceback
            return _fail(describe_error(exc))
        if saved is not None:
            reasons = stale_reasons(saved, observed)
            if reasons:
                for reason in reasons[:20]:
                    print(f"  {reason}", file=sys.stderr)
                return _fail(f"the saved plan {args.planfile} is stale ({len(reasons)} resource(s) changed since "
                             "it was made); run `reconcile plan` again")  # fmt: skip
            the_plan = saved
        else:
            the_plan = make_plan(desired, observed, observed.observed_at)
        if args.limit:
            try:
                the_plan = limit_plan(
                    the_plan, args.limit, None if desired is None else desired_addresses(desired)
                )
            except LimitError as exc:
                return _fail(str(exc))
        if the_plan.has_errors:
            sys.stderr.write(render(the_plan, "text"))
            return _fail("the plan has errors; nothing was applied")
        if not the_plan.has_changes:
            print("No changes. Azure matches the desired state.")
            return EXIT_OK
        if not args.auto_approve:
            sys.stdout.write(render(the_plan, "text"))
            answer = input("\nApply these changes? Only 'yes' is accepted: ").strip()
            if answer != "yes":
                return _fail("apply cancelled")
        subscription = subs[0] if subs else observed.scope.subscription_ids[0]
        clock = ServerClock(conn, subscription)
        extra = {COMMIT_TAG: args.commit} if args.commit else {}
        env = ActionEnv(Writer(conn), Reader(conn), OperationLedger(store, clock=clock.now), clock.now,
                        extra_tags=extra, subscriptions=tuple(subs))  # fmt: skip
        progress = Progress(sys.stderr, sys.stderr.isatty())
        result = apply_plan(the_plan, env, parallelism=args.parallelism, clock=clock.now, sleeper=clock.sleep,
                            timeout=timeout, on_event=progress, stop=threading.Event())  # fmt: skip
        progress.close()
        record(store, the_plan, result, source=args.planfile or args.desired, commit=args.commit)
    recap = result.recap()
    if args.output == "json":
        sys.stdout.write(render_recap_json(recap, plan_summary=the_plan.summary()))
    else:
        sys.stdout.write(render_recap_text(recap))
    if not recap["succeeded"]:
        return EXIT_ERROR
    if not recap["complete"]:
        print("error: --timeout reached with work unfinished; run apply again to resume", file=sys.stderr)
        return EXIT_ERROR
    return EXIT_OK


class Progress:
    """Progress on stderr: one line per finished change; on a terminal, one status line that is rewritten
    while changes wait (builds, replication), so a long wait shows what it waits for."""

    def __init__(self, stream, tty: bool):
        self.stream, self.tty = stream, tty
        self.waiting: dict[str, str] = {}
        self.status_shown = False

    def __call__(self, event) -> None:
        kind = event.kind.value
        name = _label(event.node_id)
        if kind == "started":
            return
        if kind in ("waiting", "retrying"):
            self.waiting[event.node_id] = f"{name}: {event.why}"
            if not self.tty:
                self._line(f"{_clock(event.at)} … {name}: {event.why}")
        else:
            self.waiting.pop(event.node_id, None)
            mark = {"done": "✓", "failed": "✗", "skipped": "-"}.get(kind, "·")
            self._line(f"{_clock(event.at)} {mark} {name}" + (f": {event.why}" if event.why else ""))
        if self.tty and self.waiting:
            first = next(iter(sorted(self.waiting.values())))
            text = f"  waiting on {len(self.waiting)}: {first}"[:120]
            self.stream.write("\r\033[K" + text)
            self.stream.flush()
            self.status_shown = True

    def _line(self, text: str) -> None:
        if self.tty and self.status_shown:
            self.stream.write("\r\033[K")
            self.status_shown = False
        self.stream.write(text + "\n")
        self.stream.flush()

    def close(self) -> None:
        if self.tty and self.status_shown:
            self.stream.write("\r\033[K")
            self.stream.flush()


def _label(node_id: str) -> str:
    action, _, rid = node_id.partition(" ")
    return f"{action} {rid.rstrip('/').rsplit('/', 1)[-1]}"


def _clock(at: datetime) -> str:
    return at.strftime("%H:%M:%S")


__all__ = ["register", "run"]
