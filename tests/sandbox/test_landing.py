"""The landing zone through the real SDKs: virtual networks and subnets (azure-mgmt-network), user-assigned
identities (azure-mgmt-msi), Key Vault vaults and secrets through ARM (azure-mgmt-keyvault), resource groups
(azure-mgmt-resource); and Azure's refusals of VMs and image templates that reference what does not exist."""

from __future__ import annotations

import uuid

import pytest
from azure.core.exceptions import HttpResponseError, ResourceExistsError, ResourceNotFoundError
from azure.mgmt.keyvault import KeyVaultManagementClient
from azure.mgmt.msi import ManagedServiceIdentityClient
from azure.mgmt.network import NetworkManagementClient
from azure.mgmt.resource.resources import ResourceManagementClient

from reconciler.sandbox import Sandbox, landing_zone

from .helpers import make_gallery, make_version, vm_body

NET_RG = "rg-net-test"


@pytest.fixture
def lz(sb, clients, credential):
    kw = dict(
        base_url=sb.endpoint, connection_verify=sb.ca_bundle, polling_interval=0, retry_backoff_factor=0
    )
    c = clients
    c.network = NetworkManagementClient(credential, c.sub, **kw)
    c.msi = ManagedServiceIdentityClient(credential, c.sub, **kw)
    c.kv = KeyVaultManagementClient(credential, c.sub, **kw)
    c.resources = ResourceManagementClient(credential, c.sub, **kw)
    c.resources.resource_groups.create_or_update(NET_RG, {"location": "westeurope"})
    return c


def make_vnet(c, name="vnet1", location="westeurope", subnets=("hosts", "builds")):
    body = {
        "location": location,
        "properties": {
            "addressSpace": {"addressPrefixes": ["10.1.0.0/16"]},
            "subnets": [
                {"name": s, "properties": {"addressPrefix": f"10.1.{i}.0/24"}} for i, s in enumerate(subnets)
            ],
        },
    }
    return c.network.virtual_networks.begin_create_or_update(NET_RG, name, body).result()


def subnet_id(c, vnet="vnet1", name="hosts"):
    return f"/subscriptions/{c.sub}/resourceGroups/{NET_RG}/providers/Microsoft.Network/virtualNetworks/{vnet}/subnets/{name}"


def test_virtual_network_with_inline_subnets_and_a_subnet_put(lz):
    vnet = make_vnet(lz)
    assert vnet.properties.provisioning_state == "Succeeded"
    assert sorted(s.name for s in vnet.properties.subnets) == ["builds", "hosts"]
    assert lz.network.subnets.get(NET_RG, "vnet1", "hosts").properties.address_prefix == "10.1.0.0/24"
    lz.network.subnets.begin_create_or_update(
        NET_RG, "vnet1", "extra", {"properties": {"addressPrefix": "10.1.9.0/24"}}
    ).result()
    assert sorted(s.name for s in lz.network.subnets.list(NET_RG, "vnet1")) == ["builds", "extra", "hosts"]
    assert len(lz.network.virtual_networks.get(NET_RG, "vnet1").properties.subnets) == 3
    with pytest.raises(ResourceNotFoundError):
        lz.network.subnets.get(NET_RG, "vnet1", "nope")
    with pytest.raises(ResourceNotFoundError) as err:  # the parent must exist
        lz.network.subnets.begin_create_or_update(
            NET_RG, "novnet", "s", {"properties": {"addressPrefix": "10.2.0.0/24"}}
        )
    assert err.value.error.code == "ParentResourceNotFound"
    with pytest.raises(HttpResponseError) as bad:
        lz.network.virtual_networks.begin_create_or_update(
            NET_RG, "v2", {"location": "westeurope", "properties": {}}
        )
    assert bad.value.error.code == "InvalidAddressSpace"


def test_user_assigned_identity_gets_principal_and_client_ids(lz):
    made = lz.msi.user_assigned_identities.create_or_update(NET_RG, "id-aib", {"location": "westeurope"})
    got = lz.msi.user_assigned_identities.get(NET_RG, "id-aib")
    assert uuid.UUID(got.principal_id) and uuid.UUID(got.client_id)
    assert (got.principal_id, got.client_id) == (made.principal_id, made.client_id)
    again = lz.msi.user_assigned_identities.create_or_update(NET_RG, "id-aib", {"location": "westeurope"})
    assert again.principal_id == made.principal_id  # stable across PUTs
    assert [i.name for i in lz.msi.user_assigned_identities.list_by_resource_group(NET_RG)] == ["id-aib"]


