"""REST-shaped JSON (what an ARM GET returns) -> Observed* objects. Pure functions, no SDK types.

The readers turn SDK models back into REST dicts first (`rest_dict`), so this file (with convert_kept.py: what
a converted resource keeps of its body, shared across resources) is the only place that knows property names,
and no two readers (observe(), the per-pool reads, bench/observe_naive.py) can disagree about them.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from types import MappingProxyType
from typing import Any

from reconciler.azure.convert_kept import SHARED, base_fields, shared_id
from reconciler.model.acceptance import HealthCheck
from reconciler.model.fingerprint import (
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


_one = SHARED


def gallery(raw: dict[str, Any]) -> ObservedGallery:
    p = raw.get("properties") or {}
    return ObservedGallery(
        **base_fields(raw, GALLERY),
        location=_one(normalize_region(raw.get("location"))),
        description=p.get("description"),
        provisioning_state=_one(p.get("provisioningState")),
    )


def image_definition(raw: dict[str, Any]) -> ObservedImageDefinition:
    p = raw.get("properties") or {}
    ident = p.get("identifier") or {}
    return ObservedImageDefinition(
        **base_fields(raw, IMAGE_DEFINITION),
        gallery_id=shared_id(parent_id(raw["id"])),
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
        **base_fields(raw, IMAGE_VERSION),
        definition_id=shared_id(parent_id(raw["id"])),
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
        **base_fields(raw, IMAGE_TEMPLATE),
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
        **base_fields(raw, HOST_POOL),
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
        **base_fields(raw, VIRTUAL_MACHINE),
        location=_one(normalize_region(raw.get("location"))),
        vm_uuid=p.get("vmId"),
        computer_name=(p.get("osProfile") or {}).get("computerName"),
        vm_size=_one((p.get("hardwareProfile") or {}).get("vmSize")),
        provisioning_state=_one(p.get("provisioningState")),
        image_reference_id=_one(image_id),
        image_version_id=shared_id(_exact_version_id(image_id, image.get("exactVersion"))),
    )


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
        **base_fields(raw, SESSION_HOST),
        host_pool_id=shared_id(parent_id(raw["id"])),
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
        **base_fields(raw, USER_SESSION),
        host_pool_id=shared_id(parent_id(raw["id"], levels=2)),
        session_host_name=raw["id"].rstrip("/").split("/")[-3],
        user_principal_name=p.get("userPrincipalName"),
        session_state=_one(p.get("sessionState")),
        application_type=_one(p.get("applicationType")),
        create_time=parse_time(p.get("createTime")),
    )
