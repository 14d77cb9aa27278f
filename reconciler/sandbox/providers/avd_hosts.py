"""Microsoft.DesktopVirtualization session hosts and user sessions (synchronous: never 202).

Session hosts appear only by registration (compute_extensions) or seeding; user sessions only by seeding, and end
over time (exponential, mean `session_mean_seconds`) or by logoff (DELETE), which the audit records with the time
since the host was drained. Every change recounts the pool's Available-and-accepting hosts for the invariants.
"""

from __future__ import annotations

import uuid
from typing import Any

from ..clock import iso
from ..errors import ArmError, conflict
from ..routing import Request, Response
from ..store import PRIVATE, private, public
from . import avd_health
from .avd import AVD_NAME, SESSION_ID, session_not_found
from .base import ResourceType


class SessionHosts(ResourceType):
    type_name = "Microsoft.DesktopVirtualization/hostPools/sessionHosts"
    sync = True
    tracked = False
    name_re = AVD_NAME

    def name_of(self, rid):
        parts = rid.split("/")
        return f"{parts[-3]}/{parts[-1]}"

    def put(self, req, rid):
        raise ArmError(405, "MethodNotAllowed", "Session hosts are created by registering a VM with a token.")

    def patch(self, req, res, body):
        props = body.get("properties") or {}
        p = res["properties"]
        for key in ("allowNewSession", "assignedUser", "friendlyName"):
            if key in props:
                p[key] = props[key]
        sb = private(res)
        if p.get("allowNewSession") is False:
            sb.setdefault("drained_at", self.app.clock.now_ts())
        else:
            sb.pop("drained_at", None)
        p["lastUpdateTime"] = iso(self.app.clock.now_ts())

    def on_put_done(self, res, op, at):
        self.recount(res["id"].rsplit("/", 2)[0], at)

    def render(self, req, res):
        out = public(res)
        out["properties"]["sessions"] = self.app.store.count_children(res["id"] + "/usersessions")
        if out["properties"].get("status") == "Available":
            out["properties"]["lastHeartBeat"] = iso(self.app.clock.now_ts())
        return out

    def check_delete(self, req, res):
        if self.app.store.count_children(res["id"] + "/usersessions") and not req.flag("force"):
            raise conflict(
                self.app.config.session_host_delete_conflict_code,
                "The session host has active user sessions; use force=true to delete it.",
            )

    def on_delete(self, res, at):
        self.app.scheduler.at(at, "avd:recount", {"pool": res["id"].rsplit("/", 2)[0]})

    def recount(self, pool_id: str, at: float) -> None:
        hosts = self.app.store.list_children(pool_id + "/sessionhosts")
        ok = sum(
            1
            for h in hosts
            if h["properties"].get("status") == "Available" and h["properties"].get("allowNewSession", True)
        )
        self.app.audit.pool_capacity(pool_id, at, ok, len(hosts))

    def vm_changed(self, vm_id: str, status: str | None, at: float) -> None:
        """A VM was deleted (status None -> Unavailable) or changed power state."""
        pools = set()
        for host in self.app.store.list_type(vm_id.split("/")[2], self.type_name):
            if host["properties"].get("resourceId", "").lower() == vm_id.lower():
                host["properties"]["status"] = status or "Unavailable"
                host["properties"]["statusTimestamp"] = iso(at)
                pools.add(host["id"].rsplit("/", 2)[0])
        for pool in pools:
            self.recount(pool, at)

    def register(self, payload: dict[str, Any], at: float) -> None:
        vm = self.app.store.get(payload["vm"])
        pool = self.app.store.get(payload["pool"])
        # The agent registers from inside the guest: an ARM update in flight (a tag PATCH makes the VM
        # "Updating") or one that failed (a running VM left "Failed" by its PATCH) does not stop it; only a VM
        # that never came up, or is going away, does not register.
        state = vm["properties"].get("provisioningState") if vm else None
        came_up = state in ("Succeeded", "Updating") or (
            state == "Failed" and vm.get(PRIVATE, {}).get("power") == "running"
        )
        if vm is None or pool is None or not came_up:
            return
        computer = vm["properties"].get("osProfile", {}).get("computerName") or vm["name"]
        fqdn = f"{computer}.{self.app.config.session_host_domain}"
        share = self.app.config.registration_failure_share
        status = "Unavailable" if share and self.app.rng.random() < share else "Available"
        rid = f"{pool['id']}/sessionHosts/{fqdn}"
        host = {
            "id": rid,
            "name": self.name_of(rid),
            "type": self.type_name,
            "properties": {
                "objectId": str(uuid.uuid4()),
                "resourceId": vm["id"],
                "virtualMachineId": vm["properties"].get("vmId"),
                "status": status,
                "statusTimestamp": iso(at),
                "lastHeartBeat": iso(at),
                "allowNewSession": True,
                "assignedUser": None,
                "friendlyName": None,
                "agentVersion": self.app.config.session_host_agent_version,
                "osVersion": "10.0.26100.2894",
                "sxSStackVersion": "rdp-sxs241016001",
                "updateState": "Succeeded",
                "lastUpdateTime": iso(at),
                "updateErrorMessage": "",
                # Empty until the agent has run its checks (avd_health.py).
                "sessionHostHealthCheckResults": [],
            },
        }
        self.app.store.put(host)
        avd_health.schedule(self.app, rid, at)
        self.recount(pool["id"], at)


