"""The rollout estate: a gallery with one definition, versions and host pools written as desired state, and
what the sandbox holds of it (its pools' hosts and VMs, the versions they run, the invariants it keeps)."""

from __future__ import annotations

import textwrap
from datetime import datetime
from pathlib import Path

from support.image_sources import source_image_id
from support.sandbox import stored

SUB = "11111111-1111-4111-8111-111111111111"
RG_IMAGES = "rg-img"
RG_POOLS = "rg-pools"
VERSION_PREFIX = (
    f"/subscriptions/{SUB}/resourceGroups/{RG_IMAGES}/providers/Microsoft.Compute/galleries/galtest"
    "/images/win11/versions/"
)

BASE = """\
apiVersion: avd.reconciler.io/v1alpha1
kind: Settings
metadata: {name: test}
spec:
  subscriptions: {prod: %(sub)s}
  defaults: {subscription: prod, resourceGroup: rg-img, location: westeurope}
---
apiVersion: avd.reconciler.io/v1alpha1
kind: Gallery
metadata: {name: galtest}
---
apiVersion: avd.reconciler.io/v1alpha1
kind: ImageDefinition
metadata: {name: win11}
spec:
  gallery: galtest
  identifier: {publisher: Test, offer: Win11, sku: multi}
  features: [{name: SecurityType, value: TrustedLaunchSupported}]
"""

VERSION = """\
---
apiVersion: avd.reconciler.io/v1alpha1
kind: ImageVersion
metadata: {name: %(name)s}
spec:
  definition: win11
  source: {managedImageId: %(source)s}
  targetRegions: %(regions)s
"""

POOL = """\
---
apiVersion: avd.reconciler.io/v1alpha1
kind: HostPool
metadata: {name: %(name)s}
spec:
  resourceGroup: rg-pools
  location: %(location)s
  hostPoolType: %(type)s
  image: {definition: win11, version: %(version)s}
  sessionHosts:
    count: %(count)s
    vmSize: Standard_D4s_v5
    namePrefix: %(prefix)s
    subnetId: /subscriptions/%(sub)s/resourceGroups/rg-net/providers/Microsoft.Network/virtualNetworks/vnet/subnets/avd
    zones: [1, 2]
    localAdmin: {password: {keyVaultSecret: {vaultName: kv-test, secretName: local-admin}}}
    join: %(join)s
  rollout:
%(rollout)s
"""

AD_JOIN = (
    "{type: activeDirectory, domain: corp.example.com, username: svc-join@corp.example.com, "
    "password: {keyVaultSecret: {vaultName: kv-test, secretName: domain-join}}}"
)


def pool_doc(
    name: str,
    *,
    count: int = 4,
    version: str = "1.0.0",
    prefix: str | None = None,
    rollout: dict | None = None,
    location: str = "westeurope",
    type_: str = "Pooled",
    join: str = "{type: entra}",
) -> str:
    fields = {
        "strategy": "surge",
        "batchSize": 1,
        "capacityFloor": 75,
        "drainGrace": "30m",
        "healthTimeout": "30m",
        **(rollout or {}),
    }
    lines = []
    for key, value in fields.items():
        if isinstance(value, (dict, list)):
            import json

            value = json.dumps(value)
        lines.append(f"    {key}: {value}")
    return POOL % {
        "name": name,
        "location": location,
        "type": type_,
        "version": version,
        "count": count,
        "prefix": prefix or name.replace("-", "")[:9],
        "sub": SUB,
        "join": join,
        "rollout": "\n".join(lines),
    }


def write_desired(root: Path, versions: dict[str, list[str]], pools: list[str]) -> Path:
    """versions: name -> regions. Writes desired/estate.yaml and returns the directory."""
    root.mkdir(parents=True, exist_ok=True)
    text = BASE % {"sub": SUB}
    for name, regions in versions.items():
        regions_yaml = "[" + ", ".join(f"{{name: {r}}}" for r in regions) + "]"
        source = source_image_id(name, "img-")  # a golden image the landing zone holds
        text += VERSION % {"name": name, "source": source, "regions": regions_yaml}
    text += "".join(pools)
    (root / "estate.yaml").write_text(textwrap.dedent(text), encoding="utf-8")
    return root


def check_invariants(
    sb,
    floors: dict[str, int] | None = None,
    *,
    grace: dict[str, float] | None = None,
    max_hosts: dict[str, int] | None = None,
) -> dict:
    inv = sb.invariants()
    assert inv["orphan_disks"] == [], inv["orphan_disks"]
    assert inv["orphan_nics"] == [], inv["orphan_nics"]
    assert inv["ghost_session_hosts"] == [], inv["ghost_session_hosts"]
    for pool_id, cap in (max_hosts or {}).items():
        seen = inv["max_hosts_per_pool"].get(pool_id.lower(), 0)
        assert seen <= cap, f"{pool_id}: {seen} hosts > {cap}"
    for end in inv["forced_session_ends"]:
        limit = min((grace or {}).values(), default=0)
        assert end["seconds_after_drain"] is not None and end["seconds_after_drain"] >= limit, end
    return inv


def pool_id(name: str) -> str:
    return f"/subscriptions/{SUB}/resourceGroups/{RG_POOLS}/providers/Microsoft.DesktopVirtualization/hostPools/{name}"


def hosts_of(sb, name: str) -> list[dict]:
    return stored(sb, "Microsoft.DesktopVirtualization/hostPools/sessionHosts", pool_id(name) + "/")


def vms_of(sb, name: str) -> list[dict]:
    key = pool_id(name).lower()
    return [
        v
        for v in stored(sb, "Microsoft.Compute/virtualMachines")
        if (v.get("tags") or {}).get("avd-reconciler-pool", "").lower() == key
    ]


def versions_running(sb, name: str) -> dict[str, int]:
    out: dict[str, int] = {}
    for v in vms_of(sb, name):
        ref = v["properties"]["storageProfile"]["imageReference"]["id"].rsplit("/", 1)[-1]
        out[ref] = out.get(ref, 0) + 1
    return out


def min_available_after(sb, pool: str, since_iso: str) -> int:
    """The lowest Available-and-accepting count the sandbox saw for `pool` from `since_iso` on (the value in
    force at `since_iso` included)."""
    since = datetime.fromisoformat(
        since_iso
    )  # compared as times: the two ISO spellings differ ("Z", "+00:00")
    timeline = [
        (datetime.fromisoformat(t), v) for t, v in sb.invariants()["pools"][pool_id(pool).lower()]["timeline"]
    ]
    before = [v for t, v in timeline if t <= since]
    after = [v for t, v in timeline if t > since]
    return min(([before[-1]] if before else []) + after)


def seed_sessions(sb, pool: str, per_host: int) -> list[str]:
    """Sign `per_host` users in on every session host of `pool`; returns the session ids."""
    ids, out = [], []
    for host in hosts_of(sb, pool):
        for n in range(1, per_host + 1):
            rid = f"{host['id']}/userSessions/{n}"
            ids.append(rid)
            out.append(
                {
                    "id": rid,
                    "name": f"{host['name']}/{n}",
                    "type": "Microsoft.DesktopVirtualization/hostPools/sessionHosts/userSessions",
                    "properties": {
                        "userPrincipalName": f"u{n}-{host['name'].split('/')[-1]}@corp.example",
                        "sessionState": "Active",
                        "applicationType": "Desktop",
                    },
                }
            )
    sb.seed(out)
    return ids
