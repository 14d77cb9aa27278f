"""Admin endpoints under /_sandbox/ (no auth; loopback only). See README.md for the reference.

GET  /_sandbox/health | audit | invariants | stats | clock | faults | config | resources[?prefix=]
POST /_sandbox/clock {"advance": s, "time_scale": x} | reset | seed {"resources": [...]} | faults {rule}
     | config {setting: value}
DELETE /_sandbox/faults
"""

from __future__ import annotations

from typing import Any

from . import latency
from .clock import iso
from .errors import ArmError, bad_request
from .routing import Request, Response
from .store import PRIVATE


def invariants(app: Any) -> dict[str, Any]:
    store = app.store
    orphan_disks, orphan_nics, ghosts = [], [], []
    for res in store.all():
        t = res.get("type", "").lower()
        if t == "microsoft.compute/disks":
            owner = res.get("managedBy")
            if not owner or store.get(owner) is None:
                orphan_disks.append(res["id"])
        elif t == "microsoft.network/networkinterfaces":
            owner = (res.get("properties", {}).get("virtualMachine") or {}).get("id")
            if not owner or store.get(owner) is None:
                orphan_nics.append(res["id"])
        elif t == "microsoft.desktopvirtualization/hostpools/sessionhosts":
            vm = res.get("properties", {}).get("resourceId")
            if vm and store.get(vm) is None:
                ghosts.append(res["id"])
    pools = app.audit.pools
    return {
        "time": iso(app.clock.now_ts()),
        "pools": pools,
        "min_available_per_pool": {p["id"]: p["min"] for p in pools.values()},
        "max_hosts_per_pool": {p["id"]: p["max_hosts"] for p in pools.values()},
        "forced_session_ends": app.audit.forced_session_ends,
        "orphan_disks": orphan_disks,
        "orphan_nics": orphan_nics,
        "versions_deleted_in_use": app.audit.deleted_in_use,
        "ghost_session_hosts": ghosts,
    }


def stats(app: Any) -> dict[str, Any]:
    return {
        "requests": dict(sorted(app.stats.items())),
        "total": sum(v for k, v in app.stats.items() if not k.startswith("fault ")),
        "api_versions": dict(app.api_versions),
        "resources": len(app.store),
        "time": iso(app.clock.now_ts()),
    }


def handle(app: Any, req: Request) -> Response:
    what = "/".join(req.segments[1:]).lower()
    m = req.method
    if m == "GET" and what in ("", "health"):
        return Response(200, {"ok": True, "time": iso(app.clock.now_ts())})
    if m == "GET" and what == "audit":
        return Response(200, app.audit.dump())
    if m == "GET" and what == "invariants":
        return Response(200, invariants(app))
    if m == "GET" and what == "stats":
        return Response(200, stats(app))
    if what == "clock":
        if m == "POST":
            body = req.json() or {}
            if "time_scale" in body:
                app.clock.set_scale(float(body["time_scale"]))
            if "advance" in body:
                app.clock.advance(float(body["advance"]))
            app.settle()
            app.changed.set()
        return Response(200, {"now": iso(app.clock.now_ts()), "time_scale": app.clock.time_scale})
    if m == "POST" and what == "reset":
        app.reset()
        return Response(200, {"ok": True})
    if m == "POST" and what == "seed":
        body = req.json()
        resources = body.get("resources", []) if isinstance(body, dict) else body
        try:
            count = app.seed(resources or [])
        except ValueError as exc:
            raise bad_request(str(exc)) from exc
        return Response(200, {"seeded": count})
    if what == "faults":
        if m == "POST":
            body = req.json() or {}
            try:
                rules = [app.faults.add(r) for r in (body if isinstance(body, list) else [body])]
            except (ValueError, TypeError) as exc:
                raise bad_request(str(exc)) from exc
            return Response(200, {"value": rules})
        if m == "DELETE":
            app.faults.clear()
            return Response(200, {"value": []})
        return Response(200, {"value": app.faults.rules})
    if what == "config":
        if m == "POST":
            body = req.json() or {}
            try:
                if isinstance(body, dict) and "latency" in body:
                    latency.parse(body["latency"])  # refuse a bad model here, not on every later request
                app.config.update(body)
            except (KeyError, TypeError, ValueError) as exc:
                raise bad_request(str(exc)) from exc
        return Response(200, app.config.to_dict())
    if m == "GET" and what == "resources":
        prefix = req.query.get("prefix", "").lower()
        items = [r for lid, r in app.store.items.items() if lid.startswith(prefix)]
        return Response(200, {"value": [{k: v for k, v in r.items() if k != PRIVATE} for r in items]})
    raise ArmError(404, "NotFound", f"No admin route {m} /{'/'.join(req.segments)}.")
