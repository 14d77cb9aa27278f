"""The scheduling loop of one execution: start due nodes while slots are free, wait for a call to end or the
next timer to fall due, and decide when the run is over (nothing left, the deadline, a stop and its grace).

Time only advances through ``sleeper`` when nothing is in flight; while calls run, the loop waits for them in
real time, waking for the next timer as the clock sees it.
"""

from __future__ import annotations

import heapq
import threading
import time
from concurrent import futures
from datetime import datetime

from reconciler.engine.graph import ExecNode
from reconciler.engine.outcome import Failed, Outcome, ReasonCode, failed_from_exception, is_outcome
from reconciler.engine.report import EventKind
from reconciler.engine.run_context import RunAction, RunContext
from reconciler.engine.run_state import RunState
from reconciler.engine.settle import settle


def run_loop(
    run: RunState,
    pool: futures.ThreadPoolExecutor,
    parallelism: int,
    sleeper,
    started: datetime,
    stop: threading.Event | None,
    stop_grace: float | None = None,
    abandon: threading.Event | None = None,
) -> None:
    limit = run.limit
    for node_id in run.graph.roots():
        heapq.heappush(run.timers, (started, node_id))
    in_flight: dict[futures.Future[Outcome], str] = {}
    grace_ends: float | None = None  # monotonic time after which in-flight calls are abandoned
    while True:
        now = run.clock()
        stopping = stop is not None and stop.is_set()
        past_limit = (limit is not None and now >= limit) or stopping
        while not past_limit and len(in_flight) < parallelism and run.timers and run.timers[0][0] <= now:
            _, node_id = heapq.heappop(run.timers)
            in_flight[_submit(run, pool, node_id, now)] = node_id
        if not in_flight:
            if not run.timers:
                return
            if past_limit:
                run.timed_out = not stopping
                return
            next_due = run.timers[0][0]
            if limit is not None and next_due >= limit:
                run.timed_out = True
                return  # nothing can happen before the deadline: hand the work to the next cycle
            sleeper(max(0.0, (next_due - now).total_seconds()))
            continue
        timeout = None
        if stopping:
            if grace_ends is None and stop_grace is not None:
                grace_ends = time.monotonic() + stop_grace
            if (abandon is not None and abandon.is_set()) or (
                grace_ends is not None and time.monotonic() >= grace_ends
            ):
                run.abandoned = set(in_flight.values())
                return
            timeout = 0.1  # look at the grace and the abandon event often
        elif not past_limit and len(in_flight) < parallelism and run.timers:
            wake = run.timers[0][0] if limit is None else min(run.timers[0][0], limit)
            timeout = max(0.0, (wake - now).total_seconds())
        if stop is not None:
            timeout = 0.2 if timeout is None else min(timeout, 0.2)  # notice a stop while calls run
        finished, _ = futures.wait(in_flight, timeout=timeout, return_when=futures.FIRST_COMPLETED)
        # Handle completions in id order so that what becomes ready next does not depend on thread timing
        # more than it must.
        for future in sorted(finished, key=in_flight.__getitem__):
            settle(run, in_flight.pop(future), future.result())


def _submit(run: RunState, pool, node_id: str, now: datetime) -> futures.Future[Outcome]:
    run.calls[node_id] += 1
    run.first_started.setdefault(node_id, now)
    ctx = RunContext(
        attempt=run.attempt[node_id], call=run.calls[node_id], previous=run.last.get(node_id), now=now
    )
    node = run.graph.nodes[node_id]
    run.event(EventKind.STARTED, node_id, now, attempt=ctx.attempt)
    return pool.submit(_call_safely, run.run_action, node, ctx)


def _call_safely(run_action: RunAction, node: ExecNode, ctx: RunContext) -> Outcome:
    """Call the action on a worker thread; turn an exception or a non-outcome into Failed so one bad action
    cannot take the whole run down."""
    try:
        outcome = run_action(node, ctx)
    except Exception as exc:  # noqa: BLE001 -- any action error becomes this node's failure, by design
        return failed_from_exception(exc)
    if not is_outcome(outcome):
        return Failed(f"action returned {outcome!r}, not an outcome", "bad_outcome", ReasonCode.BAD_OUTCOME)
    return outcome
