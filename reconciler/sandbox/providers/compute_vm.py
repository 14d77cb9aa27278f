"""Microsoft.Compute virtualMachines and extensions.

A VM is created from a gallery version id, a definition id ("latest": the highest version not excluded and
replicated to the VM's region), a managed image or a platform image; otherwise 404 GalleryImageNotFound. It owns
an OS disk, data disks and VM-managed NICs, each kept or removed on delete according to its deleteOption (default
Detach: left behind as an orphan). An extension carrying an AVD registration token (settings/protectedSettings
with hostPoolName + registrationInfoToken, any publisher; the usual one is Microsoft.Powershell DSC) registers
the VM as a session host after `registration_seconds`, if the token is valid when the extension finishes.
"""

from __future__ import annotations

import uuid
from typing import Any

from .. import etags
from ..clock import iso
from ..errors import ArmError, bad_request, conflict
from ..routing import Request, Response, norm_region
from ..store import PRIVATE, private, public
from .base import ResourceType, deep_merge, norm_value
from .compute_other import latest_platform_version
from .compute_versions import find_latest
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


def gallery_not_found(image_id: str, region: str) -> ArmError:
    return ArmError(
        404,
        "GalleryImageNotFound",
        f"The gallery image {image_id} is not available in {region} region. Please contact image owner to "
        "replicate to this region, or change your requested region.",
        "imageReference",
    )


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
IMAGE_REFERENCE_KEYS = ("id", "sharedGalleryImageId", "communityGalleryImageId", "publisher", "offer", "sku")


def windows_computer_name_problem(name: str) -> ArmError | None:
    if (
        not name
        or len(name) > WINDOWS_COMPUTER_NAME_MAX
        or name.isdigit()
        or any(c in WINDOWS_COMPUTER_NAME_FORBIDDEN for c in name)
    ):
        return bad_request(WINDOWS_COMPUTER_NAME_MESSAGE, "InvalidParameter", "computerName")
    return None


