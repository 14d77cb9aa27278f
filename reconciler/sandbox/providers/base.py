"""Generic ARM resource behaviour: PUT/GET/PATCH/DELETE/list with parent checks, paging and LRO shapes.

A provider subclasses ``ResourceType`` and overrides hooks (build, patch, check_delete, render, durations,
on_put_done, on_delete). ``sync = True`` gives the DesktopVirtualization style (200/201/204, never 202).
"""

from __future__ import annotations

import re
from typing import Any

from .. import etags
from ..errors import bad_request, not_found, operation_in_progress, parent_not_found
from ..routing import Request, Response, split_id
from ..store import PRIVATE, public
from .enums import canonical_enums

NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,79}$")


def deep_merge(target: dict[str, Any], patch: dict[str, Any]) -> None:
    """JSON merge patch semantics (RFC 7386): dicts merge, null removes, everything else replaces."""
    for key, value in patch.items():
        if value is None:
            target.pop(key, None)
        elif isinstance(value, dict) and isinstance(target.get(key), dict):
            deep_merge(target[key], value)
        else:
            target[key] = value


def norm_value(value: Any) -> Any:
    """Lower-case strings, recursively: ARM compares these property values case-insensitively."""
    if isinstance(value, str):
        return value.lower()
    if isinstance(value, dict):
        return {k: norm_value(v) for k, v in value.items()}
    return value


def is_provider_resource(rid: str) -> bool:
    parts = rid.lower().split("/")
    return "providers" in parts and len(parts) - parts.index("providers") - 2 >= 2


