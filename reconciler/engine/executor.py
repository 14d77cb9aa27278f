"""Run a dependency graph of actions with bounded concurrency, honouring each action's outcome.

Semantics (the invariants the tests hold us to):

- A node is called only when every dependency ended Done, never before.
- At most ``parallelism`` actions run at once (a thread pool; actions do I/O, not CPU work).
- ``WaitUntil(at)`` parks the node on a timer and frees its slot: independent work runs meanwhile, and the
  node is called again at ``at`` (not earlier than ``min_requeue`` after its last call, so an action that
  keeps answering "now" cannot spin).
- ``Retry(after)`` parks the node for a bounded exponential backoff (see :mod:`.backoff`); after
  ``retry.max_attempts`` it ends Failed with ``error_code="retries_exhausted"``. A Retry the service asked
  for (``throttled``, ``in-progress``, ``not-yet-visible``) is a wait instead: exactly ``after``, uncounted,
  handed back beyond ``wait_budget``.
- ``Failed`` (or an exception, or a return that is not an outcome) ends the node; its dependents, direct and
  transitive, end Skipped naming the failed dependency. Independent branches go on.
- ``wait_budget`` is the longest single wait the run sits through (``reconcile apply --wait``). A WaitUntil
  that resumes more than ``wait_budget`` after it was answered (or at/after the hard deadline) is **handed
  back** at once: the node ends ``waiting`` with its ``resume_at`` and ``why``, its dependents end
  ``pending``, and the run returns as soon as nothing else is ready or due. A shorter wait (an operation
  polled every minute, a 20-minute drain grace) is waited for, as often as it comes: the total is bounded by
  the hard deadline only. Retry backoffs are not waits: the retry policy bounds them. ``None`` waits for
  everything (``--wait forever``); ``timedelta(0)`` hands back every wait (``--wait none``).
- With a ``deadline`` (or ``max_wait``: a hard limit relative to the start), no action starts after it and the
  run returns as soon as nothing is in flight: what was still scheduled before it (ready, retrying) comes
  back ``waiting``/``pending`` and the report says ``timed_out``. A run never blocks for hours.
- ``stop`` (SIGINT/SIGTERM, a lost lease) acts like a deadline reached now; in-flight calls may end within
  ``stop_grace`` real seconds (None: unbounded), or until ``abandon`` is set; the calls still running then
  are abandoned (their threads are not waited for) and reported ``waiting`` with ``abandoned=True``.
- Ready nodes start in (due time, id) order, so a run with ``parallelism=1`` on a fake clock is exactly
  reproducible.

Time is injected: ``clock()`` returns an aware datetime and ``sleeper(seconds)`` waits. Time only advances
through ``sleeper`` when nothing is in flight, so with a fake clock a run over simulated hours takes
milliseconds. While actions are in flight the executor waits for them in real time, waking for the next timer
as the clock sees it; so under a fake clock actions should return promptly. Events are delivered on the
calling thread.

The pieces: :mod:`.run_loop` schedules (slots, timers, deadline, stop), :mod:`.settle` turns an outcome into
the node's next state, :mod:`.run_state` keeps the book and gives every node its result at the end;
:mod:`.run_context` is what an action is called with.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from concurrent import futures
from datetime import datetime, timedelta

from reconciler.engine.backoff import RetryPolicy
from reconciler.engine.graph import ExecNode, build_graph
from reconciler.engine.report import ExecutionReport
from reconciler.engine.run_context import EventSink, RunAction, RunContext, utc_now
from reconciler.engine.run_loop import run_loop
from reconciler.engine.run_state import RunState


def execute(
    nodes: Iterable[ExecNode],
    run_action: RunAction,
    *,
    parallelism: int = 4,
    clock: Callable[[], datetime] = utc_now,
    sleeper: Callable[[float], object] | None = None,
    on_event: EventSink | None = None,
    retry: RetryPolicy | None = None,
    deadline: datetime | None = None,
    max_wait: timedelta | None = None,
    min_requeue: timedelta = timedelta(seconds=1),
    stop: threading.Event | None = None,
    wait_budget: timedelta | None = None,
    stop_grace: float | None = None,
    abandon: threading.Event | None = None,
) -> ExecutionReport:
    """Execute ``nodes`` (validated first: raises GraphError) and return one result per node.

    ``stop`` (set by a SIGTERM handler, or when the leader lease is lost) acts like a deadline reached now:
    nothing new starts, in-flight actions finish, the rest comes back waiting/pending. Without an explicit
    ``sleeper``, waits sleep on ``stop`` so that setting it wakes the run at once.
    """
    if parallelism < 1:
        raise ValueError(f"parallelism must be at least 1, got {parallelism}")
    graph = build_graph(nodes)
    run = RunState(
        graph, run_action, clock, on_event or (lambda _e: None), retry or RetryPolicy(), min_requeue
    )
    started = clock()
    limit = deadline
    if max_wait is not None:
        limit = started + max_wait if limit is None else min(limit, started + max_wait)
    run.wait_budget = None if wait_budget is None else max(wait_budget, timedelta(0))
    run.limit = limit
    if sleeper is None:
        sleeper = stop.wait if stop is not None else time.sleep
    pool = futures.ThreadPoolExecutor(max_workers=parallelism, thread_name_prefix="reconcile-action")
    try:
        run_loop(run, pool, parallelism, sleeper, started, stop, stop_grace, abandon)
    finally:
        # Abandoned calls (stop_grace over) are not waited for; everything else has ended already.
        pool.shutdown(wait=not run.abandoned, cancel_futures=True)
    stopped = stop is not None and stop.is_set()
    return ExecutionReport(
        results=run.results(stopped),
        started_at=started,
        finished_at=clock(),
        deadline=limit,
        stopped=stopped,
        timed_out=run.timed_out and not stopped,
        wait_budget=run.wait_budget,
        abandoned=tuple(sorted(run.abandoned)),
    )


__all__ = ["EventSink", "RunAction", "RunContext", "execute", "utc_now"]