def vault_body(sb):
    return {
        "location": "westeurope",
        "properties": {"tenantId": sb.tenant_id, "sku": {"family": "A", "name": "standard"}},
    }


def test_key_vault_secret_metadata_never_its_value(sb, lz):
    vault = lz.kv.vaults.begin_create_or_update(NET_RG, "kv-lz-test", vault_body(sb)).result()
    assert vault.properties.vault_uri == "https://kv-lz-test.vault.azure.net/"
    lz.kv.secrets.create_or_update(NET_RG, "kv-lz-test", "admin", {"properties": {"value": "Sup3r-secret!"}})
    got = lz.kv.secrets.get(NET_RG, "kv-lz-test", "admin")
    assert got.properties.secret_uri == "https://kv-lz-test.vault.azure.net/secrets/admin"
    assert got.properties.value is None
    listed = list(lz.kv.secrets.list(NET_RG, "kv-lz-test"))
    assert [s.name for s in listed] == ["admin"] and all(s.properties.value is None for s in listed)
    assert "Sup3r-secret!" not in str(sb.audit())
    with pytest.raises(ResourceNotFoundError):
        lz.kv.secrets.get(NET_RG, "kv-lz-test", "nope")
    with pytest.raises(ResourceNotFoundError) as parent:
        lz.kv.secrets.get(NET_RG, "kv-missing", "admin")
    assert parent.value.status_code == 404


def test_vault_names_are_global_and_tenant_and_sku_are_required(sb, lz):
    lz.kv.vaults.begin_create_or_update(NET_RG, "kv-lz-once", vault_body(sb)).result()
    with pytest.raises(ResourceExistsError) as err:
        lz.kv.vaults.begin_create_or_update(lz.rg, "kv-lz-once", vault_body(sb))
    assert err.value.error.code == "VaultAlreadyExists"
    with pytest.raises(HttpResponseError) as bad:
        lz.compute._client  # noqa: B018 -- the SDK model requires tenantId and sku, so send raw JSON
        lz.kv.vaults.begin_create_or_update(
            NET_RG,
            "kv-lz-two",
            {
                "location": "westeurope",
                "properties": {"tenantId": sb.tenant_id, "sku": {"family": "A", "name": ""}},
            },
        )
    assert bad.value.status_code == 400


def test_vm_whose_subnet_is_missing_or_in_another_region_is_refused(sb, lz):
    make_vnet(lz, "vnet-neu", location="northeurope")
    make_gallery(lz)
    version = make_version(lz)
    for missing in (subnet_id(lz, "vnet1", "hosts"), subnet_id(lz, "vnet-neu", "hosts")):
        body = vm_body(version.id)
        body["properties"]["networkProfile"]["networkInterfaceConfigurations"][0]["properties"][
            "ipConfigurations"
        ][0]["properties"]["subnet"]["id"] = missing
        with pytest.raises(HttpResponseError) as err:
            lz.compute.virtual_machines.begin_create_or_update(lz.rg, "vm1", body)
        assert (err.value.status_code, err.value.error.code) == (400, "InvalidResourceReference")
        assert missing in err.value.error.message
    assert (
        sb.get(
            f"/subscriptions/{lz.sub}/resourceGroups/{lz.rg}/providers/Microsoft.Compute/virtualMachines/vm1"
        )
        is None
    )


def test_subnet_in_use_cannot_be_deleted(sb, lz):
    make_vnet(lz)
    make_gallery(lz)
    version = make_version(lz)
    body = vm_body(version.id)
    body["properties"]["networkProfile"]["networkInterfaceConfigurations"][0]["properties"][
        "ipConfigurations"
    ][0]["properties"]["subnet"]["id"] = subnet_id(lz)
    lz.compute.virtual_machines.begin_create_or_update(lz.rg, "vm1", body).result()
    with pytest.raises(HttpResponseError) as err:
        lz.network.subnets.begin_delete(NET_RG, "vnet1", "hosts").result()
    assert err.value.error.code == "InUseSubnetCannotBeDeleted"
    lz.compute.virtual_machines.begin_delete(lz.rg, "vm1").result()
    lz.network.subnets.begin_delete(NET_RG, "vnet1", "hosts").result()


