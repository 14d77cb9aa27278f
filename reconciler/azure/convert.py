"""REST-shaped JSON (what an ARM GET returns) -> Observed* objects. Pure functions, no SDK types.

The readers turn SDK models back into REST dicts first (`rest_dict`), so this file is the only place that
knows property names, and no two readers (observe(), the per-pool reads, bench/observe_naive.py) can
disagree about them.
"""

from __future__ import annotations

import sys
from dataclasses import replace
from datetime import datetime
from types import MappingProxyType
from typing import Any

from reconciler.azure.sharing import Sharing
from reconciler.model.acceptance import HealthCheck
from reconciler.model.fingerprint import (
    FINGERPRINT_FIELDS,
    GALLERY,
    HOST_POOL,
    IMAGE_DEFINITION,
    IMAGE_TEMPLATE,
    IMAGE_VERSION,
    SESSION_HOST,
    USER_SESSION,
    VIRTUAL_MACHINE,
)
from reconciler.model.observed import (
    EMPTY,
    ImageIdentifier,
    ObservedGallery,
    ObservedHostPool,
    ObservedImageDefinition,
    ObservedImageTemplate,
    ObservedImageVersion,
    ObservedRegionReplication,
    ObservedSessionHost,
    ObservedTargetRegion,
    ObservedUserSession,
    ObservedVM,
    leaf_name,
    norm_id,
    normalize_region,
    parent_id,
)


def rest_dict(model: Any) -> dict[str, Any]:
    """The REST JSON of an SDK model: hybrid (compute, imagebuilder) models are mappings over it already;
    msrest (desktopvirtualization) models are serialised with read-only fields kept."""
    if isinstance(model, dict):
        return model
    serialize = getattr(model, "serialize", None)
    if serialize is not None and not hasattr(model, "keys"):
        return serialize(keep_readonly=True)
    return model.as_dict()


def parse_time(value: Any) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None


def without_secrets(raw: dict[str, Any]) -> MappingProxyType:
    """A read-only copy with registration tokens removed (GET should not return them; never trust that)."""
    return MappingProxyType(_no_token(raw))


def _no_token(raw: dict[str, Any]) -> dict[str, Any]:
    props = raw.get("properties")
    if isinstance(props, dict) and isinstance(props.get("registrationInfo"), dict):
        info = {k: v for k, v in props["registrationInfo"].items() if k.lower() != "token"}
        raw = {**raw, "properties": {**props, "registrationInfo": info}}
    return raw


# What an observed resource keeps of its REST body once converted (its `raw`): the fields that count toward
# its fingerprint, which are also every field a desired body sets (planner/bodies.py), so the planner's diff
# (the observed body projected onto the desired one) and the fingerprints read the very values they read
# from the whole body. Everything else (status, health checks, timestamps, OS disks, replication) is a typed
# field where something reads it, else dropped: the large estate's bodies were ~100 MB of a 390 MB plan.
_KEPT: dict[str, tuple[tuple[str, ...], ...]] = {
    arm_type: tuple(tuple(path.split(".")) for path in paths)
    for arm_type, paths in FINGERPRINT_FIELDS.items()
}
_KEPT[HOST_POOL] += (("properties", "registrationInfo"),)  # when the token expires (the token never stays)


def essentials(raw: dict[str, Any], arm_type: str) -> dict[str, Any]:
    """The paths `_KEPT` names for `arm_type`, with their values as they are (shared, not copied)."""
    out: dict[str, Any] = {}
    for parts in _KEPT[arm_type]:
        src, dst = raw, out
        for part in parts[:-1]:
            if part not in src:
                break
            src = src[part]
            if not isinstance(src, dict):
                dst.setdefault(part, src)  # a null where an object belongs: kept, the diff sees it
                break
            child = dst.setdefault(part, {})
            if not isinstance(child, dict):
                break
            dst = child
        else:
            if parts[-1] in src:
                dst[parts[-1]] = src[parts[-1]]
    return out


# Equal values of many resources become one object (reconciler.azure.sharing): observe() clears the table
# when its snapshot is built.
SHARED = Sharing()
_one = SHARED

