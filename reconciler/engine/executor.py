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
"""

from __future__ import annotations

import heapq
import threading
import time
from collections.abc import Callable, Iterable
from concurrent import futures
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from reconciler.engine.backoff import RetryPolicy
from reconciler.engine.graph import ExecNode, Graph, build_graph
from reconciler.engine.outcome import (
    SERVICE_WAIT_REASONS,
    Done,
    Failed,
    Outcome,
    ReasonCode,
    Retry,
    WaitUntil,
    failed_from_exception,
    is_outcome,
)
from reconciler.engine.report import EventKind, ExecEvent, ExecutionReport, NodeResult, NodeStatus


@dataclass(frozen=True, slots=True)
class RunContext:
    """What an action learns about the call: ``attempt`` (1-based, grows only after Retry), ``call``
    (1-based, grows on every call), the ``previous`` outcome (e.g. the WaitUntil it is resuming) and the
    clock's ``now`` when it was started."""

    attempt: int
    call: int
    previous: Outcome | None
    now: datetime


RunAction = Callable[[Any, RunContext], Outcome]
EventSink = Callable[[ExecEvent], None]


def utc_now() -> datetime:
    return datetime.now(UTC)


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
    run = _Run(graph, run_action, clock, on_event or (lambda _e: None), retry or RetryPolicy(), min_requeue)
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
        run.loop(pool, parallelism, sleeper, limit, started, stop, stop_grace, abandon)
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


