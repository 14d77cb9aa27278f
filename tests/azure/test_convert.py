"""REST JSON -> Observed objects, on the published REST examples (odd casing, display-name regions)."""

from __future__ import annotations

import json
from pathlib import Path

from reconciler.azure import convert
from reconciler.model.observed import ObservedVM

EXAMPLES = Path(__file__).parents[1] / "fixtures" / "rest-examples"


def body(name: str) -> dict:
    responses = json.loads((EXAMPLES / f"{name}.json").read_text())["responses"]
    return responses[sorted(responses)[0]]["body"]


def test_version_regions_are_normalised_and_replication_read_from_the_expand():
    v = convert.image_version(body("GalleryImageVersion_Get_WithReplicationStatus"))
    assert v.name == "1.0.0"
    assert v.location == "westus"
    assert [(r.name, r.regional_replica_count) for r in v.target_regions] == [("westus", 1), ("eastus", 2)]
    assert [(r.region, r.state) for r in v.replication] == [("westus", "Completed"), ("eastus", "Completed")]
    assert v.is_replicated_to("East US") and not v.is_replicated_to("northeurope")
    # The id has "Galleries/.../Images/.../Versions" casing: the parent key is still lower-cased.
    assert v.definition_id == v.definition_id.lower() and v.definition_id.endswith(
        "/images/mygalleryimagename"
    )


def test_a_version_not_succeeded_is_replicated_only_where_its_summary_says_completed():
    raw = body("GalleryImageVersion_Get_WithReplicationStatus")
    raw["properties"]["provisioningState"] = "Updating"
    raw["properties"]["replicationStatus"]["summary"][1].update(state="Replicating", progress=40)
    v = convert.image_version(raw)
    assert v.replication_state_in("westus") == "Completed"
    assert v.replication_state_in("East US") == "Replicating"
    assert v.replication_state_in("uksouth") == "Absent"


def test_session_host_name_is_the_last_segment_and_joins_its_vm_case_insensitively():
    raw = body("SessionHost_Update")
    raw["name"] = "hostPool1/sessionHost1.microsoft.com"  # how the live service names it
    vm_key = raw["properties"]["resourceId"].lower()
    version = (
        "/subscriptions/s/resourcegroups/rg/providers/microsoft.compute/galleries/g/images/i/versions/1.2.3"
    )
    host = convert.session_host(
        raw, {vm_key: ObservedVM(id=vm_key, name="sessionHost1", image_version_id=version)}
    )
    assert host.name == "sessionHost1.microsoft.com"
    assert host.host_pool_id.endswith("/hostpools/hostpool1")
    assert (host.status, host.sessions, host.allow_new_session) == ("Available", 1, True)
    assert host.vm_id == vm_key and host.image_version_id == version


def test_host_pool_keeps_the_token_expiry_never_the_token():
    raw = body("HostPool_Create")
    assert raw["properties"]["registrationInfo"]["token"] == "token"
    pool = convert.host_pool(raw)
    assert pool.registration_expires.year == 2020
    assert "token" not in pool.raw["properties"]["registrationInfo"]
    assert "'token'" not in repr(pool) and "token" not in json.dumps(dict(pool.raw))
    assert raw["properties"]["registrationInfo"]["token"] == "token"  # the input was not mutated


def test_vm_created_from_latest_resolves_the_exact_version():
    definition = "/subscriptions/S/resourceGroups/RG/providers/Microsoft.Compute/galleries/G/images/I"
    raw = {
        "id": "/subscriptions/S/resourceGroups/RG/providers/Microsoft.Compute/virtualMachines/vm1",
        "name": "vm1",
        "location": "West Europe",
        "properties": {"storageProfile": {"imageReference": {"id": definition, "exactVersion": "1.2.3"}}},
    }
    assert convert.vm(raw).image_version_id == definition.lower() + "/versions/1.2.3"
    raw["properties"]["storageProfile"]["imageReference"] = {"publisher": "MicrosoftWindowsDesktop"}
    assert convert.vm(raw).image_version_id is None


def test_template_reports_last_run_and_target_version():
    raw = body("CreateImageTemplateWindows")
    version = (
        "/subscriptions/S/resourceGroups/RG/providers/Microsoft.Compute/galleries/G/images/I/versions/2.0.0"
    )
    raw["properties"]["distribute"].append(
        {"type": "SharedImage", "galleryImageId": version, "runOutputName": "x"}
    )
    raw["properties"]["lastRunStatus"] = {"runState": "Running", "runSubState": "Customizing"}
    t = convert.image_template(raw)
    assert t.target_version_id == version.lower()
    assert t.is_running and t.last_run_sub_state == "Customizing"


def test_user_session_knows_its_pool_and_host():
    s = convert.user_session(body("UserSession_Get"))
    assert s.name == "1"
    assert s.host_pool_id.endswith("/hostpools/hostpool1")
    assert s.session_host_name == "sessionHost1.microsoft.com"
    assert s.user_principal_name == "user1@microsoft.com"


def test_snapshot_lookups_group_children_by_parent_case_insensitively():
    from datetime import UTC, datetime

    from reconciler.model.observed import Observed, ObserveScope

    definition = "/subscriptions/S/resourceGroups/RG/providers/Microsoft.Compute/galleries/G/images/I"
    v1 = convert.image_version({"id": f"{definition}/versions/1.0.0", "name": "1.0.0", "properties": {}})
    v2 = convert.image_version(
        {"id": f"{definition.upper()}/VERSIONS/2.0.0", "name": "2.0.0", "properties": {}}
    )
    vm = ObservedVM(
        id="/subscriptions/s/resourcegroups/rg/providers/microsoft.compute/virtualmachines/x",
        name="x",
        image_version_id=v1.key,
    )
    observed = Observed.build(ObserveScope.of(["S"]), datetime.now(UTC), image_versions=[v1, v2], vms=[vm])
    assert {v.name for v in observed.versions_of(definition.lower())} == {"1.0.0", "2.0.0"}
    assert observed.versions_in_use == {v1.key}
    assert observed.versions_in_use_of(definition) == {v1.key}
    assert observed.versions_in_use_of(definition + "x") == frozenset()
    assert observed.get(v2.id.lower()) is v2
