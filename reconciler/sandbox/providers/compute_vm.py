"""Microsoft.Compute virtualMachines: create, power actions, generalize, instance view, delete.

A VM's image is resolved by compute_vm_image.py, its disks and NICs made and released by compute_vm_children.py.
An extension carrying an AVD registration token (settings/protectedSettings with hostPoolName +
registrationInfoToken, any publisher; the usual one is Microsoft.Powershell DSC) registers the VM as a session host
after `registration_seconds`, if the token is valid when the extension finishes (compute_extensions.py).
"""

from __future__ import annotations

import uuid
from typing import Any

from ..clock import iso
from ..errors import ArmError, bad_request, conflict
from ..routing import Request, Response, norm_region
from ..store import PRIVATE, private, public
from .base import ResourceType, deep_merge
from .compute_vm_children import create_disks, create_nics, release_children
from .compute_vm_image import image_reference_changed, resolve_image
from .landing import identity_problem
from .network import subnet_problem
from .sources import is_generalized

POWER_ACTIONS = {
    "start": "running",
    "restart": "running",
    "poweroff": "stopped",
    "deallocate": "deallocated",
    "redeploy": "running",
    "reimage": "running",
}


# Azure's refusal, as `az vm create` prints it (quoted on GitHub; Microsoft's naming rules for
# Microsoft.Compute/virtualMachines: Windows computer names 1-15 characters, not all digits, none of these):
# 400 {"code": "InvalidParameter", "message": "Windows computer name cannot be more than 15 characters long, be
# entirely numeric, or contain the following characters: ` ~ ! @ # $ % ^ & * ( ) = + _ [ ] { } \\ | ; : . ' \" ,
# < > / ?.", "target": "computerName"}
WINDOWS_COMPUTER_NAME_MAX = 15
WINDOWS_COMPUTER_NAME_FORBIDDEN = set("`~!@#$%^&*()=+_[]{}\\|;:.'\",<>/? \t")
WINDOWS_COMPUTER_NAME_MESSAGE = (
    "Windows computer name cannot be more than 15 characters long, be entirely numeric, or contain the following "
    "characters: ` ~ ! @ # $ % ^ & * ( ) = + _ [ ] { } \\ | ; : . ' \" , < > / ?."
)


def windows_computer_name_problem(name: str) -> ArmError | None:
    if (
        not name
        or len(name) > WINDOWS_COMPUTER_NAME_MAX
        or name.isdigit()
        or any(c in WINDOWS_COMPUTER_NAME_FORBIDDEN for c in name)
    ):
        return bad_request(WINDOWS_COMPUTER_NAME_MESSAGE, "InvalidParameter", "computerName")
    return None


# The instance view's status once `generalize` has run (azure-docs virtual-machines/generalize.md: `az vm
# get-instance-view` shows "OSState/generalized").
GENERALIZED_STATUS = {"code": "OSState/generalized", "level": "Info", "displayStatus": "VM generalized"}


