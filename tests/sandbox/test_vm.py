"""Virtual machines, disks/NICs and the AVD registration extension."""

from __future__ import annotations

import pytest
from azure.core.exceptions import HttpResponseError, ResourceExistsError, ResourceNotFoundError

from reconciler.sandbox.providers.compute_other import catalog_versions

from .helpers import (
    dsc_extension,
    host_pool_body,
    make_gallery,
    make_version,
    registration_patch,
    vm_body,
)


def gallery_ids(c):
    definition = (
        f"/subscriptions/{c.sub}/resourceGroups/{c.rg}/providers/Microsoft.Compute/galleries/gal/images/img"
    )
    return definition, definition + "/versions/1.0.0"


def test_vm_from_version_and_latest(sb, clients):
    make_gallery(clients)
    make_version(clients, "1.0.0")
    make_version(clients, "1.1.0", excludeFromLatest=True)
    definition, version = gallery_ids(clients)
    vm = clients.compute.virtual_machines.begin_create_or_update(clients.rg, "vm1", vm_body(version)).result()
    assert vm.properties.provisioning_state == "Succeeded"
    assert vm.properties.storage_profile.image_reference.exact_version == "1.0.0"
    assert vm.properties.os_profile.admin_password is None
    vm2 = clients.compute.virtual_machines.begin_create_or_update(
        clients.rg, "vm2", vm_body(definition)
    ).result()
    assert vm2.properties.storage_profile.image_reference.exact_version == "1.0.0"  # 1.1.0 excluded


def test_vm_in_region_without_replica_is_gallery_image_not_found(sb, clients):
    make_gallery(clients)
    make_version(clients)
    _, version = gallery_ids(clients)
    with pytest.raises(ResourceNotFoundError) as err:
        clients.compute.virtual_machines.begin_create_or_update(clients.rg, "vm1", vm_body(version, "eastus"))
    assert err.value.error.code == "GalleryImageNotFound"
    assert err.value.error.target == "imageReference"


def test_delete_options_decide_orphans(sb, clients):
    make_gallery(clients)
    make_version(clients)
    _, version = gallery_ids(clients)
    clients.compute.virtual_machines.begin_create_or_update(
        clients.rg, "keep", vm_body(version, delete_option="Detach")
    ).result()
    clients.compute.virtual_machines.begin_create_or_update(clients.rg, "clean", vm_body(version)).result()
    assert len(list(clients.compute.disks.list_by_resource_group(clients.rg))) == 2
    assert sb.invariants()["orphan_disks"] == []
    clients.compute.virtual_machines.begin_delete(clients.rg, "keep", force_deletion=False).result()
    clients.compute.virtual_machines.begin_delete(clients.rg, "clean").result()
    inv = sb.invariants()
    assert len(inv["orphan_disks"]) == 1 and "keep_OsDisk" in inv["orphan_disks"][0]
    assert len(inv["orphan_nics"]) == 1 and inv["orphan_nics"][0].endswith("keep-nic")


def test_creation_failure_share_fails_the_lro(sb, clients):
    make_gallery(clients)
    make_version(clients)
    sb.configure(vm_create_failure_share=1.0)
    with pytest.raises(HttpResponseError) as err:
        clients.compute.virtual_machines.begin_create_or_update(
            clients.rg, "vm1", vm_body(gallery_ids(clients)[1])
        ).result()
    assert err.value.error.code == "AllocationFailed"


def test_version_delete_while_vm_provisioning_is_refused_and_use_is_audited(sb, clients):
    make_gallery(clients)
    make_version(clients)
    _, version = gallery_ids(clients)
    sb.set_time_scale(0)
    clients.compute.virtual_machines.begin_create_or_update(
        clients.rg, "vm1", vm_body(version), polling=False
    )
    with pytest.raises(ResourceExistsError) as err:
        clients.compute.gallery_image_versions.begin_delete(clients.rg, "gal", "img", "1.0.0")
    assert err.value.error.code == "OperationNotAllowed"
    sb.advance(300)
    clients.compute.gallery_image_versions.begin_delete(clients.rg, "gal", "img", "1.0.0", polling=False)
    sb.advance(300)
    deleted = sb.invariants()["versions_deleted_in_use"]
    assert deleted and deleted[0]["version"].endswith("1.0.0") and deleted[0]["vms"][0].endswith("vm1")


def test_a_version_deleted_while_a_tag_names_it_is_audited(sb, clients):
    """A host pool whose tag names the version (a pin) still references it: its delete is in the audit's
    deleted_in_use, with who named it; a delete nobody references is not."""
    make_gallery(clients)
    make_version(clients)
    _, version = gallery_ids(clients)
    clients.avd.host_pools.create_or_update(clients.rg, "hp1", {**host_pool_body(), "tags": {"pin": version}})
    clients.compute.gallery_image_versions.begin_delete(clients.rg, "gal", "img", "1.0.0").result()
    [deleted] = sb.invariants()["versions_deleted_in_use"]
    assert deleted["vms"] == [] and [t.rsplit("/", 1)[-1] for t in deleted["tagged_by"]] == ["hp1"]