class UserSessions(ResourceType):
    type_name = "Microsoft.DesktopVirtualization/hostPools/sessionHosts/userSessions"
    sync = True
    tracked = False
    name_re = SESSION_ID
    actions = {"disconnect": "disconnect", "sendmessage": "send_message"}

    def name_of(self, rid):
        parts = rid.split("/")
        return f"{parts[-5]}/{parts[-3]}/{parts[-1]}"

    def put(self, req, rid):
        raise ArmError(405, "MethodNotAllowed", "User sessions are created by users signing in.")

    def get(self, req, rid):
        res = self.app.store.get(rid)
        if res is None:
            raise session_not_found()
        return Response(200, self.render(req, res))

    def delete(self, req, rid):
        res = self.app.store.get(rid)
        if res is None:
            raise session_not_found()
        now = self.app.clock.now_ts()
        host = self.app.store.get(rid.rsplit("/", 2)[0])
        drained = (host or {}).get(PRIVATE, {}).get("drained_at")
        self.app.audit.session_ended(
            now, res["id"], "logoff (force)" if req.flag("force") else "logoff", drained
        )
        self.app.store.delete(rid)
        return Response(200)

    def on_delete(self, res, at):
        # Removed with its session host (force delete): the user was thrown out.
        host = self.app.store.get(res["id"].rsplit("/", 2)[0])
        drained = (host or {}).get(PRIVATE, {}).get("drained_at")
        self.app.audit.session_ended(at, res["id"], "session host deleted", drained)

    def disconnect(self, req: Request, rid: str) -> Response:
        res = self.app.store.get(rid)
        if res is None:
            raise session_not_found()
        res["properties"]["sessionState"] = "Disconnected"
        return Response(200)

    def send_message(self, req: Request, rid: str) -> Response:
        res = self.app.store.get(rid)
        if res is None:
            raise session_not_found()
        body = req.json() or {}
        self.app.audit.message(
            self.app.clock.now_ts(), res["id"], body.get("messageTitle"), body.get("messageBody")
        )
        return Response(200)

    def seed(self, res: dict[str, Any], now: float) -> None:
        mean = self.app.config.session_mean_seconds
        if mean > 0:
            self.app.scheduler.at(
                now + self.app.rng.expovariate(1.0 / mean), "avd:session_end", {"id": res["id"]}
            )

    def natural_end(self, payload: dict[str, Any], at: float) -> None:
        self.app.store.delete(payload["id"])


def install(app: Any) -> None:
    hosts = app.register(SessionHosts(app))
    sessions = app.register(UserSessions(app))
    app.scheduler.on("avd:register", hosts.register)
    app.scheduler.on("avd:recount", lambda payload, at: hosts.recount(payload["pool"], at))
    app.scheduler.on("avd:session_end", sessions.natural_end)
    avd_health.install(app)
