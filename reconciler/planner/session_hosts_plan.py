"""The plan's view of session hosts that need work other than a version rollout: provisioning, count up or
down, ghosts, failed or half-retired hosts, and the "rolled out" stamp ring gates read.

Pure: reads the Observed snapshot (VM tags included). A converged pool gives no change, so `plan
--detailed-exitcode` exits 0 once apply has finished. What apply then writes is decided cycle by cycle by
reconciler.planner.hosts from a fresh observation; planner.pools adds to the change what that same decision
does from this observation (`now`, `totals`), simulated by planner.timeline.
"""

from __future__ import annotations

from reconciler.model.observed import norm_id
from reconciler.model.plan import Action, Change, ChangeReason, change_key
from reconciler.model.rollout import HOST_FAILED_TAG, HOST_POOL_TAG, HOST_RETIRE_TAG
from reconciler.model.tags import ROLLED_OUT_TAG, parse_rolled_out
from reconciler.planner.acceptance_vm import stale_test_vms
from reconciler.planner.context import Context
from reconciler.planner.pool_target import PoolTarget

KIND = "session-hosts"


def hosts_resource_id(pool_id: str) -> str:
    return f"{pool_id}/sessionHosts"


def plan_session_hosts(
    ctx: Context, pool, target_id: str | None, deps: tuple[str, ...], inputs=None
) -> Change | None:
    """A create/delete/update change for `pool`'s session hosts, or None when they need nothing.

    `inputs`: the pool's decision inputs, for the test VMs (where: testVm) it would delete."""
    observed_pool = ctx.find("host_pools", pool.arm_id)
    count = pool.spec.session_hosts.count
    hosts = ctx.observed.hosts_of(pool.arm_id) if observed_pool else ()
    key = norm_id(pool.arm_id)
    vms = [v for v in ctx.observed.vms.values() if norm_id((v.tags or {}).get(HOST_POOL_TAG)) == key]
    ghosts = [h.name for h in hosts if h.vm_id and h.vm_id not in ctx.observed.vms]
    busy = [v.name for v in vms if HOST_RETIRE_TAG in (v.tags or {}) or HOST_FAILED_TAG in (v.tags or {})]
    registered = {h.vm_id for h in hosts}
    unregistered = [v.name for v in vms if v.key not in registered]
    live = len(hosts) - len(ghosts)
    reasons: list[tuple[ChangeReason, str]] = []
    action = Action.UPDATE
    if live < count:
        action = Action.CREATE
        reasons.append(
            (ChangeReason.COUNT_UP, f"{live} of {count} session host(s) exist; add {count - live}")
        )
    elif live > count:
        action = Action.DELETE
        why = f"{live} session host(s), {count} wanted; drain and remove {live - count}"
        reasons.append((ChangeReason.COUNT_DOWN, why))
    if ghosts:
        why = f"remove {len(ghosts)} ghost session host(s) whose VM is gone: {', '.join(sorted(ghosts))}"
        reasons.append((ChangeReason.GHOSTS, why))
    if busy:
        reasons.append((ChangeReason.RETIRING, f"finish retiring {', '.join(sorted(busy))}"))
    if unregistered and live >= count:
        reasons.append((ChangeReason.REGISTERING, f"finish registering {', '.join(sorted(unregistered))}"))
    if inputs is not None and inputs.test_vms:
        stale = [(v.name, why) for v, why in stale_test_vms(inputs) if v.provisioning != "Deleting"]
        if stale:
            why = "; ".join(f"delete test VM {name}: {w}" for name, w in stale)
            reasons.append((ChangeReason.TEST_VM, why))
    stamp = parse_rolled_out((observed_pool.tags or {}).get(ROLLED_OUT_TAG)) if observed_pool else None
    # Ring gates read the stamp (their soak), and so does `onFailure: rollback` (its last good version).
    stamp_read = bool(ctx.desired.gated_by(pool)) or pool.spec.rollout.on_failure == "rollback"
    if not reasons and stamp_read and target_id and hosts and (stamp is None or stamp[0] != target_id):
        why = "record that every host runs the pinned version (ring gates and rollback read it)"
        reasons.append((ChangeReason.RECORD_ROLLED_OUT, why))
    if not reasons:
        return None
    return Change(
        action,
        KIND,
        hosts_resource_id(pool.arm_id),
        f"{pool.origin('spec.sessionHosts')}: HostPool {pool.name}: " + "; ".join(why for _, why in reasons),
        depends_on=deps,
        fingerprint=observed_pool.fingerprint if observed_pool else "",
        details={"count": count, "target": PoolTarget.of(ctx.desired, pool).to_details()},
        reason_code=reasons[0][0],  # the first reason is the one that sets the action
    )


def session_host_dep(pool_id: str) -> tuple[str, ...]:
    """Keys a pool's roll may wait on (its session-host change, whichever action it has)."""
    rid = hosts_resource_id(pool_id)
    return tuple(change_key(a, rid) for a in (Action.CREATE, Action.UPDATE, Action.DELETE))
