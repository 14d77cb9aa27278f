"""Write a desired/ tree (helper A's YAML format) that matches a sandbox estate, with a known share of drift.

Input: the estate's REST resources (reconciler.sandbox.estate.generate). Output: settings.yaml,
galleries/<gallery>.yaml (Gallery + ImageDefinitions + ImageVersions) and pools/<subscription>.yaml.
Everything declared matches what is seeded, except the drift, chosen deterministically from `seed`:
- `new_versions`: definitions that get one more version (1.0.<n>) than Azure has -> create + replicate;
- `pins_moved`: the pools built from those definitions are pinned to the new version -> pin + roll;
- `replica_changes`: versions whose non-home regions ask for 2 replicas instead of 1 -> update.
`DriftSummary` says exactly which, so a benchmark can compare with what the planner found.

With `drift_share=0` on a converged estate (`generate("large-converged", ...)`) the tree matches Azure exactly:
every pool is pinned to its definition's newest version (what all its hosts run and what the pool's pin tag
says), `count` is the pool's hosts, and the default rollout policy has no outdated host to replace, so
`reconcile plan --detailed-exitcode` exits 0. On the plain estate the same tree still plans rollouts: about
20 % of hosts run the previous version.
"""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import yaml

API = "avd.reconciler.io/v1alpha1"
OWNER_TAG = {"name": "managed-by", "value": "avd-reconciler"}  # the tag the sandbox estate carries


@dataclass
class DriftSummary:
    new_versions: list[str] = field(default_factory=list)
    pins_moved: list[str] = field(default_factory=list)
    replica_changes: list[str] = field(default_factory=list)
    documents: int = 0

    def counts(self) -> dict[str, int]:
        return {
            "new_versions": len(self.new_versions),
            "pins_moved": len(self.pins_moved),
            "replica_changes": len(self.replica_changes),
        }


def _parts(rid: str) -> list[str]:
    return rid.strip("/").split("/")


def _by_type(resources) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = defaultdict(list)
    for r in resources:
        out[r["type"].lower()].append(r)
    return out


def _parent(rid: str) -> str:
    return rid.lower().rsplit("/", 2)[0]


def _version_key(name: str) -> tuple[int, ...]:
    return tuple(int(x) for x in name.split("."))


def _doc(kind: str, name: str, spec: dict) -> dict:
    return {"apiVersion": API, "kind": kind, "metadata": {"name": name}, "spec": spec}


def generate_desired(
    resources, subscription_ids, out: Path, drift_share: float = 0.05, seed: int = 7
) -> DriftSummary:
    rng = random.Random(seed)
    types = _by_type(resources)
    subs = [s.lower() for s in subscription_ids]
    alias = {s: f"sub{i:02d}" for i, s in enumerate(subs)}
    summary = DriftSummary()
    out.mkdir(parents=True, exist_ok=True)
    (out / "galleries").mkdir(exist_ok=True)
    (out / "pools").mkdir(exist_ok=True)

    settings = _doc(
        "Settings",
        "bench",
        {
            "subscriptions": {a: s for s, a in alias.items()},
            "defaults": {"subscription": alias[subs[0]]},
            "ownershipTag": dict(OWNER_TAG),
        },
    )
    _write(out / "settings.yaml", [settings], summary)

    versions_of: dict[str, list[dict]] = defaultdict(list)
    for v in types["microsoft.compute/galleries/images/versions"]:
        versions_of[_parent(v["id"])].append(v)
    definitions_of: dict[str, list[dict]] = defaultdict(list)
    for d in types["microsoft.compute/galleries/images"]:
        definitions_of[_parent(d["id"])].append(d)

    drifted_definitions = {
        d["id"].lower() for d in types["microsoft.compute/galleries/images"] if rng.random() < drift_share
    }
    newest: dict[str, str] = {}  # definition name -> version the pools should pin
    for g in types["microsoft.compute/galleries"]:
        p = _parts(g["id"])
        docs = [
            _doc(
                "Gallery",
                g["name"],
                {
                    "subscription": alias[p[1].lower()],
                    "resourceGroup": p[3],
                    "location": g["location"],
                    "description": g["properties"].get("description"),
                },
            )
        ]
        for d in definitions_of[g["id"].lower()]:
            docs.append(_definition(g, d))
            versions = sorted(versions_of[d["id"].lower()], key=lambda v: _version_key(v["name"]))
            for v in versions:
                spec = _version_spec(d, v)
                if rng.random() < drift_share:
                    for t in spec["targetRegions"]:
                        t["replicaCount"] = 2
                    summary.replica_changes.append(v["id"])
                docs.append(_doc("ImageVersion", v["name"], spec))
            newest[d["name"]] = versions[-1]["name"] if versions else None
            if d["id"].lower() in drifted_definitions and versions:
                last = versions[-1]
                name = ".".join(last["name"].split(".")[:-1] + [str(int(last["name"].split(".")[-1]) + 1)])
                spec = _version_spec(d, last)
                spec["source"] = {"managedImageId": spec["source"]["managedImageId"] + "-next"}
                docs.append(_doc("ImageVersion", name, spec))
                summary.new_versions.append(f"{d['id']}/versions/{name}")
                newest[d["name"]] = name
        _write(out / "galleries" / f"{g['name']}.yaml", docs, summary)

    hosts_of = _hosts_per_pool(types)
    pools_by_sub: dict[str, list[dict]] = defaultdict(list)
    for pool in types["microsoft.desktopvirtualization/hostpools"]:
        pools_by_sub[_parts(pool["id"])[1].lower()].append(pool)
    for sub, pools in pools_by_sub.items():
        docs = []
        for pool in pools:
            doc, definition = _pool(pool, hosts_of[pool["id"].lower()], alias, _vault(types))
            if definition is None:
                continue
            pinned = newest.get(definition)
            doc["spec"]["image"] = {"definition": definition, "version": pinned}
            if any(v.endswith(f"/images/{definition}/versions/{pinned}") for v in summary.new_versions):
                summary.pins_moved.append(pool["id"])
            docs.append(doc)
        _write(out / "pools" / f"{alias[sub]}.yaml", docs, summary)
    return summary


