"""Builders for single REST-shaped resources of the synthetic estate.

Each function returns one fresh dict exactly as an ARM GET returns it (id, name, type, location, tags,
properties). Nothing is shared between two resources: the sandbox mutates what it stores, so a shared
sub-dict would let a PATCH of one VM leak into fifteen thousand. Dicts are kept small instead (no systemData,
no fields the reconciler never reads and the examples mark optional).

Property names follow the Azure REST API (see tests/fixtures/rest-examples/ for the published examples).
"""

from __future__ import annotations

OWNER_TAG = {"managed-by": "avd-reconciler"}
DOMAIN = "contoso.local"
AGENT_VERSION = "1.0.9742.2300"
OS_VERSION = "10.0.26100.2314"
SXS_VERSION = "rdp-sxs241015001"

# Display names as the gallery service echoes them in targetRegions (it keeps what the caller sent).
REGION_DISPLAY = {
    "westeurope": "West Europe",
    "northeurope": "North Europe",
    "eastus": "East US",
    "eastus2": "East US 2",
    "westus2": "West US 2",
    "uksouth": "UK South",
    "francecentral": "France Central",
    "germanywestcentral": "Germany West Central",
    "swedencentral": "Sweden Central",
    "centralus": "Central US",
}


def _tags(owned: bool, extra: dict | None = None) -> dict:
    tags = dict(OWNER_TAG) if owned else {}
    if extra:
        tags.update(extra)
    return tags


def resource_group(sub: str, rg: str, location: str, owned: bool) -> dict:
    return {
        "id": f"/subscriptions/{sub}/resourceGroups/{rg}",
        "name": rg,
        "type": "Microsoft.Resources/resourceGroups",
        "location": location,
        "tags": _tags(owned),
        "properties": {"provisioningState": "Succeeded"},
    }


def rg_id(sub: str, rg: str) -> str:
    return f"/subscriptions/{sub}/resourceGroups/{rg}"


def gallery(sub: str, rg: str, name: str, location: str, owned: bool) -> dict:
    return {
        "id": f"{rg_id(sub, rg)}/providers/Microsoft.Compute/galleries/{name}",
        "name": name,
        "type": "Microsoft.Compute/galleries",
        "location": location,
        "tags": _tags(owned),
        "properties": {
            "description": f"AVD images ({location})",
            "identifier": {"uniqueName": f"{sub}-{name.upper()}"},
            "provisioningState": "Succeeded",
        },
    }


def image_definition(gallery_id: str, name: str, location: str, sku: str, owned: bool) -> dict:
    return {
        "id": f"{gallery_id}/images/{name}",
        "name": name,
        "type": "Microsoft.Compute/galleries/images",
        "location": location,
        "tags": _tags(owned),
        "properties": {
            "osType": "Windows",
            "osState": "Generalized",
            "hyperVGeneration": "V2",
            "architecture": "x64",
            "identifier": {"publisher": "contoso", "offer": "avd", "sku": sku},
            "features": [{"name": "SecurityType", "value": "TrustedLaunch"}],
            "recommended": {"vCPUs": {"min": 2, "max": 16}, "memory": {"min": 8, "max": 64}},
            "provisioningState": "Succeeded",
        },
    }


def image_version(
    definition_id: str,
    name: str,
    location: str,
    regions: list[str],
    source_id: str,
    published: str,
    exclude_from_latest: bool,
    owned: bool,
) -> dict:
    target_regions = [
        {
            "name": REGION_DISPLAY.get(region, region),
            "regionalReplicaCount": 2 if region == location else 1,
            "storageAccountType": "Standard_LRS",
            "excludeFromLatest": False,
        }
        for region in regions
    ]
    return {
        "id": f"{definition_id}/versions/{name}",
        "name": name,
        "type": "Microsoft.Compute/galleries/images/versions",
        "location": location,
        "tags": _tags(owned),
        "properties": {
            "publishingProfile": {
                "targetRegions": target_regions,
                "replicaCount": 1,
                "excludeFromLatest": exclude_from_latest,
                "publishedDate": published,
                "storageAccountType": "Standard_LRS",
                "replicationMode": "Full",
            },
            "storageProfile": {
                "source": {"id": source_id},
                "osDiskImage": {"sizeInGB": 127, "hostCaching": "ReadWrite"},
            },
            "safetyProfile": {
                "allowDeletionOfReplicatedLocations": True,
                "reportedForPolicyViolation": False,
                "blockDeletionBeforeEndOfLife": False,
            },
            "provisioningState": "Succeeded",
        },
    }


def host_pool(
    sub: str, rg: str, name: str, location: str, image_id: str, object_id: str, owned: bool
) -> dict:
    # vmTemplate is an opaque JSON string the portal reads; the service stores it verbatim.
    vm_template = (
        '{"imageType":"CustomImage","customImageId":"' + image_id + '","namePrefix":"avd",'
        '"osDiskType":"Premium_LRS","vmSize":{"id":"Standard_D4s_v5"},"domain":"' + DOMAIN + '"}'
    )
    return {
        "id": f"{rg_id(sub, rg)}/providers/Microsoft.DesktopVirtualization/hostPools/{name}",
        "name": name,
        "type": "Microsoft.DesktopVirtualization/hostPools",
        "location": location,
        "tags": _tags(owned),
        "properties": {
            "objectId": object_id,
            "friendlyName": name,
            "description": "Pooled Windows 11 multi-session desktops",
            "hostPoolType": "Pooled",
            "personalDesktopAssignmentType": None,
            "customRdpProperty": "drivestoredirect:s:;audiomode:i:0;",
            "maxSessionLimit": 8,
            "loadBalancerType": "BreadthFirst",
            "validationEnvironment": False,
            "ring": None,
            "registrationInfo": {"expirationTime": None, "token": None, "registrationTokenOperation": "None"},
            "vmTemplate": vm_template,
            "preferredAppGroupType": "Desktop",
            "startVMOnConnect": False,
            "cloudPcResource": False,
            "publicNetworkAccess": "Enabled",
            "agentUpdate": {"type": "Default", "useSessionHostLocalTime": True},
            "applicationGroupReferences": [],
        },
    }


