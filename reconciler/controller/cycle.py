"""One reconcile cycle as the loop sees it: what goes in, what comes out.

The loop (``loop.py``) knows nothing of Azure: it hands a :class:`CycleInput` to a ``Cycle`` callable and
turns the :class:`CycleResult` into status, metrics, logs and notifications. The production cycle
(``engine_cycle.py``) observes, plans and executes through the same apply path as ``reconcile apply``;
tests may pass any callable.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from reconciler.model.conditions import ConditionSet


@dataclass(frozen=True)
class CycleInput:
    desired: Any  # reconciler.spec.DesiredState (validated, resolved)
    commit: str
    dry_run: bool  # observe and plan only; never write
    suspended: bool  # Settings says suspend: same as dry_run, reported differently
    suspended_pools: frozenset[str]  # host pools whose writes are paused (by name)
    stop: threading.Event  # set on SIGTERM or when leadership is lost: start nothing new
    previous_conditions: ConditionSet = ()  # the last cycle's, so an unchanged status keeps its transition time
    release: bool = False  # `run --release`: the plan's due builds come back in the result


@dataclass
class CycleResult:
    """``ok``: nothing failed (waiting rollouts are fine). ``error``: why not, one line, no secret."""

    ok: bool
    error: str | None = None
    wrote: bool = False
    stopped: bool = False
    drift: Mapping[str, int] = field(default_factory=dict)  # changes pending by kind (from the plan)
    actions: Mapping[tuple[str, str], int] = field(default_factory=dict)  # (kind, result) -> count
    arm_requests: Mapping[tuple[str, str], int] = field(default_factory=dict)  # (method, status) -> count
    arm_reads: int = 0
    arm_writes: int = 0
    throttled: int = 0
    hosts: Mapping[tuple[str, str], int] = field(default_factory=dict)  # (pool, version) -> count
    rollout_batches: Mapping[str, int] = field(default_factory=dict)  # pool -> batches the plan still has
    quarantined: tuple[str, ...] = ()  # image version ids
    # image version id -> {definition, version, state, host, reason, failure}: versions with a verdict
    acceptance: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    halted_rollouts: tuple[str, ...] = ()  # pools whose rollout halted or rolled back this cycle
    changes: tuple[dict[str, Any], ...] = ()  # applied changes (kind, resource, action, outcome)
    report: dict[str, Any] = field(default_factory=dict)  # JSON-able, shown on /status
    requeue_after: float | None = None  # real seconds until the earliest wait the apply handed back
    conditions: ConditionSet = ()  # Ready / Reconciling / Stalled / ... per pool, version and build
    releases: tuple[Any, ...] = ()  # planner.triggers.DueBuild: versions to write back to git (`--release`)
    blocked_releases: tuple[Any, ...] = ()  # planner.triggers.BlockedRelease: due, cannot be released


Cycle = Callable[[CycleInput], CycleResult]
