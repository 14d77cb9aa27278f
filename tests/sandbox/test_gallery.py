"""Galleries, image definitions and versions through the real ComputeManagementClient."""

from __future__ import annotations

import pytest
from azure.core.exceptions import ResourceExistsError, ResourceNotFoundError

from .helpers import gallery_body, image_body, make_gallery, make_version, version_body


def test_gallery_lro_put_is_201_with_async_headers_then_succeeded(sb, clients):
    poller = clients.compute.galleries.begin_create_or_update(clients.rg, "gal", gallery_body())
    initial = poller.polling_method()._initial_response.http_response
    assert initial.status_code == 201
    assert "/capsOperations/" in initial.headers["Azure-AsyncOperation"]
    assert "Retry-After" not in initial.headers
    assert poller.result().properties.provisioning_state == "Succeeded"


def test_a_get_alone_finishes_due_operations(sb, clients):
    clients.compute.galleries.begin_create_or_update(
        clients.rg, "gal", gallery_body(), polling=False
    ).result()
    sb.advance(60)
    assert clients.compute.galleries.get(clients.rg, "gal").properties.provisioning_state == "Succeeded"


def test_missing_parent_is_parent_resource_not_found(sb, clients):
    with pytest.raises(ResourceNotFoundError) as err:
        clients.compute.gallery_images.begin_create_or_update(clients.rg, "nogal", "img", image_body())
    assert err.value.error.code == "ParentResourceNotFound"


def test_missing_resource_is_resource_not_found(sb, clients):
    with pytest.raises(ResourceNotFoundError) as err:
        clients.compute.galleries.get(clients.rg, "absent")
    assert err.value.error.code == "ResourceNotFound"


def test_replication_follows_the_sandbox_clock(sb, clients):
    make_gallery(clients)
    sb.set_time_scale(0)  # frozen: only advance() moves time
    clients.compute.gallery_image_versions.begin_create_or_update(
        clients.rg, "gal", "img", "1.0.0", version_body(("westeurope", "northeurope")), polling=False
    )
    sb.advance(900)
    v = clients.compute.gallery_image_versions.get(
        clients.rg, "gal", "img", "1.0.0", expand="ReplicationStatus"
    )
    assert v.properties.provisioning_state == "Creating"
    summary = v.properties.replication_status.summary
    assert [s.state for s in summary] == ["Replicating", "Replicating"]
    assert all(45 <= s.progress <= 55 for s in summary)
    assert v.properties.replication_status.aggregated_state == "InProgress"
    sb.advance(901)
    v = clients.compute.gallery_image_versions.get(
        clients.rg, "gal", "img", "1.0.0", expand="ReplicationStatus"
    )
    assert v.properties.provisioning_state == "Succeeded"
    assert v.properties.replication_status.aggregated_state == "Completed"
    plain = clients.compute.gallery_image_versions.get(clients.rg, "gal", "img", "1.0.0")
    assert plain.properties.replication_status is None


def test_per_region_replication_duration_and_failure_is_a_failed_lro(sb, clients):
    from azure.core.exceptions import HttpResponseError

    make_gallery(clients)
    sb.configure(replication_seconds_by_region={"northeurope": 7200}, replication_failure_share=1.0)
    poller = clients.compute.gallery_image_versions.begin_create_or_update(
        clients.rg, "gal", "img", "1.0.0", version_body(("westeurope", "northeurope"))
    )
    with pytest.raises(HttpResponseError) as err:
        poller.result()
    assert err.value.error.code == "CrpPirReplicationJobsNotCompleted"
    v = clients.compute.gallery_image_versions.get(clients.rg, "gal", "img", "1.0.0")
    assert v.properties.provisioning_state == "Failed"


def test_version_fields_and_patch(sb, clients):
    make_gallery(clients)
    make_version(clients, excludeFromLatest=False, endOfLifeDate="2030-01-01T00:00:00Z")
    v = clients.compute.gallery_image_versions.get(clients.rg, "gal", "img", "1.0.0")
    tr = v.properties.publishing_profile.target_regions[0]
    assert tr.regional_replica_count == 2 and tr.storage_account_type == "Standard_LRS"
    poller = clients.compute.gallery_image_versions.begin_update(
        clients.rg,
        "gal",
        "img",
        "1.0.0",
        {
            "properties": {
                "publishingProfile": {
                    "excludeFromLatest": True,
                    "targetRegions": [{"name": "westeurope"}, {"name": "eastus"}],
                }
            }
        },
    )
    assert poller.polling_method()._initial_response.http_response.status_code == 200
    v = poller.result()
    assert v.properties.publishing_profile.exclude_from_latest is True
    assert {t.name for t in v.properties.publishing_profile.target_regions} == {"westeurope", "eastus"}


def test_immutable_fields_are_property_change_not_allowed(sb, clients):
    make_gallery(clients)
    make_version(clients)
    body = version_body(source="/subscriptions/x/resourceGroups/y/providers/Microsoft.Compute/images/other")
    with pytest.raises(ResourceExistsError) as err:
        clients.compute.gallery_image_versions.begin_create_or_update(clients.rg, "gal", "img", "1.0.0", body)
    assert err.value.error.code == "PropertyChangeNotAllowed"
    with pytest.raises(ResourceExistsError) as err:
        clients.compute.gallery_images.begin_create_or_update(
            clients.rg, "gal", "img", image_body(os_state="Specialized")
        )
    assert err.value.error.code == "PropertyChangeNotAllowed"