def virtual_machine(
    sub: str,
    rg: str,
    name: str,
    location: str,
    version_id: str,
    subnet_id: str,
    vm_id: str,
    created: str,
    owned: bool,
) -> dict:
    vm_path = f"{rg_id(sub, rg)}/providers/Microsoft.Compute/virtualMachines/{name}"
    disk_name = f"{name}_OsDisk_1_{vm_id.replace('-', '')}"
    return {
        "id": vm_path,
        "name": name,
        "type": "Microsoft.Compute/virtualMachines",
        "location": location,
        "tags": _tags(owned),
        "properties": {
            "vmId": vm_id,
            "hardwareProfile": {"vmSize": "Standard_D4s_v5"},
            "storageProfile": {
                "imageReference": {"id": version_id, "exactVersion": version_id.rsplit("/", 1)[-1]},
                "osDisk": {
                    "osType": "Windows",
                    "name": disk_name,
                    "createOption": "FromImage",
                    "caching": "ReadWrite",
                    "managedDisk": {
                        "storageAccountType": "Premium_LRS",
                        "id": f"{rg_id(sub, rg)}/providers/Microsoft.Compute/disks/{disk_name}",
                    },
                    "deleteOption": "Delete",
                    "diskSizeGB": 128,
                },
                "dataDisks": [],
            },
            "osProfile": {
                "computerName": name,
                "adminUsername": "avdadmin",
                "windowsConfiguration": {"provisionVMAgent": True, "enableAutomaticUpdates": False},
                "secrets": [],
                "allowExtensionOperations": True,
            },
            "networkProfile": {
                # The NIC Compute created from the configuration below ("<vm>-<config>", as the sandbox names
                # it), listed the way a GET shows it.
                "networkInterfaces": [
                    {
                        "id": f"{rg_id(sub, rg)}/providers/Microsoft.Network/networkInterfaces/{name}-nic",
                        "properties": {"primary": True, "deleteOption": "Delete"},
                    }
                ],
                "networkApiVersion": "2022-11-01",
                "networkInterfaceConfigurations": [
                    {
                        "name": "nic",
                        "properties": {
                            "primary": True,
                            "deleteOption": "Delete",
                            "enableAcceleratedNetworking": True,
                            "ipConfigurations": [
                                {
                                    "name": "ipconfig1",
                                    "properties": {"primary": True, "subnet": {"id": subnet_id}},
                                }
                            ],
                        },
                    }
                ],
            },
            "securityProfile": {
                "securityType": "TrustedLaunch",
                "uefiSettings": {"secureBootEnabled": True, "vTpmEnabled": True},
            },
            "diagnosticsProfile": {"bootDiagnostics": {"enabled": True}},
            "licenseType": "Windows_Client",
            "provisioningState": "Succeeded",
            "timeCreated": created,
        },
    }


def session_host(
    pool_id: str, pool_name: str, vm: dict, sessions: int, object_id: str, heartbeat: str, since: str
) -> dict:
    fqdn = f"{vm['name']}.{DOMAIN}"
    return {
        "id": f"{pool_id}/sessionHosts/{fqdn}",
        # The live service names child resources "<pool>/<fqdn>"; clients must use name.split("/")[-1].
        "name": f"{pool_name}/{fqdn}",
        "type": "Microsoft.DesktopVirtualization/hostPools/sessionHosts",
        "properties": {
            "objectId": object_id,
            "resourceId": vm["id"],
            "virtualMachineId": vm["properties"]["vmId"],
            "lastHeartBeat": heartbeat,
            "sessions": sessions,
            "agentVersion": AGENT_VERSION,
            "allowNewSession": True,
            "status": "Available",
            "statusTimestamp": since,
            "osVersion": OS_VERSION,
            "sxSStackVersion": SXS_VERSION,
            "updateState": "Succeeded",
            "lastUpdateTime": since,
            "updateErrorMessage": "",
            "sessionHostHealthCheckResults": [
                {
                    "healthCheckName": "DomainJoinedCheck",
                    "healthCheckResult": "HealthCheckSucceeded",
                    "additionalFailureDetails": {
                        "message": "SessionHost healthy: is joined to domain",
                        "errorCode": 0,
                        "lastHealthCheckDateTime": heartbeat,
                    },
                }
            ],
        },
    }


def user_session(host: dict, number: int, user: str, state: str, object_id: str, created: str) -> dict:
    return {
        "id": f"{host['id']}/userSessions/{number}",
        "name": f"{host['name']}/{number}",
        "type": "Microsoft.DesktopVirtualization/hostPools/sessionHosts/userSessions",
        "properties": {
            "objectId": object_id,
            "userPrincipalName": f"{user}@contoso.com",
            "applicationType": "Desktop",
            "sessionState": state,
            "activeDirectoryUserName": f"CONTOSO\\{user}",
            "createTime": created,
        },
    }
