"""Builders for request bodies and seeds used by the sandbox contract tests."""

from __future__ import annotations

from datetime import timedelta

from reconciler.sandbox import landing_zone
from reconciler.sandbox.config import DEFAULT_SUBSCRIPTIONS

# A version's source must exist (Azure reads it to replicate): make_gallery creates this managed image.
SOURCE_IMAGE = f"/subscriptions/{DEFAULT_SUBSCRIPTIONS[0]}/resourceGroups/rg-test/providers/Microsoft.Compute/images/base"


def rg_id(sub: str, rg: str) -> str:
    return f"/subscriptions/{sub}/resourceGroups/{rg}"


def gallery_body(location: str = "westeurope") -> dict:
    return {"location": location, "properties": {"description": "test gallery"}}


def image_body(location: str = "westeurope", os_state: str = "Generalized") -> dict:
    return {
        "location": location,
        "properties": {
            "osType": "Windows",
            "osState": os_state,
            "hyperVGeneration": "V2",
            "identifier": {"publisher": "acme", "offer": "avd", "sku": "win11"},
        },
    }


def version_body(
    regions=("westeurope",), location: str = "westeurope", source: str | None = None, **pp
) -> dict:
    return {
        "location": location,
        "properties": {
            "publishingProfile": {
                "targetRegions": [{"name": r, "regionalReplicaCount": 2} for r in regions],
                **pp,
            },
            "storageProfile": {"source": {"id": source or SOURCE_IMAGE}},
        },
    }


def make_source_image(c, name="base", location="westeurope"):
    os_disk = {
        "osType": "Windows",
        "osState": "Generalized",
        "blobUri": "https://example.blob.core.windows.net/v/b.vhd",
    }
    body = {"location": location, "properties": {"storageProfile": {"osDisk": os_disk}}}
    return c.compute.images.begin_create_or_update(c.rg, name, body).result()


def make_gallery(c, gallery="gal", image="img", location="westeurope"):
    make_source_image(c)
    c.compute.galleries.begin_create_or_update(c.rg, gallery, gallery_body(location)).result()
    c.compute.gallery_images.begin_create_or_update(c.rg, gallery, image, image_body(location)).result()


def make_version(c, name="1.0.0", regions=("westeurope",), gallery="gal", image="img", **pp):
    return c.compute.gallery_image_versions.begin_create_or_update(
        c.rg, gallery, image, name, version_body(regions, **pp)
    ).result()


def host_pool_body(location: str = "westeurope") -> dict:
    return {
        "location": location,
        "host_pool_type": "Pooled",
        "load_balancer_type": "BreadthFirst",
        "preferred_app_group_type": "Desktop",
    }


def registration_patch(sb, hours: float = 24) -> dict:
    exp = sb.now() + timedelta(hours=hours)
    return {
        "properties": {
            "registrationInfo": {"expirationTime": exp.isoformat(), "registrationTokenOperation": "Update"}
        }
    }


def landing_subnet(sub: str) -> str:
    """The subnet the `sb` fixture's landing zone has in subscription `sub` (tests/conftest.py)."""
    return f"/subscriptions/{sub}/resourceGroups/net/providers/Microsoft.Network/virtualNetworks/v/subnets/s"


def vm_body(image_id: str, location: str = "westeurope", delete_option: str = "Delete") -> dict:
    return {
        "location": location,
        "properties": {
            "hardwareProfile": {"vmSize": "Standard_D4s_v5"},
            "storageProfile": {
                "imageReference": {"id": image_id},
                "osDisk": {
                    "createOption": "FromImage",
                    "deleteOption": delete_option,
                    "managedDisk": {"storageAccountType": "Premium_LRS"},
                },
            },
            "osProfile": {
                "computerName": "avd-0",
                "adminUsername": "azureuser",
                "adminPassword": "S3cret!pass",
            },
            "networkProfile": {
                "networkApiVersion": "2022-11-01",
                "networkInterfaceConfigurations": [
                    {
                        "name": "nic",
                        "properties": {
                            "primary": True,
                            "deleteOption": delete_option,
                            "ipConfigurations": [
                                {
                                    "name": "ip",
                                    "properties": {"subnet": {"id": landing_subnet(image_id.split("/")[2])}},
                                }
                            ],
                        },
                    }
                ],
            },
        },
    }


def dsc_extension(pool: str, token: str) -> dict:
    return {
        "location": "westeurope",
        "properties": {
            "publisher": "Microsoft.Powershell",
            "type": "DSC",
            "typeHandlerVersion": "2.73",
            "autoUpgradeMinorVersion": True,
            "settings": {
                "modulesUrl": "https://example.invalid/Configuration.zip",
                "configurationFunction": "Configuration.ps1\\AddSessionHost",
                "properties": {"hostPoolName": pool, "aadJoin": True},
            },
            "protectedSettings": {"properties": {"registrationInfoToken": token}},
        },
    }


def session_seed(
    sub: str, rg: str, pool: str, host: str, vm_id: str | None = None, sessions: int = 0
) -> list:
    pool_id = f"{rg_id(sub, rg)}/providers/Microsoft.DesktopVirtualization/hostPools/{pool}"
    host_id = f"{pool_id}/sessionHosts/{host}"
    out = [
        {
            "id": host_id,
            "properties": {
                "status": "Available",
                "allowNewSession": True,
                "resourceId": vm_id
                or f"{rg_id(sub, rg)}/providers/Microsoft.Compute/virtualMachines/{host.split('.')[0]}",
            },
        }
    ]
    for i in range(1, sessions + 1):
        out.append(
            {
                "id": f"{host_id}/userSessions/{i}",
                "properties": {
                    "userPrincipalName": f"user{i}@contoso.com",
                    "sessionState": "Active",
                    "applicationType": "Desktop",
                },
            }
        )
    return out


def estates_landing_zone(subscription_ids) -> list[dict]:
    """What the test estates reference but never create (Azure refuses a VM whose subnet does not exist, and plan
    checks every reference): subnet `net/v/s` (West Europe) in each subscription; in the first one the subnet
    `rg-net/vnet/avd`, identities `aib` and `identity_1` in `rg-test` and `aib` in `rg-img`, and Key Vault secrets
    `kv1/admin` (rg-img) and `kv-test/{local-admin, domain-join}` (rg-pools)."""
    sub = subscription_ids[0]
    rg = f"/subscriptions/{sub}/resourceGroups"
    subnets = [(landing_subnet(s), "westeurope") for s in subscription_ids]
    subnets.append(
        (f"{rg}/rg-net/providers/Microsoft.Network/virtualNetworks/vnet/subnets/avd", "westeurope")
    )
    uai = "providers/Microsoft.ManagedIdentity/userAssignedIdentities"
    identities = [f"{rg}/rg-test/{uai}/aib", f"{rg}/rg-test/{uai}/identity_1", f"{rg}/rg-img/{uai}/aib"]
    kv = "providers/Microsoft.KeyVault/vaults"
    secrets = [(f"{rg}/rg-img/{kv}/kv1", "westeurope", "admin")]
    secrets += [
        (f"{rg}/rg-pools/{kv}/kv-test", "westeurope", name) for name in ("local-admin", "domain-join")
    ]
    return landing_zone.build(subnets=subnets, identities=identities, secrets=secrets)
