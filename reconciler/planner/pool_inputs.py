"""One pool's decision inputs (PoolInputs), built in one place for plan and apply — pure.

Apply builds them per cycle from a fresh typed read of the pool (`from_pool_observation`, over
reconciler.azure.hosts_read's PoolObservation); the plan builds them from its Observed snapshot
(`from_observed`). Both join VMs, session hosts and users in one builder (`host_views`). Both go
through the same policy, window, gate and replication rules below, so `decide()` sees the same facts
whichever of the two asks.

What the Observed snapshot cannot show (the plan reads list calls only): the extension states of VMs coming
up (a host between its join and its agent looks like one that still needs the join) and, unless the pool's
user sessions were listed, who is signed in (the session count is, so placeholders stand in for them).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import datetime

from reconciler.model.acceptance import is_accepted
from reconciler.model.acceptance_vm import TEST_VM_TAG, accept_vm_views
from reconciler.model.observed import (
    Observed,
    ObservedImageVersion,
    ObservedSessionHost,
    ObservedVM,
    PoolObservation,
    norm_id,
)
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
from reconciler.planner.acceptance import AcceptanceInputs, acceptance_plan_of
from reconciler.planner.host_inputs import HostView, PoolInputs, PoolPolicy, UserSessionView, parse_time
from reconciler.planner.pool_target import PoolTarget
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


def gate_of(
    pool,
    gate_pool_tags: Mapping[str, str] | None,
    target: str | None,
    now: datetime,
    acceptance: AcceptanceInputs | None = None,
):
    """(satisfied, waits until or None, why) of the pool's ring gate, from the gate pool's ROLLED_OUT_TAG.

    With `acceptance` (the version's definition declares a suite), the version must also have passed it (or
    been force-accepted); the soak runs from the later of rolled-out and accepted."""
    gate = pool.spec.rollout.gate
    if gate is None:
        return True, None, ""
    stamp = parse_rolled_out((gate_pool_tags or {}).get(ROLLED_OUT_TAG))
    if acceptance is not None and not is_accepted(acceptance.state):
        version = (target or "").rsplit("/", 1)[-1]
        if acceptance.failed:
            return False, None, f"version {version} failed acceptance on pool {gate.after}"
        return False, None, f"waits for version {version} to pass acceptance on pool {gate.after}"
    if not stamp or stamp[0] != target:
        return False, None, f"waits for pool {gate.after} to run the version on every host, Available"
    since = parse_time(stamp[1])
    if since is None:
        return False, None, f"pool {gate.after} has an unreadable {ROLLED_OUT_TAG} tag"
    accepted = parse_time(acceptance.verdict.at) if acceptance is not None else None
    if accepted is not None and accepted > since:
        since = accepted
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
    acceptance: AcceptanceInputs | None = None,
    test_vms: tuple = (),
) -> PoolInputs:
    """PoolInputs from the facts both callers read (host views already built by the caller)."""
    ready, why = replicated(version, pool.location, target)
    rolled = parse_rolled_out(pool_tags.get(ROLLED_OUT_TAG))
    quarantine = parse_quarantine(pool_tags.get(POOL_QUARANTINE_TAG))
    gate_ok, gate_until, gate_why = gate_of(pool, gate_pool_tags, target, now, acceptance)
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
        acceptance=acceptance,
        test_vms=test_vms,
    )


def host_views(
    pool_key: str,
    vms: Iterable[ObservedVM],
    session_hosts: Iterable[ObservedSessionHost],
    sessions_of: Callable[[ObservedSessionHost], tuple[UserSessionView, ...]],
    observation: PoolObservation | None = None,
) -> tuple[HostView, ...]:
    """The one HostView builder: a pool's VMs joined with their session hosts and users, sorted by name.

    `observation` adds what only the rollout's fresh read holds (extension states and failure reasons)."""
    by_vm = {h.vm_id: h for h in session_hosts if h.vm_id}
    views = []
    for vm in sorted(vms, key=lambda v: v.name.lower()):
        sh = by_vm.get(vm.key)
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
                sessions=sessions_of(sh) if sh else (),
                assigned_user=sh.assigned_user if sh else None,
                extensions=observation.extensions.get(vm.key, {}) if observation else {},
                provisioning_error=observation.provisioning_errors.get(vm.key) if observation else None,
                extension_errors=observation.extension_errors.get(vm.key, {}) if observation else {},
                managed=norm_id((vm.tags or {}).get(HOST_POOL_TAG)) == pool_key,
                agent_version=sh.agent_version if sh else None,
                health_checks=sh.health_checks if sh else (),
            )
        )
    return tuple(views)


