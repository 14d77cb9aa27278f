"""The few targeted reads apply makes between writes, answered as the model's Observed types.

Observation (`observe`) reads everything with list calls once per cycle; while applying, an action must see
the resource *now*: a version's per-region replication (`$expand=ReplicationStatus`), a template's last
run, and — right before deleting a version — every VM and host-pool pin that still references it.
"""

from __future__ import annotations

from typing import Any

from azure.core.exceptions import ResourceNotFoundError

from reconciler.azure import convert, paging
from reconciler.azure.connection import Connection
from reconciler.model.current import CurrentTags
from reconciler.model.observed import ObservedImageTemplate, ObservedImageVersion, id_parts, norm_id
from reconciler.model.tags import PIN_TAG


class Reader:
    def __init__(self, connection: Connection):
        self.conn = connection

    def _client_and_api(self, resource_id: str):
        """The SDK client of the id's provider and the api-version of the type it names (paging.API_BY_TYPE)."""
        sub = id_parts(resource_id)["subscriptions"]
        namespace = paging.provider_type(resource_id).split("/")[0]
        clients = {
            "microsoft.compute": self.conn.compute,
            "microsoft.virtualmachineimages": self.conn.image_builder,
            "microsoft.desktopvirtualization": self.conn.desktop,
        }
        if namespace not in clients:
            raise ValueError(f"no client reads {namespace} ({resource_id})")
        return clients[namespace](sub), paging.api_version_for(resource_id)

    def _get(self, resource_id: str, **params: str) -> dict[str, Any] | None:
        """The resource's REST JSON, or None when it does not exist (private: callers get typed answers)."""
        client, api = self._client_and_api(resource_id)
        try:
            return paging.get_one(client, resource_id, api, **params)
        except ResourceNotFoundError:
            return None

    def exists(self, resource_id: str) -> bool:
        return self._get(resource_id) is not None

    def tags(self, resource_id: str) -> CurrentTags | None:
        """The resource's tags now (a read-modify-write keeps hand-added ones) and their etag, or None when it
        does not exist."""
        raw = self._get(resource_id)
        if raw is None:
            return None
        tags = {str(k): str(v) for k, v in (raw.get("tags") or {}).items()}
        return CurrentTags(tags, raw.get("etag"))

    def version(self, version_id: str) -> ObservedImageVersion | None:
        """ObservedImageVersion with per-region replication, or None."""
        raw = self._get(version_id, **{"$expand": "ReplicationStatus"})
        return convert.image_version(raw) if raw is not None else None

    def template(self, template_id: str) -> ObservedImageTemplate | None:
        raw = self._get(template_id)
        return convert.image_template(raw) if raw is not None else None

    def builds_running(self, subscription_id: str) -> int:
        """How many Image Builder templates of the subscription are running a build now (anyone's)."""
        client = self.conn.image_builder(subscription_id)
        path = paging.subscription_collection(
            subscription_id, "Microsoft.VirtualMachineImages/imageTemplates"
        )
        raws = paging.list_all(client, path, paging.IMAGE_BUILDER_API)
        return sum(1 for raw in raws if convert.image_template(raw).is_running)

    def run_output(self, template_id: str, name: str) -> str | None:
        """The artifact id a finished run wrote for `name` (None if there is none)."""
        raw = self._get(f"{template_id}/runOutputs/{name}")
        return ((raw or {}).get("properties") or {}).get("artifactId")

    def users_of_version(self, version_id: str, subscriptions: tuple[str, ...] = ()) -> list[str]:
        """Who still references `version_id` now: VMs created from it and host pools pinned to it (re-read
        right before a delete: the plan's observation may be minutes old)."""
        key = norm_id(version_id)
        sub = id_parts(version_id)["subscriptions"]
        users: list[str] = []
        for s in dict.fromkeys([sub.lower(), *(x.lower() for x in subscriptions)]):
            compute = self.conn.compute(s)
            path = paging.subscription_collection(s, "Microsoft.Compute/virtualMachines")
            for raw in paging.list_all(compute, path, paging.VM_API):
                vm = convert.vm(raw)
                if vm.image_version_id == key:
                    users.append(f"VM {vm.name}")
            avd = self.conn.desktop(s)
            path = paging.subscription_collection(s, "Microsoft.DesktopVirtualization/hostPools")
            for raw in paging.list_all(avd, path, paging.DESKTOP_API):
                if norm_id((raw.get("tags") or {}).get(PIN_TAG)) == key:
                    users.append(f"host pool {raw.get('name')} (pinned)")
        return users