class VirtualMachines(ResourceType):
    type_name = "Microsoft.Compute/virtualMachines"
    name_re = ResourceType.name_re
    actions = {a: "power_action" for a in POWER_ACTIONS} | {"generalize": "generalize"}
    subpaths = {"instanceview": "instance_view"}

    def build(self, req, rid, body, existing):
        if existing is not None:
            res = existing
            props = dict(body.get("properties") or {})
            new_ref = (props.get("storageProfile") or {}).get("imageReference")
            old_ref = (res["properties"].get("storageProfile") or {}).get("imageReference") or {}
            if new_ref and image_reference_changed(old_ref, new_ref):
                raise conflict(
                    "PropertyChangeNotAllowed",
                    "Changing property 'imageReference' is not allowed.",
                    "imageReference",
                )
            if "tags" in body:
                res["tags"] = body["tags"]
            props.pop("storageProfile", None)
            (props.get("osProfile") or {}).pop("adminPassword", None)
            deep_merge(res["properties"], props)
            return res
        res = super().build(req, rid, body, None)
        props = res["properties"]
        sb = private(res)
        resolve_image(self.app, res, sb)
        self.check_references(res)
        vm_name = res["name"]
        os_profile = props.setdefault("osProfile", {})
        os_profile.pop("adminPassword", None)
        os_profile.setdefault("computerName", vm_name)
        if "linuxConfiguration" not in os_profile:
            problem = windows_computer_name_problem(os_profile["computerName"])
            if problem is not None:
                raise problem
        os_profile.setdefault("secrets", [])
        os_profile.setdefault(
            "windowsConfiguration",
            {
                "provisionVMAgent": True,
                "enableAutomaticUpdates": True,
                "patchSettings": {"patchMode": "AutomaticByOS", "assessmentMode": "ImageDefault"},
            },
        )
        props["vmId"] = str(uuid.uuid4())
        props["timeCreated"] = iso(self.app.clock.now_ts())
        sb["disks"], sb["nics"] = [], []
        rg_scope = "/".join(rid.split("/")[:5])
        create_disks(self.app, res, rg_scope)
        create_nics(self.app, res, rg_scope)
        sb["power"] = "starting"
        return res

    def check_references(self, res: dict[str, Any]) -> None:
        """Like Azure: every subnet a VM-managed NIC names must exist in the VM's region (400
        InvalidResourceReference), and every user-assigned identity must exist (400 FailedIdentityOperation)."""
        net = res["properties"].get("networkProfile") or {}
        for cfg in net.get("networkInterfaceConfigurations") or []:
            nic_id = (
                f"{'/'.join(res['id'].split('/')[:5])}/providers/Microsoft.Network/networkInterfaces/"
                + (f"{res['name']}-{cfg.get('name', 'nic')}")
            )
            for ipc in (cfg.get("properties") or {}).get("ipConfigurations") or []:
                subnet = ((ipc.get("properties") or {}).get("subnet") or {}).get("id")
                if not subnet:
                    raise bad_request(
                        "Subnet is required for an IP configuration.", "InvalidRequestFormat", "subnet"
                    )
                problem = subnet_problem(self.app, subnet, res["location"], nic_id)
                if problem is not None:
                    raise problem
        problem = identity_problem(self.app, res, res["id"])
        if problem is not None:
            raise problem

    def put_seconds(self, res, existing):
        return self.app.config.vm_create_seconds if existing is None else self.app.config.vm_action_seconds

    def failure(self, req, res):
        share = self.app.config.vm_create_failure_share
        if (
            res["properties"].get("provisioningState") == "Creating"
            and share
            and self.app.rng.random() < share
        ):
            return {
                "code": "AllocationFailed",
                "message": "Allocation failed. We do not have sufficient capacity "
                "for the requested VM size in this region.",
            }
        return None

    def on_put_done(self, res, op, at):
        if not op.get("fail"):
            private(res)["power"] = "running"
        # ARM keeps why the last create or update failed in the instance view until one succeeds.
        private(res)["failure"] = op.get("fail")
        return None

    def delete_seconds(self, res):
        return self.app.config.vm_delete_seconds

    def on_delete(self, res, at):
        release_children(self.app, res)
        self.app.types["microsoft.desktopvirtualization/hostpools/sessionhosts"].vm_changed(
            res["id"], None, at
        )

    def render(self, req: Request, res: dict[str, Any]) -> dict[str, Any]:
        out = public(res)
        if "instanceview" in req.query.get("$expand", "").lower():
            out["properties"]["instanceView"] = self.view(res)
        return out

    def view(self, res: dict[str, Any]) -> dict[str, Any]:
        state = res["properties"].get("provisioningState", "Succeeded")
        power = res.get(PRIVATE, {}).get("power", "running")
        failure = res.get(PRIVATE, {}).get("failure") if state == "Failed" else None
        provisioning = {"code": f"ProvisioningState/{state.lower()}", "level": "Info", "displayStatus": state}
        if failure:
            provisioning = {
                "code": f"ProvisioningState/failed/{failure['code']}",
                "level": "Error",
                "displayStatus": "Provisioning failed",
                "message": failure.get("message") or "",
            }
        return {
            "computerName": res["properties"].get("osProfile", {}).get("computerName"),
            "osName": "Windows 11 Enterprise multi-session",
            "statuses": [
                provisioning,
                {"code": f"PowerState/{power}", "level": "Info", "displayStatus": f"VM {power}"},
            ]
            + ([GENERALIZED_STATUS] if is_generalized(res) else []),
        }

    def instance_view(self, req: Request, rid: str) -> Response:
        res = self.app.store.get(rid)
        if res is None:
            raise ArmError(404, "ResourceNotFound", f"The Resource '{rid}' was not found.")
        return Response(200, self.view(res))

    def power_action(self, req: Request, rid: str) -> Response:
        res = self.app.store.get(rid)
        if res is None:
            raise ArmError(404, "ResourceNotFound", f"The Resource '{rid}' was not found.")
        action = req.segments[-1].lower()
        if POWER_ACTIONS[action] == "running" and is_generalized(res):
            raise conflict(
                "OperationNotAllowed",
                f"Operation 'Start VM' is not allowed on VM '{res['name']}' since the VM is generalized.",
            )
        op = self.app.ops.start(
            req,
            kind="vm:action",
            resource_id=res["id"],
            ns="Microsoft.Compute",
            location=res["location"],
            seconds=self.app.config.vm_action_seconds,
            fail=self.app.lro_fault(req),
            data={"power": POWER_ACTIONS[action]},
        )
        return Response(202, None, self.app.ops.initial_headers(req, op))

    def action_done(self, op: dict[str, Any], at: float) -> None:
        res = self.app.store.get(op["resource_id"])
        if res is not None and not op.get("fail"):
            private(res)["power"] = op["data"]["power"]
            status = "Available" if op["data"]["power"] == "running" else "Shutdown"
            if op["data"]["power"] != "running":
                self.app.types["microsoft.compute/virtualmachines/runcommands"].vm_stopped(res["id"], at)
            self.app.types["microsoft.desktopvirtualization/hostpools/sessionhosts"].vm_changed(
                res["id"], status, at
            )

    def generalize(self, req: Request, rid: str) -> Response:
        """Marks the VM generalized on the platform (Sysprep ran inside it): only once it is stopped, and for
        good — Azure never starts a generalized VM again. Shapes: tests/fixtures/refusals.json."""
        res = self.app.store.get(rid)
        if res is None:
            raise ArmError(404, "ResourceNotFound", f"The Resource '{rid}' was not found.")
        power = res.get(PRIVATE, {}).get("power", "running")
        if power not in ("stopped", "deallocated"):
            raise conflict(
                "OperationNotAllowed",
                f"Operation 'generalize' is not allowed on VM '{res['name']}' since the VM is {power}.",
            )
        private(res)["generalized"] = True
        return Response(200)


def install(app: Any) -> None:
    vms = app.register(VirtualMachines(app))
    app.ops.hook("vm:action", lambda op, at: vms.action_done(op, at))

    def by_location(req: Request, p: Any) -> Response:
        region = norm_region(p.rest[1])
        items = [
            v for v in app.store.list_type(p.sub, vms.type_name) if norm_region(v.get("location")) == region
        ]
        return app.page(req, [vms.render(req, v) for v in app.page_slice(req, items)], len(items))

    app.subpaths["microsoft.compute/locations/virtualmachines"] = by_location