def from_pool_observation(target: PoolTarget, obs: PoolObservation) -> PoolInputs:
    """The rollout's PoolInputs for one cycle, from its fresh read of the pool."""
    pool = target.pool
    key = norm_id(pool.arm_id)
    by_host: dict[str, list[UserSessionView]] = {}
    for s in obs.sessions:
        by_host.setdefault(s.session_host_name.lower(), []).append(
            UserSessionView(s.id, s.user_principal_name)
        )
    return assemble(
        pool,
        now=obs.now,
        hosts=host_views(
            key, obs.vms, obs.session_hosts, lambda sh: tuple(by_host.get(sh.name.lower(), ())), obs
        ),
        pool_tags=dict(obs.pool.tags or {}) if obs.pool else {},
        target=norm_id(target.version_id) or None,
        version=obs.version,
        gate_pool_tags=dict(obs.gate_pool.tags or {}) if obs.gate_pool else {},
        ghosts=obs.ghosts,
        used_names=obs.used_names,
        acceptance=(
            AcceptanceInputs.of(
                target.acceptance, target.validation, obs.version.tags if obs.version else None
            )
            if target.acceptance is not None
            else None
        ),
        test_vms=accept_vm_views(key, obs.test_vms),
    )


class PlanLookups:
    """What every pool's `from_observed` of one plan looks up in the same snapshot, found once per plan:
    a resource group's VM names and test VMs (the large estate puts five pools in each group). Made per plan
    and dropped with it, never kept across plans."""

    def __init__(self, observed: Observed) -> None:
        self.observed = observed
        self._names: dict[str, frozenset[str]] = {}
        self._test_vms: dict[str, tuple[ObservedVM, ...]] = {}

    def vm_names_in(self, group: str) -> frozenset[str]:
        """Lower-cased names of the VMs in `group` (a name in use is never given to a new host)."""
        names = self._names.get(group)
        if names is None:
            names = self._names[group] = frozenset(v.name.lower() for v in self.observed.vms_in_group(group))
        return names

    def test_vms_in(self, group: str) -> tuple[ObservedVM, ...]:
        """The VMs in `group` that carry TEST_VM_TAG: the only ones `accept_vm_views` keeps."""
        found = self._test_vms.get(group)
        if found is None:
            vms = self.observed.vms_in_group(group)
            found = self._test_vms[group] = tuple(v for v in vms if TEST_VM_TAG in (v.tags or {}))
        return found


def from_observed(
    observed: Observed, desired, pool, now: datetime, lookups: PlanLookups | None = None
) -> PoolInputs:
    """The plan's PoolInputs for `pool` from the Observed snapshot (see the module docstring for its limits).
    `lookups`: the plan's PlanLookups of this snapshot, shared by its pools (None: made for this call)."""
    lookups = lookups or PlanLookups(observed)
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
    vms = {v.key: v for v in observed.vms_tagged_for(key)}
    vms.update({vid: observed.vms[vid] for vid in by_vm if vid in observed.vms})

    listed_on: dict[str, list] = {}  # lower-cased session host name -> its listed sessions, in listed order
    for s in observed.sessions_of(key):
        listed_on.setdefault(s.session_host_name.lower(), []).append(s)

    def sessions_of(sh: ObservedSessionHost) -> tuple[UserSessionView, ...]:
        listed = listed_on.get(sh.name.lower(), ()) if listed_on else ()
        # Not listed (the plan reads session counts, not sessions): stand-ins, so messages and logoffs
        # are counted for the users the count says are there.
        unlisted = sh.sessions - len(listed)
        if not listed and unlisted <= 0:
            return ()  # most hosts: nobody signed in
        return tuple([UserSessionView(s.id, s.user_principal_name) for s in listed]) + tuple(
            [UserSessionView(f"{sh.id}/userSessions/unlisted-{i}", None) for i in range(unlisted)]
        )

    views = host_views(key, vms.values(), hosts, sessions_of)
    ghosts = tuple(sorted(h.name for h in hosts if h.vm_id and h.vm_id not in observed.vms))
    group = "/".join(key.split("/")[:5])
    used = lookups.vm_names_in(group).union(h.name.split(".")[0].lower() for h in hosts)
    version = observed.image_versions.get(target) if target else None
    plan = acceptance_plan_of(pool, target_version)
    acceptance = (
        AcceptanceInputs.of(plan, desired.is_validation(pool), version.tags if version else None)
        if plan
        else None
    )
    return assemble(
        pool,
        now=now,
        hosts=views,
        pool_tags=dict(observed_pool.tags or {}) if observed_pool else {},
        target=target,
        version=version,
        gate_pool_tags=gate_tags,
        ghosts=ghosts,
        used_names=used,
        acceptance=acceptance,
        test_vms=accept_vm_views(key, lookups.test_vms_in(group)),
    )
