"""The JSON patches of the two shapes the planner diffs most, written directly: what `jsonpatch.make_patch`
gives for them, without its general machinery (list matching, moves), which costs ~100 µs a patch.

Each function answers None when its case does not apply; the caller then asks jsonpatch. jsonpatch tells
values apart by their JSON (`json.dumps`), so 1, 1.0 and True differ, and so do these.
"""

from __future__ import annotations

import copy
import json
from typing import Any

_ONE_FORM = (str, int, bool, type(None))  # equal values of one of these types have one JSON form (not floats)
_JSON_TYPES = (dict, list, str, int, float, bool, type(None))


def _same_json(a: Any, b: Any) -> bool:
    if type(a) is type(b) and type(a) in _ONE_FORM and a == b:
        return True
    return json.dumps(a) == json.dumps(b)


def _escape(key: str) -> str:
    return key.replace("~", "~0").replace("/", "~1")


def members_patch(before: dict[str, Any], after: dict[str, Any]) -> list[dict[str, Any]] | None:
    """The patch (in no set order) when every member of `before` is in `after`, at every depth, and no list
    differs, as when `before` is an observed resource projected onto the desired body `after`: jsonpatch
    then adds the missing members and replaces the differing values, nothing else (no removal, so no move)."""
    ops: list[dict[str, Any]] = []
    try:
        return ops if _member_ops(before, after, "", ops) else None
    except (TypeError, ValueError):  # not JSON: jsonpatch raises its own error
        return None


def _member_ops(src: dict[str, Any], dst: dict[str, Any], path: str, ops: list[dict[str, Any]]) -> bool:
    if any(key not in dst for key in src):
        return False
    for key, new in dst.items():
        if type(key) is not str or type(new) not in _JSON_TYPES:
            return False
        where = f"{path}/{_escape(key)}"
        if key not in src:
            ops.append({"op": "add", "path": where, "value": copy.deepcopy(new)})
            continue
        old = src[key]
        if type(old) not in _JSON_TYPES:
            return False
        if type(old) is dict and type(new) is dict:
            if not _member_ops(old, new, where, ops):
                return False
        elif type(old) is list and type(new) is list:
            if not _same_json(old, new):
                return False  # a list that differs: jsonpatch matches its items up
        elif not _same_json(old, new):
            ops.append({"op": "replace", "path": where, "value": copy.deepcopy(new)})
    return True


def regions_patch(
    before: list[dict[str, Any]], after: list[dict[str, Any]], path: str
) -> list[dict[str, Any]] | None:
    """The patch of two documents that differ only in the region list at `path` (the replicate change's),
    when both lists name the same regions in the same order with the same scalar fields (the usual
    replica-count or excludeFromLatest change): jsonpatch then pairs the regions by position (their names
    being unique, no other pairing matches equal items) and replaces each field that differs, in order."""
    names = [r.get("name") for r in before]
    if names != [r.get("name") for r in after] or None in names or len(set(names)) != len(names):
        return None
    ops = []
    for i, (old, new) in enumerate(zip(before, after, strict=True)):
        if old.keys() != new.keys():
            return None
        for key, value in old.items():
            wanted = new[key]
            if type(value) not in _JSON_TYPES[2:] or type(wanted) not in _JSON_TYPES[2:]:
                return None
            if not _same_json(value, wanted):
                ops.append({"op": "replace", "path": f"{path}/{i}/{_escape(key)}", "value": wanted})
    return ops
