"""The manual path, end to end (real CLI, real SDK, sandbox): an ImageVersion captured from a VM
(`source.virtualMachineId`) of a Generalized definition. While the VM is running or not generalized, `plan`
stops with the desired file:line, what is wrong and what to run (Sysprep, where it logs, deallocate,
generalize), and `apply` writes nothing. Once the VM is deallocated and generalized as Azure requires, apply
captures it and `plan --detailed-exitcode` exits 0 — even after the VM is deleted, as Azure keeps the version."""

from __future__ import annotations

import pytest
from sandbox.helpers import vm_body
from support.image_estate import DEF_ID, RG, version, write_desired
from support.image_sources import source_image_id

from reconciler.cli import main

VM_NAME = "golden-vm"


@pytest.fixture
def env(cli_env, clients):
    cli_env.seed([{"id": RG, "location": "westeurope"}])
    vm = clients.compute.virtual_machines.begin_create_or_update(
        clients.rg, VM_NAME, vm_body(source_image_id("1.0.0"))
    ).result()
    return cli_env, clients, vm.id


def captured(vm_id: str) -> str:
    return version("1.1.0").replace(
        f"{{managedImageId: {source_image_id('1.1.0')}}}", f"{{virtualMachineId: {vm_id}}}"
    )


def writes(sb) -> list[dict]:
    return [e for e in sb.audit()["entries"] if e["method"] in ("PUT", "PATCH", "DELETE", "POST")]


def test_a_vm_that_is_not_generalized_stops_the_plan_and_a_generalized_one_is_captured(env, tmp_path, capsys):
    sb, clients, vm_id = env
    root = write_desired(tmp_path / "d", [version("1.0.0"), captured(vm_id)], pin="1.0.0")
    text = (root / "estate.yaml").read_text()
    line = next(i for i, t in enumerate(text.splitlines(), 1) if "virtualMachineId" in t)
    vms = clients.compute.virtual_machines

    for prepare, missing in ((None, "deallocated and generalized"), (vms.begin_deallocate, "generalized")):
        if prepare:
            prepare(clients.rg, VM_NAME).result()
        assert main(["plan", "--desired", str(root)]) == 1
        out, err = capsys.readouterr()
        err = out + err
        assert f"estate.yaml:{line}" in err and f"is not {missing}" in err, err
        assert "sysprep /oobe /generalize /shutdown" in err and "Panther\\setuperr.log" in err, err
        before = len(writes(sb))
        assert main(["apply", "--auto-approve", "--desired", str(root)]) == 1
        capsys.readouterr()
        assert len(writes(sb)) == before, "apply wrote while the plan had an error"

    vms.generalize(clients.rg, VM_NAME)
    assert main(["apply", "--auto-approve", "--desired", str(root)]) == 0, capsys.readouterr()
    capsys.readouterr()
    made = sb.get(f"{DEF_ID}/versions/1.1.0")
    assert made["properties"]["provisioningState"] == "Succeeded"
    assert made["properties"]["storageProfile"]["source"]["virtualMachineId"].lower() == vm_id.lower()
    vms.begin_delete(clients.rg, VM_NAME).result()  # Azure keeps a version whose VM is gone
    assert main(["plan", "--desired", str(root), "--detailed-exitcode"]) == 0, capsys.readouterr()