def _definition(gallery: dict, d: dict) -> dict:
    props = d["properties"]
    return _doc(
        "ImageDefinition",
        d["name"],
        {
            "gallery": gallery["name"],
            "osType": props["osType"],
            "osState": props["osState"],
            "hyperVGeneration": props["hyperVGeneration"],
            "architecture": props["architecture"],
            "identifier": dict(props["identifier"]),
            "features": [dict(f) for f in props.get("features", [])],
            "recommended": props.get("recommended"),
            # keep every version: retention is not what this benchmark measures
            "retention": {"keepNewest": 1000, "excludeOlderFromLatest": False},
        },
    )


def _version_spec(d: dict, v: dict) -> dict:
    pub = v["properties"]["publishingProfile"]
    return {
        "definition": d["name"],
        "source": {"managedImageId": v["properties"]["storageProfile"]["source"]["id"]},
        "targetRegions": [
            {
                "name": t["name"],
                "replicaCount": t["regionalReplicaCount"],
                "storageAccountType": t["storageAccountType"],
            }
            for t in pub["targetRegions"]
        ],
        "replicaCount": pub.get("replicaCount", 1),
        "storageAccountType": pub.get("storageAccountType", "Standard_LRS"),
        "excludeFromLatest": bool(pub.get("excludeFromLatest")),
        "safetyProfile": {
            "allowDeletionOfReplicatedLocations": v["properties"]["safetyProfile"][
                "allowDeletionOfReplicatedLocations"
            ],
            "blockDeletionBeforeEndOfLife": v["properties"]["safetyProfile"]["blockDeletionBeforeEndOfLife"],
        },
    }


def _hosts_per_pool(types) -> dict[str, list[dict]]:
    vms = {vm["id"].lower(): vm for vm in types["microsoft.compute/virtualmachines"]}
    out: dict[str, list[dict]] = defaultdict(list)
    for h in types["microsoft.desktopvirtualization/hostpools/sessionhosts"]:
        vm = vms.get((h["properties"].get("resourceId") or "").lower())
        if vm:
            out[_parent(h["id"])].append(vm)
    return out


def _vault(types) -> dict:
    """Where the local admin secret is: the estate's landing-zone vault (by id), else a vault by bare name."""
    vaults = types.get("microsoft.keyvault/vaults") or []
    return {"vaultId": vaults[0]["id"]} if vaults else {"vaultName": "kv-avd-bench"}


def _pool(pool: dict, vms: list[dict], alias: dict[str, str], vault: dict) -> tuple[dict, str | None]:
    p, props = _parts(pool["id"]), pool["properties"]
    if not vms:
        return {}, None
    vm = vms[0]["properties"]
    image_id = vm["storageProfile"]["imageReference"]["id"]
    definition = _parts(image_id)[-3]
    nic = vm["networkProfile"]["networkInterfaceConfigurations"][0]["properties"]
    subnet = nic["ipConfigurations"][0]["properties"]["subnet"]["id"]
    prefix = vms[0]["name"].rsplit("-", 1)[0]
    spec = {
        "subscription": alias[p[1].lower()],
        "resourceGroup": p[3],
        "location": pool["location"],
        "hostPoolType": props["hostPoolType"],
        "loadBalancerType": props["loadBalancerType"],
        "maxSessionLimit": props["maxSessionLimit"],
        "friendlyName": props.get("friendlyName"),
        "description": props.get("description"),
        "sessionHosts": {
            "count": len(vms),
            "vmSize": vm["hardwareProfile"]["vmSize"],
            "namePrefix": prefix,
            "subnetId": subnet,
            "localAdmin": {"password": {"keyVaultSecret": {**vault, "secretName": "local-admin"}}},
            "join": {"type": "entra"},
        },
    }
    return _doc("HostPool", pool["name"], spec), definition


def _write(path: Path, docs: list[dict], summary: DriftSummary) -> None:
    summary.documents += len(docs)
    path.write_text(yaml.safe_dump_all(docs, sort_keys=False, width=200), encoding="utf-8")