class _Run:
    """The mutable state of one execution. Touched only by the calling thread; workers just call actions."""

    def __init__(self, graph: Graph, run_action: RunAction, clock, emit: EventSink, policy, min_requeue):
        self.graph = graph
        self.run_action = run_action
        self.clock = clock
        self.emit = emit
        self.policy: RetryPolicy = policy
        self.min_requeue: timedelta = min_requeue
        self.missing = {node_id: len(deps) for node_id, deps in graph.deps.items()}
        self.timers: list[tuple[datetime, str]] = []
        self.attempt = dict.fromkeys(graph.nodes, 1)
        self.calls = dict.fromkeys(graph.nodes, 0)
        self.last: dict[str, Outcome] = {}
        self.first_started: dict[str, datetime] = {}
        self.final: dict[str, NodeResult] = {}
        self.wait_budget: timedelta | None = None  # waits longer than this are handed back
        self.limit: datetime | None = None  # the hard deadline
        self.timed_out = False  # the hard deadline left scheduled work undone
        self.abandoned: set[str] = set()  # calls still running when stop_grace ran out
        self.in_progress_since: dict[str, datetime] = {}  # first of a node's unbroken in-progress answers

    # -- the loop -------------------------------------------------------------------------------------------

    def loop(
        self,
        pool,
        parallelism: int,
        sleeper,
        limit: datetime | None,
        started: datetime,
        stop,
        stop_grace: float | None = None,
        abandon: threading.Event | None = None,
    ) -> None:
        for node_id in self.graph.roots():
            heapq.heappush(self.timers, (started, node_id))
        in_flight: dict[futures.Future[Outcome], str] = {}
        grace_ends: float | None = None  # monotonic time after which in-flight calls are abandoned
        while True:
            now = self.clock()
            stopping = stop is not None and stop.is_set()
            past_limit = (limit is not None and now >= limit) or stopping
            while (
                not past_limit and len(in_flight) < parallelism and self.timers and self.timers[0][0] <= now
            ):
                _, node_id = heapq.heappop(self.timers)
                in_flight[self._submit(pool, node_id, now)] = node_id
            if not in_flight:
                if not self.timers:
                    return
                if past_limit:
                    self.timed_out = not stopping
                    return
                next_due = self.timers[0][0]
                if limit is not None and next_due >= limit:
                    self.timed_out = True
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
                    self.abandoned = set(in_flight.values())
                    return
                timeout = 0.1  # look at the grace and the abandon event often
            elif not past_limit and len(in_flight) < parallelism and self.timers:
                wake = self.timers[0][0] if limit is None else min(self.timers[0][0], limit)
                timeout = max(0.0, (wake - now).total_seconds())
            if stop is not None:
                timeout = 0.2 if timeout is None else min(timeout, 0.2)  # notice a stop while calls run
            finished, _ = futures.wait(in_flight, timeout=timeout, return_when=futures.FIRST_COMPLETED)
            # Handle completions in id order so that what becomes ready next does not depend on thread timing
            # more than it must.
            for future in sorted(finished, key=in_flight.__getitem__):
                self._settle(in_flight.pop(future), future.result())

    def _submit(self, pool, node_id: str, now: datetime) -> futures.Future[Outcome]:
        self.calls[node_id] += 1
        self.first_started.setdefault(node_id, now)
        ctx = RunContext(
            attempt=self.attempt[node_id], call=self.calls[node_id], previous=self.last.get(node_id), now=now
        )
        node = self.graph.nodes[node_id]
        self._event(EventKind.STARTED, node_id, now, attempt=ctx.attempt)
        return pool.submit(_call_safely, self.run_action, node, ctx)

    # -- outcomes -------------------------------------------------------------------------------------------

    def _settle(self, node_id: str, outcome: Outcome) -> None:
        now = self.clock()
        attempt = self.attempt[node_id]
        if getattr(outcome, "reason_code", None) != ReasonCode.IN_PROGRESS:
            self.in_progress_since.pop(node_id, None)
        if isinstance(outcome, Retry) and outcome.reason_code in SERVICE_WAIT_REASONS:
            return self._service_wait(node_id, replace(outcome, attempt=attempt), now)
        if isinstance(outcome, Retry):
            outcome = replace(outcome, attempt=attempt)
            if self.policy.exhausted(attempt):
                why = f"gave up after {attempt} attempts: {outcome.why}"
                self.last[node_id] = outcome
                return self._fail(
                    node_id, Failed(why, "retries_exhausted", ReasonCode.RETRIES_EXHAUSTED), now
                )
            resume = now + self.policy.delay_after(attempt, outcome.after)
            self.attempt[node_id] = attempt + 1
            return self._park(node_id, outcome, resume, EventKind.RETRYING, now)
        self.last[node_id] = outcome
        if isinstance(outcome, WaitUntil):
            resume = max(outcome.at, now + self.min_requeue)
            if self._beyond_budget(resume, now):
                return self._hand_back(node_id, outcome, resume, now)
            return self._park(node_id, outcome, resume, EventKind.WAITING, now)
        if isinstance(outcome, Failed):
            return self._fail(node_id, outcome, now)
        assert isinstance(outcome, Done)
        status = NodeStatus.CHANGED if outcome.changed else NodeStatus.OK
        self._finish(node_id, status, outcome.detail, now)
        self._event(EventKind.DONE, node_id, now, why=outcome.detail, outcome=outcome, attempt=attempt)
        for dependent in self.graph.dependents[node_id]:
            self.missing[dependent] -= 1
            if self.missing[dependent] == 0 and dependent not in self.final:
                heapq.heappush(self.timers, (now, dependent))

    def _service_wait(self, node_id: str, outcome: Retry, now: datetime) -> None:
        """A throttle or another operation's turn: the service said when, so wait exactly that (no backoff
        cap), count no attempt, and hand it back like any wait longer than the run waits. Another operation
        that never seems to end (past the policy's max_in_progress) fails the node instead."""
        self.last[node_id] = outcome
        if outcome.reason_code == ReasonCode.IN_PROGRESS:
            since = self.in_progress_since.setdefault(node_id, now)
            if self.policy.in_progress_too_long(since, now):
                why = f"still refused as in progress after {now - since}: {outcome.why}"
                return self._fail(
                    node_id, Failed(why, "in_progress_too_long", ReasonCode.RETRIES_EXHAUSTED), now
                )
        resume = now + max(outcome.after, self.min_requeue)
        if self._beyond_budget(resume, now):
            return self._hand_back(node_id, outcome, resume, now)
        return self._park(node_id, outcome, resume, EventKind.RETRYING, now)

    def _park(self, node_id: str, outcome: Outcome, resume: datetime, kind: EventKind, now: datetime) -> None:
        self.last[node_id] = outcome
        heapq.heappush(self.timers, (resume, node_id))
        self._event(
            kind,
            node_id,
            now,
            why=outcome.why,
            outcome=outcome,
            attempt=self.attempt[node_id],
            resume_at=resume,
        )

    def _beyond_budget(self, resume: datetime, now: datetime) -> bool:
        return (self.wait_budget is not None and resume > now + max(self.wait_budget, self.min_requeue)) or (
            self.limit is not None and resume >= self.limit
        )

    def _hand_back(self, node_id: str, outcome: WaitUntil | Retry, resume: datetime, now: datetime) -> None:
        """A wait longer than the run will wait: the node ends waiting (its dependents stay pending)."""
        self.final[node_id] = self._result(
            node_id, NodeStatus.WAITING, outcome.why, finished_at=now, resume_at=resume, handed_back=True
        )
        self._event(
            EventKind.HANDED_BACK,
            node_id,
            now,
            why=outcome.why,
            outcome=outcome,
            attempt=self.attempt[node_id],
            resume_at=resume,
        )

    def _fail(self, node_id: str, outcome: Failed, now: datetime) -> None:
        self.last[node_id] = outcome
        self._finish(node_id, NodeStatus.FAILED, outcome.why, now)
        self._event(
            EventKind.FAILED, node_id, now, why=outcome.why, outcome=outcome, attempt=self.attempt[node_id]
        )
        self._skip_dependents(node_id, outcome.why, now)

    def _skip_dependents(self, failed_id: str, why: str, now: datetime) -> None:
        """Skip everything downstream of ``failed_id`` (breadth first, sorted) that has not ended yet.

        Such nodes cannot have been called: each waits on a chain of dependencies through ``failed_id``.
        """
        frontier = [(dep, failed_id) for dep in self.graph.dependents[failed_id]]
        while frontier:
            node_id, via = frontier.pop(0)
            if node_id in self.final:
                continue
            reason = f"dependency {failed_id} failed: {why}"
            if via != failed_id:
                reason = f"dependency {failed_id} failed (via {via}): {why}"
            self._finish(node_id, NodeStatus.SKIPPED, reason, now)
            self._event(EventKind.SKIPPED, node_id, now, why=reason)
            frontier.extend((dep, node_id) for dep in self.graph.dependents[node_id])

    def _finish(self, node_id: str, status: NodeStatus, why: str, now: datetime) -> None:
        self.final[node_id] = self._result(node_id, status, why, finished_at=now)

    def _result(self, node_id: str, status: NodeStatus, why: str, **extra) -> NodeResult:
        return NodeResult(
            id=node_id,
            kind=self.graph.nodes[node_id].kind,
            status=status,
            why=why,
            outcome=self.last.get(node_id),
            attempts=self.attempt[node_id] if self.calls[node_id] else 0,
            calls=self.calls[node_id],
            first_started_at=self.first_started.get(node_id),
            **extra,
        )

    def _event(self, kind: EventKind, node_id: str, at: datetime, **fields) -> None:
        self.emit(
            ExecEvent(kind=kind, node_id=node_id, node_kind=self.graph.nodes[node_id].kind, at=at, **fields)
        )

    # -- the end of a run -------------------------------------------------------------------------------------

    def results(self, stopped: bool) -> dict[str, NodeResult]:
        """Every node's result: final ones as recorded, parked ones waiting, the rest pending."""
        parked = {node_id: due for due, node_id in self.timers}
        out: dict[str, NodeResult] = {}
        for node_id in self.graph.nodes:
            if node_id in self.final:
                out[node_id] = self.final[node_id]
            elif node_id in self.abandoned:
                why = "still running when the apply stopped; the next apply checks it again"
                out[node_id] = self._result(node_id, NodeStatus.WAITING, why, abandoned=True)
            elif node_id in parked and self.calls[node_id]:
                why = getattr(self.last.get(node_id), "why", "")
                out[node_id] = self._result(node_id, NodeStatus.WAITING, why, resume_at=parked[node_id])
            elif node_id in parked:
                why = (
                    "ready, but the run was stopped first"
                    if stopped
                    else "ready, but the deadline came first"
                )
                out[node_id] = self._result(node_id, NodeStatus.PENDING, why)
            else:
                unfinished = tuple(
                    sorted(
                        d
                        for d in self.graph.deps[node_id]
                        if d not in self.final or self.final[d].status is NodeStatus.WAITING
                    )
                )
                out[node_id] = self._result(
                    node_id, NodeStatus.PENDING, "waiting for " + ", ".join(unfinished), blocked_by=unfinished
                )
        return out


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
