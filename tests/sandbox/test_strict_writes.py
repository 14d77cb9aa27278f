"""Resource writes the sandbox refuses by default, as Azure does: a write while the resource's own operation runs,
an immutable property changed, an invalid version publishing profile or a missing source; and enum values read
back in Azure's casing. Real SDK clients against the session sandbox; sources in tests/fixtures/strict_refusals.md.
"""

from __future__ import annotations

import pytest
from azure.core.exceptions import HttpResponseError
from azure.core.rest import HttpRequest

from .helpers import host_pool_body, make_gallery, make_source_image, version_body, vm_body

AVD_API = "2024-04-03"


def refused(call) -> HttpResponseError:
    with pytest.raises(HttpResponseError) as caught:
        call()
    return caught.value


@pytest.fixture
def version(sb, clients):
    """A version of gal/img still replicating to two regions (the clock is frozen: only the test moves it)."""
    make_gallery(clients)
    sb.set_time_scale(0)
    clients.compute.gallery_image_versions.begin_create_or_update(
        clients.rg, "gal", "img", "1.0.0", version_body(("westeurope", "northeurope")), polling=False
    )
    return clients.compute.gallery_image_versions


@pytest.fixture
def vm_creating(sb, clients):
    make_gallery(clients)
    image = make_source_image(clients, "vmsource")
    sb.set_time_scale(0)
    clients.compute.virtual_machines.begin_create_or_update(
        clients.rg, "avd-0", vm_body(image.id), polling=False
    )
    return clients.compute.virtual_machines


def test_version_patch_while_it_replicates_is_a_409_conflict_and_get_shows_it_running(sb, clients, version):
    err = refused(
        lambda: version.begin_update(
            clients.rg, "gal", "img", "1.0.0", {"tags": {"a": "b"}}, polling=False
        ).result()
    )
    assert err.status_code == 409
    assert err.error.code == "Conflict"
    assert "conflict with a concurrent request" in err.error.message
    assert "Retry-After" not in err.response.headers  # azure-core would retry any status that carries it
    got = version.get(clients.rg, "gal", "img", "1.0.0", expand="ReplicationStatus")
    assert got.properties.provisioning_state == "Creating"
    assert got.properties.replication_status.aggregated_state == "InProgress"
    assert got.tags in (None, {})  # the refused write changed nothing
    sb.advance(1801)
    done = version.begin_update(clients.rg, "gal", "img", "1.0.0", {"tags": {"a": "b"}}, polling=False)
    assert done.result().tags == {"a": "b"}


def test_a_second_put_while_the_create_runs_is_refused_too(sb, clients, version):
    body = version_body(("westeurope", "northeurope", "swedencentral"))
    err = refused(
        lambda: version.begin_create_or_update(
            clients.rg, "gal", "img", "1.0.0", body, polling=False
        ).result()
    )
    assert (err.status_code, err.error.code) == (409, "Conflict")
    stored = sb.get(version_id(clients))
    assert len(stored["properties"]["publishingProfile"]["targetRegions"]) == 2


def test_vm_write_while_it_is_marked_for_deletion_is_operation_not_allowed_and_delete_joins(sb, clients):
    make_gallery(clients)
    image = make_source_image(clients, "vmsource")
    vms = clients.compute.virtual_machines
    vms.begin_create_or_update(clients.rg, "avd-0", vm_body(image.id)).result()
    sb.set_time_scale(0)
    first = vms.begin_delete(clients.rg, "avd-0", polling=False)
    status_url = first.polling_method()._initial_response.http_response.headers["Azure-AsyncOperation"]
    err = refused(lambda: vms.begin_update(clients.rg, "avd-0", {"tags": {"x": "y"}}, polling=False).result())
    assert (err.status_code, err.error.code) == (409, "OperationNotAllowed")
    assert err.error.message == (
        "Operation 'Update' is not allowed on VM 'avd-0' since the VM is marked for deletion. You can only retry "
        "the Delete operation (or wait for an ongoing one to complete)."
    )
    assert vms.get(clients.rg, "avd-0").provisioning_state == "Deleting"
    again = vms.begin_delete(clients.rg, "avd-0", polling=False)
    # The retried DELETE is the same operation, not a second one.
    assert (
        again.polling_method()._initial_response.http_response.headers["Azure-AsyncOperation"] == status_url
    )
    sb.advance(91)
    assert refused(lambda: vms.get(clients.rg, "avd-0")).status_code == 404


def test_vm_tag_patch_while_it_is_being_created_is_refused(sb, clients, vm_creating):
    err = refused(
        lambda: vm_creating.begin_update(clients.rg, "avd-0", {"tags": {"x": "y"}}, polling=False).result()
    )
    assert (err.status_code, err.error.code) == (409, "Conflict")
    assert vm_creating.get(clients.rg, "avd-0").provisioning_state == "Creating"
    sb.advance(241)
    accepted = vm_creating.begin_update(clients.rg, "avd-0", {"tags": {"x": "y"}}, polling=False)
    assert accepted.result().tags == {"x": "y"}


def test_a_delete_while_the_create_runs_is_accepted(sb, clients, vm_creating):
    """Azure lets a VM still being created be deleted (that is how a stuck create is cleaned)."""
    poller = vm_creating.begin_delete(clients.rg, "avd-0", polling=False)
    assert poller.polling_method()._initial_response.http_response.status_code == 202
    assert vm_creating.get(clients.rg, "avd-0").provisioning_state == "Deleting"


def test_concurrent_writes_switch_restores_the_lenient_sandbox(sb, clients, version):
    sb.configure(concurrent_writes=True)
    poller = version.begin_update(clients.rg, "gal", "img", "1.0.0", {"tags": {"a": "b"}}, polling=False)
    assert poller.polling_method()._initial_response.http_response.status_code == 200


