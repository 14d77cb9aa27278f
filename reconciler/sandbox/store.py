"""The resource store: REST-shaped dicts keyed by lower-cased ARM id, with indexes for listing.

Sandbox-private state of a resource lives under the key "_sb" and is stripped from every response. Indexes:
- children: lower-cased collection path (the id without its last name) -> ordered ids;
- by_type: (subscription, lower-cased type) -> ordered ids, for subscription-wide lists;
- by_rg: lower-cased resource group id -> ordered ids, for the generic `.../resources` list.
Callers hold the application lock; the store itself is not thread-safe.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from .errors import provider_type_of

PRIVATE = "_sb"


def _sub_of(lid: str) -> str:
    parts = lid.split("/")
    return parts[2] if len(parts) > 2 else ""


def _rg_of(lid: str) -> str | None:
    parts = lid.split("/")
    if len(parts) > 4 and parts[3] == "resourcegroups":
        return "/".join(parts[:5])
    return None


class Store:
    def __init__(self) -> None:
        self.items: dict[str, dict[str, Any]] = {}
        self.children: dict[str, dict[str, None]] = {}
        self.by_type: dict[tuple[str, str], dict[str, None]] = {}
        self.by_rg: dict[str, dict[str, None]] = {}
        self.collections: dict[str, dict[str, None]] = {}  # parent id -> its child collection paths
        self.soft_deleted: dict[str, dict[str, Any]] = {}  # lower id -> bin entry (soft_delete.py)

    def __len__(self) -> int:
        return len(self.items)

    def clear(self) -> None:
        self.items.clear()
        self.children.clear()
        self.by_type.clear()
        self.by_rg.clear()
        self.collections.clear()
        self.soft_deleted.clear()

    def get(self, rid: str) -> dict[str, Any] | None:
        return self.items.get(rid.lower())

    def put(self, res: dict[str, Any]) -> dict[str, Any]:
        lid = res["id"].lower()
        if lid not in self.items:
            collection = lid.rsplit("/", 1)[0]
            self.children.setdefault(collection, {})[lid] = None
            self.collections.setdefault(collection.rsplit("/", 1)[0], {})[collection] = None
            self.by_type.setdefault((_sub_of(lid), provider_type_of(lid).lower()), {})[lid] = None
            rg = _rg_of(lid)
            if rg and rg != lid:
                self.by_rg.setdefault(rg, {})[lid] = None
        self.items[lid] = res
        return res

    def delete(self, rid: str) -> dict[str, Any] | None:
        lid = rid.lower()
        res = self.items.pop(lid, None)
        if res is None:
            return None
        self.children.get(lid.rsplit("/", 1)[0], {}).pop(lid, None)
        self.by_type.get((_sub_of(lid), provider_type_of(lid).lower()), {}).pop(lid, None)
        rg = _rg_of(lid)
        if rg:
            self.by_rg.get(rg, {}).pop(lid, None)
        return res

    def list_children(self, collection_id: str) -> list[dict[str, Any]]:
        ids = self.children.get(collection_id.lower().rstrip("/"), {})
        return [self.items[i] for i in ids]

    def count_children(self, collection_id: str) -> int:
        return len(self.children.get(collection_id.lower().rstrip("/"), {}))

    def list_type(self, sub: str, full_type: str) -> list[dict[str, Any]]:
        ids = self.by_type.get((sub.lower(), full_type.lower()), {})
        return [self.items[i] for i in ids]

    def list_rg(self, rg_id: str) -> list[dict[str, Any]]:
        return [self.items[i] for i in self.by_rg.get(rg_id.lower(), {})]

    def descendants(self, rid: str) -> Iterator[str]:
        """Ids of everything nested under rid (for a resource group: every resource in it)."""
        lid = rid.lower()
        if lid in self.by_rg or (lid.count("/") == 4 and "/resourcegroups/" in lid):
            yield from list(self.by_rg.get(lid, {}))
            return
        stack = [lid]
        while stack:
            parent = stack.pop()
            for collection in list(self.collections.get(parent, {})):
                for child in list(self.children.get(collection, {})):
                    yield child
                    stack.append(child)

    def all(self) -> Iterable[dict[str, Any]]:
        return self.items.values()


def json_copy(value: Any) -> Any:
    """Deep copy of JSON data (dicts, lists, scalars); several times faster than copy.deepcopy."""
    if isinstance(value, dict):
        return {k: json_copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [json_copy(v) for v in value]
    return value


def public(res: dict[str, Any]) -> dict[str, Any]:
    """A deep copy without sandbox-private keys: what a GET returns (safe to encode outside the app lock)."""
    return {k: json_copy(v) for k, v in res.items() if k != PRIVATE}


def private(res: dict[str, Any]) -> dict[str, Any]:
    return res.setdefault(PRIVATE, {})