class ResourceType:
    type_name = ""
    sync = False
    segment = "operations"  # operation-status URL segment (Compute galleries use capsOperations)
    name_re = NAME_RE
    create_status = 201  # Microsoft.Compute disks and snapshots answer a create with 202
    tracked = True  # has a location; listed by the generic `.../resources` list
    actions: dict[str, str] = {}  # POST action (lower) -> method name
    subpaths: dict[str, str] = {}  # GET sub-path (lower) -> method name

    def __init__(self, app: Any) -> None:
        self.app = app
        self.kind = self.type_name.lower()
        app.ops.hook(self.kind + ":put", self._put_done)
        app.ops.hook(self.kind + ":patch", self._put_done)
        app.ops.hook(self.kind + ":delete", self._delete_done)

    # ---- hooks to override
    def build(self, req: Request, rid: str, body: dict[str, Any], existing: dict[str, Any] | None) -> dict:
        res = dict(existing or {})
        res.update({"id": rid, "name": self.name_of(rid), "type": self.type_name})
        if existing is None or "location" in body:
            if body.get("location") is None and self.tracked:
                raise bad_request("The 'location' property is required.", "LocationRequired", "location")
            if body.get("location") is not None:
                res["location"] = body["location"]
        for key in ("tags", "identity", "sku", "plan", "zones", "kind", "managedBy"):
            if key in body:
                res[key] = body[key]
        props = dict(body.get("properties") or {})
        res["properties"] = props
        if PRIVATE in (existing or {}):
            res[PRIVATE] = existing[PRIVATE]
        return res

    def patch(self, req: Request, res: dict[str, Any], body: dict[str, Any]) -> None:
        if "tags" in body:
            res["tags"] = body["tags"]
        deep_merge(res.setdefault("properties", {}), body.get("properties") or {})

    def check_delete(self, req: Request, res: dict[str, Any]) -> None:
        return None

    def render(self, req: Request, res: dict[str, Any]) -> dict[str, Any]:
        return public(res)

    def put_seconds(self, res: dict[str, Any], existing: dict[str, Any] | None) -> float:
        return self.app.config.delete_seconds

    def delete_seconds(self, res: dict[str, Any]) -> float:
        return self.app.config.delete_seconds

    def failure(self, req: Request, res: dict[str, Any]) -> dict[str, str] | None:
        return None

    def on_put_done(self, res: dict[str, Any], op: dict[str, Any], at: float) -> None:
        return None

    def on_delete(self, res: dict[str, Any], at: float) -> None:
        return None

    def invalid_name(self, name: str):
        return bad_request(f"The resource name '{name}' is invalid.", "InvalidResourceName")

    def name_of(self, rid: str) -> str:
        return rid.rstrip("/").split("/")[-1]

    def list_items(self, req: Request, collection_id: str) -> list[dict[str, Any]]:
        return self.app.store.list_children(collection_id)

    # ---- generic verbs
    def get(self, req: Request, rid: str) -> Response:
        res = self.app.store.get(rid)
        if res is None:
            raise not_found(rid)
        return Response(200, self.render(req, res), etags.header(self.kind, res))

    def check_parent(self, rid: str) -> None:
        parent, _ = split_id(rid)
        if is_provider_resource(parent) and self.app.store.get(parent) is None:
            raise parent_not_found(parent)

    # ---- operations in flight
    def running_op(self, res: dict[str, Any] | None) -> dict[str, Any] | None:
        """The resource's own operation still in progress (its LRO not terminal yet), if any."""
        op_id = (res or {}).get(PRIVATE, {}).get("op")
        op = self.app.ops.ops.get(op_id) if op_id else None
        return op if op is not None and op["status"] == "InProgress" else None

    def refuse_while_running(self, req: Request, res: dict[str, Any] | None) -> None:
        """Azure serialises writes on a resource: a PUT/PATCH while its operation runs is refused with 409
        (a DELETE while it is being deleted is a retry, answered by the caller). `concurrent_writes` restores the
        old sandbox behaviour (the newer write replaces the running one) for tests of something else."""
        op = self.running_op(res)
        if op is None or self.app.config.concurrent_writes:
            return
        status_url = self.app.ops.initial_headers(req, op, location=False)["Azure-AsyncOperation"]
        raise operation_in_progress(self.type_name, res, op, req.method, status_url)

    def put(self, req: Request, rid: str) -> Response:
        body = req.json()
        if not isinstance(body, dict):
            raise bad_request("The request body must be a JSON object.", "InvalidRequestContent")
        name = rid.rstrip("/").split("/")[-1]
        if not self.name_re.match(name):
            raise self.invalid_name(name)
        self.check_parent(rid)
        store = self.app.store
        existing = store.get(rid)
        etags.check(req, self.kind, existing)
        self.refuse_while_running(req, existing)
        if existing is not None:
            rid = existing["id"]  # keep the casing of the first PUT
        res = self.build(req, rid, body, existing)
        canonical_enums(res.get("properties"))
        etags.stamp(self.kind, res, self.app.clock.now_ts())
        if self.sync:
            store.put(res)
            self.on_put_done(res, {}, self.app.clock.now_ts())
            return Response(200 if existing else 201, self.render(req, res), etags.header(self.kind, res))
        res.setdefault("properties", {})["provisioningState"] = "Updating" if existing else "Creating"
        store.put(res)
        op = self.start_op(req, res, "put", self.put_seconds(res, existing))
        return Response(
            200 if existing else self.create_status,
            self.render(req, res),
            {**self.app.ops.initial_headers(req, op), **etags.header(self.kind, res)},
        )

    def start_op(
        self, req: Request, res: dict[str, Any], verb: str, seconds: float, data: dict | None = None
    ):
        fail = self.app.lro_fault(req) or (self.failure(req, res) if verb == "put" else None)
        op = self.app.ops.start(
            req,
            kind=f"{self.kind}:{verb}",
            resource_id=res["id"],
            ns=self.type_name.split("/")[0],
            location=res.get("location") or "global",
            seconds=seconds,
            segment=self.segment,
            fail=fail,
            data=data,
        )
        res.setdefault(PRIVATE, {})["op"] = op["id"]
        return op

    def patch_verb(self, req: Request, rid: str) -> Response:
        res = self.app.store.get(rid)
        if res is None:
            raise not_found(rid)
        etags.check(req, self.kind, res)
        self.refuse_while_running(req, res)
        body = req.json() or {}
        self.patch(req, res, body)
        canonical_enums(res.get("properties"))
        etags.stamp(self.kind, res, self.app.clock.now_ts())
        if self.sync:
            self.on_put_done(res, {}, self.app.clock.now_ts())
            return Response(200, self.render(req, res), etags.header(self.kind, res))
        res.setdefault("properties", {})["provisioningState"] = "Updating"
        op = self.start_op(req, res, "patch", self.put_seconds(res, res))
        headers = self.app.ops.initial_headers(req, op, location=False)
        return Response(200, self.render(req, res), {**headers, **etags.header(self.kind, res)})

    def delete(self, req: Request, rid: str) -> Response:
        res = self.app.store.get(rid)
        etags.check(req, self.kind, res)
        if res is None:
            return Response(204)
        running = self.running_op(res)
        if running is not None and running["kind"].endswith(":delete"):
            # A retried DELETE joins the delete already running ("You can only retry the Delete operation (or
            # wait for an ongoing one to complete)"): same operation, nothing started twice.
            return Response(202, None, self.app.ops.initial_headers(req, running))
        self.check_delete(req, res)
        if self.sync:
            self.remove(res, self.app.clock.now_ts())
            return Response(200)
        op = self.start_op(req, res, "delete", self.delete_seconds(res))
        if "provisioningState" in res.get("properties", {}):
            res["properties"]["provisioningState"] = "Deleting"
        return Response(202, None, self.app.ops.initial_headers(req, op))

    def remove(self, res: dict[str, Any], at: float) -> None:
        store = self.app.store
        for lid in sorted(store.descendants(res["id"]), key=len, reverse=True):
            child = store.get(lid)
            spec = self.app.type_for_id(lid)
            if spec is not None and child is not None:
                spec.on_delete(child, at)
            store.delete(lid)
        self.on_delete(res, at)
        store.delete(res["id"])

    # ---- LRO completion
    def _put_done(self, op: dict[str, Any], at: float) -> float | None:
        res = self.app.store.get(op["resource_id"])
        if res is None:
            return None
        if res.get(PRIVATE, {}).get("op") not in (None, op["id"]):
            return None  # superseded by a later operation on the same resource
        later = self.on_put_done(res, op, at)
        if later:
            return later
        res.setdefault("properties", {})["provisioningState"] = "Failed" if op.get("fail") else "Succeeded"
        return None

    def _delete_done(self, op: dict[str, Any], at: float) -> float | None:
        res = self.app.store.get(op["resource_id"])
        if res is None:
            return None
        if not op.get("fail"):
            self.remove(res, at)
        elif res.get(PRIVATE, {}).get("op") in (None, op["id"]):
            # ARM keeps a resource whose delete failed and shows it Failed (not Deleting, forever): the client
            # reads the error from the operation and sends the DELETE again. Resources without a
            # provisioningState (sync types, extensions of some providers) just stay as they were.
            props = res.setdefault("properties", {})
            if "provisioningState" in props:
                props["provisioningState"] = "Failed"
        return None


class GenericType(ResourceType):
    """Any resource type the sandbox does not model (network security groups, route tables, …): stored as given,
    created synchronously with provisioningState Succeeded, so scripts that make them around our types work."""

    sync = True

    def __init__(self, app: Any, full_type: str) -> None:
        self.type_name = full_type
        self.tracked = False
        super().__init__(app)

    def build(self, req: Request, rid: str, body: dict[str, Any], existing: dict[str, Any] | None) -> dict:
        res = super().build(req, rid, body, existing)
        res["properties"]["provisioningState"] = "Succeeded"
        return res
