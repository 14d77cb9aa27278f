"""The changes a version must be through before anything uses it (a pin, new hosts, a build from it).

Nothing pins a pool to, creates hosts from, or builds from a version still being made, replicated, or repaired
after a failed write: Azure shows such a version `Creating`/`Updating`/`Failed`, not `Succeeded`. Keys that
name no change in the plan are dropped by the graph (the version is already usable).
"""

from __future__ import annotations

from reconciler.model.plan import Action, change_key

VERSION_READY_ACTIONS = (Action.CREATE, Action.BUILD, Action.UPDATE, Action.ADOPT, Action.REPLICATE)


def version_deps(version_id: str) -> tuple[str, ...]:
    return tuple(change_key(a, version_id) for a in VERSION_READY_ACTIONS)
