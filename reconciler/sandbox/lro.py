"""Long-running operations the way ARM answers them.

An operation has a due time on the sandbox clock. Its status URL (Azure-AsyncOperation) answers
{"status": "InProgress"} until then, and "Succeeded"/"Failed"/"Canceled" after; the Location URL answers 202
until done. Completion runs the provider's hook for the operation's kind (through the scheduler), so a plain GET
of the resource also sees it finished. Retry-After: never on the initial response unless configured (an integer:
azure-mgmt-compute parses it with int()); on polls the real seconds left, capped, fractions allowed.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from .clock import SandboxClock, iso
from .routing import Request, Response
from .scheduler import Scheduler

Hook = Callable[[dict[str, Any], float], float | None]

TERMINAL = ("Succeeded", "Failed", "Canceled")


class Operations:
    def __init__(self, clock: SandboxClock, scheduler: Scheduler, config: Any) -> None:
        self.clock = clock
        self.scheduler = scheduler
        self.config = config
        self.ops: dict[str, dict[str, Any]] = {}
        self.hooks: dict[str, Hook] = {}
        # (request, resource id) -> the resource as a GET shows it; the Location URL of a finished PUT/PATCH
        # answers with it (clients using final-state-via: location, like the Azure CLI's aaz commands, read it).
        self.resource_view: Callable[[Request, str], Any] = lambda req, rid: None
        scheduler.on("op", self._complete_event)

    def hook(self, kind: str, fn: Hook) -> None:
        self.hooks[kind] = fn

    def start(
        self,
        req: Request,
        *,
        kind: str,
        resource_id: str,
        ns: str,
        location: str,
        seconds: float,
        segment: str = "operations",
        fail: dict[str, str] | None = None,
        data: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        now = self.clock.now_ts()
        sub = resource_id.split("/")[2]
        op = {
            "id": uuid.uuid4().hex,
            "kind": kind,
            "status": "InProgress",
            "start": now,
            "due": now + max(0.0, seconds),
            "resource_id": resource_id,
            "sub": sub,
            "ns": ns,
            "location": (location or "global").replace(" ", "").lower(),
            "segment": segment,
            "api_version": req.api_version,
            "method": req.method,
            "fail": fail,
            "data": data or {},
        }
        self.ops[op["id"]] = op
        self.scheduler.at(op["due"], "op", {"op": op["id"]})
        return op

    def reschedule(self, op: dict[str, Any], due: float) -> None:
        op["due"] = due
        self.scheduler.at(due, "op", {"op": op["id"]})

    def finish(
        self, op: dict[str, Any], at: float, status: str = "Succeeded", error: dict | None = None
    ) -> None:
        op["status"] = status
        op["end"] = at
        if error:
            op["error"] = error

    def _complete_event(self, payload: dict[str, Any], at: float) -> None:
        op = self.ops.get(payload["op"])
        if op is None or op["status"] in TERMINAL or at < op["due"]:
            return
        hook = self.hooks.get(op["kind"])
        new_due = hook(op, at) if hook else None
        if new_due is not None and new_due > at and op["status"] not in TERMINAL:
            self.reschedule(op, new_due)
            return
        if op["status"] not in TERMINAL:
            if op.get("fail"):
                self.finish(op, at, "Failed", op["fail"])
            else:
                self.finish(op, at)

    # --- URLs and responses
    def _url(self, base: str, op: dict[str, Any], monitor: bool) -> str:
        seg = "operationResults" if monitor and op["segment"] == "operations" else op["segment"]
        q = (
            f"?monitor=true&api-version={op['api_version']}"
            if monitor
            else f"?api-version={op['api_version']}"
        )
        return f"{base}/subscriptions/{op['sub']}/providers/{op['ns']}/locations/{op['location']}/{seg}/{op['id']}{q}"

    def initial_headers(self, req: Request, op: dict[str, Any], location: bool = True) -> dict[str, str]:
        headers = {"Azure-AsyncOperation": self._url(req.base, op, False)}
        if location:
            headers["Location"] = self._url(req.base, op, True)
        if self.config.initial_retry_after > 0:
            headers["Retry-After"] = str(int(self.config.initial_retry_after))
        return headers

    def _retry_after(self, op: dict[str, Any], headers: dict[str, str]) -> None:
        left = self.clock.real_seconds(op["due"] - self.clock.now_ts())
        left = min(left, self.config.poll_retry_after_cap)
        if left >= 0.001:
            headers["Retry-After"] = f"{left:.3f}"

    def status_response(self, req: Request, op_id: str, monitor: bool) -> Response | None:
        op = self.ops.get(op_id)
        if op is None:
            return None
        headers: dict[str, str] = {}
        if monitor:
            if op["status"] == "InProgress":
                self._retry_after(op, headers)
                headers["Location"] = (
                    req.base + req.path + "?" + "&".join(f"{k}={v}" for k, v in req.query.items())
                )
                return Response(202, None, headers)
            if op["status"] != "Succeeded":
                return Response(
                    400, {"error": op.get("error") or {"code": op["status"], "message": op["status"]}}
                )
            if op["method"] in ("PUT", "PATCH"):
                return Response(200, self.resource_view(req, op["resource_id"]))
            return Response(204 if op["method"] == "DELETE" else 200, op.get("result"))
        body: dict[str, Any] = {
            "id": req.path,
            "name": op["id"],
            "status": op["status"],
            "startTime": iso(op["start"]),
        }
        if op["status"] in TERMINAL:
            body["endTime"] = iso(op.get("end", op["due"]))
            body["percentComplete"] = 100
        else:
            self._retry_after(op, headers)
        if op.get("error"):
            body["error"] = op["error"]
        return Response(200, body, headers)

    def clear(self) -> None:
        self.ops.clear()
