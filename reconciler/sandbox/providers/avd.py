"""Microsoft.DesktopVirtualization host pools (synchronous: never 202); session hosts are in avd_hosts.py.

Registration tokens: PATCH/PUT `registrationInfo {expirationTime, registrationTokenOperation: Update}` issues one
(expiry 1 h - 30 days ahead of sandbox time, else 400), `Delete` revokes all; GET hides the token;
`retrieveRegistrationToken` / `listRegistrationTokens` return it. A pool with session hosts needs force=true to
be deleted (409 HostPoolHasSessionHosts otherwise; the exact Azure code is not public).
"""

from __future__ import annotations

import re
import secrets
import uuid
from typing import Any

from ..clock import iso, parse_iso
from ..errors import ArmError, bad_request, conflict
from ..routing import Request, Response
from ..store import PRIVATE, private, public
from .base import ResourceType

AVD_NAME = re.compile(r"^[A-Za-z0-9@.\-_ ]{3,64}$")
SESSION_ID = re.compile(r"^[0-9A-Za-z]{1,24}$")
HOUR, DAY = 3600.0, 86400.0


def avd_validation_error(message: str) -> ArmError:
    """DesktopVirtualization's own validation answer: 400 with the status as the code and an ActivityId prefix
    (seen in Azure/azure-rest-api-specs#29220: {"code": "400", "message": "ActivityId: <guid> Error: The
    PreferredAppGroupType value is incorrect. ..."})."""
    return ArmError(400, "400", f"ActivityId: {uuid.uuid4()} Error: {message}")


def refuse_pool_type_change(props: dict[str, Any], old: dict[str, Any]) -> None:
    """A host pool's type is fixed at creation (Pooled and Personal pools differ in assignment and load balancing:
    Microsoft's docs say to create a new pool instead); Azure refuses the change rather than ignore it."""
    new, current = props.get("hostPoolType"), old.get("hostPoolType")
    if new and current and str(new).lower() != str(current).lower():
        raise avd_validation_error(
            f"The HostPoolType of an existing host pool cannot be changed from '{current}' to '{new}'."
        )


def session_not_found() -> ArmError:
    return ArmError(404, "NotFound", "User session ID not found.")


