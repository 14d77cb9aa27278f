"""Which image a VM is created from: a gallery version id, a definition id ("latest": the highest version not
excluded and replicated to the VM's region), a managed image or a platform image; otherwise 404
GalleryImageNotFound. A PUT on an existing VM may repeat its image reference, never change it."""

from __future__ import annotations

from typing import Any

from ..errors import ArmError, bad_request
from ..routing import norm_region
from .base import norm_value
from .compute_other import latest_platform_version
from .compute_version_replication import find_latest


def gallery_not_found(image_id: str, region: str) -> ArmError:
    return ArmError(
        404,
        "GalleryImageNotFound",
        f"The gallery image {image_id} is not available in {region} region. Please contact image owner to "
        "replicate to this region, or change your requested region.",
        "imageReference",
    )


IMAGE_REFERENCE_KEYS = ("id", "sharedGalleryImageId", "communityGalleryImageId", "publisher", "offer", "sku")


def image_reference_changed(old: dict[str, Any], new: dict[str, Any]) -> bool:
    """A PUT may repeat the image reference (with or without the read-only exactVersion), never change it."""
    return any(
        key in new and norm_value(new.get(key)) != norm_value(old.get(key)) for key in IMAGE_REFERENCE_KEYS
    ) or ("version" in new and "version" in old and norm_value(new["version"]) != norm_value(old["version"]))


def resolve_image(app: Any, res: dict[str, Any], sb: dict[str, Any]) -> None:
    ref = res["properties"].get("storageProfile", {}).get("imageReference")
    if not ref:
        return
    region = norm_region(res["location"])
    image_id = ref.get("id") or ref.get("sharedGalleryImageId") or ref.get("communityGalleryImageId")
    if image_id and "/galleries/" in image_id.lower():
        parts = image_id.rstrip("/").split("/")
        versions = app.types["microsoft.compute/galleries/images/versions"]
        if parts[-2].lower() == "versions":
            version = app.store.get(image_id)
            if version is None or not versions.completed_in(version, region):
                raise gallery_not_found(image_id, region)
        else:
            if app.store.get(image_id) is None:
                raise gallery_not_found(image_id, region)
            version = find_latest(app, image_id, region)
            if version is None:
                raise gallery_not_found(image_id, region)
        if still_lagging(app, versions, version, region):
            raise gallery_not_found(image_id, region)
        ref["exactVersion"] = version["name"]
        sb["version"] = version["id"]
    elif image_id:
        if app.store.get(image_id) is None:
            raise ArmError(404, "NotFound", f"The image '{image_id}' was not found.", "imageReference")
    elif ref.get("publisher"):
        version = ref.get("version") or "latest"
        ref["exactVersion"] = latest_platform_version(app) if version == "latest" else version
    else:
        raise bad_request(
            "imageReference must have an id or publisher/offer/sku/version.",
            "InvalidParameter",
            "imageReference",
        )


def still_lagging(app: Any, versions: Any, version: dict[str, Any], region: str) -> bool:
    """Azure's compute front end sees a replica a while after the gallery reports it Completed."""
    lag = app.config.gallery_image_read_lag_seconds
    if lag <= 0:
        return False
    since = versions.seconds_since_completed(version, region)
    return since is not None and since < lag
