"""Small desired-state YAML documents for planner and end-to-end plan tests (one estate, many variations)."""

from __future__ import annotations

from datetime import UTC, datetime

SUB = "11111111-1111-4111-8111-111111111111"
NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
RG = f"/subscriptions/{SUB}/resourceGroups/rg-img"
GALLERY_ID = f"{RG}/providers/Microsoft.Compute/galleries/gal1"
DEF_ID = f"{GALLERY_ID}/images/win11"
POOL_ID = (
    f"/subscriptions/{SUB}/resourceGroups/rg-img/providers/Microsoft.DesktopVirtualization/hostPools/pool-a"
)
IMAGE_SRC = f"{RG}/providers/Microsoft.Compute/images/src-"

SETTINGS = f"""
apiVersion: avd.reconciler.io/v1alpha1
kind: Settings
metadata: {{name: test}}
spec:
  subscriptions: {{main: {SUB}}}
  defaults: {{subscription: main, resourceGroup: rg-img, location: westeurope}}
  ownershipTag: {{name: owner, value: us}}
"""
GALLERY = """
apiVersion: avd.reconciler.io/v1alpha1
kind: Gallery
metadata: {name: gal1}
spec: {description: test gallery}
"""
DEFINITION = """
apiVersion: avd.reconciler.io/v1alpha1
kind: ImageDefinition
metadata: {name: win11}
spec:
  gallery: gal1
  identifier: {publisher: P, offer: O, sku: S}
  features: [{name: SecurityType, value: TrustedLaunchSupported}]
  retention: {keepNewest: 2, endOfLifeAfter: 30d, deleteAfterEndOfLife: true}
"""


def version_doc(name: str, regions=("westeurope",), extra: str = "") -> str:
    region_list = ", ".join(f"{{name: {r}}}" for r in regions)
    return f"""
apiVersion: avd.reconciler.io/v1alpha1
kind: ImageVersion
metadata: {{name: "{name}"}}
spec:
  definition: win11
  source: {{managedImageId: {IMAGE_SRC}{name.replace(".", "-")}}}
  targetRegions: [{region_list}]
{extra}"""


def pool_doc(
    name="pool-a",
    version="1.1.0",
    count=4,
    rollout="{strategy: surge, batchSize: 2, capacityFloor: 50}",
    extra="",
) -> str:
    return f"""
apiVersion: avd.reconciler.io/v1alpha1
kind: HostPool
metadata: {{name: {name}}}
spec:
  image: {{definition: win11, version: "{version}"}}
  sessionHosts:
    count: {count}
    vmSize: Standard_D4s_v5
    namePrefix: {name.replace("pool-", "h")}
    subnetId: /subscriptions/{SUB}/resourceGroups/net/providers/Microsoft.Network/virtualNetworks/v/subnets/s
    localAdmin: {{password: {{keyVaultSecret: {{vaultName: kv1, secretName: admin}}}}}}
    join: {{type: entra}}
  rollout: {rollout}
{extra}"""


def base_docs(versions=("1.0.0", "1.1.0"), pools=None) -> list[str]:
    docs = [SETTINGS, GALLERY, DEFINITION] + [version_doc(v) for v in versions]
    return docs + (pools if pools is not None else [pool_doc()])
