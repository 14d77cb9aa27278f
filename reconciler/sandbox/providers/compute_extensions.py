"""Microsoft.Compute virtualMachines/extensions, and AVD agent registration.

An extension carrying an AVD registration token (settings/protectedSettings with hostPoolName +
registrationInfoToken, any publisher; the usual one is Microsoft.Powershell DSC AddSessionHost) registers the VM
as a session host `registration_seconds` after it succeeds, if the token is a valid unexpired token of that pool;
otherwise the extension's LRO fails with VMExtensionProvisioningError. protectedSettings are never returned.
"""

from __future__ import annotations

from typing import Any

from ..store import PRIVATE, private
from .base import ResourceType


def find_key(data: Any, key: str) -> Any:
    """Depth-first search for a key (case-insensitive) in nested dicts: tolerant of extension setting shapes."""
    if isinstance(data, dict):
        for k, v in data.items():
            if k.lower() == key.lower() and v:
                return v
        data = list(data.values())
    if isinstance(data, list):
        for v in data:
            found = find_key(v, key)
            if found:
                return found
    return None


class Extensions(ResourceType):
    type_name = "Microsoft.Compute/virtualMachines/extensions"
    paged = False

    def build(self, req, rid, body, existing):
        body = dict(body)
        vm = self.app.store.get(rid.rsplit("/", 2)[0])
        body.setdefault("location", vm.get("location") if vm else None)
        res = super().build(req, rid, body, existing)
        protected = res["properties"].pop("protectedSettings", None)
        if protected is not None:
            private(res)["protected"] = protected
        return res

    def put_seconds(self, res, existing):
        return self.app.config.extension_seconds

    def on_put_done(self, res, op, at):
        if op.get("fail"):
            return None
        props = res["properties"]
        sources = [props.get("settings"), res.get(PRIVATE, {}).get("protected")]
        token = find_key(sources, "registrationInfoToken") or find_key(sources, "registrationToken")
        if not token:
            return None
        pool_name = find_key(sources, "hostPoolName")
        vm_id = res["id"].rsplit("/", 2)[0]
        pools = self.app.types["microsoft.desktopvirtualization/hostpools"]
        pool = pools.pool_for_token(vm_id.split("/")[2], token, at)
        if pool is None or (pool_name and pool_name.lower() != pool["name"].lower()):
            op["fail"] = {
                "code": "VMExtensionProvisioningError",
                "message": f"VM has reported a failure when processing extension '{res['name']}'. Error message: "
                "the host pool registration token is invalid or expired.",
            }
            return None
        self.app.scheduler.at(
            at + self.app.config.registration_seconds, "avd:register", {"vm": vm_id, "pool": pool["id"]}
        )
        return None


def install(app: Any) -> None:
    app.register(Extensions(app))
