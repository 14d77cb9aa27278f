"""Microsoft.Compute galleries and image definitions (versions: compute_versions.py).

Immutable definition fields answer 409 PropertyChangeNotAllowed; parents with children answer 409
CannotDeleteResource.
"""

from __future__ import annotations

import re
from typing import Any

from .. import soft_delete
from ..errors import bad_request, conflict
from ..store import PRIVATE
from .base import ResourceType, norm_value

GALLERY_RE = re.compile(r"^[^_\W][\w.\-]{0,79}(?<![-.])$")
DEFINITION_IMMUTABLE = ("osType", "osState", "identifier", "hyperVGeneration", "architecture")


class Galleries(ResourceType):
    type_name = "Microsoft.Compute/galleries"
    segment = "capsOperations"
    name_re = GALLERY_RE

    def build(self, req, rid, body, existing):
        res = super().build(req, rid, body, existing)
        props = res["properties"]
        props["identifier"] = {"uniqueName": f"{rid.split('/')[2]}-{res['name'].upper()}"}
        return res

    def put_seconds(self, res, existing):
        return self.app.config.gallery_seconds

    def check_delete(self, req, res):
        if self.app.store.count_children(res["id"] + "/images"):
            raise conflict(
                "CannotDeleteResource", "Can not delete resource before nested resources are deleted."
            )


class Images(ResourceType):
    type_name = "Microsoft.Compute/galleries/images"
    segment = "capsOperations"
    name_re = GALLERY_RE

    def build(self, req, rid, body, existing):
        props = body.get("properties") or {}
        if existing is None:
            for field in ("osType", "osState", "identifier"):
                if not props.get(field):
                    raise bad_request(
                        f"Required parameter '{field}' is missing (null).", "InvalidParameter", field
                    )
        else:
            _refuse_immutable_change(props, existing.get("properties", {}))
        res = super().build(req, rid, body, existing)
        if existing is not None:
            merged = dict(existing.get("properties", {}))
            merged.update(res["properties"])
            res["properties"] = merged
        res["properties"].setdefault("hyperVGeneration", "V1")
        return res

    def patch(self, req, res, body):
        props = body.get("properties") or {}
        _refuse_immutable_change(props, res.get("properties", {}))
        super().patch(req, res, body)

    def put_seconds(self, res, existing):
        return self.app.config.image_seconds

    def check_delete(self, req, res):
        binned = soft_delete.under(self.app.store, res["id"], self.app.clock.now_ts())
        if binned:
            raise soft_delete.definition_in_use(res["id"], binned)
        children = self.app.store.list_children(res["id"] + "/versions")
        if not children and res.get(PRIVATE, {}).get("ghost_until", 0) > self.app.clock.now_ts():
            raise conflict("CannotDeleteResource", "Cannot delete resource while nested resources exist.")
        if children:
            ids = ", ".join(c["id"] for c in children[:3])
            raise conflict(
                "CannotDeleteResource",
                f"Cannot delete resource while nested resources exist. Some existing nested resource IDs include: "
                f"'{ids}'. Please delete all nested resources before deleting this resource.",
            )


def install(app: Any) -> None:
    app.register(Galleries(app))
    app.register(Images(app))


def _refuse_immutable_change(props: dict, old: dict) -> None:
    """A PUT or PATCH on an existing image definition may not change an immutable property (as Azure)."""
    for field in DEFINITION_IMMUTABLE:
        if field in props and field in old and norm_value(props[field]) != norm_value(old[field]):
            raise conflict(
                "PropertyChangeNotAllowed",
                f"Changing property 'galleryImage.properties.{field}' is not allowed.",
                f"galleryImage.properties.{field}",
            )
