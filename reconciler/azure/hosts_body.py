"""REST bodies for session-host VMs and their extensions, built from a pool's desired template.

- The VM is created from the exact gallery image version id (never "latest": what runs must be what was
  planned), with a VM-managed NIC and an OS disk whose `deleteOption` is `Delete`, so deleting the VM leaves
  nothing behind (the OS-disk default, `Detach`, would leave an orphan disk).
- Join: Entra (`AADLoginForWindows`, system-assigned identity, optional Intune enrolment) or AD domain join
  (`JsonADDomainExtension`) whose password is a Key Vault reference (`protectedSettingsFromKeyVault`):
  the extension reads the secret inside Azure, the reconciler never does.
- The local administrator password is generated per VM (`secrets.token_urlsafe`), sent once, never stored,
  logged or returned (Azure does not return it either); manage it afterwards with LAPS.
- Registration: the AVD agent (DSC `AddSessionHost`) with the registration token in `protectedSettings`.
"""

from __future__ import annotations

import secrets
from typing import Any

from reconciler.spec.state import HostPool

AVD_MODULES_URL = (
    "https://wvdportalstorageblob.blob.core.windows.net/galleryartifacts/Configuration_1.0.02990.697.zip"
)
INTUNE_MDM_ID = "0000000a-0000-0000-c000-000000000000"


def vm_body(pool: HostPool, name: str, version_id: str, zone: str | None, tags: dict[str, str]) -> dict:
    t = pool.spec.session_hosts
    entra = t.join.type == "entra"
    os_disk: dict[str, Any] = {
        "createOption": "FromImage",
        "caching": "ReadWrite",
        "deleteOption": "Delete",
        "managedDisk": {"storageAccountType": t.os_disk_type},
    }
    if t.os_disk_size_gb:
        os_disk["diskSizeGB"] = t.os_disk_size_gb
    body: dict[str, Any] = {
        "location": pool.location,
        "tags": tags,
        "properties": {
            "hardwareProfile": {"vmSize": t.vm_size},
            "licenseType": t.license_type if t.license_type != "None" else None,
            "storageProfile": {"imageReference": {"id": version_id}, "osDisk": os_disk},
            "osProfile": {
                "computerName": name,
                "adminUsername": t.local_admin.username,
                "adminPassword": _one_time_password(),
                "windowsConfiguration": {"provisionVMAgent": True, "enableAutomaticUpdates": False},
            },
            "networkProfile": {
                "networkApiVersion": "2022-11-01",
                "networkInterfaceConfigurations": [
                    {
                        "name": "nic0",
                        "properties": {
                            "primary": True,
                            "deleteOption": "Delete",
                            "ipConfigurations": [
                                {"name": "ipconfig0", "properties": {"subnet": {"id": t.subnet_id}}}
                            ],
                        },
                    }
                ],
            },
            "diagnosticsProfile": {"bootDiagnostics": {"enabled": True}},
        },
    }
    if body["properties"]["licenseType"] is None:
        del body["properties"]["licenseType"]
    if t.security_type != "Standard":
        body["properties"]["securityProfile"] = {
            "securityType": t.security_type,
            "uefiSettings": {"secureBootEnabled": True, "vTpmEnabled": True},
        }
    if zone:
        body["zones"] = [zone]
    if entra:
        body["identity"] = {"type": "SystemAssigned"}
    return body


def _one_time_password() -> str:
    # Meets Windows complexity (upper, lower, digit, symbol); never leaves this call except in the PUT body.
    return "Aa1!" + secrets.token_urlsafe(24)


def join_extension(pool: HostPool, location: str) -> dict:
    join = pool.spec.session_hosts.join
    if join.type == "entra":
        settings = {"mdmId": INTUNE_MDM_ID} if join.intune else {}
        return {
            "location": location,
            "properties": {
                "publisher": "Microsoft.Azure.ActiveDirectory",
                "type": "AADLoginForWindows",
                "typeHandlerVersion": "2.0",
                "autoUpgradeMinorVersion": True,
                "settings": settings,
            },
        }
    secret = join.password.key_vault_secret
    return {
        "location": location,
        "properties": {
            "publisher": "Microsoft.Compute",
            "type": "JsonADDomainExtension",
            "typeHandlerVersion": "1.3",
            "autoUpgradeMinorVersion": True,
            "settings": {
                "Name": join.domain,
                "OUPath": join.ou_path or "",
                "User": join.username,
                "Restart": "true",
                "Options": "3",
            },
            "protectedSettingsFromKeyVault": {
                "sourceVault": {"id": vault_id(pool, secret)},
                "secretUrl": secret_url(pool, secret),
            },
        },
    }


def vault_id(pool: HostPool, secret) -> str:
    """The vault's ARM id; a bare vaultName is assumed to live in the pool's subscription and group."""
    if secret.vault_id:
        return secret.vault_id
    return (
        f"/subscriptions/{pool.subscription_id}/resourceGroups/{pool.resource_group}"
        f"/providers/Microsoft.KeyVault/vaults/{secret.vault_name}"
    )


def secret_url(pool: HostPool, secret) -> str:
    name = secret.vault_name or secret.vault_id.rstrip("/").rsplit("/", 1)[-1]
    url = f"https://{name}.vault.azure.net/secrets/{secret.secret_name}"
    return f"{url}/{secret.version}" if secret.version else url


def agent_extension(pool: HostPool, location: str, token: str) -> dict:
    """The AVD agent (DSC AddSessionHost). The token goes only into protectedSettings (never returned)."""
    return {
        "location": location,
        "properties": {
            "publisher": "Microsoft.Powershell",
            "type": "DSC",
            "typeHandlerVersion": "2.83",
            "autoUpgradeMinorVersion": True,
            "settings": {
                "modulesUrl": AVD_MODULES_URL,
                "configurationFunction": "Configuration.ps1\\AddSessionHost",
                "properties": {
                    "hostPoolName": pool.name,
                    "aadJoin": pool.spec.session_hosts.join.type == "entra",
                },
            },
            "protectedSettings": {"properties": {"registrationInfoToken": token}},
        },
    }
