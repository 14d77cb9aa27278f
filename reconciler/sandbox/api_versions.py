"""The api-versions each resource type the sandbox serves publishes, and ARM's refusal of any other.

Why a list per type: a typo in a client's constant, or an SDK upgrade to a version the service does not have,
must fail here as it fails in Azure, while older clients (Azure CLI, Ansible, Terraform) keep working.

Sources (tests/fixtures/api_versions.json records them per family):
- Azure/azure-rest-api-specs folders specification/<rp>/resource-manager/<ns>/.../{stable,preview}/<version>
  and the readme.md tags that list them: DesktopVirtualization (every tag of its readme.md), ImageBuilder
  (readme.md tags + the TypeSpec examples/2025-10-01), Compute GalleryRP (stable/ and preview/ folders).
- the versions the installed SDKs send (azure-mgmt-compute 2026-03-03 galleries, 2026-04-01 VMs and their
  runCommands, 2026-03-02 disks; imagebuilder 2025-10-01; desktopvirtualization 2024-04-03; network 2026-03-01; msi 2024-11-30;
  keyvault 2026-05-15; resource 2025-04-01), read from their operations modules.
- the other families (ComputeRP, DiskRP, Network, Resources, MSI, KeyVault) from the services' published
  release history; not verified folder by folder (see the fixture's "verified" flags).

Refusal shapes: provider types answer 400 `NoRegisteredProviderFound` "No registered resource provider found
for location '<loc>' and API version '<v>' for type '<type>'. The supported api-versions are '<a, b>'. The
supported locations are '<l, m>'." (Azure/azure-cli#28496, Azure/azure-sdk-for-js#4097: a list is location
'*'); ARM's own types (subscriptions, resource groups, tenants) answer 400 `InvalidApiVersionParameter` "The
api-version '<v>' is invalid. The supported versions are '<newest,...,oldest>'." (Azure/azure-cli#28038,
ansible-collections/azure#1739).
"""

from __future__ import annotations

from typing import Any

from .errors import ArmError
from .routing import ArmPath, Request, norm_region, parse_arm_path


def _monthly(*versions: str) -> tuple[str, ...]:
    return tuple(sorted(set(versions)))


