"""Image Builder's SharedImage distribution: the gallery image version a run creates for one distribute target
(definition id -> a generated version number, or the version id as given), with the target's version settings."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any


def make_version(app: Any, res: dict[str, Any], target: dict[str, Any], at: float) -> dict[str, Any] | str:
    image_id = target.get("galleryImageId") or ""
    parts = image_id.rstrip("/").split("/")
    if len(parts) >= 2 and parts[-2].lower() == "versions":
        definition_id, name = "/".join(parts[:-2]), parts[-1]
    else:
        definition_id = image_id.rstrip("/")
        name = datetime.fromtimestamp(at, UTC).strftime("%Y.%m%d.%H%M%S").replace(".0", ".")
    definition = app.store.get(definition_id)
    if definition is None:
        return f"The gallery image definition '{definition_id}' was not found."
    version_id = f"{definition['id']}/versions/{name}"
    if app.store.get(version_id) is not None:
        return f"The gallery image version '{version_id}' already exists."
    regions = target.get("targetRegions") or [{"name": r} for r in target.get("replicationRegions") or []]
    trs = [
        {
            "name": r["name"],
            "regionalReplicaCount": r.get("replicaCount") or 1,
            "storageAccountType": r.get("storageAccountType")
            or target.get("storageAccountType")
            or "Standard_LRS",
        }
        for r in regions
    ] or [{"name": definition["location"]}]
    source = res["properties"].get("source") or {}
    # The distributor's version-level settings, which Azure fixes at creation (storage type, replication
    # mode cannot change afterwards), land on the version as given; unset ones take Compute's defaults.
    profile = {
        "targetRegions": trs,
        "excludeFromLatest": bool(target.get("excludeFromLatest")),
        **{k: target[k] for k in ("storageAccountType", "replicationMode") if target.get(k)},
    }
    version = {
        "id": version_id,
        "name": name,
        "type": "Microsoft.Compute/galleries/images/versions",
        "location": definition["location"],
        "tags": dict(target.get("artifactTags") or {}),
        "properties": {
            "publishingProfile": profile,
            "storageProfile": {
                "source": {
                    "id": source.get("imageVersionId")
                    or source.get("imageId")
                    or f"{res['id']}/staging/{name}"
                }
            },
            "provisioningState": "Creating",
        },
    }
    app.types["microsoft.compute/galleries/images/versions"].normalize(version)
    app.store.put(version)
    return version