# Kept paths whose values are each resource's own (GUIDs, names, ids): a table entry each would buy nothing.
# The session host's two are replaced by its VM's equal strings when the two are joined (with_vm).
_OWN: dict[str, frozenset[tuple[str, ...]]] = {
    VIRTUAL_MACHINE: frozenset({("properties", "vmId"), ("properties", "osProfile", "computerName")}),
    SESSION_HOST: frozenset({("properties", "resourceId"), ("properties", "virtualMachineId")}),
    IMAGE_VERSION: frozenset({("properties", "storageProfile", "source")}),
}
assert all(paths <= set(_KEPT[t]) for t, paths in _OWN.items())  # so every dict compact() enters is ours
# The dicts essentials() builds on the way to an own value: compact() shares inside them, not them whole.
_OWN_PARENTS = {t: frozenset(p[:i] for p in paths for i in range(1, len(p))) for t, paths in _OWN.items()}


def compact(kept: dict[str, Any], arm_type: str) -> dict[str, Any]:
    """`kept` (essentials(), so its containers on the way to a kept path are new) with every value shared
    (`SHARED`) but the resource's own ones; changed in place."""
    own, parents = _OWN.get(arm_type, frozenset()), _OWN_PARENTS.get(arm_type, frozenset())

    def walk(node: dict[str, Any], path: tuple[str, ...]) -> None:
        for key, value in node.items():
            at = (*path, key)
            if at in own:
                continue
            if at in parents and type(value) is dict:
                walk(value, at)
            else:
                node[key] = SHARED(value)

    walk(kept, ())
    return kept


def _base(raw: dict[str, Any], arm_type: str) -> dict[str, Any]:
    # The token goes before anything is shared, so it never enters the table either.
    kept = compact(_no_token(essentials(raw, arm_type)), arm_type)
    tags = kept.get("tags") if "tags" in kept else raw.get("tags")
    return {
        "id": raw.get("id", ""),
        "name": leaf_name(raw.get("name") or raw.get("id")),
        "tags": SHARED.proxy(SHARED(tags)) if tags else EMPTY,
        "raw": MappingProxyType(kept),
    }


def gallery(raw: dict[str, Any]) -> ObservedGallery:
    p = raw.get("properties") or {}
    return ObservedGallery(
        **_base(raw, GALLERY),
        location=_one(normalize_region(raw.get("location"))),
        description=p.get("description"),
        provisioning_state=_one(p.get("provisioningState")),
    )


def image_definition(raw: dict[str, Any]) -> ObservedImageDefinition:
    p = raw.get("properties") or {}
    ident = p.get("identifier") or {}
    return ObservedImageDefinition(
        **_base(raw, IMAGE_DEFINITION),
        gallery_id=_shared(parent_id(raw["id"])),
        location=_one(normalize_region(raw.get("location"))),
        os_type=p.get("osType"),
        os_state=p.get("osState"),
        hyper_v_generation=p.get("hyperVGeneration"),
        architecture=p.get("architecture"),
        identifier=ImageIdentifier(ident.get("publisher", ""), ident.get("offer", ""), ident.get("sku", ""))
        if ident
        else None,
        features=MappingProxyType({f.get("name", ""): str(f.get("value")) for f in p.get("features") or []}),
        description=p.get("description"),
        end_of_life_date=parse_time(p.get("endOfLifeDate")),
        provisioning_state=_one(p.get("provisioningState")),
    )