COMPUTE_GALLERY = _monthly(
    "2018-06-01", "2019-03-01", "2019-07-01", "2019-12-01", "2020-09-30", "2021-07-01", "2021-10-01",
    "2022-01-03", "2022-03-03", "2022-08-03", "2023-07-03", "2024-03-03", "2025-03-03", "2026-03-03",
)  # fmt: skip
COMPUTE_RP = _monthly(
    "2015-05-01-preview", "2015-06-15", "2016-03-30", "2016-04-30-preview", "2016-08-30", "2017-03-30",
    "2017-12-01", "2018-04-01", "2018-06-01", "2018-10-01", "2019-03-01", "2019-07-01", "2019-12-01",
    "2020-06-01", "2020-12-01", "2021-03-01", "2021-04-01", "2021-07-01", "2021-11-01", "2022-03-01",
    "2022-08-01", "2022-11-01", "2023-03-01", "2023-07-01", "2023-09-01", "2024-03-01", "2024-07-01",
    "2024-11-01", "2025-04-01", "2025-11-01", "2026-04-01",
)  # fmt: skip
COMPUTE_DISK = _monthly(
    "2016-04-30-preview", "2017-03-30", "2018-04-01", "2018-06-01", "2018-09-30", "2019-03-01", "2019-07-01",
    "2019-11-01", "2020-05-01", "2020-06-30", "2020-09-30", "2020-12-01", "2021-04-01", "2021-08-01",
    "2021-12-01", "2022-03-02", "2022-07-02", "2023-01-02", "2023-04-02", "2023-10-02", "2024-03-02",
    "2025-01-02", "2026-03-02",
)  # fmt: skip
IMAGE_BUILDER = _monthly(
    "2018-02-01-preview", "2019-02-01-preview", "2019-05-01-preview", "2020-02-14", "2021-10-01",
    "2022-02-14", "2022-07-01", "2023-07-01", "2024-02-01", "2025-10-01",
)  # fmt: skip
DESKTOP = _monthly(
    "2019-01-23-preview", "2019-09-24-preview", "2019-12-10-preview", "2020-09-21-preview",
    "2020-10-19-preview", "2020-11-02-preview", "2020-11-10-preview", "2021-01-14-preview",
    "2021-02-01-preview", "2021-03-09-preview", "2021-04-01-preview", "2021-07-12", "2021-09-03-preview",
    "2022-02-10-preview", "2022-04-01-preview", "2022-09-09", "2022-10-14-preview", "2023-09-05",
    "2023-10-04-preview", "2023-11-01-preview", "2024-01-16-preview", "2024-03-06-preview", "2024-04-03",
    "2024-04-08-preview", "2024-08-08-preview", "2024-11-01-preview", "2025-03-01-preview",
    "2025-04-01-preview", "2025-08-01-preview", "2025-09-01-preview", "2025-10-10", "2025-11-01-preview",
    "2026-01-01-preview", "2026-03-01-preview",
)  # fmt: skip
RESOURCES = _monthly(
    "2014-04-01", "2014-04-01-preview", "2015-01-01", "2015-11-01", "2016-02-01", "2016-06-01", "2016-07-01",
    "2016-09-01", "2017-05-10", "2018-02-01", "2018-05-01", "2018-06-01", "2019-03-01", "2019-05-01",
    "2019-05-10", "2019-06-01", "2019-07-01", "2019-08-01", "2019-10-01", "2019-11-01", "2020-01-01",
    "2020-06-01", "2020-08-01", "2020-10-01", "2021-01-01", "2021-04-01", "2022-09-01", "2022-12-01",
    "2023-07-01", "2024-03-01", "2024-07-01", "2024-11-01", "2025-03-01", "2025-04-01",
)  # fmt: skip
NETWORK = _monthly(
    "2015-05-01-preview", "2015-06-15", "2016-03-30", "2016-06-01", "2016-09-01", "2016-10-01", "2016-11-01",
    "2016-12-01", "2017-03-01", "2017-04-01", "2017-06-01", "2017-08-01", "2017-09-01", "2017-10-01",
    "2017-11-01", "2018-01-01", "2018-02-01", "2018-04-01", "2018-06-01", "2018-07-01", "2018-08-01",
    "2018-10-01", "2018-11-01", "2018-12-01", "2019-02-01", "2019-04-01", "2019-06-01", "2019-07-01",
    "2019-08-01", "2019-09-01", "2019-11-01", "2019-12-01", "2020-03-01", "2020-04-01", "2020-05-01",
    "2020-06-01", "2020-07-01", "2020-08-01", "2020-11-01", "2021-02-01", "2021-03-01", "2021-05-01",
    "2021-08-01", "2022-01-01", "2022-05-01", "2022-07-01", "2022-09-01", "2022-11-01", "2023-02-01",
    "2023-04-01", "2023-05-01", "2023-06-01", "2023-09-01", "2023-11-01", "2024-01-01", "2024-03-01",
    "2024-05-01", "2024-07-01", "2024-10-01", "2025-01-01", "2025-03-01", "2025-05-01", "2025-07-01",
    "2025-09-01", "2026-01-01", "2026-03-01",
)  # fmt: skip
MANAGED_IDENTITY = _monthly(
    "2015-08-31-preview", "2018-11-30", "2021-09-30-preview", "2022-01-31-preview", "2023-01-31",
    "2023-07-31-preview", "2024-11-30", "2025-01-31-preview",
)  # fmt: skip
KEY_VAULT = _monthly(
    "2015-06-01", "2016-10-01", "2018-02-14", "2018-02-14-preview", "2019-09-01", "2020-04-01-preview",
    "2021-04-01-preview", "2021-06-01-preview", "2021-10-01", "2021-11-01-preview", "2022-02-01-preview",
    "2022-07-01", "2022-11-01", "2023-02-01", "2023-07-01", "2024-04-01-preview", "2024-11-01",
    "2024-12-01-preview", "2025-05-01", "2026-05-15",
)  # fmt: skip

FAMILIES: dict[str, tuple[str, ...]] = {
    "compute-gallery": COMPUTE_GALLERY,
    "compute": COMPUTE_RP,
    "compute-disk": COMPUTE_DISK,
    "imagebuilder": IMAGE_BUILDER,
    "desktopvirtualization": DESKTOP,
    "resources": RESOURCES,
    "network": NETWORK,
    "managedidentity": MANAGED_IDENTITY,
    "keyvault": KEY_VAULT,
}

