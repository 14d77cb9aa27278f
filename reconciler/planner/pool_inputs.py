"""One pool's decision inputs (PoolInputs), built in one place for plan and apply — pure.

Apply builds them per cycle from a fresh REST read (reconciler.engine.rollout_inputs converts the JSON to
host views and calls `assemble`); the plan builds them from its Observed snapshot (`from_observed`). Both go
through the same policy, window, gate and replication rules below, so `decide()` sees the same facts
whichever of the two asks.

What the Observed snapshot cannot show (the plan reads list calls only): the extension states of VMs coming
up (a host between its join and its agent looks like one that still needs the join) and, unless the pool's
user sessions were listed, who is signed in (the session count is, so placeholders stand in for them).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from reconciler.model.observed import Observed, ObservedImageVersion, norm_id
from reconciler.model.rollout import (
    HOST_POOL_TAG,
    POOL_FAILURES_TAG,
    POOL_LAST_FAILURE_TAG,
    POOL_QUARANTINE_TAG,
    parse_failures,
    parse_last_failure,
    parse_quarantine,
)
from reconciler.model.tags import ROLLED_OUT_TAG, parse_rolled_out
from reconciler.planner.host_inputs import HostView, PoolInputs, PoolPolicy, UserSessionView, parse_time
from reconciler.planner.windows import CronError, Window, next_window


def policy_of(pool) -> PoolPolicy:
    r, t = pool.spec.rollout, pool.spec.session_hosts
    return PoolPolicy(
        count=t.count,
        strategy=r.strategy,
        batch=r.batch_hosts(t.count) if t.count else 1,
        floor_percent=r.capacity_floor,
        drain_grace=r.drain_grace,
        force_logoff=r.force_logoff,
        user_message=r.user_message,
        health_timeout=r.health_timeout,
        failure_budget=r.failure_budget,
        on_failure=getattr(r, "on_failure", "halt"),
        personal=pool.spec.host_pool_type == "Personal",
        prefix=t.name_prefix,
    )


def window_of(pool, now: datetime) -> tuple[bool, datetime | None]:
    """(a maintenance window is open at `now`, when the next one opens if not). No windows: always open."""
    windows = [Window(w.cron, w.duration, w.time_zone) for w in pool.spec.rollout.maintenance_windows]
    try:
        found = next_window(windows, now)
    except CronError:
        return False, None
    if found is None:
        return True, None
    start, end = found
    return start <= now < end, (start if start > now else None)


def gate_of(pool, gate_pool_tags: Mapping[str, str] | None, target: str | None, now: datetime):
    """(satisfied, waits until or None, why) of the pool's ring gate, from the gate pool's ROLLED_OUT_TAG."""
    gate = pool.spec.rollout.gate
    if gate is None:
        return True, None, ""
    stamp = parse_rolled_out((gate_pool_tags or {}).get(ROLLED_OUT_TAG))
    if not stamp or stamp[0] != target:
        return False, None, f"waits for pool {gate.after} to run the version on every host, Available"
    since = parse_time(stamp[1])
    if since is None:
        return False, None, f"pool {gate.after} has an unreadable {ROLLED_OUT_TAG} tag"
    until = since + gate.soak
    if now >= until:
        return True, None, ""
    return False, until, f"pool {gate.after} soaks until {until.isoformat()}"


def replicated(version: ObservedImageVersion | None, location: str, target: str | None) -> tuple[bool, str]:
    if target is None:
        return False, "the pin does not resolve to a declared version"
    if version is None:
        return False, f"version {target.rsplit('/', 1)[-1]} does not exist yet"
    state = version.replication_state_in(location)
    if state == "Completed":
        return True, ""
    return False, f"version {version.name} is not replicated to {location} yet ({state})"


def assemble(
    pool,
    *,
    now: datetime,
    hosts: tuple[HostView, ...],
    pool_tags: Mapping[str, str],
    target: str | None,
    version: ObservedImageVersion | None,
    gate_pool_tags: Mapping[str, str] | None,
    ghosts: tuple[str, ...] = (),
    used_names: frozenset[str] = frozenset(),
) -> PoolInputs:
    """PoolInputs from the facts both callers read (host views already built by the caller)."""
    ready, why = replicated(version, pool.location, target)
    rolled = parse_rolled_out(pool_tags.get(ROLLED_OUT_TAG))
    quarantine = parse_quarantine(pool_tags.get(POOL_QUARANTINE_TAG))
    gate_ok, gate_until, gate_why = gate_of(pool, gate_pool_tags, target, now)
    window_open, next_open = window_of(pool, now)
    last = parse_last_failure(pool_tags.get(POOL_LAST_FAILURE_TAG))
    return PoolInputs(
        pool_id=pool.arm_id,
        pool=pool.name,
        now=now,
        policy=policy_of(pool),
        hosts=hosts,
        ghosts=ghosts,
        target=target,
        target_ready=ready,
        target_why=why,
        last_good=rolled[0] if rolled else None,
        rolled_out=rolled[0] if rolled else None,
        failures=parse_failures(pool_tags.get(POOL_FAILURES_TAG)),
        quarantined=quarantine[0] if quarantine else None,
        window_open=window_open,
        next_window=next_open,
        gate_ok=gate_ok,
        gate_until=gate_until,
        gate_why=gate_why,
        used_names=used_names,
        last_failure=f"{last['host']}: {last['reason']}" if last else "",
    )


def from_observed(observed: Observed, desired, pool, now: datetime) -> PoolInputs:
    """The plan's PoolInputs for `pool` from the Observed snapshot (see the module docstring for its limits)."""
    key = norm_id(pool.arm_id)
    observed_pool = observed.host_pools.get(key)
    target_version = desired.resolve_pin(pool)
    target = norm_id(target_version.arm_id) if target_version else None
    gate_tags = None
    if pool.gate_after:
        after = desired.host_pool(pool.gate_after)
        gate = observed.host_pools.get(norm_id(after.arm_id)) if after else None
        gate_tags = gate.tags if gate else None
    hosts = observed.hosts_of(key) if observed_pool else ()
    by_vm = {h.vm_id: h for h in hosts if h.vm_id}
    vms = {k: v for k, v in observed.vms.items() if norm_id((v.tags or {}).get(HOST_POOL_TAG)) == key}
    vms.update({vid: observed.vms[vid] for vid in by_vm if vid in observed.vms})
    views = []
    for vid, vm in sorted(vms.items(), key=lambda item: item[1].name.lower()):
        sh = by_vm.get(vid)
        sessions: tuple[UserSessionView, ...] = ()
        if sh is not None:
            listed = observed.sessions_of(key, sh.name)
            sessions = tuple(UserSessionView(s.id, s.user_principal_name) for s in listed)
            # Not listed (the plan reads session counts, not sessions): stand-ins, so messages and logoffs
            # are counted for the users the count says are there.
            sessions += tuple(
                UserSessionView(f"{sh.id}/userSessions/unlisted-{i}", None)
                for i in range(sh.sessions - len(listed))
            )
        views.append(
            HostView(
                name=vm.name,
                vm_id=vm.id,
                version=vm.image_version_id or None,
                provisioning=vm.provisioning_state or "",
                tags=dict(vm.tags or {}),
                session_host=sh.name if sh else None,
                status=sh.status if sh else None,
                accepting=sh.allow_new_session if sh else True,
                sessions=sessions,
                assigned_user=sh.assigned_user if sh else None,
                managed=norm_id((vm.tags or {}).get(HOST_POOL_TAG)) == key,
            )
        )
    ghosts = tuple(sorted(h.name for h in hosts if h.vm_id and h.vm_id not in observed.vms))
    group = "/".join(key.split("/")[:5])
    used = {v.name.lower() for k, v in observed.vms.items() if k.startswith(group + "/")}
    used |= {h.name.split(".")[0].lower() for h in hosts}
    version = observed.image_versions.get(target) if target else None
    return assemble(
        pool,
        now=now,
        hosts=tuple(views),
        pool_tags=dict(observed_pool.tags or {}) if observed_pool else {},
        target=target,
        version=version,
        gate_pool_tags=gate_tags,
        ghosts=ghosts,
        used_names=frozenset(used),
    )
