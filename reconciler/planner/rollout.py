"""Rollout previews read off the simulated timeline of apply's own `decide()` — pure.

There is no second algorithm here: `reconciler.planner.timeline.simulate_rollout` runs `decide()` cycle by
cycle; this module only summarises what it did, for the plan: the first cycle's writes (what apply does now),
the waves of retirements (batches), capacity against the floor, the peak VM count, and totals.

Invariants (property-tested in tests/planner/test_rollout_properties.py against the simulated timeline):
- Available capacity never drops below the floor because of a retirement (it may start below it, e.g. while
  a fresh pool provisions);
- the pool never holds more than `count + surge` VMs because of a creation.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from reconciler.model.rollout import TOTALS, BatchPreview, HostRef, RolloutPreview
from reconciler.planner.host_inputs import PoolInputs
from reconciler.planner.host_steps import RetireReason, Step, StepOp
from reconciler.planner.timeline import Timeline


def step_summary(step: Step, leaf=lambda v: v) -> dict[str, Any]:
    """One write as the plan lists it: op, host and, for a create, the version (and whom it replaces)."""
    out: dict[str, Any] = {"op": str(step.op), "host": step.host}
    op, data = step.op, step.data
    if op is StepOp.CREATE:
        out["version"] = leaf(data.version)
        if data.replaces:
            out["replaces"] = data.replaces
    elif op is StepOp.RETIRE:
        out["reason"] = str(data.reason)
        out["drains"] = bool(data.session_host)  # a registered host is drained first
    elif op in (StepOp.MESSAGE, StepOp.LOGOFF):
        out["sessions"] = len(data.sessions)
    elif op is StepOp.REMOVE:
        out["why"] = str(data.why)
    elif op is StepOp.ACCEPT:
        out["version"] = leaf(data.version)
        out["tests"] = [t.name for t in data.tests]
        if data.test_vm is not None:
            out["test_vm"] = data.test_vm.to_json()
    elif op is StepOp.DELETE_TEST_VM:
        out["version"] = leaf(data.version)
        out["reason"] = data.reason
    elif op is StepOp.RECORD_ACCEPTANCE:
        out["version"] = leaf(data.version)
        out["verdict"] = str(data.verdict.state)
    return out


# The ops the loops below test for every step of every simulated cycle, as module names (`StepOp.X` is a
# metaclass attribute lookup on CPython 3.11, several times a global's cost).
_CREATE, _RETIRE, _DRAIN = StepOp.CREATE, StepOp.RETIRE, StepOp.DRAIN
_REMOVE, _MESSAGE, _LOGOFF = StepOp.REMOVE, StepOp.MESSAGE, StepOp.LOGOFF
_REPLACED = RetireReason.REPLACED


@dataclass(frozen=True)
class TimelineWalk:
    """What the plan reads off a simulated timeline, gathered in one pass over its cycles: a rollout simulates
    hundreds, and the preview, the totals and the change's `simulation` all read them.

    `totals`: every write of the simulated rollout, counted: hosts created, replaced, deleted (VMs removed),
    drained (hosts put in drain), user sessions messaged (distinct) and messages sent (a session is reminded
    as the deadline nears), sessions logged off. `waves`: (cycle index, lowest Available, peak VMs) of each
    cycle that retires hosts, the two counts over its span (up to the next such cycle, or the end).
    `lowest_available`: the lowest Available count once the pool has reached its floor (a pool that starts
    below it, a new pool or a count-up, is not "below the floor" while it grows: that is the gap the floor rule
    guards, not ours); the plain lowest if it never reaches it."""

    totals: dict[str, int]
    waves: tuple[tuple[int, int, int], ...]
    lowest_available: int | None
    peak_vms: int | None
    last_write_at: datetime | None


def walk(timeline: Timeline, floor: int = 0) -> TimelineWalk:
    """Every figure of TimelineWalk in one pass; `floor` (hosts) is the one `lowest_available` counts from."""
    created = replaced = deleted = messages = logged_off = 0
    drained: set[str] = set()
    messaged: set[str] = set()
    waves: list[list[int]] = []
    span: list[int] | None = None  # the open wave: [cycle index, lowest Available, peak VMs]
    lowest = lowest_all = peak = last_write = None
    for i, cycle in enumerate(timeline.cycles):
        available, total = cycle.available, cycle.total
        retires = False
        if cycle.steps:
            last_write = cycle.at
            for s in cycle.steps:
                op = s.op
                if op is _CREATE:
                    created += 1
                elif op is _RETIRE:
                    retires = True
                    replaced += s.data.reason is _REPLACED
                    if s.data.session_host:
                        drained.add(s.host or "")
                elif op is _DRAIN:
                    drained.add(s.host or "")
                elif op is _REMOVE:
                    deleted += 1
                elif op is _MESSAGE:
                    messages += len(s.data.sessions)
                    messaged.update(s.data.sessions)
                elif op is _LOGOFF:
                    logged_off += len(s.data.sessions)
        if retires:
            span = [i, available, total]
            waves.append(span)
        elif span is not None:
            if available < span[1]:
                span[1] = available
            if total > span[2]:
                span[2] = total
        if peak is None or total > peak:
            peak = total
        if lowest_all is None or available < lowest_all:
            lowest_all = available
        if lowest is None:
            if available >= floor:
                lowest = available
        elif available < lowest:
            lowest = available
    values = (created, replaced, deleted, len(drained), len(messaged), messages, logged_off)
    return TimelineWalk(
        totals=dict(zip(TOTALS, values, strict=True)),
        waves=tuple((i, low, top) for i, low, top in waves),
        lowest_available=lowest if lowest is not None else lowest_all,
        peak_vms=peak,
        last_write_at=last_write,
    )


def batches_of(
    inputs: PoolInputs, timeline: Timeline, walked: TimelineWalk, leaf=lambda v: v
) -> tuple[BatchPreview, ...]:
    """One batch per simulated cycle that retired hosts (`walked`: the timeline's walk)."""
    views = {h.name: h for h in inputs.hosts}
    waves = walked.waves
    out = []
    for n, (i, lowest, peak) in enumerate(waves):
        cycle = timeline.cycles[i]
        before = timeline.cycles[i - 1].available if i else _available(inputs)
        refs = []
        reasons = set()
        for s in (s for s in cycle.steps if s.op is _RETIRE):
            h = views.get(s.host or "")
            sessions = len(h.sessions) if h else 0
            version = leaf(h.version) if h and h.version else None
            refs.append(HostRef(s.host or "", version, sessions, (h.status if h else None) or "new"))
            reasons.add(str(s.data.reason))
        out.append(
            BatchPreview(
                index=n + 1,
                hosts=tuple(refs),
                sessions_affected=sum(r.sessions for r in refs),
                available_before=before,
                available_min=lowest,
                peak_total=peak,
                at=cycle.at.isoformat(),
                reason="/".join(sorted(reasons)),
            )
        )
    return tuple(out)


def _available(inputs: PoolInputs) -> int:
    return sum(1 for h in inputs.hosts if h.accepting_available and not h.deleting)


def preview_of(
    inputs: PoolInputs,
    timeline: Timeline,
    *,
    to_version: str,
    window: tuple[datetime, datetime] | None = None,
    gate: dict[str, Any] | None = None,
    blocked: tuple[str, ...] = (),
    leaf=lambda v: v,
    acceptance: dict[str, Any] | None = None,
    walked: TimelineWalk,
) -> RolloutPreview:
    """The plan's preview of one pool from its simulated timeline (see RolloutPreview for the fields).
    `walked`: `walk(timeline, policy.floor_hosts)`."""
    pol = inputs.policy
    first = timeline.first
    from_versions = tuple(
        sorted(
            {leaf(h.version) if h.version else "unknown" for h in inputs.hosts if h.version != inputs.target}
        )
    )
    end_why = timeline.why
    return RolloutPreview(
        pool_id=inputs.pool_id,
        pool=inputs.pool,
        from_versions=from_versions,
        to_version=to_version,
        strategy=pol.strategy,
        batch_size=pol.batch,
        surge=pol.surge,
        floor_percent=pol.floor_percent,
        floor_hosts=pol.floor_hosts,
        target_count=pol.count,
        batches=batches_of(inputs, timeline, walked, leaf),
        window_start=window[0].isoformat() if window else None,
        window_end=window[1].isoformat() if window else None,
        gate=dict(gate or {}),
        blocked=tuple(blocked),
        now=tuple(step_summary(s, leaf) for s in (first.steps if first else ())),
        totals=walked.totals,
        min_available=walked.lowest_available,
        peak_vms=walked.peak_vms,
        end=timeline.end,
        end_why=end_why,
        finished_at=timeline.finished_at.isoformat() if timeline.finished_at else None,
        assumptions=timeline.assumptions,
        acceptance=dict(acceptance or {}),
    )