def image_version(raw: dict[str, Any]) -> ObservedImageVersion:
    p = raw.get("properties") or {}
    pub = p.get("publishingProfile") or {}
    source = ((p.get("storageProfile") or {}).get("source")) or {}
    status = p.get("replicationStatus")
    replication = None
    if status:
        replication = tuple(
            ObservedRegionReplication(
                region=normalize_region(s.get("region")),
                state=s.get("state") or "Unknown",
                progress=s.get("progress"),
                details=s.get("details") or None,
            )
            for s in status.get("summary") or []
        )
    return ObservedImageVersion(
        **_base(raw, IMAGE_VERSION),
        definition_id=_shared(parent_id(raw["id"])),
        location=_one(normalize_region(raw.get("location"))),
        target_regions=_one(
            tuple(
                ObservedTargetRegion(
                    name=_one(normalize_region(t.get("name"))),
                    regional_replica_count=t.get("regionalReplicaCount"),
                    storage_account_type=_one(t.get("storageAccountType")),
                    exclude_from_latest=t.get("excludeFromLatest"),
                )
                for t in pub.get("targetRegions") or []
            )
        ),
        replica_count=pub.get("replicaCount"),
        storage_account_type=_one(pub.get("storageAccountType")),
        exclude_from_latest=bool(pub.get("excludeFromLatest")),
        end_of_life_date=parse_time(pub.get("endOfLifeDate")),
        published_date=parse_time(pub.get("publishedDate")),
        provisioning_state=_one(p.get("provisioningState")),
        allow_deletion_of_replicated_locations=(p.get("safetyProfile") or {}).get(
            "allowDeletionOfReplicatedLocations", True
        ),
        source_id=source.get("id") or source.get("virtualMachineId"),
        replication=replication,
        replication_state=(status or {}).get("aggregatedState"),
    )


def image_template(raw: dict[str, Any]) -> ObservedImageTemplate:
    p = raw.get("properties") or {}
    run = p.get("lastRunStatus") or {}
    error = p.get("provisioningError") or {}
    return ObservedImageTemplate(
        **_base(raw, IMAGE_TEMPLATE),
        location=_one(normalize_region(raw.get("location"))),
        provisioning_state=_one(p.get("provisioningState")),
        provisioning_error=(
            f"{error.get('provisioningErrorCode')}: {error.get('message')}" if error else None
        ),
        last_run_state=run.get("runState"),
        last_run_sub_state=run.get("runSubState"),
        last_run_message=run.get("message"),
        last_run_start=parse_time(run.get("startTime")),
        last_run_end=parse_time(run.get("endTime")),
        source=MappingProxyType(dict(p.get("source") or {})),
        distribute_image_ids=tuple(
            d["galleryImageId"] for d in p.get("distribute") or [] if d.get("galleryImageId")
        ),
    )


def host_pool(raw: dict[str, Any]) -> ObservedHostPool:
    p = raw.get("properties") or {}
    reg = p.get("registrationInfo") or {}
    return ObservedHostPool(
        **_base(raw, HOST_POOL),
        location=_one(normalize_region(raw.get("location"))),
        host_pool_type=p.get("hostPoolType"),
        load_balancer_type=p.get("loadBalancerType"),
        preferred_app_group_type=p.get("preferredAppGroupType"),
        max_session_limit=p.get("maxSessionLimit"),
        friendly_name=p.get("friendlyName"),
        description=p.get("description"),
        start_vm_on_connect=p.get("startVMOnConnect"),
        validation_environment=p.get("validationEnvironment"),
        registration_expires=parse_time(reg.get("expirationTime")),
    )


def vm(raw: dict[str, Any]) -> ObservedVM:
    """A VM is the biggest item of the estate (15,000 in the reference one) and reconcile never diffs it
    field by field (it replaces hosts from the desired template): it keeps identity, placement, image, size
    and tags (`_KEPT`), plus the typed fields below."""
    p = raw.get("properties") or {}
    image = (p.get("storageProfile") or {}).get("imageReference") or {}
    image_id = image.get("id")
    return ObservedVM(
        **_base(raw, VIRTUAL_MACHINE),
        location=_one(normalize_region(raw.get("location"))),
        vm_uuid=p.get("vmId"),
        computer_name=(p.get("osProfile") or {}).get("computerName"),
        vm_size=_one((p.get("hardwareProfile") or {}).get("vmSize")),
        provisioning_state=_one(p.get("provisioningState")),
        image_reference_id=_one(image_id),
        image_version_id=_shared(_exact_version_id(image_id, image.get("exactVersion"))),
    )


