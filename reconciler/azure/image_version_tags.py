"""Tags on a gallery image version, read and merged: where a version's acceptance verdict lives.

A tag PATCH replaces the whole set, so every write is a read-modify-write that keeps the tags others wrote
(hand-added ones, the planner's). The PATCH is the same long-running `gallery_image_versions.begin_update`
the engine's version updates send (azure/writes.py); a rollout cycle starts it and does not wait (`wait=False`),
nor does `reconcile accept`. Within one `VersionTags` the set last written is what the next merge builds on,
so several merges in one cycle never read back a PATCH still in flight.
"""

from __future__ import annotations

import threading

from azure.core.exceptions import ResourceNotFoundError

from reconciler.azure.clock import server_seconds_of
from reconciler.azure.connection import Connection
from reconciler.azure.convert import rest_dict
from reconciler.azure.writes_lro import start
from reconciler.model.observed import id_parts, norm_id


class VersionNotFound(LookupError):
    pass


class VersionTags:
    def __init__(self, conn: Connection, *, wait: bool = False):
        self.conn, self.wait = conn, wait
        self._known: dict[str, dict[str, str]] = {}
        self._lock = threading.Lock()
        self._server_seconds = server_seconds_of(conn.meter.server_clock)

    def _ops(self, version_id: str):
        p = id_parts(version_id)
        names = (p["resourcegroups"], p["galleries"], p["images"], p["versions"])
        return self.conn.compute(p["subscriptions"]).gallery_image_versions, names

    def read(self, version_id: str) -> dict[str, str]:
        """The version's tags now (or as this object last wrote them). VersionNotFound when it is gone."""
        key = norm_id(version_id)
        with self._lock:
            if key in self._known:
                return dict(self._known[key])
        ops, names = self._ops(version_id)
        try:
            raw = rest_dict(ops.get(*names))
        except ResourceNotFoundError:
            raise VersionNotFound(version_id) from None
        tags = {str(k): str(v) for k, v in (raw.get("tags") or {}).items()}
        with self._lock:
            self._known[key] = tags
        return dict(tags)

    def merge(self, version_id: str, values: dict[str, str], remove: tuple[str, ...] = ()) -> dict[str, str]:
        """Set `values` and drop the `remove` keys, keeping every other tag; returns the set sent."""
        tags = self.read(version_id)
        tags.update(values)
        for key in remove:
            tags.pop(key, None)
        ops, names = self._ops(version_id)
        if self.wait:
            ops.begin_update(*names, {"tags": tags}).result()
        else:
            start(ops.begin_update, *names, {"tags": tags}, server_seconds=self._server_seconds)
        with self._lock:
            self._known[norm_id(version_id)] = dict(tags)
        return tags
