"""Microsoft.Resources: subscriptions (GET), resource groups (PUT/GET/HEAD/PATCH/DELETE/list) and the generic
`.../resources` list that other tools (Ansible, the CLI) use to look around."""

from __future__ import annotations

import re
from typing import Any

from .. import identity
from ..errors import ArmError, bad_request, rg_not_found
from ..routing import ArmPath, Request, Response
from ..store import public
from .base import ResourceType

RG_RE = re.compile(r"^[-\w._()]{1,90}(?<!\.)$")


class ResourceGroups(ResourceType):
    type_name = "Microsoft.Resources/resourceGroups"

    def route_scope(self, req: Request, p: ArmPath) -> Response:
        tail = [t.lower() for t in p.tail]
        sub = p.sub or ""
        if p.rg is None and not tail:
            return identity.subscription(self.app, req, sub)
        if p.rg is None and tail == ["resourcegroups"]:
            items = self.app.store.list_type(sub, self.type_name)
            return self.app.page(req, [public(r) for r in self.app.page_slice(req, items)], len(items))
        if p.rg is None and tail == ["resources"]:
            items = [
                r
                for r in self.app.store.items.values()
                if r["id"].lower().startswith(f"/subscriptions/{sub.lower()}/")
                and r.get("location")
                and "/providers/" in r["id"].lower()
            ]
            return self.generic_list(req, items)
        rg_id = f"/subscriptions/{sub}/resourceGroups/{p.rg}"
        if not tail:
            return {
                "GET": self.get,
                "HEAD": self.head,
                "PUT": self.put_rg,
                "PATCH": self.patch_rg,
                "DELETE": self.delete_rg,
            }.get(req.method, self.not_allowed)(req, rg_id)
        if tail == ["resources"]:
            if self.app.store.get(rg_id) is None:
                raise rg_not_found(p.rg or "")
            items = [r for r in self.app.store.list_rg(rg_id) if r.get("location")]
            return self.generic_list(req, items)
        raise ArmError(404, "NotFound", f"No route for {req.method} {req.path}.")

    def generic_list(self, req: Request, items: list[dict[str, Any]]) -> Response:
        keys = ("id", "name", "type", "location", "tags", "kind", "sku", "identity", "managedBy")
        page = self.app.page_slice(req, items)
        return self.app.page(req, [{k: r[k] for k in keys if k in r} for r in page], len(items))

    def not_allowed(self, req: Request, rid: str) -> Response:
        raise ArmError(405, "MethodNotAllowed", f"{req.method} is not allowed here.")

    def get(self, req: Request, rid: str) -> Response:
        res = self.app.store.get(rid)
        if res is None:
            raise rg_not_found(rid.split("/")[-1])
        return Response(200, public(res))

    def head(self, req: Request, rid: str) -> Response:
        return Response(204 if self.app.store.get(rid) else 404)

    def ensure(self, rid: str, req: Request, location: str = "westeurope") -> dict[str, Any]:
        res = self.app.store.get(rid)
        if res is None:
            res = {
                "id": rid,
                "name": rid.split("/")[-1],
                "type": self.type_name,
                "location": location,
                "properties": {"provisioningState": "Succeeded"},
            }
            self.app.store.put(res)
        return res

    def put_rg(self, req: Request, rid: str) -> Response:
        body = req.json() or {}
        name = rid.split("/")[-1]
        if not RG_RE.match(name):
            raise bad_request(f"Resource group name '{name}' is invalid.", "InvalidResourceGroupName")
        existing = self.app.store.get(rid)
        if existing is None:
            if not body.get("location"):
                raise bad_request("The 'location' property is required.", "LocationRequired", "location")
            res = self.ensure(rid, req, body["location"])
        else:
            res = existing
        if "tags" in body:
            res["tags"] = body["tags"]
        if "managedBy" in body:
            res["managedBy"] = body["managedBy"]
        return Response(200 if existing else 201, public(res))

    def patch_rg(self, req: Request, rid: str) -> Response:
        res = self.app.store.get(rid)
        if res is None:
            raise rg_not_found(rid.split("/")[-1])
        body = req.json() or {}
        if "tags" in body:
            res["tags"] = body["tags"]
        return Response(200, public(res))

    def delete_rg(self, req: Request, rid: str) -> Response:
        res = self.app.store.get(rid)
        if res is None:
            raise rg_not_found(rid.split("/")[-1])
        res["properties"]["provisioningState"] = "Deleting"
        op = self.start_op(req, res, "delete", self.app.config.delete_seconds)
        headers = self.app.ops.initial_headers(req, op)
        headers.pop("Azure-AsyncOperation")
        return Response(202, None, headers)

    def remove(self, res: dict[str, Any], at: float) -> None:
        # Resources in the group go with it, deepest first, through their own type's delete hook.
        store = self.app.store
        for lid in sorted(store.descendants(res["id"]), key=len, reverse=True):
            child = store.get(lid)
            spec = self.app.type_for_id(lid)
            if child is not None and spec is not None and spec is not self:
                spec.on_delete(child, at)
            store.delete(lid)
        store.delete(res["id"])


def install(app: Any) -> None:
    app.register(ResourceGroups(app))
