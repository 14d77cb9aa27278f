"""Which version a pool rolls back to: a pure decision over (desired, observed), for `reconcile rollback`.

The abandoned version is the one the pool's pin resolves to now. The target, in order:
1. the version named with `--to` (declared for the pool's definition, published, not the abandoned one);
2. the version the pool last ran fully (its `avd-reconciler-rolled-out` tag), when that is not the abandoned
   one: the promotion is still under way or just finished on a version that turned out bad;
3. the newest declared version older than the abandoned one that Azure holds as Succeeded and that is not
   quarantined on the pool.
Whatever is chosen is pinned explicitly: an explicit pin is what keeps the pool off the abandoned version
(and off `latest`) until a reviewed change moves it again.
"""

from __future__ import annotations

from dataclasses import dataclass

from reconciler.model.rollout import POOL_QUARANTINE_TAG, parse_quarantine
from reconciler.model.tags import ROLLED_OUT_TAG, parse_rolled_out


class RollbackError(ValueError):
    """No version to roll back to, or the one asked for cannot be used; `str()` says why."""


@dataclass(frozen=True)
class RollbackChoice:
    pool: str
    abandoned: str | None  # version name the pin resolves to now (None: it resolves to nothing)
    target: str  # version name to pin
    why: str  # how the target was chosen, for the output and the commit message


def choose_rollback(desired, observed, pool_name: str, to: str | None = None) -> RollbackChoice:
    pool = desired.host_pool(pool_name)
    if pool is None:
        names = ", ".join(sorted(p.name for p in desired.host_pools)) or "none"
        raise RollbackError(f"no HostPool named {pool_name!r} in desired state (pools: {names})")
    declared = desired.versions_of(pool.definition)
    current = desired.resolve_pin(pool)
    abandoned = current.name if current else None

    def published(version) -> bool:
        seen = observed.get(version.arm_id)
        return seen is not None and getattr(seen, "provisioning_state", None) == "Succeeded"

    if to is not None:
        chosen = next((v for v in declared if v.name == to), None)
        if chosen is None:
            raise RollbackError(f"{to} is not a declared ImageVersion of {pool.definition.key}")
        if to == abandoned:
            raise RollbackError(f"{pool_name} is already pinned to {to}")
        if not published(chosen):
            raise RollbackError(f"{pool.definition.key}/{to} is not published (Succeeded) in Azure")
        return RollbackChoice(pool_name, abandoned, to, f"asked for {to}")

    seen_pool = observed.get(pool.arm_id)
    tags = dict(getattr(seen_pool, "tags", None) or {})
    rolled = parse_rolled_out(tags.get(ROLLED_OUT_TAG))
    quarantined = parse_quarantine(tags.get(POOL_QUARANTINE_TAG))
    by_id = {v.arm_id.lower(): v for v in declared}
    if rolled and rolled[0] in by_id and by_id[rolled[0]].name != abandoned and published(by_id[rolled[0]]):
        name = by_id[rolled[0]].name
        return RollbackChoice(pool_name, abandoned, name, f"the version {pool_name} last ran fully ({name})")
    older = [
        v
        for v in declared
        if (current is None or v.sort_key < current.sort_key)
        and published(v)
        and not (quarantined and quarantined[0] == v.arm_id.lower())
    ]
    if not older:
        raise RollbackError(
            f"{pool_name}: no published version of {pool.definition.key} older than {abandoned or 'its pin'}; "
            "name one with --to"
        )
    name = older[-1].name
    return RollbackChoice(
        pool_name, abandoned, name, f"the newest published version before {abandoned} ({name})"
    )