def test_parents_with_children_cannot_be_deleted(sb, clients):
    make_gallery(clients)
    make_version(clients)
    with pytest.raises(ResourceExistsError) as err:
        clients.compute.gallery_images.begin_delete(clients.rg, "gal", "img")
    assert err.value.error.code == "CannotDeleteResource"
    with pytest.raises(ResourceExistsError) as err:
        clients.compute.galleries.begin_delete(clients.rg, "gal")
    assert err.value.error.code == "CannotDeleteResource"


def test_delete_is_202_with_location_then_gone(sb, clients):
    make_gallery(clients)
    make_version(clients)
    poller = clients.compute.gallery_image_versions.begin_delete(clients.rg, "gal", "img", "1.0.0")
    assert poller.polling_method()._initial_response.http_response.status_code == 202
    assert "Location" in poller.polling_method()._initial_response.http_response.headers
    poller.result()
    assert list(clients.compute.gallery_image_versions.list_by_gallery_image(clients.rg, "gal", "img")) == []
    clients.compute.gallery_images.begin_delete(clients.rg, "gal", "img").result()
    clients.compute.galleries.begin_delete(clients.rg, "gal").result()
    # deleting what is already gone is a quiet 204
    clients.compute.galleries.begin_delete(clients.rg, "gal").result()


def test_block_deletion_before_end_of_life(sb, clients):
    make_gallery(clients)
    body = version_body(endOfLifeDate="2099-01-01T00:00:00Z")
    body["properties"]["safetyProfile"] = {"blockDeletionBeforeEndOfLife": True}
    clients.compute.gallery_image_versions.begin_create_or_update(
        clients.rg, "gal", "img", "1.0.0", body
    ).result()
    with pytest.raises(ResourceExistsError) as err:
        clients.compute.gallery_image_versions.begin_delete(clients.rg, "gal", "img", "1.0.0")
    assert err.value.error.code == "OperationNotAllowed"


def test_list_versions_pages(sb, clients):
    make_gallery(clients)
    for i in range(7):
        clients.compute.gallery_image_versions.begin_create_or_update(
            clients.rg, "gal", "img", f"1.0.{i}", version_body(), polling=False
        )
    names = [
        v.name for v in clients.compute.gallery_image_versions.list_by_gallery_image(clients.rg, "gal", "img")
    ]
    assert names == [f"1.0.{i}" for i in range(7)]


def test_definition_delete_right_after_its_last_version_can_still_conflict(sb, clients):
    make_gallery(clients)
    make_version(clients)
    sb.configure(ghost_child_seconds=15)
    sb.set_time_scale(0)
    clients.compute.gallery_image_versions.begin_delete(clients.rg, "gal", "img", "1.0.0", polling=False)
    sb.advance(60)  # version gone
    with pytest.raises(ResourceExistsError) as err:
        clients.compute.gallery_images.begin_delete(clients.rg, "gal", "img")
    assert err.value.error.code == "CannotDeleteResource"
    sb.advance(15)
    clients.compute.gallery_images.begin_delete(clients.rg, "gal", "img", polling=False)


def test_types_the_sandbox_does_not_model_are_stored_generically(sb, clients):
    from azure.core.rest import HttpRequest

    vnet = (
        f"{sb.endpoint}/subscriptions/{clients.sub}/resourceGroups/{clients.rg}/providers/Microsoft.Network/"
        "virtualNetworks/vnet?api-version=2024-05-01"
    )
    send = clients.compute._client.send_request
    created = send(
        HttpRequest(
            "PUT",
            vnet,
            json={
                "location": "westeurope",
                "properties": {"addressSpace": {"addressPrefixes": ["10.0.0.0/16"]}},
            },
        )
    )
    assert created.status_code == 201 and created.json()["properties"]["provisioningState"] == "Succeeded"
    assert send(HttpRequest("GET", vnet)).json()["properties"]["addressSpace"]["addressPrefixes"] == [
        "10.0.0.0/16"
    ]
    assert send(HttpRequest("DELETE", vnet)).status_code == 200
    assert send(HttpRequest("GET", vnet)).status_code == 404


def test_a_seeded_succeeded_version_counts_as_replicated_in_its_regions(sb, clients):
    """Seeded without replicationStatus (as brownfield estates are): its first PATCH replicates nothing."""
    make_gallery(clients)
    version_id = (
        f"/subscriptions/{clients.sub}/resourceGroups/{clients.rg}/providers/Microsoft.Compute/galleries/gal/"
        "images/img/versions/1.0.0"
    )
    sb.seed([{"id": version_id, **version_body(("westeurope", "northeurope"))}])
    sb.set_time_scale(0)
    try:
        clients.compute.gallery_image_versions.begin_update(
            clients.rg, "gal", "img", "1.0.0", {"tags": {"k": "v"}}, polling=False
        )
        sb.advance(2)  # far less than replication_seconds (1800)
        v = clients.compute.gallery_image_versions.get(
            clients.rg, "gal", "img", "1.0.0", expand="ReplicationStatus"
        )
    finally:
        sb.set_time_scale(100_000)
    assert v.tags == {"k": "v"} and v.properties.provisioning_state == "Succeeded"
    assert [s.state for s in v.properties.replication_status.summary] == ["Completed", "Completed"]
