"""What an observed resource keeps of its REST body (`raw`), and how: the fingerprint's fields only
(`essentials`), registration tokens never, equal values of many resources as one object (`SHARED`,
`compact`), and the base fields every Observed* starts from (`base_fields`). Pure functions, no SDK types."""

from __future__ import annotations

import sys
from types import MappingProxyType
from typing import Any

from reconciler.azure.sharing import Sharing
from reconciler.model.fingerprint import (
    FINGERPRINT_FIELDS,
    HOST_POOL,
    IMAGE_VERSION,
    SESSION_HOST,
    VIRTUAL_MACHINE,
)
from reconciler.model.observed import EMPTY, leaf_name


def _no_token(raw: dict[str, Any]) -> dict[str, Any]:
    """Registration tokens removed (GET should not return them; never trust that)."""
    props = raw.get("properties")
    if isinstance(props, dict) and isinstance(props.get("registrationInfo"), dict):
        info = {k: v for k, v in props["registrationInfo"].items() if k.lower() != "token"}
        raw = {**raw, "properties": {**props, "registrationInfo": info}}
    return raw


# What an observed resource keeps of its REST body once converted (its `raw`): the fields that count toward
# its fingerprint, which are also every field a desired body sets (planner/bodies.py), so the planner's diff
# (the observed body projected onto the desired one) and the fingerprints read the very values they read
# from the whole body. Everything else (status, health checks, timestamps, OS disks, replication) is a typed
# field where something reads it, else dropped: the large estate's bodies were ~100 MB of a 390 MB plan.
_KEPT: dict[str, tuple[tuple[str, ...], ...]] = {
    arm_type: tuple(tuple(path.split(".")) for path in paths)
    for arm_type, paths in FINGERPRINT_FIELDS.items()
}
_KEPT[HOST_POOL] += (("properties", "registrationInfo"),)  # when the token expires (the token never stays)


def essentials(raw: dict[str, Any], arm_type: str) -> dict[str, Any]:
    """The paths `_KEPT` names for `arm_type`, with their values as they are (shared, not copied)."""
    out: dict[str, Any] = {}
    for parts in _KEPT[arm_type]:
        src, dst = raw, out
        for part in parts[:-1]:
            if part not in src:
                break
            src = src[part]
            if not isinstance(src, dict):
                dst.setdefault(part, src)  # a null where an object belongs: kept, the diff sees it
                break
            child = dst.setdefault(part, {})
            if not isinstance(child, dict):
                break
            dst = child
        else:
            if parts[-1] in src:
                dst[parts[-1]] = src[parts[-1]]
    return out


# Equal values of many resources become one object (reconciler.azure.sharing): observe() clears the table
# when its snapshot is built.
SHARED = Sharing()

# Kept paths whose values are each resource's own (GUIDs, names, ids): a table entry each would buy nothing.
# The session host's two are replaced by its VM's equal strings when the two are joined (with_vm).
_OWN: dict[str, frozenset[tuple[str, ...]]] = {
    VIRTUAL_MACHINE: frozenset({("properties", "vmId"), ("properties", "osProfile", "computerName")}),
    SESSION_HOST: frozenset({("properties", "resourceId"), ("properties", "virtualMachineId")}),
    IMAGE_VERSION: frozenset({("properties", "storageProfile", "source")}),
}
assert all(paths <= set(_KEPT[t]) for t, paths in _OWN.items())  # so every dict compact() enters is ours
# The dicts essentials() builds on the way to an own value: compact() shares inside them, not them whole.
_OWN_PARENTS = {t: frozenset(p[:i] for p in paths for i in range(1, len(p))) for t, paths in _OWN.items()}


def compact(kept: dict[str, Any], arm_type: str) -> dict[str, Any]:
    """`kept` (essentials(), so its containers on the way to a kept path are new) with every value shared
    (`SHARED`) but the resource's own ones; changed in place."""
    own, parents = _OWN.get(arm_type, frozenset()), _OWN_PARENTS.get(arm_type, frozenset())

    def walk(node: dict[str, Any], path: tuple[str, ...]) -> None:
        for key, value in node.items():
            at = (*path, key)
            if at in own:
                continue
            if at in parents and type(value) is dict:
                walk(value, at)
            else:
                node[key] = SHARED(value)

    walk(kept, ())
    return kept


def base_fields(raw: dict[str, Any], arm_type: str) -> dict[str, Any]:
    # The token goes before anything is shared, so it never enters the table either.
    kept = compact(_no_token(essentials(raw, arm_type)), arm_type)
    tags = kept.get("tags") if "tags" in kept else raw.get("tags")
    return {
        "id": raw.get("id", ""),
        "name": leaf_name(raw.get("name") or raw.get("id")),
        "tags": SHARED.proxy(SHARED(tags)) if tags else EMPTY,
        "raw": MappingProxyType(kept),
    }


def shared_id(key: str | None) -> str | None:
    """One copy of an id many resources name (a pool's 50 hosts, a definition's 10 versions, the version
    15,000 VMs run): interned, as the snapshot would otherwise hold one string per resource."""
    return sys.intern(key) if key else key