def image_reference_changed(old: dict[str, Any], new: dict[str, Any]) -> bool:
    """A PUT may repeat the image reference (with or without the read-only exactVersion), never change it."""
    return any(
        key in new and norm_value(new.get(key)) != norm_value(old.get(key)) for key in IMAGE_REFERENCE_KEYS
    ) or ("version" in new and "version" in old and norm_value(new["version"]) != norm_value(old["version"]))


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
        self.resolve_image(res, sb)
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
        sp = props.setdefault("storageProfile", {})
        os_disk = sp.setdefault("osDisk", {"createOption": "FromImage"})
        os_disk.setdefault("name", f"{vm_name}_OsDisk_1_{uuid.uuid4().hex}")
        os_disk.setdefault("deleteOption", "Detach")
        os_disk.setdefault("osType", "Windows")
        sp.setdefault("dataDisks", [])
        self.make_disk(res, rg_scope, os_disk, "Windows")
        for dd in sp.get("dataDisks") or []:
            dd.setdefault("name", f"{vm_name}_DataDisk_{dd.get('lun', 0)}")
            dd.setdefault("deleteOption", "Detach")
            self.make_disk(res, rg_scope, dd, None)
        net = props.setdefault("networkProfile", {})
        for cfg in net.get("networkInterfaceConfigurations") or []:
            cprops = cfg.setdefault("properties", {})
            cprops.setdefault("deleteOption", "Detach")
            nic_id = (
                f"{rg_scope}/providers/Microsoft.Network/networkInterfaces/{vm_name}-{cfg.get('name', 'nic')}"
            )
            nic = {
                "id": nic_id,
                "name": nic_id.split("/")[-1],
                "type": "Microsoft.Network/networkInterfaces",
                "location": res["location"],
                "properties": {
                    "provisioningState": "Succeeded",
                    "virtualMachine": {"id": rid},
                    "ipConfigurations": cprops.get("ipConfigurations", []),
                },
            }
            etags.stamp(nic["type"].lower(), nic, self.app.clock.now_ts())
            self.app.store.put(nic)
            sb["nics"].append({"id": nic_id, "deleteOption": cprops["deleteOption"]})
            net.setdefault("networkInterfaces", []).append(
                {
                    "id": nic_id,
                    "properties": {
                        "primary": cprops.get("primary", True),
                        "deleteOption": cprops["deleteOption"],
                    },
                }
            )
        managed = {n["id"].lower() for n in sb["nics"]}
        for ref in net.get("networkInterfaces") or []:
            if ref.get("id") and ref["id"].lower() not in managed:
                sb["nics"].append(
                    {
                        "id": ref["id"],
                        "deleteOption": (ref.get("properties") or {}).get("deleteOption", "Detach"),
                    }
                )
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

    def resolve_image(self, res: dict[str, Any], sb: dict[str, Any]) -> None:
        ref = res["properties"].get("storageProfile", {}).get("imageReference")
        if not ref:
            return
        region = norm_region(res["location"])
        image_id = ref.get("id") or ref.get("sharedGalleryImageId") or ref.get("communityGalleryImageId")
        if image_id and "/galleries/" in image_id.lower():
            parts = image_id.rstrip("/").split("/")
            versions = self.app.types["microsoft.compute/galleries/images/versions"]
            if parts[-2].lower() == "versions":
                version = self.app.store.get(image_id)
                if version is None or not versions.completed_in(version, region):
                    raise gallery_not_found(image_id, region)
            else:
                if self.app.store.get(image_id) is None:
                    raise gallery_not_found(image_id, region)
                version = find_latest(self.app, image_id, region)
                if version is None:
                    raise gallery_not_found(image_id, region)
            if self.still_lagging(versions, version, region):
                raise gallery_not_found(image_id, region)
            ref["exactVersion"] = version["name"]
            sb["version"] = version["id"]
        elif image_id:
            if self.app.store.get(image_id) is None:
                raise ArmError(404, "NotFound", f"The image '{image_id}' was not found.", "imageReference")
        elif ref.get("publisher"):
            version = ref.get("version") or "latest"
            ref["exactVersion"] = latest_platform_version(self.app) if version == "latest" else version
        else:
            raise bad_request(
                "imageReference must have an id or publisher/offer/sku/version.",
                "InvalidParameter",
                "imageReference",
            )

    def still_lagging(self, versions: Any, version: dict[str, Any], region: str) -> bool:
        """Azure's compute front end sees a replica a while after the gallery reports it Completed."""
        lag = self.app.config.gallery_image_read_lag_seconds
        if lag <= 0:
            return False
        since = versions.seconds_since_completed(version, region)
        return since is not None and since < lag

    def make_disk(self, vm: dict[str, Any], rg_scope: str, spec: dict[str, Any], os_type: str | None) -> None:
        disk_id = f"{rg_scope}/providers/Microsoft.Compute/disks/{spec['name']}"
        md = spec.setdefault("managedDisk", {})
        md["id"] = disk_id
        disk = {
            "id": disk_id,
            "name": spec["name"],
            "type": "Microsoft.Compute/disks",
            "location": vm["location"],
            "managedBy": vm["id"],
            "sku": {"name": md.get("storageAccountType", "Premium_LRS")},
            "properties": {
                "provisioningState": "Succeeded",
                "diskState": "Attached",
                "diskSizeGB": spec.get("diskSizeGB", 127),
                "timeCreated": iso(self.app.clock.now_ts()),
            },
        }
        if os_type:
            disk["properties"]["osType"] = os_type
        self.app.store.put(disk)
        private(vm)["disks"].append({"id": disk_id, "deleteOption": spec["deleteOption"]})

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
        store = self.app.store
        for item in res.get(PRIVATE, {}).get("disks", []) + res.get(PRIVATE, {}).get("nics", []):
            child = store.get(item["id"])
            if child is None:
                continue
            if (item.get("deleteOption") or "Detach").lower() == "delete":
                store.delete(item["id"])
            else:
                child.pop("managedBy", None)
                child["properties"].pop("virtualMachine", None)
                if "diskState" in child["properties"]:
                    child["properties"]["diskState"] = "Unattached"
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
