"""The acceptance test VM's reads and writes (where: testVm): one GET of its provisioning state (and of its
instance view once it is Failed, for the code that says whether a retry can help), its PUT and its delete, through the same compute client and body as session hosts (azure.hosts_body: a VM-managed NIC
and an OS disk whose deleteOption is Delete, so deleting the VM leaves nothing behind)."""

from __future__ import annotations

from azure.core.exceptions import ResourceNotFoundError

from reconciler.azure.hosts_body import vm_body
from reconciler.azure.hosts_write import PoolWriter
from reconciler.model.acceptance_vm import AcceptVmPlan


def provisioning_state(w: PoolWriter, name: str) -> str | None:
    """The VM's provisioningState (Creating, Succeeded, Failed, Deleting, ...), or None when it is gone."""
    try:
        vm = w.compute.virtual_machines.get(w.rg, name)
    except ResourceNotFoundError:
        return None
    return vm.provisioning_state


def provisioning_error(w: PoolWriter, name: str) -> tuple[str | None, str | None]:
    """(code, message) of a Failed VM's create, from its instance view's `ProvisioningState/failed/<Code>`
    status; (None, None) when the view names none (or the VM is gone)."""
    try:
        view = w.compute.virtual_machines.instance_view(w.rg, name)
    except ResourceNotFoundError:
        return None, None
    for status in view.statuses or ():
        code = status.code or ""
        if code.lower().startswith("provisioningstate/failed"):
            short = code.split("/", 2)[2] if code.count("/") >= 2 else None
            return short or None, status.message or status.display_status
    return None, None


def accept_vm_body(pool, plan: AcceptVmPlan, version_id: str, tags: dict[str, str]) -> dict:
    """The validation pool's session host template, in the test VM's subnet and size, without a zone."""
    body = vm_body(pool, plan.name, version_id, None, tags)
    props = body["properties"]
    props["hardwareProfile"]["vmSize"] = plan.vm_size
    nic = props["networkProfile"]["networkInterfaceConfigurations"][0]
    nic["properties"]["ipConfigurations"][0]["properties"]["subnet"]["id"] = plan.subnet_id
    return body