# Longest prefix of the lower-cased provider type wins; a namespace alone is that provider's default.
FAMILY_BY_TYPE: dict[str, str] = {
    "microsoft.compute": "compute",
    "microsoft.compute/galleries": "compute-gallery",
    "microsoft.compute/locations/sharedgalleries": "compute-gallery",
    "microsoft.compute/locations/communitygalleries": "compute-gallery",
    "microsoft.compute/disks": "compute-disk",
    "microsoft.compute/snapshots": "compute-disk",
    "microsoft.compute/diskaccesses": "compute-disk",
    "microsoft.compute/diskencryptionsets": "compute-disk",
    "microsoft.virtualmachineimages": "imagebuilder",
    "microsoft.desktopvirtualization": "desktopvirtualization",
    "microsoft.resources": "resources",
    "microsoft.network": "network",
    "microsoft.managedidentity": "managedidentity",
    "microsoft.keyvault": "keyvault",
}

# The regions the sandbox's catalogue and estates use, as ARM lists a provider's locations.
SUPPORTED_LOCATIONS = (
    "East US", "East US 2", "West US", "West US 2", "Central US", "North Europe", "West Europe",
    "UK South", "France Central", "Germany West Central", "Sweden Central", "Switzerland North",
)  # fmt: skip


def family_of(provider_type: str) -> str | None:
    key = provider_type.lower()
    while key:
        if key in FAMILY_BY_TYPE:
            return FAMILY_BY_TYPE[key]
        key = key.rpartition("/")[0]
    return None


# Operation monitors answer in the api-version of the write that started them (the LRO's URL carries it):
# Compute's capsOperations poll at the gallery version, its operations at the VM one.
OPERATION_KINDS = ("operations", "capsoperations", "operationresults", "operationstatuses", "diskoperations")


def supported(provider_type: str) -> tuple[str, ...] | None:
    """The versions published for `provider_type`; None for a namespace the sandbox does not model."""
    ns, _, rest = provider_type.lower().partition("/")
    if rest.startswith("locations/") and rest.split("/")[1] in OPERATION_KINDS:
        families = {f for key, f in FAMILY_BY_TYPE.items() if key.split("/")[0] == ns}
        return tuple(sorted({v for f in families for v in FAMILIES[f]})) if families else None
    family = family_of(provider_type)
    return FAMILIES[family] if family else None


def provider_type(p: ArmPath) -> str:
    """`Microsoft.Compute/galleries/images` for any path under an image definition (actions included)."""
    rest = p.rest
    if rest and rest[0].lower() == "locations" and len(rest) >= 3:
        return f"{p.ns}/locations/{rest[2]}"
    return p.full_type()


def check(app: Any, req: Request) -> None:
    """Raise ARM's 400 when `req.api_version` is not one the addressed resource type publishes."""
    p = parse_arm_path(req.segments)
    if p is None:
        if req.segments and req.segments[0].lower() == "tenants":
            _check_arm_own(req.api_version)
        return
    if p.ns is None or p.ns.lower() == "microsoft.resources":
        _check_arm_own(req.api_version)
        return
    kind = provider_type(p)
    versions = supported(kind)
    if versions is None or req.api_version.lower() in versions:
        return
    type_name = kind.split("/", 1)[1] if "/" in kind else kind
    raise ArmError(
        400,
        "NoRegisteredProviderFound",
        f"No registered resource provider found for location '{_location(app, req, p)}' and API version "
        f"'{req.api_version}' for type '{type_name}'. The supported api-versions are '{', '.join(versions)}'. "
        f"The supported locations are '{', '.join(SUPPORTED_LOCATIONS)}'.",
    )


def _check_arm_own(version: str) -> None:
    if version.lower() in RESOURCES:
        return
    newest_first = ",".join(reversed(RESOURCES))
    raise ArmError(
        400,
        "InvalidApiVersionParameter",
        f"The api-version '{version}' is invalid. The supported versions are '{newest_first}'.",
    )


def _location(app: Any, req: Request, p: ArmPath) -> str:
    """The region ARM names: the body's (a PUT), the addressed resource's, a locations/<x> path's, else '*'."""
    rest = p.rest
    if rest and rest[0].lower() == "locations" and len(rest) >= 2:
        return norm_region(rest[1])
    if req.method in ("PUT", "PATCH") and req.raw_body:
        try:
            body = req.json()
        except ArmError:
            body = None
        if isinstance(body, dict) and isinstance(body.get("location"), str):
            return norm_region(body["location"])
    if len(rest) >= 2:
        with app.lock:
            res = app.store.get(p.resource_id(rest[: 2 * (len(rest) // 2)]))
        if res is not None and res.get("location"):
            return norm_region(res["location"])
    return "*"
