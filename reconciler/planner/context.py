"""Everything one planning pass reads, in one immutable object, plus small lookups shared by the modules."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from reconciler.model.observed import Observed, norm_id
from reconciler.spec.desired import DesiredState


@dataclass(frozen=True)
class Context:
    desired: DesiredState
    observed: Observed
    now: datetime
    reference: bool = False  # the straightforward path, for tests (planner.core.plan)

    @property
    def owner_tag(self) -> tuple[str, str]:
        return self.desired.settings.ownership_tag

    def owned(self, resource) -> bool:
        """Ours: carries the ownership tag with our value. Only owned resources are ever deleted."""
        name, value = self.owner_tag
        return (resource.tags or {}).get(name) == value

    def find(self, collection: str, resource_id: str):
        return getattr(self.observed, collection).get(norm_id(resource_id))


def leaf(resource_id: str | None) -> str:
    return (resource_id or "").rstrip("/").rsplit("/", 1)[-1]
