"""Turn one pool's fresh snapshot plus its desired spec into the pure decision's inputs (PoolInputs).

Only the REST-to-host-view conversion lives here; policy, windows, the ring gate and replication come from
reconciler.planner.pool_inputs, the same code the plan uses to build its inputs from the Observed snapshot.
"""

from __future__ import annotations

from reconciler.azure import convert
from reconciler.azure.hosts_read import PoolSnapshot
from reconciler.model.observed import norm_id
from reconciler.model.rollout import HOST_POOL_TAG
from reconciler.planner.host_inputs import HostView, PoolInputs, UserSessionView
from reconciler.planner.pool_inputs import assemble, policy_of, window_of
from reconciler.planner.pool_target import PoolTarget

__all__ = ["host_views", "policy_of", "pool_inputs", "window_of"]


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
    pool = t.pool
    return assemble(
        pool,
        now=snap.now,
        hosts=host_views(snap, pool.arm_id),
        pool_tags=(snap.pool or {}).get("tags") or {},
        target=norm_id(t.version_id) or None,
        version=convert.image_version(snap.version) if snap.version is not None else None,
        gate_pool_tags=(snap.gate_pool or {}).get("tags") or {},
        ghosts=tuple(snap.ghosts),
        used_names=frozenset(snap.used_names),
    )