class HostPools(ResourceType):
    type_name = "Microsoft.DesktopVirtualization/hostPools"
    sync = True
    name_re = AVD_NAME
    actions = {"retrieveregistrationtoken": "retrieve_token", "listregistrationtokens": "list_tokens"}
    subpaths = {"usersessions": "pool_sessions"}

    def build(self, req, rid, body, existing):
        props = body.get("properties") or {}
        if existing is None:
            for field in ("hostPoolType", "loadBalancerType", "preferredAppGroupType"):
                if not props.get(field):
                    raise bad_request(f"The {field} field is required.", "InvalidParameter", field)
        else:
            refuse_pool_type_change(props, existing.get("properties", {}))
        reg = props.pop("registrationInfo", None)
        res = super().build(req, rid, {**body, "properties": props}, existing)
        if existing is not None:
            merged = dict(existing.get("properties", {}))
            merged.update(res["properties"])
            res["properties"] = merged
        p = res["properties"]
        p.setdefault("objectId", str(uuid.uuid4()))
        for key, value in (
            ("friendlyName", None),
            ("description", None),
            ("maxSessionLimit", 999999),
            ("validationEnvironment", False),
            ("cloudPcResource", False),
            ("startVMOnConnect", False),
            ("applicationGroupReferences", []),
            ("vmTemplate", None),
            ("customRdpProperty", None),
            (
                "registrationInfo",
                {"expirationTime": None, "token": None, "registrationTokenOperation": "None"},
            ),
        ):
            p.setdefault(key, value)
        if reg:
            self.apply_registration(res, reg)
        return res

    def patch(self, req, res, body):
        props = dict(body.get("properties") or {})
        refuse_pool_type_change(props, res.get("properties", {}))
        reg = props.pop("registrationInfo", None)
        for key in ("hostPoolType", "location"):
            props.pop(key, None)
        if "tags" in body:
            res["tags"] = body["tags"]
        res["properties"].update(props)
        if reg:
            self.apply_registration(res, reg)

    def apply_registration(self, res: dict[str, Any], reg: dict[str, Any]) -> None:
        operation = (reg.get("registrationTokenOperation") or "None").lower()
        sb = private(res)
        # A pool seeded (or created by another tool) without registrationInfo has never had a token.
        info = res["properties"].setdefault(
            "registrationInfo", {"expirationTime": None, "token": None, "registrationTokenOperation": "None"}
        )
        if operation == "delete":
            sb["tokens"] = {}
            res["properties"]["registrationInfo"] = {
                "expirationTime": None,
                "token": None,
                "registrationTokenOperation": "Delete",
            }
        elif operation == "update":
            now = self.app.clock.now_ts()
            try:
                exp = parse_iso(reg.get("expirationTime") or "")
            except ValueError as exc:
                raise bad_request("expirationTime is not a valid date-time.", "InvalidParameter") from exc
            if not (now + HOUR - 60 <= exp <= now + 30 * DAY + 60):
                raise bad_request(
                    "The registration token expiration time must be between 1 hour and 30 days from now.",
                    "InvalidParameter",
                    "registrationInfo.expirationTime",
                )
            token = "sbx." + secrets.token_urlsafe(32)
            sb.setdefault("tokens", {})[token] = exp
            sb["current"] = token
            info.update({"expirationTime": iso(exp), "token": None, "registrationTokenOperation": "Update"})

    def render(self, req, res):
        out = public(res)
        out["properties"].setdefault("registrationInfo", {})["token"] = None
        return out

    def current_token(self, res: dict[str, Any]) -> tuple[str | None, str | None]:
        sb = res.get(PRIVATE, {})
        token = sb.get("current")
        exp = sb.get("tokens", {}).get(token) if token else None
        if exp is None or exp <= self.app.clock.now_ts():
            return None, None
        return token, iso(exp)

    def retrieve_token(self, req: Request, rid: str) -> Response:
        res = self._get(rid)
        token, exp = self.current_token(res)
        return Response(
            200,
            {
                "expirationTime": exp,
                "token": token,
                "registrationTokenOperation": "Update" if token else "None",
            },
        )

    def list_tokens(self, req: Request, rid: str) -> Response:
        res = self._get(rid)
        token, exp = self.current_token(res)
        return Response(
            200, {"value": [{"expirationTime": exp, "token": token}] if token else [], "nextLink": None}
        )

    def pool_for_token(self, sub: str, token: str, at: float) -> dict[str, Any] | None:
        for pool in self.app.store.list_type(sub, self.type_name):
            exp = pool.get(PRIVATE, {}).get("tokens", {}).get(token)
            if exp is not None and exp > at:
                return pool
        return None

    def _get(self, rid: str) -> dict[str, Any]:
        res = self.app.store.get(rid)
        if res is None:
            raise ArmError(404, "ResourceNotFound", f"HostPool '{rid.split('/')[-1]}' could not be found.")
        return res

    def get(self, req, rid):
        return Response(200, self.render(req, self._get(rid)))

    def check_delete(self, req, res):
        if self.app.store.count_children(res["id"] + "/sessionhosts") and not req.flag("force"):
            raise conflict(
                "HostPoolHasSessionHosts",
                "The host pool has session hosts; delete them first or use force=true.",
            )

    def pool_sessions(self, req: Request, rid: str) -> Response:
        self._get(rid)
        sessions = []
        for host in self.app.store.list_children(rid + "/sessionHosts"):
            sessions.extend(self.app.store.list_children(host["id"] + "/userSessions"))
        flt = req.query.get("$filter", "")
        m = re.search(r"userprincipalname\s+eq\s+'([^']*)'", flt, re.IGNORECASE)
        if m:
            sessions = [
                s
                for s in sessions
                if s["properties"].get("userPrincipalName", "").lower() == m.group(1).lower()
            ]
        spec = self.app.types["microsoft.desktopvirtualization/hostpools/sessionhosts/usersessions"]
        page = self.app.page_slice(req, sessions)
        return self.app.page(req, [spec.render(req, s) for s in page], len(sessions))


def install(app: Any) -> None:
    app.register(HostPools(app))
