"""Equal values of the observed snapshot are one object (reconciler.azure.sharing), and nothing a reader sees
changes: the same values, of the same JSON types, the same fingerprints; no token ever enters the table."""

from __future__ import annotations

import copy
import json

from observe_support import of_type

from reconciler.azure import convert
from reconciler.azure.observe import observe
from reconciler.azure.sharing import Sharing
from reconciler.model.fingerprint import SESSION_HOST, VIRTUAL_MACHINE, fingerprint_fields
from reconciler.model.observed import ObservedTargetRegion, ObserveScope, norm_id

VM = "Microsoft.Compute/virtualMachines"
HOST = "Microsoft.DesktopVirtualization/hostpools/sessionhosts"


def _json(value) -> str:
    return json.dumps(value, sort_keys=True)


def test_equal_json_values_are_one_object_and_the_input_is_never_changed():
    share = Sharing()
    first = {"a": [1, {"b": "x"}], "c": None}
    second = json.loads(json.dumps(first))
    before = copy.deepcopy(second)
    assert share(first) is first  # new: kept as it is
    assert share(second) is first
    assert second == before
    assert share(json.loads('"x"')) is first["a"][1]["b"]


def test_values_equal_in_python_but_not_in_json_stay_apart():
    share = Sharing()
    ones = [{"n": 1}, {"n": True}, {"n": 1.0}, {"n": -0.0}, {"n": 0.0}, {"n": 0}, {"n": False}]
    shared = [share(copy.deepcopy(v)) for v in ones]
    assert [_json(v) for v in shared] == [_json(v) for v in ones]
    assert len({id(v) for v in shared}) == len(ones)
    assert share(["a"]) is not share(("a",))  # a list and a tuple are different values


def test_frozen_dataclasses_are_shared_by_their_fields():
    share = Sharing()
    a = ObservedTargetRegion("westeurope", 1, "Standard_LRS", None)
    assert share(ObservedTargetRegion("westeurope", 1, "Standard_LRS", None)) is share(a)
    assert share(ObservedTargetRegion("westeurope", True, "Standard_LRS", None)) is not share(a)
    assert share((a,)) is share((ObservedTargetRegion("westeurope", 1, "Standard_LRS", None),))


def test_what_cannot_be_shared_passes_through_and_a_full_table_starts_again():
    share = Sharing(limit=3)
    odd = {"when": object()}
    assert share(odd) is odd
    for i in range(10):
        share(f"value-{i}")
    assert len(share) <= 3
    assert share("value-9") == "value-9"


def _vm(raw_id: str, vm_id: str, name: str) -> dict:
    return {
        "id": raw_id,
        "name": name,
        "location": "West Europe",
        "tags": {"avd-pool": "hp-1", "owner": "reconciler"},
        "properties": {
            "vmId": vm_id,
            "provisioningState": "Succeeded",
            "hardwareProfile": {"vmSize": "Standard_D4s_v5"},
            "storageProfile": {
                "imageReference": {"id": "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/"
                                   "galleries/g/images/d/versions/1.0.0"},
                "osDisk": {"name": f"{name}-os"},
            },
            "osProfile": {"computerName": name, "adminUsername": "x"},
        },
    }  # fmt: skip


def test_vms_share_what_they_repeat_and_keep_their_own_values_and_fingerprints():
    prefix = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines"
    raws = [_vm(f"{prefix}/vm-{i}", f"0000000{i}-guid", f"vm-{i}") for i in range(2)]
    expected = [fingerprint_fields(VIRTUAL_MACHINE, copy.deepcopy(r)) for r in raws]
    a, b = (convert.vm(json.loads(json.dumps(r))) for r in raws)
    assert a.tags is b.tags and a.raw["tags"] is b.raw["tags"]
    assert a.raw["properties"]["storageProfile"] is b.raw["properties"]["storageProfile"]
    assert a.raw["properties"]["hardwareProfile"] is b.raw["properties"]["hardwareProfile"]
    assert a.vm_size is b.vm_size and a.location is b.location == "westeurope"
    assert a.image_reference_id is b.image_reference_id
    assert a.raw["properties"] is not b.raw["properties"]
    assert (a.vm_uuid, a.computer_name) != (b.vm_uuid, b.computer_name)
    assert [a.fingerprint_fields, b.fingerprint_fields] == expected
    assert [_json(a.fingerprint_fields), _json(b.fingerprint_fields)] == [_json(e) for e in expected]


def test_a_registration_token_never_enters_the_table():
    pool = {
        "id": "/subscriptions/s/resourceGroups/rg/providers/Microsoft.DesktopVirtualization/hostPools/hp-1",
        "name": "hp-1",
        "location": "westeurope",
        "properties": {
            "hostPoolType": "Pooled",
            "registrationInfo": {"token": "secret-token-value", "expirationTime": "2026-01-01T00:00:00Z"},
        },
    }
    observed = convert.host_pool(pool)
    assert "token" not in observed.raw["properties"]["registrationInfo"]
    assert "secret-token-value" not in repr(list(convert.SHARED._canonical.items()))


def test_observed_hosts_name_their_vm_with_its_own_strings_and_fingerprint_as_their_json(sb, estate, conn):
    observed = observe(ObserveScope.of(sb.subscription_ids), conn)
    assert len(convert.SHARED) == 0  # the snapshot keeps what it shares; the table is let go
    hosts = {norm_id(h["id"]): h for h in of_type(estate, HOST)}
    vms = {norm_id(v["id"]): v for v in of_type(estate, VM)}
    joined = [h for h in observed.session_hosts.values() if h.vm is not None]
    assert joined
    for host in joined:
        assert host.vm_id is host.vm.key
        assert host.raw["properties"]["resourceId"] is host.vm.id
        assert host.raw["properties"]["virtualMachineId"] is host.vm.vm_uuid is host.vm_uuid
        seeded = hosts[host.key]
        assert fingerprint_fields(SESSION_HOST, host.raw) == fingerprint_fields(SESSION_HOST, seeded)
    for key, vm in observed.vms.items():
        assert vm.fingerprint_fields == fingerprint_fields(VIRTUAL_MACHINE, vms[key])
    tags = {id(vm.tags) for vm in observed.vms.values()}
    assert len(tags) < len(observed.vms)  # a pool's VMs carry equal tags: one mapping
