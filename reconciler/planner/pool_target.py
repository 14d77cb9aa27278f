"""What apply needs to converge one pool's session hosts, carried in the plan so a saved plan is
self-contained: the pool, the version its pin resolves to and its gate pool (JSON round trip, secrets never)."""

from __future__ import annotations

import json
from dataclasses import dataclass


@dataclass(frozen=True)
class PoolTarget:
    """What apply needs to converge one pool's session hosts, self-contained so a saved plan carries it:
    the pool (identity, location, tags, spec), the version id its pin resolves to, and its gate pool's id."""

    pool: object  # reconciler.spec.state.HostPool (rebuilt from details: no source position)
    version_id: str | None
    gate_pool_id: str | None

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
        # JSON-native, so a saved plan round-trips exactly. Renderers redact any key named "password", so
        # the Key Vault *references* (never secrets) travel under another name.
        return _rename_keys(json.loads(json.dumps(details)), TO_PLAN)

    @classmethod
    def from_details(cls, details: dict) -> PoolTarget:
        from reconciler.spec.models.host_pool import HostPoolSpec
        from reconciler.spec.state import HostPool

        d = _rename_keys(details, {v: k for k, v in TO_PLAN.items()})["pool"]
        pool = HostPool(
            raw=None,
            name=d["name"],
            subscription_id=d["subscription_id"],
            resource_group=d["resource_group"],
            location=d["location"],
            tags=dict(d.get("tags") or {}),
            spec=HostPoolSpec.model_validate(d["spec"]),
        )
        return cls(pool, details.get("version_id"), details.get("gate_pool_id"))

    @classmethod
    def of(cls, desired, pool) -> PoolTarget:
        target = desired.resolve_pin(pool)
        after = desired.host_pool(pool.gate_after) if pool.gate_after else None
        return cls(pool, target.arm_id if target else None, after.arm_id if after else None)


TO_PLAN = {"password": "passwordRef", "keyVaultSecret": "keyVaultSecretRef"}


def _rename_keys(data, names: dict[str, str]):
    if isinstance(data, dict):
        return {names.get(k, k): _rename_keys(v, names) for k, v in data.items()}
    if isinstance(data, list):
        return [_rename_keys(v, names) for v in data]
    return data
