"""Whether the image something is made from exists: a gallery version's source (Compute) and an Image Builder
template's source. Both providers read the source when the write arrives, so a missing one is refused at once
rather than failing a replication or a build later (sources: tests/fixtures/refusals.json)."""

from __future__ import annotations

from typing import Any

from ..errors import ArmError, bad_request, conflict
from ..store import PRIVATE

# Image Builder's provisioning error codes for a bad source (the REST spec's ProvisioningErrorCode enum,
# specification/imagebuilder/.../ImageBuilder; BadSharedImageVersionSource also in the .NET SDK's
# ImageBuilderProvisioningErrorCode).
TEMPLATE_SOURCE_CODES = {
    "managedimage": "BadManagedImageSource",
    "sharedimageversion": "BadSharedImageVersionSource",
}
TEMPLATE_SOURCE_KEYS = {"managedimage": "imageId", "sharedimageversion": "imageVersionId"}


def absent(app: Any, rid: str) -> bool:
    """An ARM id (not a blob URI or a marketplace URN) that names nothing the sandbox holds."""
    return "/providers/" in rid.lower() and app.store.get(rid) is None


def is_generalized(vm: dict[str, Any]) -> bool:
    return bool(vm.get(PRIVATE, {}).get("generalized"))


def vm_source_problem(app: Any, version_id: str, vm_id: str) -> ArmError | None:
    """A version of a Generalized definition captured from a VM that was never generalized (Sysprep not run,
    or run but `generalize` not called): Compute refuses the capture rather than publish an image whose first
    boot would skip OOBE. A Specialized definition takes the VM as it is."""
    vm = app.store.get(vm_id)
    definition = app.store.get(version_id.rstrip("/").rsplit("/", 2)[0])
    if vm is None or definition is None or is_generalized(vm):
        return None
    if (definition.get("properties", {}).get("osState") or "").lower() != "generalized":
        return None
    return conflict(
        "OperationNotAllowed",
        f"Capture operation cannot be completed because the VM '{vm['name']}' is not generalized.",
    )


def template_source_problem(app: Any, source: dict[str, Any]) -> ArmError | None:
    """A template built from a managed image or a gallery version that does not exist. A `latest` version is
    resolved when the build runs, so only its definition must exist now."""
    kind = (source.get("type") or "").lower()
    rid = source.get(TEMPLATE_SOURCE_KEYS.get(kind, ""), "")
    if not rid:
        return None
    needed = (
        rid.rstrip("/").rsplit("/", 2)[0] if rid.rstrip("/").lower().endswith("/versions/latest") else rid
    )
    if not absent(app, needed):
        return None
    # The shape of Image Builder's "Platform Image was not found ... Please check the specified source image
    # version in Image Builder Template exists." (Azure/azvmimagebuilder#34), for the other source kinds.
    return bad_request(
        f"The source image '{rid}' was not found. Please check the specified source image in Image Builder "
        "Template exists.",
        TEMPLATE_SOURCE_CODES[kind],
        "properties.source",
    )