def _shared(key: str | None) -> str | None:
    """One copy of an id many resources name (a pool's 50 hosts, a definition's 10 versions, the version
    15,000 VMs run): interned, as the snapshot would otherwise hold one string per resource."""
    return sys.intern(key) if key else key


def _exact_version_id(image_id: str | None, exact_version: str | None) -> str | None:
    """A version id names itself; a definition id ("latest") plus exactVersion names the version used."""
    key = norm_id(image_id)
    if not key or "/providers/microsoft.compute/galleries/" not in key:
        return None
    if "/versions/" in key:
        return key
    return f"{key}/versions/{exact_version.lower()}" if exact_version else None


def session_host(raw: dict[str, Any], vms_by_id: dict[str, ObservedVM]) -> ObservedSessionHost:
    return with_vm(_unjoined_host(raw), vms_by_id)


def _unjoined_host(raw: dict[str, Any]) -> ObservedSessionHost:
    p = raw.get("properties") or {}
    return ObservedSessionHost(
        **_base(raw, SESSION_HOST),
        host_pool_id=_shared(parent_id(raw["id"])),
        status=_one(p.get("status")),
        allow_new_session=p.get("allowNewSession", True) is not False,
        sessions=int(p.get("sessions") or 0),
        vm_id=norm_id(p.get("resourceId")) or None,
        vm_uuid=p.get("virtualMachineId"),
        update_state=_one(p.get("updateState")),
        last_heartbeat=parse_time(p.get("lastHeartBeat")),
        assigned_user=p.get("assignedUser"),
        agent_version=p.get("agentVersion") or None,
        health_checks=_health_checks(p.get("sessionHostHealthCheckResults")),
    )


def _health_checks(items: Any) -> tuple[HealthCheck, ...]:
    """`sessionHostHealthCheckResults[]` as HealthChecks (empty until the host's agent has reported)."""
    checks = []
    for item in items if isinstance(items, list) else ():
        if not isinstance(item, dict) or not item.get("healthCheckName"):
            continue
        details = item.get("additionalFailureDetails") or {}
        code = details.get("errorCode")
        # one spelling of the time whichever reader parsed it (the SDK's models turn it into a datetime)
        at = parse_time(details.get("lastHealthCheckDateTime"))
        checks.append(
            HealthCheck(
                name=_one(str(item["healthCheckName"])),
                result=_one(str(item.get("healthCheckResult") or "Unknown")),
                message=details.get("message") or None,
                error_code=_int_or_none(code),
                at=at.isoformat() if at else None,
            )
        )
    return tuple(checks)


def _int_or_none(value: Any) -> int | None:
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def with_vm(host: ObservedSessionHost, vms_by_id: dict[str, ObservedVM]) -> ObservedSessionHost:
    """A session host converted before its VM was read (`session_host(raw, {})`), joined to it now."""
    machine = vms_by_id.get(host.vm_id or "")
    if machine is None:
        return host
    # The host names its VM by the VM's own id and GUID: one string each for the two (equal values only,
    # so nothing a reader sees changes; the dict is the host's own, built by essentials()).
    props = host.raw.get("properties")
    if type(props) is dict:
        if props.get("resourceId") == machine.id:
            props["resourceId"] = machine.id
        if machine.vm_uuid is not None and props.get("virtualMachineId") == machine.vm_uuid:
            props["virtualMachineId"] = machine.vm_uuid
    vm_uuid = machine.vm_uuid if host.vm_uuid == machine.vm_uuid else host.vm_uuid
    return replace(
        host, vm=machine, vm_id=machine.key, vm_uuid=vm_uuid, image_version_id=machine.image_version_id
    )


def user_session(raw: dict[str, Any]) -> ObservedUserSession:
    p = raw.get("properties") or {}
    return ObservedUserSession(
        **_base(raw, USER_SESSION),
        host_pool_id=_shared(parent_id(raw["id"], levels=2)),
        session_host_name=raw["id"].rstrip("/").split("/")[-3],
        user_principal_name=p.get("userPrincipalName"),
        session_state=_one(p.get("sessionState")),
        application_type=_one(p.get("applicationType")),
        create_time=parse_time(p.get("createTime")),
    )
