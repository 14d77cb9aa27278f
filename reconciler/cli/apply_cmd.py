"""`reconcile apply`: observe, plan (or load a saved plan and refuse it if stale), confirm, execute, recap.

Apply does all work that is ready, sits through every wait that resumes within ``--wait`` of when it was
asked (default 30m; ``none``, ``forever``) and hands longer ones back: a "pending" section says what resumes
when and why, and how.
``--timeout`` is the hard deadline (nothing starts after it); given alone, it is also the wait budget.

Exit codes: 0 applied, or applied with work pending (outcome ``succeeded`` / ``pending``), or nothing to do;
1 error: invalid desired state, planning errors, a stale plan, the lock held by another apply, refused
confirmation, any failed change (``failed``), or ready work cut short by --timeout (``timed-out``);
2 with ``--detailed-exitcode`` only: applied, but work is pending; 130 interrupted (SIGINT/SIGTERM): in-flight
calls end (at most STOP_GRACE seconds, or a second signal), the history entry and the recap are written.
Every apply that got as far as executing -- or was interrupted before -- appends one history entry with its
true outcome. The store's lock is held from before observing until the history is written.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import threading
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

from reconciler.cli.exits import EXIT_ERROR, EXIT_INTERRUPTED, EXIT_OK, EXIT_PENDING
from reconciler.cli.options import add_azure_connection, fail
from reconciler.model.plan import Plan, PlanFormatError
from reconciler.render import render
from reconciler.render.apply_messages import (
    render_interrupted_again,
    render_interrupted_before_apply,
    render_no_changes,
    render_stale,
    render_stopping,
    render_timed_out,
)
from reconciler.render.cli_messages import error_count
from reconciler.render.progress import Progress
from reconciler.render.recap import render_recap_json, render_recap_text
from reconciler.spec import DesiredStateError, load_desired
from reconciler.spec.durations import parse_duration
from reconciler.store import LocalStore, LockHeld, StoreError

DEFAULT_WAIT = "30m"
STOP_GRACE = 30.0  # real seconds in-flight calls may take to end after SIGINT/SIGTERM


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
        "--wait",
        metavar="DURATION|none|forever",
        help=f"sit through any wait that resumes within this long (server time; default {DEFAULT_WAIT}, or "
        "--timeout when only that is given); a longer wait (a soak, a window) is handed back as pending. "
        "none: hand back every wait; forever: sit through all",
    )
    p.add_argument(
        "--timeout",
        metavar="DURATION",
        help="hard deadline (server time), e.g. 2h: nothing starts after it; ready work it cuts short "
        "makes the apply 'timed-out' (exit 1)",
    )
    p.add_argument(
        "--detailed-exitcode",
        action="store_true",
        help="exit 0 = done, 1 = error, 2 = done, but work is pending (see the recap's pending section)",
    )
    p.add_argument(
        "--commit",
        default=os.environ.get("RECONCILE_GIT_COMMIT"),
        metavar="SHA",
        help="git commit to tag created resources with (default: $RECONCILE_GIT_COMMIT)",
    )
    add_azure_connection(p)
    p.set_defaults(func=run)


def _failed(message: str) -> tuple[int, bool]:
    return fail(message), False


def exit_code(outcome, *, detailed: bool = False) -> int:
    """succeeded 0; pending 0 (2 with --detailed-exitcode); failed and timed-out 1; interrupted 130."""
    value = getattr(outcome, "value", outcome)
    if value == "succeeded":
        return EXIT_OK
    if value == "pending":
        return EXIT_PENDING if detailed else EXIT_OK
    if value == "interrupted":
        return EXIT_INTERRUPTED
    return EXIT_ERROR


def _term_as_interrupt():
    """Until execution starts, SIGTERM interrupts like Ctrl-C (so it, too, is recorded); returns the old
    handler (None when not on the main thread, where handlers cannot be installed)."""
    if threading.current_thread() is not threading.main_thread():
        return None

    def interrupt(_signum, _frame):
        raise KeyboardInterrupt

    return signal.signal(signal.SIGTERM, interrupt)


def _say(text: str) -> None:
    sys.stderr.write(text)
    sys.stderr.flush()


@contextmanager
def _signals_stop(stop: threading.Event, abandon: threading.Event):
    """While executing, SIGINT/SIGTERM stop scheduling (first signal) and stop waiting for in-flight calls
    (second signal); the previous handlers come back afterwards. Only the main thread can install them."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handle(signum, _frame) -> None:
        if stop.is_set():
            abandon.set()
            _say(render_interrupted_again())
            return
        stop.set()
        _say(render_stopping(signal.Signals(signum).name, STOP_GRACE))

    previous = {sig: signal.signal(sig, handle) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def run(args: argparse.Namespace) -> int:
    interactive = sys.stdin.isatty()
    if not args.auto_approve and not interactive:
        return fail(
            "refusing to apply without --auto-approve: standard input is not a terminal to confirm on"
        )
    if args.parallelism < 1:
        return fail("--parallelism must be at least 1")
    timeout = None
    if args.timeout:
        try:
            timeout = parse_duration(args.timeout)
        except ValueError as exc:
            return fail(f"--timeout: {exc}")
    try:
        wait = parse_wait(args.wait, timeout)
    except ValueError as exc:
        return fail(f"--wait: {exc}")
    desired, saved = None, None
    if args.planfile:
        try:
            saved = Plan.from_dict(json.loads(Path(args.planfile).read_text(encoding="utf-8")))
        except (OSError, ValueError, KeyError, PlanFormatError) as exc:
            return fail(f"cannot read plan {args.planfile}: {exc}")
    else:
        try:
            desired = load_desired(args.desired)
        except DesiredStateError as exc:
            sys.stderr.write("".join(f"{error}\n" for error in exc.errors))
            return fail(error_count(len(exc.errors), args.desired))
    store = LocalStore(args.state)
    try:
        lease = store.acquire("apply", owner="reconcile apply")
    except LockHeld as exc:
        return fail(f"another apply is running: {exc}")
    except StoreError as exc:
        return fail(f"state store {args.state}: {exc}")
    exit_now = False
    previous_term = _term_as_interrupt()
    try:
        code, exit_now = _locked(args, store, desired, saved, wait, timeout, interactive)
        return code
    finally:
        if previous_term is not None:
            signal.signal(signal.SIGTERM, previous_term)
        store.release(lease)
        if exit_now:
            # Calls abandoned after a stop are still running on worker threads; the history and the recap are
            # written, so end now instead of waiting for them (like a crash, which the next apply heals).
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(EXIT_INTERRUPTED)


def parse_wait(value: str | None, timeout: timedelta | None) -> timedelta | None:
    """``--wait``: a duration, ``none`` (0) or ``forever`` (None). Unset: 30m, or the --timeout alone."""
    if value is None:
        return timeout if timeout is not None else parse_duration(DEFAULT_WAIT)
    word = value.strip().lower()
    if word == "none":
        return timedelta(0)
    if word == "forever":
        return None
    try:
        return parse_duration(word)
    except ValueError:
        raise ValueError(
            f"expected a duration such as 30m or 2h, or none, or forever; got {value!r}"
        ) from None


def _locked(args, store, desired, saved, wait, timeout, interactive) -> tuple[int, bool]:
    """Observe, plan, confirm, execute, record, print (exit code, whether abandoned calls still run)."""
    source = args.planfile or args.desired
    try:
        return _observe_plan_execute(args, store, desired, saved, wait, timeout, interactive)
    except KeyboardInterrupt:
        # Interrupted before executing (observing, planning, asking): nothing was written; say so in the history.
        from reconciler.engine.apply import RunOutcome, record

        now = datetime.now(UTC)
        record(
            store,
            None,
            None,
            source=source,
            commit=args.commit,
            outcome=RunOutcome.INTERRUPTED,
            finished_at=now,
            note="interrupted before executing: nothing was written",
        )
        sys.stderr.write(render_interrupted_before_apply())
        return EXIT_INTERRUPTED, False


def _observe_plan_execute(args, store, desired, saved, wait, timeout, interactive) -> tuple[int, bool]:
    logging.getLogger("azure").setLevel(logging.ERROR)
    from reconciler.azure.connection import Connection, ConnectionSettings, describe_error
    from reconciler.engine.apply import record
    from reconciler.engine.reconcile import Reconciler, subscriptions_of_desired
    from reconciler.engine.stale import stale_reasons, subscriptions_of
    from reconciler.planner.limit import LimitError, desired_addresses, limit_plan

    settings = ConnectionSettings.from_env(arm_endpoint=args.arm_endpoint, ca_bundle=args.ca_bundle)
    with Connection(settings) as conn:
        reconciler = Reconciler(conn, store, commit=args.commit, parallelism=args.parallelism)
        subs = subscriptions_of(saved) if saved is not None else subscriptions_of_desired(desired)
        try:
            observed = reconciler.observe(subs, desired=desired)
        except Exception as exc:  # noqa: BLE001 -- one clean line, never a traceback
            return _failed(describe_error(exc))
        if saved is not None:
            reasons = stale_reasons(saved, observed)
            if reasons:
                sys.stderr.write(render_stale(reasons, args.planfile))
                return EXIT_ERROR, False
            the_plan = saved
        else:
            the_plan = reconciler.plan(desired, observed)
        if args.limit:
            try:
                the_plan = limit_plan(
                    the_plan, args.limit, None if desired is None else desired_addresses(desired)
                )
            except LimitError as exc:
                return _failed(str(exc))
        if the_plan.has_errors:
            sys.stderr.write(render(the_plan, "text"))
            return _failed("the plan has errors; nothing was applied")
        if not the_plan.has_changes:
            sys.stdout.write(render_no_changes())
            return EXIT_OK, False
        if not args.auto_approve:
            sys.stdout.write(render(the_plan, "text"))
            answer = input("\nApply these changes? Only 'yes' is accepted: ").strip()
            if answer != "yes":
                return _failed("apply cancelled")
        subs = subs or list(observed.scope.subscription_ids[:1])
        progress = Progress(sys.stderr, sys.stderr.isatty())
        stop, abandon = threading.Event(), threading.Event()
        with _signals_stop(stop, abandon):
            result = reconciler.apply(
                the_plan,
                subs,
                wait=wait,
                timeout=timeout,
                on_event=progress,
                stop=stop,
                stop_grace=STOP_GRACE,
                abandon=abandon,
            )
            progress.close()
            record(store, the_plan, result, source=args.planfile or args.desired, commit=args.commit)
            recap = result.recap()
            if args.output == "json":
                sys.stdout.write(
                    render_recap_json(recap, plan_summary=the_plan.summary(), outcome=recap["outcome"])
                )
            else:
                sys.stdout.write(render_recap_text(recap))
            sys.stdout.flush()
    if recap["outcome"] == "timed-out":
        sys.stderr.write(render_timed_out())
    return exit_code(result.outcome, detailed=args.detailed_exitcode), bool(result.report.abandoned)


__all__ = ["register", "run"]
