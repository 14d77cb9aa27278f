"""The dependency graph of a plan: topological order and the waves apply may run in parallel.

Edges come from each change's `depends_on` (keys of other changes). Keys that name no change in this plan
are dropped: the dependency is already satisfied in Azure (e.g. "create gallery" when the gallery exists).
A build change also answers to "build <version id>" for the version it produces, so a pin can depend on
the build without knowing the template's hashed name. Order is deterministic: within a wave, by
(action rank, resource id) — the order gallery → definition → build → version → replication → pin → roll →
retention follows from the edges, and the rank only breaks ties readably.
"""

from __future__ import annotations

from dataclasses import replace

from reconciler.model.plan import Action, Change, change_key

RANK = {
    Action.ADOPT: 0,
    Action.CREATE: 1,
    Action.REPLACE: 2,
    Action.UPDATE: 3,
    Action.BUILD: 4,
    Action.REPLICATE: 5,
    Action.PIN: 6,
    Action.ROLL: 7,
    Action.DEPRECATE: 8,
    Action.DELETE: 9,
    Action.NO_OP: 10,
}


class CycleError(ValueError):
    pass


def _resolve(changes: list[Change]) -> list[Change]:
    keys = {c.key: c.key for c in changes}
    for c in changes:
        produces = c.details.get("produces")
        if c.action is Action.BUILD and produces:
            keys.setdefault(change_key(Action.BUILD, produces), c.key)
    out = []
    for c in changes:
        deps = sorted({keys[d] for d in c.depends_on if d in keys and keys[d] != c.key})
        out.append(replace(c, depends_on=tuple(deps)))
    return out


def order(changes: list[Change]) -> tuple[tuple[Change, ...], tuple[tuple[str, ...], ...]]:
    """(changes in dependency order, waves of keys). Raises CycleError naming the changes in a cycle."""
    resolved = _resolve(changes)
    by_key = {c.key: c for c in resolved}
    pending = {c.key: set(c.depends_on) for c in resolved}
    ordered: list[Change] = []
    levels: list[tuple[str, ...]] = []
    done: set[str] = set()
    while pending:
        ready = [k for k, deps in pending.items() if deps <= done]
        if not ready:
            raise CycleError("dependency cycle between: " + ", ".join(sorted(pending)))
        ready.sort(key=lambda k: (RANK[by_key[k].action], by_key[k].resource_id.lower()))
        levels.append(tuple(ready))
        for k in ready:
            ordered.append(by_key[k])
            done.add(k)
            del pending[k]
    return tuple(ordered), tuple(levels)


def independent_branches(changes: tuple[Change, ...]) -> list[list[str]]:
    """Connected components of the dependency graph (as sorted key lists): branches apply can run apart."""
    parent = {c.key: c.key for c in changes}

    def find(k: str) -> str:
        while parent[k] != k:
            parent[k] = parent[parent[k]]
            k = parent[k]
        return k

    for c in changes:
        for d in c.depends_on:
            if d in parent:
                parent[find(d)] = find(c.key)
    groups: dict[str, list[str]] = {}
    for c in changes:
        groups.setdefault(find(c.key), []).append(c.key)
    return sorted(sorted(g) for g in groups.values())
