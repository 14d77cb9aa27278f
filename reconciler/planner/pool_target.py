"""What apply needs to converge one pool's session hosts, carried in the plan so a saved plan is
self-contained: the pool, the version its pin resolves to and its gate pool (JSON round trip, secrets never)."""

from __future__ import annotations

import json
from dataclasses import dataclass

from reconciler.planner.acceptance import AcceptancePlan, acceptance_plan_of


@dataclass(frozen=True)
class PoolTarget:
    """What apply needs to converge one pool's session hosts, self-contained so a saved plan carries it:
    the pool (identity, location, tags, spec), the version id its pin resolves to, and its gate pool's id."""

    pool: object  # reconciler.spec.state.HostPool (rebuilt from details: no source position)
    version_id: str | None
    gate_pool_id: str | None
    # The suite the version must pass (None: none declared), and whether this pool runs it (validation).
    acceptance: AcceptancePlan | None = None
    validation: bool = False

    def to_details(self) -> dict:
        p = self.pool
        details = {
            "pool": {
                "name": p.name,
                "subscription_id": p.subscription_id,
                "resource_group": p.resource_group,
                "location": p.location,
                "tags": dict(p.tags),
                "spec": p.spec.model_dump(mode="json", by_alias=True, exclude_none=True),
            },
            "version_id": self.version_id,
            "gate_pool_id": self.gate_pool_id,
        }
        if self.acceptance is not None:  # only then: a plan without a suite stays as it was
            details["acceptance"] = {**self.acceptance.to_json(), "validation": self.validation}
        # JSON-native, so a saved plan round-trips exactly. Renderers redact any key named "password", so
        # the Key Vault *references* (never secrets) travel under another name.
        return _as_json(details, TO_PLAN)

    @classmethod
    def from_details(cls, details: dict) -> PoolTarget:
        from reconciler.spec.models.host_pool import HostPoolSpec
        from reconciler.spec.state import HostPool

        d = _as_json(details, {v: k for k, v in TO_PLAN.items()})["pool"]
        pool = HostPool(
            raw=None,
            name=d["name"],
            subscription_id=d["subscription_id"],
            resource_group=d["resource_group"],
            location=d["location"],
            tags=dict(d.get("tags") or {}),
            spec=HostPoolSpec.model_validate(d["spec"]),
        )
        acceptance = details.get("acceptance")
        return cls(
            pool,
            details.get("version_id"),
            details.get("gate_pool_id"),
            AcceptancePlan.from_json(acceptance) if acceptance else None,
            bool(acceptance and acceptance.get("validation")),
        )

    @classmethod
    def of(cls, desired, pool) -> PoolTarget:
        target = desired.resolve_pin(pool)
        after = desired.host_pool(pool.gate_after) if pool.gate_after else None
        return cls(
            pool,
            target.arm_id if target else None,
            after.arm_id if after else None,
            acceptance_plan_of(pool, target),
            desired.is_validation(pool),
        )


TO_PLAN = {"password": "passwordRef", "keyVaultSecret": "keyVaultSecretRef"}


_AS_IS = frozenset({str, int, float, bool, type(None)})  # what JSON gives back as it is (exact types only)


def _as_json(data, names: dict[str, str]):
    """`data` as `json.loads(json.dumps(data))` gives it back, keys renamed by `names`, in one walk: every roll
    carries its pool's whole spec, and the text round trip was most of the cost. What is not plain JSON
    already (a key that is not a str, a str or int subclass, any other type) still takes the round trip."""
    kind = type(data)
    if kind in _AS_IS:
        return data
    if kind is list or kind is tuple:
        return [_as_json(v, names) for v in data]
    if kind is dict and all(type(k) is str for k in data):
        return {names.get(k, k): _as_json(v, names) for k, v in data.items()}
    return _as_json(json.loads(json.dumps(data)), names)  # plain JSON now: one more walk
