"""Microsoft.Network virtualNetworks and their subnets (api-version 2026-03-01, azure-mgmt-network 33).

A virtual network PUT carries its subnets inline (`properties.subnets[]`); each becomes a child resource
`.../virtualNetworks/{vnet}/subnets/{name}` that can also be PUT, read and listed on its own, and a GET of
the network shows its current subnets. Like Azure: `addressSpace.addressPrefixes` is required, a subnet needs
`addressPrefix` (or `addressPrefixes`), a subnet that NICs use cannot be deleted (400
InUseSubnetCannotBeDeleted). Both answer synchronously with provisioningState Succeeded (the SDK's LRO poller
accepts a terminal state on the first response).

`subnet_problem(app, subnet_id, location)` is what other providers (VMs, image templates) ask before they accept
a reference: Azure's 400 InvalidResourceReference when the subnet does not exist or its network is in
another region.
"""

from __future__ import annotations

import uuid
from typing import Any

from ..errors import ArmError, bad_request, not_found
from ..routing import Request, Response, norm_region
from ..store import private, public
from .base import ResourceType

NETWORK_API = "2026-03-01"


def invalid_reference(ref_id: str, by_id: str) -> ArmError:
    return ArmError(
        400,
        "InvalidResourceReference",
        f"Resource {ref_id} referenced by resource {by_id} was not found. Please make sure that the "
        "referenced resource exists, and that both resources are in the same region.",
    )


def subnet_problem(app: Any, subnet_id: str, location: str, by_id: str) -> ArmError | None:
    """Azure's refusal of a reference to `subnet_id` from a resource in `location`, or None when it is fine."""
    subnet = app.store.get(subnet_id or "")
    if subnet is None or "/subnets/" not in subnet_id.lower():
        return invalid_reference(subnet_id, by_id)
    vnet = app.store.get(subnet_id.rsplit("/", 2)[0])
    if vnet is None or norm_region(vnet.get("location")) != norm_region(location):
        return invalid_reference(subnet_id, by_id)
    return None


class VirtualNetworks(ResourceType):
    type_name = "Microsoft.Network/virtualNetworks"
    sync = True

    def build(self, req, rid, body, existing):
        res = super().build(req, rid, body, existing)
        props = res["properties"]
        prefixes = (props.get("addressSpace") or {}).get("addressPrefixes")
        if not prefixes:
            raise bad_request(
                "Address space of the virtual network must have at least one address prefix.",
                "InvalidAddressSpace",
                "properties.addressSpace",
            )
        inline = props.pop("subnets", None)
        props["provisioningState"] = "Succeeded"
        guid = (existing or {}).get("properties", {}).get("resourceGuid")
        props["resourceGuid"] = guid or str(uuid.uuid4())
        if inline is not None:
            private(res)["inline_subnets"] = [s for s in inline if isinstance(s, dict)]
        return res

    def on_put_done(self, res, op, at):
        # Inline subnets become child resources; those not listed any more are removed (Azure's PUT semantics).
        inline = res.get("_sb", {}).pop("inline_subnets", None)
        if inline is None:
            return None
        subnets = self.app.types["microsoft.network/virtualnetworks/subnets"]
        wanted = set()
        for item in inline:
            name = item.get("name") or ""
            sid = f"{res['id']}/subnets/{name}"
            subnets.store_subnet(sid, item.get("properties") or {})
            wanted.add(sid.lower())
        for child in list(self.app.store.list_children(f"{res['id']}/subnets")):
            if child["id"].lower() not in wanted:
                subnets.check_unused(child)
                self.app.store.delete(child["id"])
        return None

    def check_delete(self, req, res):
        subnets = self.app.types["microsoft.network/virtualnetworks/subnets"]
        for child in self.app.store.list_children(f"{res['id']}/subnets"):
            subnets.check_unused(child)

    def render(self, req: Request, res: dict[str, Any]) -> dict[str, Any]:
        out = public(res)
        out["properties"]["subnets"] = [
            public(s) for s in self.app.store.list_children(f"{res['id']}/subnets")
        ]
        return out


class Subnets(ResourceType):
    type_name = "Microsoft.Network/virtualNetworks/subnets"
    sync = True
    tracked = False

    def build(self, req, rid, body, existing):
        props = dict(body.get("properties") or {})
        return self.subnet_resource(rid, props)

    def subnet_resource(self, rid: str, props: dict[str, Any]) -> dict[str, Any]:
        if not props.get("addressPrefix") and not props.get("addressPrefixes"):
            raise bad_request(
                f"Subnet {rid.rsplit('/', 1)[-1]} must have an address prefix.",
                "InvalidRequestFormat",
                "properties.addressPrefix",
            )
        props.pop("ipConfigurations", None)
        props["provisioningState"] = "Succeeded"
        return {"id": rid, "name": rid.rsplit("/", 1)[-1], "type": self.type_name, "properties": props}

    def store_subnet(self, rid: str, props: dict[str, Any]) -> dict[str, Any]:
        existing = self.app.store.get(rid)
        res = self.subnet_resource(existing["id"] if existing else rid, dict(props))
        self.app.store.put(res)
        return res

    def users(self, subnet: dict[str, Any]) -> list[str]:
        """Ids of NICs whose IP configurations name this subnet."""
        sid = subnet["id"].lower()
        out = []
        for nic in self.app.store.all():
            if nic.get("type", "").lower() != "microsoft.network/networkinterfaces":
                continue
            for ipc in (nic.get("properties") or {}).get("ipConfigurations") or []:
                ref = ((ipc.get("properties") or {}).get("subnet") or {}).get("id") or ""
                if ref.lower() == sid:
                    out.append(nic["id"])
        return out

    def check_unused(self, subnet: dict[str, Any]) -> None:
        users = self.users(subnet)
        if users:
            raise bad_request(
                f"Subnet {subnet['name']} is in use by {users[0]} and cannot be deleted. In order to delete "
                "the subnet, delete all the resources within the subnet.",
                "InUseSubnetCannotBeDeleted",
            )

    def check_delete(self, req, res):
        self.check_unused(res)

    def render(self, req, res):
        out = public(res)
        users = self.users(res)
        if users:
            out["properties"]["ipConfigurations"] = [{"id": f"{u}/ipConfigurations/ipconfig0"} for u in users]
        return out

    def get(self, req: Request, rid: str) -> Response:
        if self.app.store.get(rid.rsplit("/", 2)[0]) is None:
            raise not_found(rid.rsplit("/", 2)[0])
        return super().get(req, rid)


def install(app: Any) -> None:
    app.register(VirtualNetworks(app))
    app.register(Subnets(app))
