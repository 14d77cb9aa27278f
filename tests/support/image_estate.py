"""Desired-state trees and helpers for the `reconcile apply` end-to-end tests (real CLI, real SDK, sandbox)."""

from __future__ import annotations

from pathlib import Path

# The estate's ids, settings and gallery are the planner tests' (one estate, one place); DEF_ID, GALLERY_ID and
# POOL_ID are re-exported for the apply tests.
from planner.docs import DEF_ID, GALLERY, GALLERY_ID, POOL_ID, RG, SETTINGS, SUB  # noqa: F401

from support.image_sources import source_image_id

SOURCE = f"{RG}/providers/Microsoft.Compute/images/src-"  # + "1-0-0": source_image_id("1.0.0")
IDENTITY = f"{RG}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/aib"

DEFINITION = """
apiVersion: avd.reconciler.io/v1alpha1
kind: ImageDefinition
metadata: {name: win11}
spec:
  gallery: gal1
  identifier: {publisher: P, offer: O, sku: S}
  features: [{name: SecurityType, value: TrustedLaunchSupported}]
  retention: {keepNewest: KEEP, endOfLifeAfter: 0s, deleteAfterEndOfLife: true}
"""
MARKETPLACE = "MicrosoftWindowsDesktop/office-365/win11-24h2-avd-m365"
PATCH_TUESDAY = '{cron: "@patch-tuesday+1d 04:00", timeZone: Europe/Amsterdam}'


def build_doc(
    *,
    name: str = "monthly",
    step: str = "hello",
    script: str = "Write-Output hello",
    triggers: str | None = None,
    release: str | None = None,
) -> str:
    """The one ImageBuild of these tests: a marketplace source on `latest`, one PowerShell step; `triggers` and
    `release` are YAML (flow style) for spec.triggers and spec.release, left out when None."""
    lines = [
        f"""
apiVersion: avd.reconciler.io/v1alpha1
kind: ImageBuild
metadata: {{name: {name}}}
spec:
  identity: {IDENTITY}
  source: {{platformImage: {{publisher: MicrosoftWindowsDesktop, offer: office-365, sku: win11-24h2-avd-m365}}}}
  customize:
    - {{type: PowerShell, name: {step}, inline: ["{script}"]}}
""".lstrip("\n")
    ]
    if triggers is not None:
        lines.append(f"  triggers: {triggers}\n")
    if release is not None:
        lines.append(f"  release: {release}\n")
    return "\n" + "".join(lines)


# Built by apply, triggered by nothing: write_desired replaces STEP to change the recipe.
BUILD = build_doc(script="Write-Output STEP")
# The monthly release: the day after Patch Tuesday and whenever the marketplace moves, into win11.
RELEASE_BUILD = build_doc(
    triggers=f"{{schedule: {PATCH_TUESDAY}, sourceImageUpdate: true}}",
    release="{definition: win11, targetRegions: [{name: westeurope}]}",
)


def version(name: str, regions=("westeurope",), build: bool = False) -> str:
    # A managed-image version names a golden image the landing zone holds (support.image_sources).
    source = "{build: monthly}" if build else f"{{managedImageId: {source_image_id(name)}}}"
    region_list = ", ".join(f"{{name: {r}}}" for r in regions)
    return f"""
apiVersion: avd.reconciler.io/v1alpha1
kind: ImageVersion
metadata: {{name: "{name}"}}
spec:
  definition: win11
  source: {source}
  targetRegions: [{region_list}]
"""


def pool(pin: str) -> str:
    return f"""
apiVersion: avd.reconciler.io/v1alpha1
kind: HostPool
metadata: {{name: pool-a}}
spec:
  friendlyName: Pool A
  image: {{definition: win11, version: "{pin}"}}
  sessionHosts:
    count: 0
    vmSize: Standard_D4s_v5
    namePrefix: ha
    subnetId: /subscriptions/{SUB}/resourceGroups/net/providers/Microsoft.Network/virtualNetworks/v/subnets/s
    localAdmin: {{password: {{keyVaultSecret: {{vaultName: kv1, secretName: admin}}}}}}
    join: {{type: entra}}
"""


def write_desired(
    root: Path, versions: list[str], *, pin: str, keep: int = 3, step: str = "one", staging: str | None = None
) -> Path:
    """`staging`: the build's spec.stagingResourceGroup (an id), left out when None."""
    root.mkdir(parents=True, exist_ok=True)
    build = BUILD.replace("STEP", step)
    if staging is not None:
        build += f"  stagingResourceGroup: {staging}\n"
    docs = [
        SETTINGS,
        GALLERY,
        DEFINITION.replace("KEEP", str(keep)),
        build,
        *versions,
        pool(pin),
    ]
    (root / "estate.yaml").write_text("\n---\n".join(docs))
    return root
