"""Rollout batches: which session hosts to replace next without crossing the capacity floor.

Invariants (property-tested in tests/planner/test_rollout_properties.py):
- Available capacity never drops below the floor because of a batch. If it is already below the floor, a
  batch may only take hosts that are not Available (replacing a broken host costs no capacity).
- The pool never holds more than `count + surge` VMs because of a batch.
"Available" means status Available and accepting new sessions (a draining host serves nobody new).

Selection order: hosts that are not Available first (free to replace), then the fewest user sessions (fewest
people disturbed), then name (determinism).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from reconciler.model.rollout import BatchPreview, HostRef, RolloutPreview

SURGE = "surge"
DELETE_FIRST = "delete-first"


@dataclass(frozen=True)
class PoolHost:
    name: str
    version: str | None
    status: str
    sessions: int
    allow_new_session: bool = True

    @property
    def available(self) -> bool:
        return self.status == "Available" and self.allow_new_session


@dataclass(frozen=True)
class RolloutPolicy:
    """A pool's rollout policy with sizes already resolved to host counts."""

    strategy: str
    batch_size: int
    count: int
    floor_percent: int
    surge: int = 0

    @property
    def floor_hosts(self) -> int:
        return math.ceil(self.count * self.floor_percent / 100)


def resolve_batch_size(batch: int | str, count: int) -> int:
    """`5` → 5 hosts; `"20%"` → 20 % of count rounded down, at least 1."""
    if isinstance(batch, str) and batch.strip().endswith("%"):
        percent = float(batch.strip()[:-1])
        return max(1, math.floor(count * percent / 100))
    return max(1, int(batch))


def _order(host: PoolHost) -> tuple[int, int, str]:
    return (1 if host.available else 0, host.sessions, host.name)


def select_batch(hosts: list[PoolHost], target: str, policy: RolloutPolicy) -> tuple[PoolHost, ...]:
    """The next batch of hosts to replace with `target`, honouring the floor and the surge limit."""
    candidates = sorted((h for h in hosts if h.version != target), key=_order)
    if not candidates:
        return ()
    available = sum(1 for h in hosts if h.available)
    if policy.strategy == SURGE:
        # Replacements are created (and become Available) before originals are drained, so capacity never
        # dips; the bound is how many extra VMs may exist at once.
        room = min(policy.batch_size, policy.surge, policy.count + policy.surge - len(hosts))
        return tuple(candidates[: max(0, room)])
    budget = available - policy.floor_hosts  # Available hosts we may take out at once
    chosen: list[PoolHost] = []
    for host in candidates:
        if len(chosen) >= policy.batch_size:
            break
        if host.available:
            if budget <= 0:
                continue
            budget -= 1
        chosen.append(host)
    return tuple(chosen)


def simulate_batches(
    hosts: list[PoolHost], target: str, policy: RolloutPolicy
) -> tuple[tuple[BatchPreview, ...], tuple[str, ...]]:
    """Every batch until all hosts run `target`, assuming replacements come up Available and empty.

    Returns the batches and, if the rollout cannot finish, why (e.g. the floor leaves no room).
    """
    state = list(hosts)
    batches: list[BatchPreview] = []
    for index in range(1, len(hosts) + 2):
        batch = select_batch(state, target, policy)
        if not batch:
            break
        available_before = sum(1 for h in state if h.available)
        taken_available = sum(1 for h in batch if h.available)
        if policy.strategy == SURGE:
            available_min, peak_total = available_before, len(state) + len(batch)
        else:
            available_min, peak_total = available_before - taken_available, len(state)
        batches.append(
            BatchPreview(
                index=index,
                hosts=tuple(HostRef(h.name, h.version, h.sessions, h.status) for h in batch),
                sessions_affected=sum(h.sessions for h in batch),
                available_before=available_before,
                available_min=available_min,
                peak_total=peak_total,
            )
        )
        names = {h.name for h in batch}
        state = [
            replace(h, version=target, status="Available", sessions=0, allow_new_session=True)
            if h.name in names
            else h
            for h in state
        ]
    remaining = sorted(h.name for h in state if h.version != target)
    blocked: tuple[str, ...] = ()
    if remaining and policy.strategy == SURGE:
        blocked = (
            f"{len(remaining)} host(s) cannot be replaced: the pool holds {len(state)} VMs and surge allows "
            f"at most {policy.count + policy.surge}; first: {remaining[0]}",
        )
    elif remaining:
        blocked = (
            f"{len(remaining)} host(s) cannot be replaced without dropping Available capacity below the "
            f"floor of {policy.floor_hosts} ({policy.floor_percent}% of {policy.count}); "
            f"first: {remaining[0]}",
        )
    return tuple(batches), blocked


@dataclass(frozen=True)
class GateInput:
    """Ring gate: this pool waits until pool `after` has run the version fully Available for `soak`.

    `done_since` is when `after` was last seen fully on the version and Available (None: not there yet).
    """

    after: str
    soak: timedelta
    done_since: datetime | None


def evaluate_gate(gate: GateInput | None, now: datetime) -> dict[str, object]:
    if gate is None:
        return {}
    if gate.done_since is None:
        return {
            "after": gate.after,
            "soak_seconds": int(gate.soak.total_seconds()),
            "satisfied": False,
            "waits_until": None,
            "reason": f"waits for pool {gate.after} to run the version on every host, Available",
        }
    until = gate.done_since + gate.soak
    satisfied = now >= until
    return {
        "after": gate.after,
        "soak_seconds": int(gate.soak.total_seconds()),
        "satisfied": satisfied,
        "waits_until": until.isoformat(),
        "reason": f"pool {gate.after} soaked since {gate.done_since.isoformat()}"
        + ("" if satisfied else f"; waits until {until.isoformat()}"),
    }


def preview_rollout(
    *,
    pool_id: str,
    pool: str,
    hosts: list[PoolHost],
    target: str,
    policy: RolloutPolicy,
    window: tuple[datetime, datetime] | None,
    gate: GateInput | None,
    now: datetime,
    blocked: tuple[str, ...] = (),
) -> RolloutPreview:
    """The full preview of one pool's rollout to `target` (see RolloutPreview for the fields)."""
    batches, floor_block = simulate_batches(hosts, target, policy)
    from_versions = tuple(sorted({h.version or "unknown" for h in hosts if h.version != target}))
    return RolloutPreview(
        pool_id=pool_id,
        pool=pool,
        from_versions=from_versions,
        to_version=target,
        strategy=policy.strategy,
        batch_size=policy.batch_size,
        surge=policy.surge,
        floor_percent=policy.floor_percent,
        floor_hosts=policy.floor_hosts,
        target_count=policy.count,
        batches=batches,
        window_start=window[0].isoformat() if window else None,
        window_end=window[1].isoformat() if window else None,
        gate=evaluate_gate(gate, now),
        blocked=tuple(blocked) + floor_block,
    )
