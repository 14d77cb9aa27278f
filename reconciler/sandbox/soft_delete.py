"""Soft delete of gallery image versions, when the gallery's `properties.softDeletePolicy.isSoftDeleteEnabled` is
true (off unless the gallery PUT/PATCH sets it, as in Azure). Sources: tests/fixtures/soft_delete.md.

A deleted version leaves the store (not listed, GET 404) into the store's bin for the retention period; until it
is purged (`DELETE ...?bypassSoftDelete=true`) or the period ends, its name cannot be reused and its definition
cannot be deleted.
"""

from __future__ import annotations

from typing import Any

from .clock import iso
from .errors import ArmError, conflict
from .store import PRIVATE, Store

DAY = 86400.0
DEFAULT_RETENTION_DAYS = 7  # "recover accidentally deleted resources within a 7 day retention period"


def policy_of(store: Store, version_id: str) -> dict[str, Any]:
    gallery = store.get(version_id.rsplit("/", 4)[0])
    return ((gallery or {}).get("properties") or {}).get("softDeletePolicy") or {}


def enabled_for(store: Store, version_id: str) -> bool:
    return policy_of(store, version_id).get("isSoftDeleteEnabled") is True


def keep(store: Store, res: dict[str, Any], at: float) -> None:
    """Put a version being deleted into the bin instead of forgetting it."""
    days = policy_of(store, res["id"]).get("retentionPeriodInDays") or DEFAULT_RETENTION_DAYS
    kept = {k: v for k, v in res.items() if k != PRIVATE}
    store.soft_deleted[res["id"].lower()] = {"resource": kept, "deleted_at": at, "purge_at": at + days * DAY}


def find(store: Store, version_id: str, now: float) -> dict[str, Any] | None:
    """The bin entry of a version, unless its retention ended (then it is purged now)."""
    lid = version_id.lower()
    entry = store.soft_deleted.get(lid)
    if entry is not None and entry["purge_at"] <= now:
        del store.soft_deleted[lid]
        return None
    return entry


def purge(store: Store, version_id: str) -> bool:
    return store.soft_deleted.pop(version_id.lower(), None) is not None


def under(store: Store, definition_id: str, now: float) -> list[str]:
    """Ids of the soft-deleted versions of a definition still in their retention period."""
    prefix = definition_id.lower().rstrip("/") + "/versions/"
    ids = [lid for lid in list(store.soft_deleted) if lid.startswith(prefix)]
    return [store.soft_deleted[lid]["resource"]["id"] for lid in ids if find(store, lid, now) is not None]


def name_taken(entry: dict[str, Any]) -> ArmError:
    res = entry["resource"]
    name, definition = res["name"], res["id"].rsplit("/", 2)[0].rsplit("/", 1)[-1]
    return conflict(
        "GalleryImageVersionSoftDeleted",
        f"Gallery image version '{name}' of gallery image '{definition}' is soft-deleted; its name cannot be "
        f"reused until it is purged or its retention period ends at {iso(entry['purge_at'])}. Restore it, "
        "purge it (DELETE with bypassSoftDelete=true), or choose another version name.",
        "galleryImageVersionName",
    )


def definition_in_use(definition_id: str, versions: list[str]) -> ArmError:
    return conflict(
        "CannotDeleteResource",
        f"Cannot delete resource while soft-deleted nested resources exist. Some existing soft-deleted nested "
        f"resource IDs include: '{', '.join(versions[:3])}'. Purge them or wait for their retention period to end "
        f"before deleting '{definition_id.rsplit('/', 1)[-1]}'.",
    )
