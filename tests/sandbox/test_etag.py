"""ETags and conditional writes: the types whose REST spec carries `etag` answer with one that changes on every
write, and refuse a write whose If-Match / If-None-Match does not hold with 412 PreconditionFailed. Real SDK
clients (etag= / match_condition= where the SDK has them, raw requests elsewhere); sources in
tests/fixtures/etag.md."""

from __future__ import annotations

import re

import pytest
from azure.core import MatchConditions
from azure.core.exceptions import ResourceExistsError, ResourceModifiedError
from azure.core.rest import HttpRequest

from .helpers import gallery_body, host_pool_body, make_gallery, make_source_image, vm_body

NETWORK_API = "2024-05-01"
AVD_API = "2024-04-03"
GALLERY_API = "2024-03-03"
WEAK_GUID = re.compile(r'^W/"[0-9a-f-]{36}"$')


@pytest.fixture
def vm(clients):
    make_gallery(clients)
    image = make_source_image(clients, "vmsource")
    return clients.compute.virtual_machines.begin_create_or_update(
        clients.rg, "vm1", vm_body(image.id)
    ).result()


def rg_id(c) -> str:
    return f"/subscriptions/{c.sub}/resourceGroups/{c.rg}"


def send(c, method: str, path: str, api: str, body=None, **headers):
    return c.compute.send_request(
        HttpRequest(method, f"{path}?api-version={api}", json=body, headers=headers)
    )


def test_vm_etag_counts_model_versions_and_is_sent_as_a_header(sb, clients, vm):
    vms = clients.compute.virtual_machines
    assert vm.etag == '"1"'
    updated = vms.begin_update(clients.rg, "vm1", {"tags": {"ring": "0"}}).result()
    assert updated.etag == '"2"'
    again = vms.begin_update(clients.rg, "vm1", {"tags": {"ring": "1"}}).result()
    assert again.etag == '"3"'
    response = send(clients, "GET", vm.id, "2024-07-01")
    assert response.json()["etag"] == '"3"'
    assert response.headers["ETag"] == '"3"'


def test_vm_update_with_a_stale_etag_is_412_precondition_failed_and_changes_nothing(sb, clients, vm):
    vms = clients.compute.virtual_machines
    vms.begin_update(clients.rg, "vm1", {"tags": {"ring": "0"}}).result()  # etag "1" -> "2"
    with pytest.raises(ResourceModifiedError) as caught:
        vms.begin_update(
            clients.rg,
            "vm1",
            {"tags": {"ring": "9"}},
            etag='"1"',
            match_condition=MatchConditions.IfNotModified,
        )
    err = caught.value
    assert err.status_code == 412
    assert err.error.code == "PreconditionFailed"
    assert err.error.message == 'Etag provided in if-match header "1" does not match etag "2" of resource.'
    assert "Retry-After" not in err.response.headers
    got = vms.get(clients.rg, "vm1")
    assert got.tags == {"ring": "0"} and got.etag == '"2"'


def test_vm_update_with_the_current_etag_is_accepted(sb, clients, vm):
    vms = clients.compute.virtual_machines
    done = vms.begin_update(
        clients.rg,
        "vm1",
        {"tags": {"ring": "1"}},
        etag=vm.etag,
        match_condition=MatchConditions.IfNotModified,
    ).result()
    assert done.tags == {"ring": "1"} and done.etag == '"2"'


def test_vm_create_if_missing_on_an_existing_vm_is_412(sb, clients, vm):
    with pytest.raises(ResourceExistsError) as caught:
        clients.compute.virtual_machines.begin_create_or_update(
            clients.rg,
            "vm1",
            vm_body(vm.properties.storage_profile.image_reference.id),
            etag="*",
            match_condition=MatchConditions.IfMissing,
        )
    assert caught.value.status_code == 412
    assert caught.value.error.code == "PreconditionFailed"
    assert clients.compute.virtual_machines.get(clients.rg, "vm1").etag == '"1"'


def test_if_match_on_an_absent_resource_is_412_never_a_create(sb, clients, vm):
    body = {"location": "westeurope", "properties": {"hardwareProfile": {"vmSize": "Standard_D4s_v5"}}}
    response = send(clients, "PUT", vm.id[:-1] + "9", "2024-07-01", body, **{"If-Match": '"1"'})
    assert response.status_code == 412
    assert response.json()["error"]["code"] == "PreconditionFailed"
    assert [v.name for v in clients.compute.virtual_machines.list(clients.rg)] == ["vm1"]


def test_nic_etag_is_weak_changes_on_write_and_a_stale_if_match_is_refused_with_nrp_details(sb, clients, vm):
    nic_id = vm.properties.network_profile.network_interfaces[0].id
    first = send(clients, "GET", nic_id, NETWORK_API).json()
    assert WEAK_GUID.match(first["etag"])
    body = {"location": "westeurope", "tags": {"a": "b"}, "properties": first["properties"]}
    written = send(clients, "PUT", nic_id, NETWORK_API, body, **{"If-Match": first["etag"]})
    assert written.status_code == 200
    second = written.json()["etag"]
    assert WEAK_GUID.match(second) and second != first["etag"]
    refused = send(clients, "PUT", nic_id, NETWORK_API, body, **{"If-Match": first["etag"]})
    assert refused.status_code == 412
    error = refused.json()["error"]
    assert error["code"] == "PreconditionFailed" and error["message"] == "Precondition failed."
    assert error["details"][0]["code"] == "PreconditionFailedEtagMismatch"
    assert nic_id in error["details"][0]["message"] and second in error["details"][0]["message"]


def test_host_pool_etag_changes_on_patch_and_a_stale_delete_is_refused(sb, clients):
    pools = clients.avd.host_pools
    created = pools.create_or_update(clients.rg, "hp1", host_pool_body())
    assert created.etag
    patched = pools.update(clients.rg, "hp1", {"description": "ring 0"})
    assert patched.etag and patched.etag != created.etag
    pool_id = created.id
    refused = send(clients, "DELETE", pool_id, AVD_API, **{"If-Match": created.etag})
    assert refused.status_code == 412
    assert refused.json()["error"]["code"] == "PreconditionFailed"
    assert pools.get(clients.rg, "hp1").etag == patched.etag
    assert send(clients, "DELETE", pool_id, AVD_API, **{"If-Match": patched.etag}).status_code == 200


def test_seeded_resources_of_etag_types_have_an_etag(sb, clients):
    nic = f"{rg_id(clients)}/providers/Microsoft.Network/networkInterfaces/seeded"
    sb.seed([{"id": nic, "location": "westeurope", "properties": {"ipConfigurations": []}}])
    assert WEAK_GUID.match(send(clients, "GET", nic, NETWORK_API).json()["etag"])


def test_gallery_types_carry_no_etag_and_ignore_conditions(sb, clients):
    """The gallery RP publishes no etag (Gallery, GalleryImage, GalleryImageVersion have none in the spec)."""
    make_gallery(clients)
    gallery = clients.compute.galleries.get(clients.rg, "gal")
    raw = send(clients, "GET", gallery.id, GALLERY_API)
    assert "etag" not in raw.json() and "ETag" not in raw.headers
    written = send(clients, "PUT", gallery.id, GALLERY_API, gallery_body(), **{"If-Match": '"nope"'})
    assert written.status_code in (200, 201)
