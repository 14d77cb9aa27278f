"""Read one host pool's session-host world, fresh, for one rollout cycle, as a typed PoolObservation.

Per cycle and pool: GET the pool; list the VMs of its resource group, its session hosts and its user sessions;
GET the gate pool (ring gates) and the target version (with ReplicationStatus) when asked; list the
extensions of VMs that are still coming up. About 4–6 calls per pool per cycle, independent of pool size
except for hosts in flight. Session hosts whose VM lives elsewhere are checked with a GET (404: a ghost).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

from azure.core.exceptions import ResourceNotFoundError

from reconciler.azure import convert, paging
from reconciler.azure.connection import Connection
from reconciler.model.acceptance_vm import TEST_VM_TAG
from reconciler.model.observed import PoolObservation, id_parts, norm_id
from reconciler.model.rollout import HOST_POOL_TAG, HOST_STAGE_TAG

READ_WORKERS = 8


def read_pool(
    conn: Connection,
    pool_id: str,
    *,
    version_id: str | None = None,
    gate_pool_id: str | None = None,
) -> PoolObservation:
    parts = id_parts(pool_id)
    sub, rg = parts["subscriptions"], parts["resourcegroups"]
    avd, compute = conn.desktop(sub), conn.compute(sub)
    try:
        pool = paging.get_one(avd, pool_id, paging.DESKTOP_API)
    except ResourceNotFoundError:
        return PoolObservation(pool=None, now=_now(conn))
    rg_id = f"/subscriptions/{sub}/resourceGroups/{rg}"
    all_vms = paging.list_all(compute, f"{rg_id}/providers/Microsoft.Compute/virtualMachines", paging.VM_API)
    hosts = paging.list_all(avd, f"{pool_id}/sessionHosts", paging.DESKTOP_API)
    sessions = paging.list_all(avd, f"{pool_id}/userSessions", paging.DESKTOP_API)
    key = norm_id(pool_id)
    by_id = {norm_id(v["id"]): v for v in all_vms}
    referenced = {norm_id((h.get("properties") or {}).get("resourceId")) for h in hosts} - {""}
    mine = {vid: v for vid, v in by_id.items() if norm_id((v.get("tags") or {}).get(HOST_POOL_TAG)) == key}
    ghosts: list[str] = []
    for h in hosts:
        vid = norm_id((h.get("properties") or {}).get("resourceId"))
        if not vid:
            continue
        if vid in by_id:
            mine.setdefault(vid, by_id[vid])
            continue
        try:  # a VM in another resource group
            mine[vid] = paging.get_one(conn.compute(id_parts(vid)["subscriptions"]), vid, paging.VM_API)
        except ResourceNotFoundError:
            ghosts.append(h["name"].rsplit("/", 1)[-1])
    registered = referenced & set(mine)
    coming_up = [
        (vid, vm)
        for vid, vm in mine.items()
        if (vm.get("tags") or {}).get(HOST_STAGE_TAG) != "ready"
        and (vm.get("properties") or {}).get("provisioningState") == "Succeeded"
        and vid not in registered
    ]

    errors: dict[str, dict[str, tuple[str | None, str | None]]] = {}

    def extensions_of(vid: str, vm: dict) -> dict[str, str]:
        listed = paging.get_one(
            compute, f"{vm['id']}/extensions", paging.VM_API, **{"$expand": "instanceView"}
        )
        states = {}
        for e in listed.get("value") or []:
            name = e["name"].rsplit("/", 1)[-1]
            props = e.get("properties") or {}
            states[name] = props.get("provisioningState", "")
            if states[name] == "Failed":
                errors.setdefault(vid, {})[name] = _error_status(props.get("instanceView"))
        return states

    failed = [(vid, vm) for vid, vm in mine.items() if _provisioning(vm) == "Failed"]

    def provisioning_error(vm: dict) -> tuple[str | None, str | None]:
        try:
            view = paging.get_one(compute, f"{vm['id']}/instanceView", paging.VM_API)
        except ResourceNotFoundError:
            return None, None
        return _error_status(view, prefix="ProvisioningState/failed")

    with ThreadPoolExecutor(max_workers=READ_WORKERS) as ex:  # a batch of new VMs: one GET each
        extensions = dict(
            zip(
                [vid for vid, _ in coming_up],
                ex.map(lambda item: extensions_of(*item), coming_up),
                strict=True,
            )
        )
        provisioning_errors = dict(
            zip([vid for vid, _ in failed], ex.map(provisioning_error, [v for _, v in failed]), strict=True)
        )
    used = {v["name"].lower() for v in all_vms}
    used |= {h["name"].rsplit("/", 1)[-1].split(".")[0].lower() for h in hosts}
    gate = None
    if gate_pool_id:
        try:
            gate = paging.get_one(
                conn.desktop(id_parts(gate_pool_id)["subscriptions"]), gate_pool_id, paging.DESKTOP_API
            )
        except ResourceNotFoundError:
            gate = None
    version = None
    if version_id:
        try:
            version = paging.get_one(
                conn.compute(id_parts(version_id)["subscriptions"]),
                version_id,
                paging.GALLERY_API,
                **{"$expand": "ReplicationStatus"},
            )
        except ResourceNotFoundError:
            version = None
    vms = {vid: convert.vm(raw) for vid, raw in mine.items()}
    return PoolObservation(
        pool=convert.host_pool(pool),
        vms=tuple(vms.values()),
        session_hosts=tuple(convert.session_host(h, vms) for h in hosts),
        sessions=tuple(convert.user_session(s) for s in sessions),
        extensions=extensions,
        provisioning_errors=provisioning_errors,
        extension_errors=errors,
        ghosts=tuple(ghosts),
        used_names=frozenset(used),
        gate_pool=convert.host_pool(gate) if gate is not None else None,
        version=convert.image_version(version) if version is not None else None,
        test_vms=tuple(convert.vm(v) for v in all_vms if TEST_VM_TAG in (v.get("tags") or {})),
        now=_now(conn),
    )


def _provisioning(vm: dict) -> str:
    return (vm.get("properties") or {}).get("provisioningState") or ""


def _error_status(view: dict | None, prefix: str = "") -> tuple[str | None, str | None]:
    """(code, message) of the first error status of an instance view (Azure: `ProvisioningState/failed/
    <Code>` on a VM, level Error on an extension); (None, None) when the view names none."""
    for status in (view or {}).get("statuses") or []:
        code = status.get("code") or ""
        if status.get("level") == "Error" or (prefix and code.lower().startswith(prefix.lower() + "/")):
            short = code.rsplit("/", 1)[-1] if prefix and code.lower().startswith(prefix.lower()) else code
            return short or None, status.get("message") or status.get("displayStatus")
    return None, None


def _now(conn: Connection) -> datetime:
    return conn.meter.last_server_time or datetime.now(UTC)
