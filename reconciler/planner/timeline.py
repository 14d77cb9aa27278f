"""The rollout preview: run apply's own `decide()` over a simulated timeline — pure, no I/O, no clock.

`simulate_rollout(inputs, durations)` calls `decide(inputs)` (cycle 1 is exactly what apply's first cycle does
from the same observation), applies each Decision's steps to the host views the way Azure and the engine
would (a created VM provisions, then its extensions run, then its session host registers Available; a retired
host drains, its users are messaged and, after the grace, signed out; a removed VM is deleted), moves the
simulated clock to the next moment something can change (the times the decision names, the modelled
completions, and right after a write that may enable more: `_next`), and decides again, until the pool
converges, halts, or the bound is reached. There is no second algorithm to drift: order,
floor, surge, windows and gates are whatever `decide()` does. The simulated pool and what the steps and
Azure's completions do to it are planner/timeline_world.py; this module runs the cycles and picks when the
next one is.

What is modelled, not observed: how long Azure takes (`Durations`), that every new host comes up healthy,
that users stay signed in until logged off (the pessimistic case: every logoff the policy allows happens;
with forceLogoff false they are assumed to leave `Durations.sign_out` after the grace),
and, when the pool waits for something outside it (replication, a ring gate on another pool), when that ends
(`ready_at`, `gate_opens_at`; unknown → the simulation stops there and says why).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum

from reconciler.model.acceptance import Acceptance, AcceptanceState
from reconciler.planner.host_inputs import PoolInputs
from reconciler.planner.host_steps import (
    POLL,
    Decision,
    DecisionMode,
    DecisionState,
    Step,
    StepOp,
    may_enable_more,
)
from reconciler.planner.hosts import decide
from reconciler.planner.timeline_world import (
    Completion,
    World,
    apply_steps,
    complete,
    copy_of,
    fields_only,
    sign_out_later,
)

__all__ = ["Completion", "Cycle", "Durations", "Timeline", "TimelineEnd", "simulate_rollout"]


@dataclass(frozen=True)
class Durations:
    """How long Azure takes, as the simulation models it. Defaults are typical Azure figures (and close to
    the sandbox's defaults): a VM create ~4 min, each extension ~2 min, an agent registering ~10 min, a VM
    delete ~1.5 min. They set the preview's times; which writes happen depends on them only where timing
    decides (a replacement up before a window closes, a host deleted before the next batch needs room)."""

    create: timedelta = timedelta(minutes=4)  # VM PUT until provisioningState Succeeded
    extension: timedelta = timedelta(minutes=2)  # extension PUT until Succeeded (join; the agent: + register)
    register: timedelta = timedelta(minutes=10)  # agent Succeeded until the session host is Available
    delete: timedelta = timedelta(seconds=90)  # VM DELETE until it is gone
    # forceLogoff false: users are assumed to sign out on their own this long after the drain grace ends
    # (None: they never do, and the simulation stops there). With forceLogoff they stay until logged off.
    sign_out: timedelta | None = timedelta(hours=2)
    max_cycles: int = 1000  # bound on decide() calls per pool
    horizon: timedelta = timedelta(days=60)  # bound on simulated time


DEFAULT_DURATIONS = Durations()


@dataclass(frozen=True)
class Cycle:
    """One simulated apply cycle: when, what `decide()` returned, and the pool right after its steps."""

    at: datetime
    steps: tuple[Step, ...]
    mode: DecisionMode
    state: DecisionState
    available: int  # Available-and-accepting hosts once the steps are done (the low point of the cycle)
    total: int  # VMs that exist (deleting ones included: they count toward count + surge)
    next_check: tuple[datetime, str] | None


_SECOND = timedelta(seconds=1)
_object_new = object.__new__
# Read every simulated cycle: as module names, not `Enum.X` (a metaclass attribute lookup on CPython 3.11).
_CONVERGED, _HALTED = DecisionState.CONVERGED, DecisionState.HALTED
_WAITING_REPLICATION, _GATED = DecisionMode.WAITING_REPLICATION, DecisionMode.GATED


class TimelineEnd(StrEnum):
    CONVERGED = "converged"
    HALTED = "halted"
    BLOCKED = "blocked"  # waits for something outside the pool with no assumed end
    BOUND = "bound"  # the cycle or time bound was reached


@dataclass(frozen=True)
class Timeline:
    cycles: tuple[Cycle, ...]
    end: TimelineEnd
    why: str = ""  # for blocked / bound: what it waits for
    assumptions: tuple[str, ...] = ()

    @property
    def first(self) -> Cycle | None:
        return self.cycles[0] if self.cycles else None

    @property
    def finished_at(self) -> datetime | None:
        return self.cycles[-1].at if self.cycles else None


def simulate_rollout(
    inputs: PoolInputs,
    durations: Durations = DEFAULT_DURATIONS,
    *,
    ready_at: datetime | None = None,
    gate_opens_at: datetime | None = None,
    window_at=None,
    incremental: bool = True,
) -> Timeline:
    """The whole rollout of one pool as apply would run it from `inputs` (see the module docstring).

    `ready_at`: when the pinned version is assumed replicated if `inputs` says it is not (None: unknown).
    `gate_opens_at`: when the ring gate is assumed satisfied if it is not (None: unknown, or `gate_until`).
    `window_at(now) -> (open, next opening)`: the maintenance windows as a function of time (pure); without
    it the window state of `inputs` is kept for the whole simulation.
    `incremental=False` rebuilds the hosts' index every cycle (the reference the tests compare against).
    """
    world = World(inputs, incremental)
    now = inputs.now
    # The simulation's own pool, which every cycle moves on in place (_at). Its used names are every name seen
    # so far (apply never reuses one while it exists): the world's one set, which grows as hosts are created.
    p = copy_of(inputs, used_names=world.used)
    cycles: list[Cycle] = []
    assumptions: list[str] = []
    gate_opens = gate_opens_at or inputs.gate_until
    if not inputs.target_ready and ready_at is not None:
        assumptions.append(f"the version is replicated by {ready_at.isoformat()}")
    if not inputs.gate_ok and gate_opens_at is not None:
        assumptions.append(f"the ring gate opens at {gate_opens_at.isoformat()}")
    acc = inputs.acceptance
    if acc is not None and acc.runs_here and not acc.settled:
        # The simulated hosts report no health checks: assume they pass, and that the tests pass in the sum
        # of their timeouts (a failure is not foreseeable; apply would then quarantine the version).
        p = copy_of(p, acceptance=replace(acc, assume_checks=True))
        minutes = int(acc.plan.expected.total_seconds() // 60)
        assumptions.append(
            f"acceptance passes: health checks succeed and the tests take {minutes} min (the sum of their timeouts)"
        )
    if not inputs.policy.force_logoff and durations.sign_out is not None:
        for h in inputs.hosts:
            if h.retiring and h.sessions:
                sign_out_later(world, h, max(now, (h.drain_at or now) + inputs.policy.drain_grace), durations)
    end, why = TimelineEnd.BOUND, "the simulation bound was reached"
    last = inputs.now + durations.horizon
    events = world.events  # (due, vm, what), a heap
    for _ in range(durations.max_cycles):
        p = _at(p, world, now, ready_at, gate_opens, window_at)
        d = decide(p, world.index_for(p))
        if d.steps:  # half the simulated cycles write nothing
            p = apply_steps(d, p, world, now, durations)
        available, total = world.counts()
        # A Cycle without its frozen __init__ (which sets field by field): one per simulated cycle.
        cycle = _object_new(Cycle)
        check = _next_check(d.waits)
        cycle.__dict__.update(
            at=now,
            steps=tuple(d.steps),
            mode=d.mode,
            state=d.state,
            available=available,
            total=total,
            next_check=check,
        )
        cycles.append(cycle)
        if (d.state is _CONVERGED or d.state is _HALTED) and not events:
            end, why = TimelineEnd(d.state), ""
            break
        nxt = _next(d, check, p, world, now, ready_at, gate_opens)
        if nxt is None:
            end, why = TimelineEnd.BLOCKED, _why(d)
            break
        if nxt > last:  # nxt - inputs.now > horizon
            why = f"past the simulation horizon ({durations.horizon.days} days): {_why(d)}"
            break
        now = nxt
        if events and events[0][0] <= now:  # (most cycles: nothing is due)
            complete(world, now)
    return Timeline(tuple(cycles), end, why, tuple(assumptions) + tuple(sorted(world.assumed)))


def _why(d: Decision) -> str:
    """The first reason the decision gives (notes first), and how many more there are."""
    reasons = list(d.notes) or [(d.next_check or (None, "waits"))[1]]
    return reasons[0] + (f" (and {len(reasons) - 1} more)" if len(reasons) > 1 else "")


def _next(
    d: Decision,
    check: tuple[datetime, str] | None,
    p: PoolInputs,
    world: World,
    now: datetime,
    ready_at,
    gate_opens,
) -> datetime | None:
    """When to decide again (`check`: the decision's earliest wait). After steps that may enable more
    (host_steps.may_enable_more): at the earliest of that and Azure's next completion (apply polls again).
    After none, or only inert ones (a create, an extension, a delete, a message): nothing changes
    until Azure finishes something (an event), a time the decision named passes (`Decision.wait`: a deadline,
    a message due, a window, a soak) or an assumed end (replication, a gate) — its polls (`Decision.poll`:
    for Azure, users or a verdict) are skipped, as nothing in the model moves between them but its events.
    Nothing left: None (blocked).
    """
    event = world.events[0][0] if world.events else None  # only the earliest matters below
    if d.steps and may_enable_more(d.steps) and not _only_running_acceptance(d, world):
        # As apply: look again at the earliest wait, even one due now (a second later, as the test driver
        # and a real cycle's own duration would).
        soonest = event if check is None else _sooner(event, check[0])
        if soonest is None:
            return now + POLL
        later = now + _SECOND
        return soonest if soonest >= later else later  # max(soonest, later)
    if event is None:
        if (d.mode is _WAITING_REPLICATION and ready_at is None) or (d.mode is _GATED and gate_opens is None):
            return None  # waits for something outside the pool with no assumed end: apply waits there too
        if _users_only(d, p, world):
            # users who are never logged off (forceLogoff false) keep the host: the model ends here
            return None
    soonest = None
    for at in d.named:  # the polls (Decision.poll) are skipped: nothing in the model moves between them
        if at > now:
            soonest = _sooner(soonest, at)
    if event is not None:
        soonest = _sooner(soonest, event)
    if not p.target_ready and ready_at is not None and ready_at > now:
        soonest = _sooner(soonest, ready_at)
    if not p.gate_ok and gate_opens is not None and gate_opens > now:
        soonest = _sooner(soonest, gate_opens)
    return soonest


def _sooner(soonest: datetime | None, at: datetime) -> datetime:
    """A running min() without a list per cycle: `at` if it is earlier (so the first of equals stays)."""
    return at if soonest is None or at < soonest else soonest


def _only_running_acceptance(d: Decision, world: World) -> bool:
    """The decision's one step asks again for the acceptance already running (apply adopts its run
    commands): nothing new happens until the tests finish, an event."""
    return world.accepting is not None and all(s.op is StepOp.ACCEPT for s in d.steps)


def _users_only(d: Decision, p: PoolInputs, world: World) -> bool:
    """Only retiring hosts whose grace has passed wait, for users the policy never logs off."""
    if p.policy.force_logoff:
        return False
    # Quiet hosts are established and not retiring: only the busy ones can answer either question.
    hosts = world.index.busy() if world.index is not None else p.hosts
    retiring = [h for h in hosts if h.retiring and h.sessions and not h.deleting]
    return (
        bool(retiring)
        and all((h.drain_at or p.now) + p.policy.drain_grace <= p.now for h in retiring)
        and not any(h for h in hosts if not h.established and not h.deleting)
    )


def _at(p: PoolInputs, world: World, now: datetime, ready_at, gate_opens, window_at) -> PoolInputs:
    """The pool as the cycle at `now` sees it: `p` itself, changed in place. It is the simulation's own copy
    (simulate_rollout copies the caller's first), which nothing holds beyond the cycle that read it."""
    fields = fields_only(p).__dict__
    fields["now"], fields["hosts"] = now, world.live()
    if not p.target_ready and ready_at is not None and now >= ready_at:
        fields.update(target_ready=True, target_why="")
    if not p.gate_ok and gate_opens is not None and now >= gate_opens:
        fields.update(gate_ok=True, gate_until=None, gate_why="")
    if window_at is not None:
        fields["window_open"], fields["next_window"] = window_at(now)
    if world.accepted is not None and p.acceptance is not None and not p.acceptance.settled:
        at, host = world.accepted
        verdict = Acceptance(AcceptanceState.PASSED, at.isoformat(), host)
        fields["acceptance"] = replace(p.acceptance, verdict=verdict)
    return p


def _next_check(waits: list[tuple[datetime, str]]) -> tuple[datetime, str] | None:
    """Decision.next_check: the earliest wait (the first of equals), or None. A loop, not min(key=...): a
    decision has two or three waits, and a key function call per wait costs more than the comparisons."""
    if not waits:
        return None
    best = waits[0]
    for wait in waits:
        if wait[0] < best[0]:
            best = wait
    return best
