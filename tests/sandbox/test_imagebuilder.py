"""Image Builder templates, runs, cancel and run outputs through the real ImageBuilderClient."""

from __future__ import annotations

import pytest
from azure.core.exceptions import HttpResponseError, ResourceExistsError

from .helpers import make_gallery


def template(c, version="2.0.0", regions=("westeurope", "northeurope")):
    gallery_image = (
        f"/subscriptions/{c.sub}/resourceGroups/{c.rg}/providers/Microsoft.Compute/galleries/gal/"
        f"images/img/versions/{version}"
    )
    return {
        "location": "westeurope",
        "identity": {
            "type": "UserAssigned",
            "userAssignedIdentities": {
                f"/subscriptions/{c.sub}/resourceGroups/{c.rg}/providers/Microsoft.ManagedIdentity/"
                "userAssignedIdentities/aib": {}
            },
        },
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
                    "galleryImageId": gallery_image,
                    "targetRegions": [{"name": r, "replicaCount": 1} for r in regions],
                }
            ],
        },
    }


def test_template_put_is_immutable_but_tags_patch(sb, clients):
    make_gallery(clients)
    t = clients.aib.virtual_machine_image_templates
    assert (
        t.begin_create_or_update(clients.rg, "tpl", template(clients)).result().provisioning_state
        == "Succeeded"
    )
    t.begin_create_or_update(clients.rg, "tpl", template(clients)).result()  # same content: fine
    with pytest.raises(ResourceExistsError) as err:
        t.begin_create_or_update(clients.rg, "tpl", template(clients, version="3.0.0"))
    assert err.value.error.code == "Conflict"
    updated = t.begin_update(clients.rg, "tpl", {"tags": {"k": "v"}}).result()
    assert updated.tags == {"k": "v"}
    assert [x.name for x in t.list_by_resource_group(clients.rg)] == ["tpl"]


def test_run_creates_the_replicated_version_and_run_output(sb, clients):
    make_gallery(clients)
    t = clients.aib.virtual_machine_image_templates
    t.begin_create_or_update(clients.rg, "tpl", template(clients)).result()
    sb.set_time_scale(0)
    poller = t.begin_run(clients.rg, "tpl")
    assert poller.polling_method()._initial_response.http_response.status_code == 202
    sb.advance(1200)
    status = t.get(clients.rg, "tpl").last_run_status
    assert status.run_state == "Running" and status.run_sub_state == "Customizing"
    with pytest.raises(ResourceExistsError) as err:
        t.begin_delete(clients.rg, "tpl")
    assert err.value.error.code == "OperationNotAllowed"
    sb.advance(1200)  # build done: distributing, version replicating
    v = clients.compute.gallery_image_versions.get(
        clients.rg, "gal", "img", "2.0.0", expand="ReplicationStatus"
    )
    assert v.properties.provisioning_state == "Creating"
    sb.advance(1800)
    poller.result()
    assert t.get(clients.rg, "tpl").last_run_status.run_state == "Succeeded"
    outputs = list(t.list_run_outputs(clients.rg, "tpl"))
    assert outputs[0].properties.artifact_id.endswith("/versions/2.0.0")
    assert t.get_run_output(clients.rg, "tpl", "out").name == "out"
    v = clients.compute.gallery_image_versions.get(
        clients.rg, "gal", "img", "2.0.0", expand="ReplicationStatus"
    )
    assert v.properties.replication_status.aggregated_state == "Completed"
    assert {s.region for s in v.properties.replication_status.summary} == {"westeurope", "northeurope"}
    sb.set_time_scale(100_000)
    t.begin_delete(clients.rg, "tpl").result()
    assert list(t.list_by_resource_group(clients.rg)) == []


def test_build_failure_share_fails_the_run(sb, clients):
    make_gallery(clients)
    sb.configure(build_failure_share=1.0)
    t = clients.aib.virtual_machine_image_templates
    t.begin_create_or_update(clients.rg, "tpl", template(clients)).result()
    with pytest.raises(HttpResponseError) as err:
        t.begin_run(clients.rg, "tpl").result()
    assert err.value.error.code == "ImageBuildFailed"
    status = t.get(clients.rg, "tpl").last_run_status
    assert status.run_state == "Failed" and status.message


def test_cancel_ends_the_run_canceled(sb, clients):
    make_gallery(clients)
    t = clients.aib.virtual_machine_image_templates
    t.begin_create_or_update(clients.rg, "tpl", template(clients)).result()
    sb.set_time_scale(0)
    run = t.begin_run(clients.rg, "tpl")
    cancel = t.begin_cancel(clients.rg, "tpl")
    sb.advance(60)
    cancel.result()
    with pytest.raises(HttpResponseError):
        run.result()
    assert t.get(clients.rg, "tpl").last_run_status.run_state == "Canceled"


def test_definition_target_gets_a_generated_version_number(sb, clients):
    make_gallery(clients)
    body = template(clients)
    target = body["properties"]["distribute"][0]
    target["galleryImageId"] = target["galleryImageId"].rsplit("/versions/", 1)[0]
    target.pop("targetRegions")
    target["replicationRegions"] = ["westeurope"]
    t = clients.aib.virtual_machine_image_templates
    t.begin_create_or_update(clients.rg, "tpl", body).result()
    t.begin_run(clients.rg, "tpl").result()
    (version,) = clients.compute.gallery_image_versions.list_by_gallery_image(clients.rg, "gal", "img")
    assert all(part.isdigit() for part in version.name.split(".")) and len(version.name.split(".")) == 3
    assert version.properties.provisioning_state == "Succeeded"


def test_the_distributor_settings_land_on_the_version_as_azure_creates_it(sb, clients):
    """Storage type and replication mode are fixed when the version is made, so the SharedImage target's
    own (version-level and per region) must be what the version gets; so must excludeFromLatest."""
    make_gallery(clients)
    body = template(clients)
    target = body["properties"]["distribute"][0]
    target.update(
        {"storageAccountType": "Standard_ZRS", "replicationMode": "Full", "excludeFromLatest": True}
    )
    target["targetRegions"][1]["storageAccountType"] = "Premium_LRS"
    t = clients.aib.virtual_machine_image_templates
    t.begin_create_or_update(clients.rg, "tpl", body).result()
    t.begin_run(clients.rg, "tpl").result()
    profile = clients.compute.gallery_image_versions.get(clients.rg, "gal", "img", "2.0.0").publishing_profile
    assert (profile.storage_account_type, profile.replication_mode, profile.exclude_from_latest) == (
        "Standard_ZRS",
        "Full",
        True,
    )
    regions = {r.name: r.storage_account_type for r in profile.target_regions}
    assert regions == {"westeurope": "Standard_ZRS", "northeurope": "Premium_LRS"}
