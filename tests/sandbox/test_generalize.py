"""The manual capture path as Compute enforces it: `generalize` only on a stopped VM, a generalized VM never
starts again and shows `OSState/generalized` in its instance view, and a Generalized definition's version is
captured only from a generalized VM (a Specialized one takes the VM as it is). Real SDK clients against the
session sandbox; the refusal bodies are checked in test_fidelity_refusals.py."""

from __future__ import annotations

import pytest
from azure.core.exceptions import HttpResponseError

from .helpers import image_body, make_gallery, make_source_image, version_body, vm_body


def _vm(c, name="src"):
    image = make_source_image(c, "vmsource")
    return c.compute.virtual_machines.begin_create_or_update(c.rg, name, vm_body(image.id)).result()


def _statuses(c, name="src") -> list[str]:
    return [s.code for s in c.compute.virtual_machines.instance_view(c.rg, name).statuses]


def _from_vm(vm_id: str) -> dict:
    body = version_body()
    body["properties"]["storageProfile"] = {"source": {"virtualMachineId": vm_id}}
    return body


def test_a_stopped_vm_generalizes_and_then_cannot_start(sb, clients):
    vms = clients.compute.virtual_machines
    _vm(clients)
    vms.begin_power_off(clients.rg, "src").result()
    assert "OSState/generalized" not in _statuses(clients)
    vms.generalize(clients.rg, "src")
    assert "OSState/generalized" in _statuses(clients)
    for start in (vms.begin_start, vms.begin_restart):
        with pytest.raises(HttpResponseError) as caught:
            start(clients.rg, "src").result()
        assert (caught.value.status_code, caught.value.error.code) == (409, "OperationNotAllowed")
    assert "PowerState/stopped" in _statuses(clients)


def test_a_generalized_definition_captures_only_a_generalized_vm(sb, clients):
    make_gallery(clients)
    vms, versions = clients.compute.virtual_machines, clients.compute.gallery_image_versions
    vm = _vm(clients)
    vms.begin_deallocate(clients.rg, "src").result()
    with pytest.raises(HttpResponseError) as caught:
        versions.begin_create_or_update(clients.rg, "gal", "img", "1.0.0", _from_vm(vm.id)).result()
    assert caught.value.status_code == 409
    assert [v.name for v in versions.list_by_gallery_image(clients.rg, "gal", "img")] == []
    vms.generalize(clients.rg, "src")
    made = versions.begin_create_or_update(clients.rg, "gal", "img", "1.0.0", _from_vm(vm.id)).result()
    assert made.provisioning_state == "Succeeded"


def test_a_specialized_definition_captures_the_vm_as_it_is(sb, clients):
    make_gallery(clients)
    clients.compute.gallery_images.begin_create_or_update(
        clients.rg, "gal", "spec", image_body(os_state="Specialized")
    ).result()
    vm = _vm(clients)
    clients.compute.virtual_machines.begin_deallocate(clients.rg, "src").result()
    made = clients.compute.gallery_image_versions.begin_create_or_update(
        clients.rg, "gal", "spec", "1.0.0", _from_vm(vm.id)
    ).result()
    assert made.provisioning_state == "Succeeded"