def version_id(clients) -> str:
    return (
        f"/subscriptions/{clients.sub}/resourceGroups/{clients.rg}/providers/Microsoft.Compute/galleries/gal"
        "/images/img/versions/1.0.0"
    )


@pytest.mark.parametrize("name", ["2147483648.0.0", "1.4294967296.0", "1.0.9999999999"])
def test_version_name_parts_above_int32_are_invalid_parameter(sb, clients, name):
    make_gallery(clients)
    err = refused(
        lambda: clients.compute.gallery_image_versions.begin_create_or_update(
            clients.rg, "gal", "img", name, version_body()
        ).result()
    )
    assert (err.status_code, err.error.code, err.error.target) == (
        400,
        "InvalidParameter",
        "galleryImageVersionName",
    )
    assert "Digits must be within the range of a 32-bit integer" in err.error.message


def test_largest_int32_version_parts_are_accepted(sb, clients):
    make_gallery(clients)
    made = clients.compute.gallery_image_versions.begin_create_or_update(
        clients.rg, "gal", "img", "2147483647.2147483647.0", version_body()
    ).result()
    assert made.name == "2147483647.2147483647.0"


def test_duplicate_target_region_is_invalid_parameter(sb, clients):
    make_gallery(clients)
    body = version_body(("westeurope", "West Europe"))
    err = refused(
        lambda: clients.compute.gallery_image_versions.begin_create_or_update(
            clients.rg, "gal", "img", "1.0.0", body
        ).result()
    )
    assert (err.status_code, err.error.code) == (400, "InvalidParameter")
    assert err.error.target == "galleryImageVersion.properties.publishingProfile.targetRegions[1].name"


@pytest.mark.parametrize("where", ["regional", "global"])
def test_replica_count_zero_is_invalid_parameter(sb, clients, where):
    make_gallery(clients)
    body = version_body()
    pp = body["properties"]["publishingProfile"]
    if where == "regional":
        pp["targetRegions"][0]["regionalReplicaCount"] = 0
    else:
        pp["replicaCount"] = 0
    err = refused(
        lambda: clients.compute.gallery_image_versions.begin_create_or_update(
            clients.rg, "gal", "img", "1.0.0", body
        ).result()
    )
    assert (err.status_code, err.error.code) == (400, "InvalidParameter")
    assert "between 1 and 100" in err.error.message


def test_vm_put_changing_the_image_reference_is_property_change_not_allowed(sb, clients):
    make_gallery(clients)
    first = make_source_image(clients, "one")
    second = make_source_image(clients, "two")
    vms = clients.compute.virtual_machines
    vms.begin_create_or_update(clients.rg, "avd-0", vm_body(first.id)).result()
    err = refused(lambda: vms.begin_create_or_update(clients.rg, "avd-0", vm_body(second.id)).result())
    assert (err.status_code, err.error.code, err.error.target) == (
        409,
        "PropertyChangeNotAllowed",
        "imageReference",
    )
    assert err.error.message == "Changing property 'imageReference' is not allowed."
    # The same reference again (a tag change through PUT) is fine, whatever its casing.
    again = vm_body(first.id.upper())
    again["tags"] = {"k": "v"}
    assert vms.begin_create_or_update(clients.rg, "avd-0", again).result().tags == {"k": "v"}


def test_host_pool_type_cannot_change(sb, clients):
    pools = clients.avd.host_pools
    pools.create_or_update(clients.rg, "hp1", host_pool_body())
    pool_id = f"/subscriptions/{clients.sub}/resourceGroups/{clients.rg}/providers/Microsoft.DesktopVirtualization/hostPools/hp1"
    for method, body in (
        (
            "PUT",
            {
                "location": "westeurope",
                "properties": {
                    "hostPoolType": "Personal",
                    "loadBalancerType": "Persistent",
                    "preferredAppGroupType": "Desktop",
                },
            },
        ),
        ("PATCH", {"properties": {"hostPoolType": "Personal"}}),
    ):
        response = clients.compute.send_request(
            HttpRequest(method, f"{pool_id}?api-version={AVD_API}", json=body)
        )
        assert response.status_code == 400, method
        error = response.json()["error"]
        assert error["code"] == "400" and error["message"].startswith("ActivityId: ")
        assert "HostPoolType" in error["message"]
    assert pools.get(clients.rg, "hp1").host_pool_type == "Pooled"


def test_enum_values_read_back_in_azure_casing(sb, clients):
    compute = clients.compute
    make_source_image(clients)
    compute.galleries.begin_create_or_update(clients.rg, "gal", {"location": "westeurope"}).result()
    definition = {
        "location": "westeurope",
        "properties": {
            "osType": "windows",
            "osState": "generalized",
            "hyperVGeneration": "v2",
            "identifier": {"publisher": "acme", "offer": "avd", "sku": "win11"},
        },
    }
    image = compute.gallery_images.begin_create_or_update(clients.rg, "gal", "img", definition).result()
    assert (image.os_type, image.os_state, image.hyper_v_generation) == ("Windows", "Generalized", "V2")
    body = version_body(storageAccountType="standard_zrs")
    made = compute.gallery_image_versions.begin_create_or_update(
        clients.rg, "gal", "img", "1.0.0", body
    ).result()
    assert made.publishing_profile.storage_account_type == "Standard_ZRS"
    assert {t.storage_account_type for t in made.publishing_profile.target_regions} == {"Standard_ZRS"}
    pool = host_pool_body() | {"host_pool_type": "pooled", "load_balancer_type": "depthfirst"}
    made_pool = clients.avd.host_pools.create_or_update(clients.rg, "hp1", pool)
    assert (made_pool.host_pool_type, made_pool.load_balancer_type) == ("Pooled", "DepthFirst")
