"""Failed long-running operations look the way ARM shows them: the resource stays, provisioningState
`Failed`, and the operation's status (the Azure-AsyncOperation URL) says `Failed` with the error.

Source: ARM's RPC, Azure/azure-resource-manager-rpc `v1.0/async-api-reference.md` ("Azure-AsyncOperation
Resource format": {"id", "name", "status": "Failed", "startTime", "endTime", "error": {"code", "message"}};
"ProvisioningState property": a terminal Failed state on the resource after a failed operation).
"""

from __future__ import annotations

import pytest
from azure.core.exceptions import HttpResponseError
from azure.core.rest import HttpRequest

from .helpers import make_gallery, make_version, vm_body

CODE = "InternalOperationError"
MESSAGE = "Injected operation failure."


def _version_id(c) -> str:
    return (
        f"/subscriptions/{c.sub}/resourceGroups/{c.rg}/providers/Microsoft.Compute/galleries/gal/images/img"
        "/versions/1.0.0"
    )


def _status_of(client, poller) -> dict:
    """GET the operation's Azure-AsyncOperation URL through the SDK's own pipeline."""
    url = poller.polling_method()._initial_response.http_response.headers["Azure-AsyncOperation"]
    response = client._client.send_request(HttpRequest("GET", url))
    assert response.status_code == 200
    return response.json()


def _vm(sb, clients, name="vm1"):
    make_gallery(clients)
    make_version(clients)
    return clients.compute.virtual_machines.begin_create_or_update(
        clients.rg, name, vm_body(_version_id(clients))
    ).result()


def test_failed_vm_delete_leaves_the_vm_failed_and_the_error_on_the_operation(sb, clients):
    _vm(sb, clients)
    sb.inject_fault(
        method="DELETE", path="virtualMachines/vm1$", kind="lro", code=CODE, message=MESSAGE, count=1
    )
    poller = clients.compute.virtual_machines.begin_delete(clients.rg, "vm1")
    with pytest.raises(HttpResponseError) as err:
        poller.result()
    assert err.value.error.code == CODE
    status = _status_of(clients.compute, poller)
    assert status["status"] == "Failed"
    assert status["error"] == {"code": CODE, "message": MESSAGE}
    assert "endTime" in status
    vm = clients.compute.virtual_machines.get(clients.rg, "vm1")
    assert vm.provisioning_state == "Failed"  # not "Deleting" forever
    # The DELETE sent again goes through: a Failed resource is not wedged.
    clients.compute.virtual_machines.begin_delete(clients.rg, "vm1").result()
    assert [v.name for v in clients.compute.virtual_machines.list(clients.rg)] == []


def test_failed_vm_create_leaves_the_vm_failed(sb, clients):
    make_gallery(clients)
    make_version(clients)
    sb.inject_fault(method="PUT", path="virtualMachines/vm2$", kind="lro", code="AllocationFailed", count=1)
    poller = clients.compute.virtual_machines.begin_create_or_update(
        clients.rg, "vm2", vm_body(_version_id(clients))
    )
    with pytest.raises(HttpResponseError) as err:
        poller.result()
    assert err.value.error.code == "AllocationFailed"
    assert _status_of(clients.compute, poller)["status"] == "Failed"
    assert clients.compute.virtual_machines.get(clients.rg, "vm2").provisioning_state == "Failed"


def test_failed_version_patch_leaves_the_version_failed(sb, clients):
    make_gallery(clients)
    make_version(clients)
    sb.inject_fault(method="PATCH", path="versions/1.0.0$", kind="lro", code=CODE, message=MESSAGE, count=1)
    poller = clients.compute.gallery_image_versions.begin_update(
        clients.rg, "gal", "img", "1.0.0", {"tags": {"a": "b"}}
    )
    with pytest.raises(HttpResponseError) as err:
        poller.result()
    assert err.value.error.code == CODE
    assert _status_of(clients.compute, poller)["error"]["code"] == CODE
    version = clients.compute.gallery_image_versions.get(clients.rg, "gal", "img", "1.0.0")
    assert version.provisioning_state == "Failed"


def test_failed_version_delete_leaves_the_version_failed(sb, clients):
    make_gallery(clients)
    make_version(clients)
    sb.inject_fault(method="DELETE", path="versions/1.0.0$", kind="lro", code=CODE, message=MESSAGE, count=1)
    poller = clients.compute.gallery_image_versions.begin_delete(clients.rg, "gal", "img", "1.0.0")
    with pytest.raises(HttpResponseError):
        poller.result()
    assert _status_of(clients.compute, poller)["status"] == "Failed"
    version = clients.compute.gallery_image_versions.get(clients.rg, "gal", "img", "1.0.0")
    assert version.provisioning_state == "Failed"
