"""`reconcile status` data: per host pool, what its session hosts run and what the rollout waits for.

Read-only: observes each pool fresh (the same reads a rollout cycle makes) and runs the pure decision
without performing it, so status shows exactly what the next apply cycle would do next.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from reconciler.azure.connection import Connection
from reconciler.azure.hosts_read import read_pool
from reconciler.azure.hosts_write import PoolWriter
from reconciler.model.rollout import (
    HOST_FAILED_TAG,
    HOST_ROLLOUT_TAG,
    POOL_FAILURES_TAG,
    POOL_LAST_FAILURE_TAG,
    POOL_QUARANTINE_TAG,
    HostFailure,
    parse_last_failure,
    rollout_id,
)
from reconciler.planner.acceptance_vm import accept_vm_status
from reconciler.planner.host_failures import failure_of
from reconciler.planner.host_inputs import HostView, PoolInputs
from reconciler.planner.hosts import decide
from reconciler.planner.pool_inputs import from_pool_observation
from reconciler.planner.pool_target import PoolTarget


def _leaf(version_id: str | None) -> str | None:
    return version_id.rstrip("/").rsplit("/", 1)[-1] if version_id else None


def host_state(h: HostView, p: PoolInputs) -> str:
    if h.failed or failure_of(h, p):
        return "failed"
    if h.deleting:
        return "deleting"
    if h.retiring:
        return "draining" if h.sessions else "retiring"
    if not h.established:
        # A VM that exists but is no session host yet is counted as such, not hidden among VMs being built.
        if h.provisioning != "Succeeded":
            return "provisioning"
        return "registering" if h.session_host else "unregistered"
    if h.accepting_available:
        return "available"
    return (h.status or "unregistered").lower() if h.accepting else "drained"


def failed_hosts(p: PoolInputs, pool_tags: dict[str, str]) -> list[dict[str, Any]]:
    """Each failed host and why: hosts failing now or marked failed (still being removed), then the last
    counted failure from the pool tag when its VM is already gone."""
    out = []
    for h in p.hosts:
        failure = failure_of(h, p)
        if failure is not None:
            reason = failure.text
        elif h.failed:
            failure, reason = HostFailure.from_tag(h.tags.get(HOST_FAILED_TAG))
        else:
            continue
        out.append(
            {
                "host": h.name,
                "check": failure.check if failure else None,
                "code": failure.code if failure else None,
                "extension": failure.extension if failure else None,
                "reason": reason,
            }
        )
    last = parse_last_failure(pool_tags.get(POOL_LAST_FAILURE_TAG))
    if last and last["host"] not in {f["host"] for f in out}:
        out.append(last)
    return out


def rollout_hosts(p: PoolInputs) -> dict[str, list[str]]:
    """The hosts of the rollout to the pin, by where they are: `done`, built by it and serving (the host it
    replaced gone); `current`, the batch under way (hosts coming up or retiring, and the old hosts a new one
    is about to take over from), and of those the `outdated` ones. Read from the tags apply writes, so a
    restarted apply and status agree."""
    if not p.target:
        return {"done": [], "current": [], "outdated": []}
    # Names are reused once a VM is gone: only an outdated host of that name is still being replaced.
    outdated = {h.name.lower(): h.name for h in p.hosts if h.version != p.target}
    ours = rollout_id(p.target)
    done, current = [], set()
    for h in p.hosts:
        if h.retiring or not h.established:
            current.add(h.name)
        replaced = outdated.get((h.replaces or "").lower())
        if replaced:
            current.update((h.name, replaced))
        elif (
            h.established
            and not h.retiring
            and h.version == p.target
            and h.tags.get(HOST_ROLLOUT_TAG) == ours
        ):
            done.append(h.name)
    old = sorted(h.name for h in p.hosts if h.name in current and h.version != p.target)
    return {"done": sorted(done), "current": sorted(current), "outdated": old}


def pool_status(target: PoolTarget, conn: Connection) -> dict[str, Any]:
    pool = target.pool
    snap = read_pool(conn, pool.arm_id, version_id=target.version_id, gate_pool_id=target.gate_pool_id)
    if snap.pool is None:
        return {"pool": pool.name, "id": pool.arm_id, "exists": False}
    p = from_pool_observation(target, snap)
    d = decide(p)
    pol = p.policy
    by_state: dict[str, Counter] = {}
    for h in p.hosts:
        by_state.setdefault(_leaf(h.version) or "unknown", Counter())[host_state(h, p)] += 1
    waiting = []
    for h in p.hosts:
        if h.retiring and h.sessions:
            deadline = (h.drain_at or p.now) + pol.drain_grace
            waiting.append(
                {
                    "host": h.name,
                    "users": [s.user for s in h.sessions],
                    "deadline": deadline.isoformat(),
                    "logoff": "at deadline"
                    if pol.force_logoff
                    else "never (forceLogoff: false): waits for users",
                }
            )
    count, version, _ = p.failures
    check = d.next_check
    return {
        "pool": pool.name,
        "id": pool.arm_id,
        "exists": True,
        "pinned": _leaf(p.target),
        "target_ready": p.target_ready,
        "target_why": p.target_why or None,
        "effective_target": _leaf(d.effective_target),
        "running": dict(sorted(Counter(_leaf(h.version) or "unknown" for h in p.hosts).items())),
        "hosts": {v: dict(sorted(c.items())) for v, c in sorted(by_state.items())},
        "count": pol.count,
        "strategy": pol.strategy,
        "batch_size": pol.batch,
        "floor_hosts": pol.floor_hosts,
        "available": sum(1 for h in p.hosts if h.accepting_available),
        "batch_in_progress": sorted(h.name for h in p.hosts if h.retiring or not h.established),
        "rollout_hosts": rollout_hosts(p),
        "test_vms": accept_vm_status(p),  # where: testVm: the suite's VM in progress, and any left to delete
        "users_waiting": waiting,
        "window_open": p.window_open,
        "next_window": p.next_window.isoformat() if p.next_window else None,
        "gate": {
            "satisfied": p.gate_ok,
            "until": p.gate_until.isoformat() if p.gate_until else None,
            "why": p.gate_why or None,
        },
        "failures": {
            "count": count if version == (p.target or "") else 0,
            "budget": pol.failure_budget,
            "on_failure": pol.on_failure,
        },
        "quarantined": _leaf(p.quarantined),
        "failed_hosts": failed_hosts(p, dict(snap.pool.tags or {}) if snap.pool else {}),
        "mode": d.mode,
        "state": d.state,
        "next_step": [f"{s.op} {s.host or ''}".strip() for s in d.steps],
        "next_check": {"at": check[0].isoformat(), "why": check[1]} if check else None,
        "notes": d.notes,
        "observed_at": p.now.isoformat(),
    }


def clear_quarantine(target: PoolTarget, conn: Connection) -> bool:
    """Remove the quarantine mark and the failure count from the pool; True when there was a mark."""
    pool = target.pool
    snap = read_pool(conn, pool.arm_id)
    if snap.pool is None:
        raise LookupError(f"host pool {pool.name} does not exist in Azure")
    tags = dict(snap.pool.tags or {})
    had = POOL_QUARANTINE_TAG in tags
    if had or POOL_FAILURES_TAG in tags:
        tags.pop(POOL_QUARANTINE_TAG, None)
        tags.pop(POOL_FAILURES_TAG, None)
        PoolWriter(conn, pool.arm_id).tag_pool(tags)
    return had