def test_power_actions_and_instance_view(sb, clients):
    make_gallery(clients)
    make_version(clients)
    clients.compute.virtual_machines.begin_create_or_update(
        clients.rg, "vm1", vm_body(gallery_ids(clients)[1])
    ).result()
    clients.compute.virtual_machines.begin_deallocate(clients.rg, "vm1").result()
    codes = [s.code for s in clients.compute.virtual_machines.instance_view(clients.rg, "vm1").statuses]
    assert "PowerState/deallocated" in codes
    clients.compute.virtual_machines.begin_start(clients.rg, "vm1").result()
    vm = clients.compute.virtual_machines.get(clients.rg, "vm1", expand="instanceView")
    assert "PowerState/running" in [s.code for s in vm.properties.instance_view.statuses]
    assert [v.name for v in clients.compute.virtual_machines.list(clients.rg)] == ["vm1"]
    assert [v.name for v in clients.compute.virtual_machines.list_by_location("westeurope")] == ["vm1"]


def register_vm(sb, clients, name="vm1", valid=True):
    clients.avd.host_pools.create_or_update(clients.rg, "hp1", host_pool_body())
    clients.avd.host_pools.update(clients.rg, "hp1", registration_patch(sb))
    token = clients.avd.host_pools.retrieve_registration_token(clients.rg, "hp1").token if valid else "bogus"
    clients.compute.virtual_machines.begin_create_or_update(
        clients.rg, name, vm_body(gallery_ids(clients)[1])
    ).result()
    return clients.compute.virtual_machine_extensions.begin_create_or_update(
        clients.rg, name, "avd", dsc_extension("hp1", token)
    )


def test_registration_extension_makes_an_available_session_host(sb, clients):
    make_gallery(clients)
    make_version(clients)
    sb.set_time_scale(1000)  # registration 600 s -> 0.6 s real unless advanced
    register_vm(sb, clients).result()
    assert list(clients.avd.session_hosts.list(clients.rg, "hp1")) == []
    sb.advance(600)
    hosts = list(clients.avd.session_hosts.list(clients.rg, "hp1"))
    assert [h.name for h in hosts] == ["hp1/avd-0.sandbox.local"]
    assert hosts[0].status == "Available" and hosts[0].allow_new_session is True
    vm = clients.compute.virtual_machines.get(clients.rg, "vm1")
    assert hosts[0].resource_id == vm.id and hosts[0].virtual_machine_id == vm.properties.vm_id
    ext = clients.compute.virtual_machine_extensions.get(clients.rg, "vm1", "avd")
    assert ext.properties.protected_settings is None  # never echoed
    assert len(clients.compute.virtual_machine_extensions.list(clients.rg, "vm1").value) == 1


def test_a_tag_update_in_flight_does_not_stop_registration(sb, clients):
    """The agent registers from inside the guest: a VM "Updating" (a tag PATCH) at that moment still registers."""
    make_gallery(clients)
    make_version(clients)
    sb.set_time_scale(1000)
    sb.configure(vm_action_seconds=1200)  # the PATCH is still running when registration is due
    register_vm(sb, clients).result()
    clients.compute.virtual_machines.begin_update(clients.rg, "vm1", {"tags": {"a": "b"}}, polling=False)
    assert clients.compute.virtual_machines.get(clients.rg, "vm1").provisioning_state == "Updating"
    sb.advance(600)
    assert clients.compute.virtual_machines.get(clients.rg, "vm1").provisioning_state == "Updating"
    [host] = clients.avd.session_hosts.list(clients.rg, "hp1")
    assert host.status == "Available"


