"""The disks and NICs a VM owns: made with it (OS disk, data disks, one NIC per networkInterfaceConfiguration) and,
on its delete, each removed or left behind as an orphan according to its deleteOption (default Detach)."""

from __future__ import annotations

import uuid
from typing import Any

from .. import etags
from ..clock import iso
from ..store import PRIVATE, private


def create_disks(app: Any, res: dict[str, Any], rg_scope: str) -> None:
    props, vm_name = res["properties"], res["name"]
    sp = props.setdefault("storageProfile", {})
    os_disk = sp.setdefault("osDisk", {"createOption": "FromImage"})
    os_disk.setdefault("name", f"{vm_name}_OsDisk_1_{uuid.uuid4().hex}")
    os_disk.setdefault("deleteOption", "Detach")
    os_disk.setdefault("osType", "Windows")
    sp.setdefault("dataDisks", [])
    make_disk(app, res, rg_scope, os_disk, "Windows")
    for dd in sp.get("dataDisks") or []:
        dd.setdefault("name", f"{vm_name}_DataDisk_{dd.get('lun', 0)}")
        dd.setdefault("deleteOption", "Detach")
        make_disk(app, res, rg_scope, dd, None)


def create_nics(app: Any, res: dict[str, Any], rg_scope: str) -> None:
    props, vm_name, rid, sb = res["properties"], res["name"], res["id"], private(res)
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
        etags.stamp(nic["type"].lower(), nic, app.clock.now_ts())
        app.store.put(nic)
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


def make_disk(app: Any, vm: dict[str, Any], rg_scope: str, spec: dict[str, Any], os_type: str | None) -> None:
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
            "timeCreated": iso(app.clock.now_ts()),
        },
    }
    if os_type:
        disk["properties"]["osType"] = os_type
    app.store.put(disk)
    private(vm)["disks"].append({"id": disk_id, "deleteOption": spec["deleteOption"]})


def release_children(app: Any, res: dict[str, Any]) -> None:
    """On the VM's delete: deleteOption Delete removes the disk or NIC, Detach leaves it unattached."""
    store = app.store
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
