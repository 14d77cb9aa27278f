"""Landing zones: the network, identities, Key Vaults and staging groups a platform team provides before any
image or host pool exists. The reconciler never creates these; it checks that they are there.

`shipped(subscription_ids)` is what the repository's `desired/` references (`reconcile sandbox serve` seeds it
unless told `--bare`); `build(...)` makes any other one from a short description, for tests and demos:

    build(groups=[(rg_id, region)], subnets=[(subnet_id, region)], identities=[identity_id],
          secrets=[(vault_id, region, secret_name)])

Every parent (resource group, virtual network, vault) is created as needed; secret values are random and never
leave the sandbox (ARM returns secret metadata only).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


def _rg_of(rid: str) -> str:
    return "/".join(rid.split("/")[:5])


def build(
    *,
    groups: Iterable[tuple[str, str]] = (),
    subnets: Iterable[tuple[str, str]] = (),
    identities: Iterable[str | tuple[str, str]] = (),
    secrets: Iterable[tuple[str, str, str]] = (),
) -> list[dict[str, Any]]:
    """REST-shaped resources for `Sandbox.seed` (parents first). Regions default to westeurope."""
    out: dict[str, dict[str, Any]] = {}

    def group(rid: str, region: str) -> None:
        out.setdefault(
            rid.lower(), {"id": rid, "location": region, "properties": {"provisioningState": "Succeeded"}}
        )

    for rid, region in groups:
        group(rid, region)
    prefixes: dict[str, int] = {}
    for sid, region in subnets:
        vnet = sid.rsplit("/", 2)[0]
        group(_rg_of(sid), region)
        if vnet.lower() not in out:
            n = sum(1 for r in out.values() if r["id"].lower().rsplit("/", 2)[-2] == "virtualnetworks")
            out[vnet.lower()] = {
                "id": vnet,
                "location": region,
                "properties": {
                    "provisioningState": "Succeeded",
                    "addressSpace": {"addressPrefixes": [f"10.{100 + n}.0.0/16"]},
                },
            }
        index = prefixes[vnet.lower()] = prefixes.get(vnet.lower(), -1) + 1
        octet = out[vnet.lower()]["properties"]["addressSpace"]["addressPrefixes"][0].split(".")[1]
        out[sid.lower()] = {
            "id": sid,
            "properties": {"provisioningState": "Succeeded", "addressPrefix": f"10.{octet}.{index}.0/24"},
        }
    for item in identities:
        iid, region = (item, "westeurope") if isinstance(item, str) else item
        group(_rg_of(iid), region)
        out[iid.lower()] = {"id": iid, "location": region, "properties": {}}
    for vault, region, name in secrets:
        group(_rg_of(vault), region)
        out.setdefault(vault.lower(), {"id": vault, "location": region, "properties": {}})
        out[f"{vault}/secrets/{name}".lower()] = {"id": f"{vault}/secrets/{name}", "properties": {}}
    for res in out.values():
        res.setdefault("name", res["id"].rsplit("/", 1)[-1])
        res.setdefault("type", _type_of(res["id"]))
    return list(out.values())


def _type_of(rid: str) -> str:
    parts = rid.split("/")
    if "providers" not in parts:
        return "Microsoft.Resources/resourceGroups"
    rest = parts[parts.index("providers") + 1 :]
    return "/".join([rest[0]] + rest[1::2])


def shipped(subscription_ids: list[str] | tuple[str, ...]) -> list[dict[str, Any]]:
    """The landing zone of the repository's `desired/`: two subscriptions (prod, dev), West and North Europe."""
    prod, dev = subscription_ids[0], subscription_ids[1] if len(subscription_ids) > 1 else subscription_ids[0]

    def rg(sub: str, name: str) -> str:
        return f"/subscriptions/{sub}/resourceGroups/{name}"

    def subnet(sub: str, group: str, vnet: str, name: str) -> str:
        return f"{rg(sub, group)}/providers/Microsoft.Network/virtualNetworks/{vnet}/subnets/{name}"

    def vault(sub: str, group: str, name: str) -> str:
        return f"{rg(sub, group)}/providers/Microsoft.KeyVault/vaults/{name}"

    weu = [
        subnet(prod, "rg-network-weu", "vnet-avd-weu", s)
        for s in ("snet-imagebuilder", "snet-avd-validation", "snet-avd-clinical", "snet-avd-corporate")
    ]
    secrets = [
        (vault(prod, "rg-security-weu", "kv-avd-prod-weu"), "westeurope", "avd-local-admin"),
        (vault(prod, "rg-security-weu", "kv-avd-prod-weu"), "westeurope", "avd-domain-join"),
        (vault(prod, "rg-security-neu", "kv-avd-prod-neu"), "northeurope", "avd-local-admin"),
        (vault(prod, "rg-security-neu", "kv-avd-prod-neu"), "northeurope", "avd-domain-join"),
        (vault(dev, "rg-security-dev", "kv-avd-dev-weu"), "westeurope", "avd-local-admin"),
    ]
    return build(
        groups=[(rg(prod, "rg-avd-imagebuilder-staging"), "westeurope")],
        subnets=[(s, "westeurope") for s in weu]
        + [
            (subnet(prod, "rg-network-neu", "vnet-avd-neu", "snet-avd-clinical"), "northeurope"),
            (subnet(dev, "rg-network-dev", "vnet-avd-dev", "snet-avd"), "westeurope"),
        ],
        identities=[
            f"{rg(prod, 'rg-avd-images-weu')}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/"
            "id-avd-imagebuilder"
        ],
        secrets=secrets,
    )
