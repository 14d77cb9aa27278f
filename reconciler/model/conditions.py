"""Conditions, as Flux reports them: one small, uniform status vocabulary for every object we reconcile.

A condition is a (type, status) pair with a machine-readable reason code, a human message and the time the
status last changed. Consumers (``reconcile status``, ``/status``, metrics, notifications) read the reason
code, never the message, so the wording can change without changing a decision.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any


class ConditionType(StrEnum):
    READY = "Ready"
    RECONCILING = "Reconciling"
    STALLED = "Stalled"
    REPLICATED = "Replicated"  # image versions: present in every target region
    ACCEPTED = "Accepted"  # image versions: proven on a validation pool


class ConditionStatus(StrEnum):
    TRUE = "True"
    FALSE = "False"
    UNKNOWN = "Unknown"


class ObjectKind(StrEnum):
    HOST_POOL = "host-pool"
    IMAGE_VERSION = "image-version"
    IMAGE_BUILD = "image-build"


class Reason(StrEnum):
    CONVERGED = "Converged"
    ROLLOUT_IN_PROGRESS = "RolloutInProgress"
    CHANGES_PENDING = "ChangesPending"
    ROLLOUT_HALTED = "RolloutHalted"
    VERSION_QUARANTINED = "VersionQuarantined"
    NOT_FOUND = "NotFound"
    REPLICATED = "ReplicatedToAllRegions"
    REPLICATION_PENDING = "ReplicationPending"
    ACCEPTANCE_TAGGED = "AcceptanceTagged"
    ACCEPTANCE_NOT_OBSERVABLE = "AcceptanceNotObservable"
    BUILD_SUCCEEDED = "BuildSucceeded"
    BUILD_RUNNING = "BuildRunning"
    BUILD_FAILED = "BuildFailed"
    NOT_STALLED = "NotStalled"


@dataclass(frozen=True)
class Condition:
    type: ConditionType
    status: ConditionStatus
    reason: Reason
    message: str
    last_transition: datetime

    def to_json(self) -> dict[str, Any]:
        return {
            "type": self.type.value,
            "status": self.status.value,
            "reason": self.reason.value,
            "message": self.message,
            "lastTransitionTime": self.last_transition.isoformat(),
        }


@dataclass(frozen=True)
class ObjectConditions:
    """The conditions of one reconciled object, keyed by what it is and its name."""

    kind: ObjectKind
    name: str
    conditions: tuple[Condition, ...]

    def get(self, type_: ConditionType) -> Condition | None:
        return next((c for c in self.conditions if c.type is type_), None)

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind.value,
            "name": self.name,
            "conditions": [c.to_json() for c in self.conditions],
        }


ConditionSet = tuple[ObjectConditions, ...]
