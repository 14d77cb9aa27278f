"""Landing-zone reads and the one landing-zone write: resource groups and referenced resources.

- `list_resource_groups`: one paged list per subscription (`/subscriptions/<s>/resourcegroups`), part of every
  observation, so the plan knows which groups it must create.
- `read_references`: one GET per resource desired state points at — subnets, user-assigned identities,
  staging resource groups, Key Vault secrets, the VM an image version is captured from (with its instance
  view) — through the management plane only: a secret is read as
  `.../vaults/<v>/secrets/<name>` (ARM), which returns its metadata and never its value, and needs no data-plane
  access to the vault. A pinned secret version is not checked (ARM has no per-version read).
- `create_resource_group`: ResourceManagementClient.resource_groups.create_or_update (synchronous in ARM).

Reads go through an SDK client's own pipeline (`paging.get_one`), so auth, retries and metering are the same
as every other call. api-versions are those of the SDKs that own the types (azure-mgmt-resource 26,
azure-mgmt-network 33, azure-mgmt-msi 7.1, azure-mgmt-keyvault 14.1).
"""

from __future__ import annotations

from typing import Any

from azure.core.exceptions import HttpResponseError

from reconciler.azure import paging
from reconciler.azure.connection import Connection
from reconciler.model.landing import ObservedResourceGroup, ReferenceRead

RESOURCES_API = "2025-04-01"  # azure-mgmt-resource 26: resource groups
API_BY_TYPE = {
    "microsoft.network/virtualnetworks/subnets": "2026-03-01",
    "microsoft.network/virtualnetworks": "2026-03-01",
    "microsoft.managedidentity/userassignedidentities": "2024-11-30",
    "microsoft.keyvault/vaults/secrets": "2026-05-15",
    "microsoft.keyvault/vaults": "2026-05-15",
}


def type_of(resource_id: str) -> str:
    """`microsoft.network/virtualnetworks/subnets`, or `microsoft.resources/resourcegroups` for a group id."""
    parts = resource_id.strip("/").lower().split("/")
    if "providers" not in parts:
        return "microsoft.resources/resourcegroups"
    rest = parts[parts.index("providers") + 1 :]
    return "/".join([rest[0]] + rest[1::2])


def api_version_of(resource_id: str) -> str:
    return API_BY_TYPE.get(type_of(resource_id), RESOURCES_API)


def subscription_of(resource_id: str) -> str:
    parts = resource_id.strip("/").split("/")
    return parts[1] if len(parts) > 1 and parts[0].lower() == "subscriptions" else ""


def resource_group(raw: dict[str, Any]) -> ObservedResourceGroup:
    return ObservedResourceGroup(
        id=raw["id"],
        location=(raw.get("location") or "").replace(" ", "").lower(),
        tags=dict(raw.get("tags") or {}),
        provisioning_state=(raw.get("properties") or {}).get("provisioningState") or "",
        raw=raw,
    )


def list_resource_groups(connection: Connection, subscription_id: str) -> list[dict[str, Any]]:
    client = connection.compute(subscription_id)  # any ARM client's pipeline will do for a raw list
    return paging.list_all(client, f"/subscriptions/{subscription_id}/resourcegroups", RESOURCES_API)


def read_reference(connection: Connection, resource_id: str) -> ReferenceRead:
    """One GET; never raises for an HTTP answer (404 = missing, other codes = unreadable)."""
    client = connection.compute(subscription_of(resource_id) or "00000000-0000-0000-0000-000000000000")
    is_vm = type_of(resource_id) == "microsoft.compute/virtualmachines"
    try:
        if is_vm:
            raw = paging.get_one(client, resource_id, paging.VM_API, **{"$expand": "instanceView"})
            view = (raw.get("properties") or {}).get("instanceView") or {}
            statuses = tuple(s.get("code", "") for s in view.get("statuses") or [])
            return ReferenceRead(resource_id, 200, statuses=statuses)
        paging.get_one(client, resource_id, api_version_of(resource_id))
    except HttpResponseError as exc:
        error = getattr(exc, "error", None)
        code = getattr(error, "code", None) or (exc.reason or "")
        message = (getattr(error, "message", None) or str(exc)).strip().splitlines()[0][:300]
        return ReferenceRead(resource_id, exc.status_code or 0, str(code), message)
    return ReferenceRead(resource_id, 200)


def create_resource_group(connection: Connection, resource_id: str, location: str, tags: dict[str, str]):
    """PUT the group (idempotent). Returns the group as REST JSON."""
    from azure.mgmt.resource.resources import ResourceManagementClient  # only apply needs it

    sub = subscription_of(resource_id)
    client = connection._client("resources", ResourceManagementClient, sub)
    name = resource_id.rstrip("/").rsplit("/", 1)[-1]
    group = client.resource_groups.create_or_update(name, {"location": location, "tags": tags})
    return group.as_dict() if hasattr(group, "as_dict") else dict(group)
