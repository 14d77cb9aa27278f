"""Every write `reconcile apply` makes, through the SDK clients: start a long-running operation, check it later.

The engine names an operation (`"put"`, `"patch"`, `"delete"`, `"run"`) and a resource id; this module maps
that onto the right SDK call (by the id's resource type) and answers with plain data: a continuation token
and an `LroStatus`, never an SDK model. Errors are the SDK's `HttpResponseError` (the engine turns them into
outcomes through `error_of`). Host pools are synchronous in the AVD API: their writes finish at once.
Reads the actions need right before acting (a version's per-region replication, a template's last run, the
VMs that use a version) are in `reads`.
"""

from __future__ import annotations

from typing import Any

from azure.core.exceptions import HttpResponseError, ResourceNotFoundError

from reconciler.azure.clock import server_seconds_of
from reconciler.azure.connection import Connection
from reconciler.azure.errors import ArmError, error_info
from reconciler.azure.writes_lro import LroStatus, check, error_of, start
from reconciler.model.observed import id_parts

__all__ = [
    "ArmError",
    "HttpResponseError",
    "LroStatus",
    "ResourceNotFoundError",
    "Writer",
    "error_info",
    "error_of",
    "kind_of_id",
]


def kind_of_id(resource_id: str) -> str:
    """gallery | image-definition | image-version | image-build | host-pool, from an ARM id."""
    p = id_parts(resource_id)
    if "versions" in p:
        return "image-version"
    if "images" in p:
        return "image-definition"
    if "galleries" in p:
        return "gallery"
    if "imagetemplates" in p:
        return "image-build"
    if "hostpools" in p:
        return "host-pool"
    raise ValueError(f"no write support for {resource_id}")


class Writer:
    """The SDK calls for one connection. Thread-safe (the clients are)."""

    def __init__(self, connection: Connection):
        self.conn = connection
        self._server_seconds = server_seconds_of(connection.meter.server_clock)  # for Retry-After

    # -- long-running operations ----------------------------------------------------------------------------
    def _call(self, operation: str, resource_id: str, body: dict[str, Any] | None):
        """(SDK begin_* method, positional args) for `operation` on `resource_id`."""
        p = id_parts(resource_id)
        sub, rg = p["subscriptions"], p["resourcegroups"]
        kind = kind_of_id(resource_id)
        if kind == "image-build":
            group = self.conn.image_builder(sub).virtual_machine_image_templates
            name = p["imagetemplates"]
            verbs = {"put": ("begin_create_or_update", True), "delete": ("begin_delete", False),
                     "run": ("begin_run", False), "patch": ("begin_update", True)}  # fmt: skip
        else:
            compute = self.conn.compute(sub)
            if kind == "gallery":
                group, names = compute.galleries, (p["galleries"],)
            elif kind == "image-definition":
                group, names = compute.gallery_images, (p["galleries"], p["images"])
            elif kind == "image-version":
                group, names = compute.gallery_image_versions, (p["galleries"], p["images"], p["versions"])
            else:
                raise ValueError(f"{kind} has no long-running {operation}")
            verbs = {"put": ("begin_create_or_update", True), "patch": ("begin_update", True),
                     "delete": ("begin_delete", False)}  # fmt: skip
            name = names
        if operation not in verbs:
            raise ValueError(f"unknown operation {operation!r} for {kind}")
        method, takes_body = verbs[operation]
        names = name if isinstance(name, tuple) else (name,)
        args = (rg, *names) + ((body,) if takes_body else ())
        return getattr(group, method), args

    def start(self, operation: str, resource_id: str, body: dict[str, Any] | None = None):
        """Send the initial request; (continuation token or None if already finished, LroStatus)."""
        begin, args = self._call(operation, resource_id, body)
        return start(begin, *args, server_seconds=self._server_seconds)

    def check(self, operation: str, resource_id: str, token: str, body: dict[str, Any] | None = None):
        begin, args = self._call(operation, resource_id, body if body is not None else {})
        return check(begin, token, *args, server_seconds=self._server_seconds)

    # -- host pools (AVD is synchronous) --------------------------------------------------------------------
    def put_host_pool(
        self, resource_id: str, body: dict[str, Any], if_match: str | None = None
    ) -> dict[str, Any]:
        p = id_parts(resource_id)
        pools = self.conn.desktop(p["subscriptions"]).host_pools
        return pools.create_or_update(
            p["resourcegroups"], p["hostpools"], body, headers=_if_match(if_match)
        ).as_dict()

    def patch_host_pool_tags(
        self, resource_id: str, tags: dict[str, str], if_match: str | None = None
    ) -> dict[str, Any]:
        p = id_parts(resource_id)
        pools = self.conn.desktop(p["subscriptions"]).host_pools
        return pools.update(
            p["resourcegroups"], p["hostpools"], host_pool={"tags": tags}, headers=_if_match(if_match)
        ).as_dict()

    def delete_host_pool(self, resource_id: str) -> None:
        p = id_parts(resource_id)
        self.conn.desktop(p["subscriptions"]).host_pools.delete(p["resourcegroups"], p["hostpools"])


def _if_match(etag: str | None) -> dict[str, str]:
    """The desktop SDK has no etag parameter; azure-core's per-call `headers` option carries the condition."""
    return {"If-Match": etag} if etag else {}