def template_body(c, identity, **vm_profile):
    return {
        "location": "westeurope",
        "identity": {"type": "UserAssigned", "userAssignedIdentities": {identity: {}}},
        "properties": {
            "source": {
                "type": "PlatformImage",
                "publisher": "MicrosoftWindowsDesktop",
                "offer": "windows-11",
                "sku": "win11-24h2-avd",
                "version": "latest",
            },
            "customize": [{"type": "PowerShell", "name": "hello", "inline": ["Write-Host hi"]}],
            "distribute": [
                {
                    "type": "SharedImage",
                    "runOutputName": "out",
                    "galleryImageId": f"/subscriptions/{c.sub}/resourceGroups/{c.rg}/providers/Microsoft.Compute/galleries/gal/images/img",
                    "targetRegions": [{"name": "westeurope"}],
                }
            ],
            **({"vmProfile": vm_profile} if vm_profile else {}),
        },
    }


def test_image_template_references_must_exist(lz):
    ok = f"/subscriptions/{lz.sub}/resourceGroups/{lz.rg}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/aib"
    gone = ok.rsplit("/", 1)[0] + "/nobody"
    templates = lz.aib.virtual_machine_image_templates
    with pytest.raises(HttpResponseError) as err:
        templates.begin_create_or_update(lz.rg, "t1", template_body(lz, gone))
    assert (err.value.status_code, err.value.error.code) == (400, "FailedIdentityOperation")
    with pytest.raises(HttpResponseError) as err:
        templates.begin_create_or_update(
            lz.rg, "t1", template_body(lz, ok, vnetConfig={"subnetId": subnet_id(lz)})
        )
    assert err.value.error.code == "InvalidResourceReference"
    make_vnet(lz)
    templates.begin_create_or_update(
        lz.rg, "t1", template_body(lz, ok, vnetConfig={"subnetId": subnet_id(lz, name="builds")})
    ).result()


def test_staging_group_is_created_when_absent_and_must_be_empty_when_present(sb, lz):
    ok = f"/subscriptions/{lz.sub}/resourceGroups/{lz.rg}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/aib"
    templates = lz.aib.virtual_machine_image_templates
    staging = f"/subscriptions/{lz.sub}/resourceGroups/rg-staging-new"
    body = template_body(lz, ok)
    body["properties"]["stagingResourceGroup"] = staging
    templates.begin_create_or_update(lz.rg, "t1", body).result()
    assert lz.resources.resource_groups.check_existence("rg-staging-new")
    templates.begin_delete(lz.rg, "t1").result()
    assert not lz.resources.resource_groups.check_existence(
        "rg-staging-new"
    )  # Image Builder's own group goes
    body["properties"]["stagingResourceGroup"] = f"/subscriptions/{lz.sub}/resourceGroups/{NET_RG}"
    make_vnet(lz)  # NET_RG is not empty any more
    with pytest.raises(HttpResponseError) as err:
        templates.begin_create_or_update(lz.rg, "t2", body)
    assert (err.value.status_code, err.value.error.target) == (400, "properties.stagingResourceGroup")


def test_landing_zones_shipped_and_built():
    ids = ("11111111-1111-4111-8111-111111111111", "22222222-2222-4222-8222-222222222222")
    shipped = {r["id"].lower(): r for r in landing_zone.shipped(ids)}
    assert any(k.endswith("/vaults/kv-avd-prod-weu/secrets/avd-domain-join") for k in shipped)
    assert any(k.endswith("/userassignedidentities/id-avd-imagebuilder") for k in shipped)
    assert all("value" not in r["properties"] for r in shipped.values())
    with Sandbox(time_scale=0, landing_zone=True) as sb:
        subnet = f"/subscriptions/{ids[0]}/resourceGroups/rg-network-neu/providers/Microsoft.Network/virtualNetworks/vnet-avd-neu/subnets/snet-avd-clinical"
        assert sb.get(subnet)["properties"]["addressPrefix"].startswith("10.")
        sb.reset()  # the landing zone is part of the start-up seed
        assert sb.get(subnet) is not None
    with Sandbox(time_scale=0) as bare:
        assert bare.get(subnet) is None
