"""The golden managed images the test estates' versions are made from, as a platform team keeps them.

The sandbox refuses a gallery version whose source does not exist (404 ResourceNotFound, as Azure does:
tests/fixtures/refusals.json "VersionSourceNotFound"), so the estates name only images that are there: every
estate builder takes its version's source from `source_image_id`, and the landing zone the `sb` fixture and
`own_sandbox` seed holds `golden_images()` (one image per name in SOURCED_VERSIONS and per estate prefix).
A test that needs a version name not listed adds it to SOURCED_VERSIONS.
"""

from __future__ import annotations

SUB = "11111111-1111-4111-8111-111111111111"
IMAGES_RG = f"/subscriptions/{SUB}/resourceGroups/rg-img"

# Version names the estates may create from a managed image (image_estate, planner.docs, rollout).
SOURCED_VERSIONS = ("1.0.0", "1.1.0", "1.2.0", "1.3.0", "2.0.0", "2.1.0", "3.0.0")
# Each estate's image name prefix: image_estate and planner.docs use "src-", the rollout estate "img-".
PREFIXES = ("src-", "img-")


def source_image_id(version: str, prefix: str = "src-") -> str:
    """The managed image `version` is made from; refuses a name the landing zone holds no image for."""
    if version not in SOURCED_VERSIONS:
        raise ValueError(
            f"no golden image for version {version!r}: add it to support.image_sources.SOURCED_VERSIONS"
        )
    return f"{IMAGES_RG}/providers/Microsoft.Compute/images/{prefix}{version.replace('.', '-')}"


def managed_image(rid: str, location: str = "westeurope") -> dict:
    """A generalized Windows managed image (Microsoft.Compute/images) in the shape a GET returns."""
    return {
        "id": rid,
        "name": rid.rsplit("/", 1)[-1],
        "type": "Microsoft.Compute/images",
        "location": location,
        "properties": {
            "hyperVGeneration": "V2",
            "provisioningState": "Succeeded",
            "storageProfile": {
                "osDisk": {
                    "osType": "Windows",
                    "osState": "Generalized",
                    "storageAccountType": "Standard_LRS",
                    "diskSizeGB": 127,
                },
                "dataDisks": [],
            },
        },
    }


def golden_images(subscription_ids) -> list[dict]:
    """Every image the estates can name (their group, rg-img, comes with the landing zone's identities)."""
    if SUB not in subscription_ids:
        return []
    return [managed_image(source_image_id(v, p)) for p in PREFIXES for v in SOURCED_VERSIONS]
