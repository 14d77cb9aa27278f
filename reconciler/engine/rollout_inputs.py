"""Turn one pool's fresh snapshot plus its desired spec into the pure decision's inputs (PoolInputs)."""

from __future__ import annotations

from datetime import datetime

from reconciler.azure import convert
from reconciler.azure.hosts_read import PoolSnapshot
from reconciler.model.observed import norm_id
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
from reconciler.planner.hosts_state import (
    HostView,
    PoolInputs,
    PoolPolicy,
    PoolTarget,
    UserSessionView,
    parse_time,
)
from reconciler.planner.windows import CronError, Window, next_window
from reconciler.spec.state import HostPool


def policy_of(pool: HostPool) -> PoolPolicy:
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


def window_of(pool: HostPool, now: datetime) -> tuple[bool, datetime | None]:
    windows = [Window(w.cron, w.duration, w.time_zone) for w in pool.spec.rollout.maintenance_windows]
    try:
        found = next_window(windows, now)
    except CronError:
        return False, None
    if found is None:
        return True, None
    start, end = found
    return start <= now < end, (start if start > now else None)


def host_views(snap: PoolSnapshot, pool_id: str) -> tuple[HostView, ...]:
    by_vm = {norm_id((h.get("properties") or {}).get("resourceId")): h for h in snap.session_hosts}
    sessions: dict[str, list[UserSessionView]] = {}
    for s in snap.sessions:
        host = s["id"].rstrip("/").split("/")[-3].lower()
        user = (s.get("properties") or {}).get("userPrincipalName")
        sessions.setdefault(host, []).append(UserSessionView(s["id"], user))
    views = []
    for raw in sorted(snap.vms, key=lambda v: v["name"].lower()):
        vm = convert.vm(raw)
        sh = by_vm.get(vm.key)
        sh_name = sh["name"].rsplit("/", 1)[-1] if sh else None
        props = (sh or {}).get("properties") or {}
        views.append(
            HostView(
                name=vm.name,
                vm_id=vm.id,
                version=vm.image_version_id,
                provisioning=vm.provisioning_state or "",
                tags=dict(vm.tags),
                session_host=sh_name,
                status=props.get("status") if sh else None,
                accepting=props.get("allowNewSession", True) is not False,
                sessions=tuple(sessions.get((sh_name or "").lower(), ())),
                assigned_user=props.get("assignedUser"),
                extensions=snap.extensions.get(vm.key, {}),
                provisioning_error=snap.provisioning_errors.get(vm.key),
                extension_errors=snap.extension_errors.get(vm.key, {}),
                managed=norm_id(vm.tags.get(HOST_POOL_TAG)) == norm_id(pool_id),
            )
        )
    return tuple(views)


def pool_inputs(t: PoolTarget, snap: PoolSnapshot) -> PoolInputs:
    pool, now = t.pool, snap.now
    tags = (snap.pool or {}).get("tags") or {}
    target = norm_id(t.version_id) or None
    ready, why = _replicated(snap, pool, target)
    rolled = parse_rolled_out(tags.get(ROLLED_OUT_TAG))
    quarantine = parse_quarantine(tags.get(POOL_QUARANTINE_TAG))
    gate_ok, gate_until, gate_why = _gate(pool, snap, target, now)
    window_open, next_open = window_of(pool, now)
    return PoolInputs(
        pool_id=pool.arm_id,
        pool=pool.name,
        now=now,
        policy=policy_of(pool),
        hosts=host_views(snap, pool.arm_id),
        ghosts=tuple(snap.ghosts),
        target=target,
        target_ready=ready,
        target_why=why,
        last_good=rolled[0] if rolled else None,
        rolled_out=rolled[0] if rolled else None,
        failures=parse_failures(tags.get(POOL_FAILURES_TAG)),
        quarantined=quarantine[0] if quarantine else None,
        window_open=window_open,
        next_window=next_open,
        gate_ok=gate_ok,
        gate_until=gate_until,
        gate_why=gate_why,
        used_names=frozenset(snap.used_names),
        last_failure=_last_failure(tags),
    )


def _last_failure(tags: dict[str, str]) -> str:
    last = parse_last_failure(tags.get(POOL_LAST_FAILURE_TAG))
    return f"{last['host']}: {last['reason']}" if last else ""


def _replicated(snap: PoolSnapshot, pool: HostPool, target: str | None) -> tuple[bool, str]:
    if target is None:
        return False, "the pin does not resolve to a declared version"
    if snap.version is None:
        return False, f"version {target.rsplit('/', 1)[-1]} does not exist yet"
    version = convert.image_version(snap.version)
    state = version.replication_state_in(pool.location)
    if state == "Completed":
        return True, ""
    return False, f"version {version.name} is not replicated to {pool.location} yet ({state})"


def _gate(pool: HostPool, snap: PoolSnapshot, target: str | None, now: datetime):
    gate = pool.spec.rollout.gate
    if gate is None:
        return True, None, ""
    stamp = parse_rolled_out(((snap.gate_pool or {}).get("tags") or {}).get(ROLLED_OUT_TAG))
    if not stamp or stamp[0] != target:
        return False, None, f"waits for pool {gate.after} to run the version on every host, Available"
    since = parse_time(stamp[1])
    if since is None:
        return False, None, f"pool {gate.after} has an unreadable {ROLLED_OUT_TAG} tag"
    until = since + gate.soak
    if now >= until:
        return True, None, ""
    return False, until, f"pool {gate.after} soaks until {until.isoformat()}"
