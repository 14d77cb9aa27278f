"""The sandbox application: state (store, clock, operations, events) and request dispatch by ARM path.

Order per request: admin/identity routes (no auth) -> bearer auth (401) -> api-version (400) -> injected faults
-> [app lock] due events -> throttle -> route -> audit/stats. Handling is serialised by one lock; I/O and TLS run
in the server's worker threads.
"""

from __future__ import annotations

import random
import sys
import threading
import time
import traceback
from collections import Counter
from typing import Any

from . import admin, api_versions, identity, keyvault_data
from .audit import Audit
from .clock import SandboxClock
from .config import SandboxConfig
from .errors import ArmError, bad_request, not_found, rg_not_found
from .faults import Faults
from .lro import Operations
from .routing import ArmPath, Request, Response, parse_arm_path
from .scheduler import Scheduler
from .store import Store
from .throttle import Throttle
from .tokens import TokenIssuer

MUTATING = ("PUT", "PATCH", "DELETE", "POST")


class App:
    def __init__(self, config: SandboxConfig, clock: SandboxClock, client_secret: str) -> None:
        self.config = config
        self.clock = clock
        self.client_secret = client_secret
        self.lock = threading.RLock()
        self.rng = random.Random(config.seed)
        self.store = Store()
        self.scheduler = Scheduler()
        self.ops = Operations(clock, self.scheduler, config)
        self.audit = Audit()
        self.faults = Faults(self.rng)
        self.throttle = Throttle(clock, config)
        self.stats: Counter[str] = Counter()
        self.api_versions: Counter[str] = Counter()
        self.tokens = TokenIssuer()  # its key outlives reset(): clients keep their tokens
        self.types: dict[str, Any] = {}
        self.subpaths: dict[str, Any] = {}  # e.g. location-scoped catalogs
        self.changed = threading.Event()
        self.initial: list[dict[str, Any]] = []  # start-up seed, re-applied by reset()
        self.base_config = config.to_dict()
        self.base_time_scale = clock.time_scale
        from . import providers

        providers.install(self)
        self.ops.resource_view = self.view

    # ---- state management
    def seed(self, resources: Any) -> int:
        from . import seed as seeding

        with self.lock:
            count = seeding.apply(self, resources)
        self.changed.set()
        return count

    def reset(self) -> None:
        """Forget everything but issued tokens; restore start-up settings and re-apply the start-up seed."""
        with self.lock:
            self.store.clear()
            self.scheduler.clear()
            self.ops.clear()
            self.audit.clear()
            self.faults.clear()
            self.throttle.clear()
            self.stats.clear()
            self.api_versions.clear()
            self.config.update(self.base_config)
            self.clock.set_scale(self.base_time_scale)
            self.rng.seed(self.config.seed)
            if self.initial:
                self.seed(self.initial)
        self.changed.set()

    # ---- registry helpers
    def register(self, spec: Any) -> Any:
        self.types[spec.kind] = spec
        return spec

    def spec_for(self, full_type: str) -> Any:
        """The provider of a type; types we do not model get a generic synchronous store (NSGs, route tables…)."""
        spec = self.types.get(full_type.lower())
        if spec is None:
            from .providers.base import GenericType

            spec = self.register(GenericType(self, full_type))
        return spec

    def type_for_id(self, rid: str) -> Any:
        from .errors import provider_type_of

        return self.types.get(provider_type_of(rid).lower())

    def view(self, req: Request, rid: str) -> Any:
        res = self.store.get(rid)
        spec = self.type_for_id(rid)
        if res is None or spec is None:
            return None
        return spec.render(req, res)

    def lro_fault(self, req: Request) -> dict[str, str] | None:
        rule = self.faults.match(req.method, req.path, kind="lro")
        return {"code": rule["code"], "message": rule["message"]} if rule else None

    def settle(self) -> None:
        self.scheduler.run_due(self.clock.now_ts())

    # ---- entry point
    def handle(self, req: Request) -> Response:
        try:
            return self._handle(req)
        except ArmError as exc:
            return Response(exc.status, exc.body(), dict(exc.headers))
        except Exception:  # a sandbox bug must still answer ARM-shaped JSON, never drop the connection
            traceback.print_exc(file=sys.stderr)
            body = {
                "error": {"code": "InternalServerError", "message": "The sandbox failed on this request."}
            }
            return Response(500, body)

    def _handle(self, req: Request) -> Response:
        segs = req.segments
        low0 = segs[0].lower() if segs else ""
        if low0 == "_sandbox":
            with self.lock:
                self.settle()
                return admin.handle(self, req)
        vault = keyvault_data.vault_of(req)
        if vault is not None:
            return keyvault_data.handle(self, req, vault)
        public = identity.handle_public(self, req)
        if public is not None:
            return public
        req.caller = identity.caller(self, req)
        if not req.api_version:
            raise bad_request(
                "The api-version query parameter (?api-version=) is required for all requests.",
                "MissingApiVersionParameter",
            )
        if not self.config.lenient_api_versions:
            api_versions.check(self, req)
        rule = self.faults.match(req.method, req.path)
        if rule is not None:
            if rule["delay"]:
                time.sleep(rule["delay"])
            headers = dict(rule["headers"])
            if rule["retry_after"] is not None:
                headers["Retry-After"] = str(rule["retry_after"])
            with self.lock:
                self.stats["fault " + rule["id"]] += 1
            return Response(
                rule["status"], {"error": {"code": rule["code"], "message": rule["message"]}}, headers
            )
        with self.lock:
            self.settle()
            self.api_versions[req.api_version] += 1
            group = operation_group(req)
            self.stats[f"{req.method} {group}"] += 1
            extra: dict[str, str] = {}
            if self.config.throttle and segs[:1] and low0 == "subscriptions" and len(segs) > 1:
                extra = self.throttle.take(segs[1], req.caller, req.method, req.path)
            try:
                resp = self.route(req)
            except ArmError as exc:
                resp = Response(exc.status, exc.body(), dict(exc.headers))
            resp.headers.update(extra)
            if req.method in MUTATING and not group.startswith("operations"):
                self.audit.record(self.clock.now_ts(), req.method, req.path, resp.status, caller_of(req))
                self.changed.set()
            return resp

    def route(self, req: Request) -> Response:
        segs = req.segments
        if segs and segs[0].lower() == "tenants":
            return identity.tenants(self, req)
        p = parse_arm_path(segs)
        if p is None:
            raise ArmError(404, "NotFound", f"No route for {req.method} {req.path}.")
        if p.sub is None:
            return identity.subscriptions(self, req)
        if p.sub.lower() not in {s.lower() for s in self.config.subscription_ids}:
            raise ArmError(404, "SubscriptionNotFound", f"The subscription '{p.sub}' could not be found.")
        if p.ns is None:
            return self.types["microsoft.resources/resourcegroups"].route_scope(req, p)
        if p.rg is not None:
            rg_id = f"/subscriptions/{p.sub}/resourceGroups/{p.rg}"
            if self.store.get(rg_id) is None:
                if req.method == "PUT" and self.config.auto_resource_groups:
                    self.types["microsoft.resources/resourcegroups"].ensure(rg_id, req)
                else:
                    raise rg_not_found(p.rg)
        rest = p.rest
        if rest and rest[0].lower() == "locations" and len(rest) >= 3:
            return self.route_location(req, p)
        if not rest:
            raise ArmError(404, "NotFound", f"No route for {req.method} {req.path}.")
        if len(rest) % 2 == 0:
            spec = self.spec_for(p.full_type())
            rid = p.resource_id()
            verb = {
                "GET": spec.get,
                "HEAD": spec.get,
                "PUT": spec.put,
                "PATCH": spec.patch_verb,
                "DELETE": spec.delete,
            }
            if req.method not in verb:
                raise ArmError(405, "MethodNotAllowed", f"{req.method} is not allowed here.")
            return verb[req.method](req, rid)
        parent_rest, last = rest[:-1], rest[-1].lower()
        parent_spec = self.types.get(p.full_type(parent_rest).lower()) if parent_rest else None
        if req.method == "POST" and parent_spec is not None:
            method = parent_spec.actions.get(last)
            if method is None:
                raise bad_request(f"The action '{rest[-1]}' is not supported.", "InvalidAction")
            return getattr(parent_spec, method)(req, p.resource_id(parent_rest))
        if req.method == "GET" and parent_spec is not None and last in parent_spec.subpaths:
            return getattr(parent_spec, parent_spec.subpaths[last])(req, p.resource_id(parent_rest))
        if req.method != "GET":
            raise ArmError(405, "MethodNotAllowed", f"{req.method} is not allowed on a collection.")
        return self.list_collection(req, p, self.spec_for(p.full_type()))

    def list_collection(self, req: Request, p: ArmPath, spec: Any) -> Response:
        if p.rg is None and len(p.rest) == 1:
            items = self.store.list_type(p.sub or "", p.full_type())
        else:
            collection = p.resource_id()
            parent = collection.rsplit("/", 1)[0]
            if len(p.rest) > 1 and self.store.get(parent) is None:
                raise not_found(parent)
            items = spec.list_items(req, collection)
        if not getattr(spec, "paged", True):
            return Response(200, {"value": [spec.render(req, r) for r in items]})
        return self.page(req, [spec.render(req, r) for r in self.page_slice(req, items)], len(items))

    def page_slice(self, req: Request, items: list[Any]) -> list[Any]:
        start = int(req.query.get("$skiptoken") or 0) + int(req.query.get("initialskip") or 0)
        size = int(req.query.get("pagesize") or 0) or self.config.page_size
        req.query["_start"], req.query["_size"] = str(start), str(size)
        return items[start : start + size]

    def page(self, req: Request, values: list[Any], total: int) -> Response:
        start, size = int(req.query.pop("_start")), int(req.query.pop("_size"))
        body: dict[str, Any] = {"value": values}
        nxt = start + size
        if nxt < total:
            q = {k: v for k, v in req.query.items() if k not in ("$skiptoken", "initialskip")}
            q["$skiptoken"] = str(nxt - int(req.query.get("initialskip") or 0))
            body["nextLink"] = f"{req.base}{req.path}?" + "&".join(f"{k}={v}" for k, v in q.items())
        else:
            body["nextLink"] = None
        return Response(200, body)

    def route_location(self, req: Request, p: ArmPath) -> Response:
        kind = p.rest[2].lower()
        if (
            kind in ("operations", "capsoperations", "operationresults", "operationstatuses")
            and len(p.rest) == 4
        ):
            monitor = kind == "operationresults" or req.query.get("monitor", "").lower() == "true"
            resp = self.ops.status_response(req, p.rest[3], monitor)
            if resp is None:
                raise ArmError(404, "OperationNotFound", f"The operation '{p.rest[3]}' could not be found.")
            return resp
        handler = self.subpaths.get((p.ns or "").lower() + "/locations/" + kind)
        if handler is None or req.method != "GET":
            raise ArmError(404, "NotFound", f"No route for {req.method} {req.path}.")
        return handler(req, p)


def operation_group(req: Request) -> str:
    p = parse_arm_path(req.segments)
    if p is None:
        return req.segments[0] if req.segments else "/"
    if p.ns is None:
        if p.sub is None:
            return "subscriptions list"
        if not p.tail:
            return "subscriptions" if p.rg is None else "resourceGroups"
        return (
            "resourceGroups" + ("" if p.rg else " list")
            if p.tail[0].lower() == "resourcegroups"
            else "resourceGroups/" + "/".join(p.tail)
        )
    rest = p.rest
    if rest and rest[0].lower() == "locations" and len(rest) >= 3:
        return "operations" if "operation" in rest[2].lower() else "locations/" + "/".join(rest[2::2])
    types = "/".join(rest[0::2])
    if len(rest) % 2 == 0:
        return types
    if req.method == "POST":
        return "/".join(rest[0:-1:2]) + "/" + rest[-1]
    return types + " list"


def caller_of(req: Request) -> dict[str, str]:
    return {
        "caller": req.caller,
        "client_request_id": req.headers.get("x-ms-client-request-id", ""),
        "user_agent": req.headers.get("user-agent", "")[:120],
    }