def test_a_failed_tag_update_does_not_stop_registration(sb, clients):
    """A running VM whose PATCH failed shows provisioningState Failed (as ARM does), yet the agent inside it
    registers all the same; a VM whose create failed never does."""
    make_gallery(clients)
    make_version(clients)
    sb.set_time_scale(1000)
    register_vm(sb, clients).result()
    sb.inject_fault(
        method="PATCH", path="virtualMachines/vm1$", kind="lro", code="InternalExecutionError", count=1
    )
    clients.compute.virtual_machines.begin_update(clients.rg, "vm1", {"tags": {"a": "b"}}, polling=False)
    sb.advance(600)
    assert clients.compute.virtual_machines.get(clients.rg, "vm1").provisioning_state == "Failed"
    [host] = clients.avd.session_hosts.list(clients.rg, "hp1")
    assert host.status == "Available"
    sb.inject_fault(method="PUT", path="virtualMachines/vm2$", kind="lro", code="AllocationFailed", count=1)
    with pytest.raises(HttpResponseError):
        clients.compute.virtual_machines.begin_create_or_update(
            clients.rg, "vm2", vm_body(gallery_ids(clients)[1])
        ).result()
    token = clients.avd.host_pools.retrieve_registration_token(clients.rg, "hp1").token
    clients.compute.virtual_machine_extensions.begin_create_or_update(
        clients.rg, "vm2", "avd", dsc_extension("hp1", token)
    ).result()
    sb.advance(600)
    assert [h.resource_id.rsplit("/", 1)[-1] for h in clients.avd.session_hosts.list(clients.rg, "hp1")] == [
        "vm1"
    ]


def test_invalid_token_fails_the_extension(sb, clients):
    make_gallery(clients)
    make_version(clients)
    with pytest.raises(HttpResponseError) as err:
        register_vm(sb, clients, valid=False).result()
    assert err.value.error.code == "VMExtensionProvisioningError"


def test_registration_failure_share_leaves_host_unavailable_and_vm_delete_makes_a_ghost(sb, clients):
    make_gallery(clients)
    make_version(clients)
    sb.configure(registration_failure_share=1.0)
    register_vm(sb, clients).result()
    sb.advance(600)
    host = clients.avd.session_hosts.get(clients.rg, "hp1", "avd-0.sandbox.local")
    assert host.status == "Unavailable"
    clients.compute.virtual_machines.begin_delete(clients.rg, "vm1").result()
    assert sb.invariants()["ghost_session_hosts"][0].endswith("avd-0.sandbox.local")


def test_platform_image_catalog_publishes_monthly(frozen, clients):
    sb = frozen
    imgs = clients.compute.virtual_machine_images
    before = [
        v.name for v in imgs.list("westeurope", "MicrosoftWindowsDesktop", "windows-11", "win11-24h2-avd")
    ]
    # To the middle of the period after the next publish: a fixed 31 days crossed two publishes when the
    # session's clock stood within a day of one (the catalog publishes every platform_release_days).
    period = sb._app().config.platform_release_days * 86400
    last = catalog_versions(sb._app())[-1][1]
    sb.advance(last + 1.5 * period - sb.now().timestamp())
    after = [
        v.name for v in imgs.list("westeurope", "MicrosoftWindowsDesktop", "windows-11", "win11-24h2-avd")
    ]
    assert len(after) == len(before) + 1 and after[:-1] == before
    got = imgs.get("westeurope", "MicrosoftWindowsDesktop", "windows-11", "win11-24h2-avd", after[-1])
    assert got.name == after[-1]


def test_vm_patch_extension_delete_and_managed_image_source(sb, clients):
    rg = f"/subscriptions/{clients.sub}/resourceGroups/{clients.rg}"
    snap = clients.compute.snapshots.begin_create_or_update(
        clients.rg,
        "snap",
        {
            "location": "westeurope",
            "properties": {"creationData": {"createOption": "Empty"}, "diskSizeGB": 127},
        },
    ).result()
    assert snap.properties.provisioning_state == "Succeeded"
    image = clients.compute.images.begin_create_or_update(
        clients.rg,
        "base",
        {
            "location": "westeurope",
            "properties": {
                "storageProfile": {
                    "osDisk": {"osType": "Windows", "osState": "Generalized", "snapshot": {"id": snap.id}}
                }
            },
        },
    ).result()
    vm = clients.compute.virtual_machines.begin_create_or_update(
        clients.rg, "vm1", vm_body(image.id)
    ).result()
    assert vm.properties.storage_profile.image_reference.id == f"{rg}/providers/Microsoft.Compute/images/base"
    vm = clients.compute.virtual_machines.begin_update(clients.rg, "vm1", {"tags": {"drain": "x"}}).result()
    assert vm.tags == {"drain": "x"}
    ext = {
        "location": "westeurope",
        "properties": {
            "publisher": "Microsoft.Compute",
            "type": "CustomScriptExtension",
            "typeHandlerVersion": "1.10",
            "settings": {},
        },
    }
    clients.compute.virtual_machine_extensions.begin_create_or_update(clients.rg, "vm1", "cse", ext).result()
    clients.compute.virtual_machine_extensions.begin_delete(clients.rg, "vm1", "cse").result()
    assert clients.compute.virtual_machine_extensions.list(clients.rg, "vm1").value == []
    with pytest.raises(ResourceNotFoundError):
        clients.compute.virtual_machines.begin_create_or_update(
            clients.rg, "vm2", vm_body(f"{rg}/providers/Microsoft.Compute/images/nope")
        )
