"""A plan is data: a closed set of actions, each change explained, ordered and fingerprinted.

Nothing here decides anything. The planner builds a `Plan`; renderers print it; apply executes it and, before
doing so, recomputes the fingerprints of the observed resources each change depends on and refuses the plan
if any differ (a stale plan). The JSON form is versioned (`format_version`) and documented in README.md;
`Plan.from_dict(plan.to_dict()) == plan` holds for every plan.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from reconciler.model.rollout import RolloutPreview

# 2: fingerprints cover configuration only (reconciler.model.fingerprint) and `fingerprint_fields` names the
# fields; a format 1 plan's fingerprints hashed runtime fields too, so it cannot be checked and is refused.
FORMAT_VERSION = 2


class Action(StrEnum):
    """What a change does. `adopt` adds our ownership tag to a matching resource we did not create."""

    CREATE = "create"
    UPDATE = "update"
    REPLACE = "replace"
    DELETE = "delete"
    REPLICATE = "replicate"
    BUILD = "build"
    PIN = "pin"
    ROLL = "roll"
    DEPRECATE = "deprecate"
    ADOPT = "adopt"
    NO_OP = "no-op"

    @property
    def past(self) -> str:
        """The verb as a person reads it after the fact: "adopted", "built", "pinned" (never "adoptd")."""
        return _PAST[self]


_PAST = {
    Action.CREATE: "created",
    Action.UPDATE: "updated",
    Action.REPLACE: "replaced",
    Action.DELETE: "deleted",
    Action.REPLICATE: "replicated",
    Action.BUILD: "built",
    Action.PIN: "pinned",
    Action.ROLL: "rolled",
    Action.DEPRECATE: "deprecated",
    Action.ADOPT: "adopted",
    Action.NO_OP: "unchanged",
}


class ChangeReason(StrEnum):
    """Why a change is planned, as a code (Terraform's plan has them): what reads a plan decides from this,
    never from `reason`'s words. Codes that name a field carry it after a colon (`drift:/properties/x`)."""

    MISSING = "missing"  # declared, does not exist: create (or build)
    DRIFT = "drift"  # differs from desired: update (`drift:<paths>`)
    IMMUTABLE = "immutable"  # a field that cannot change in place: replace (`immutable:<fields>`)
    UNOWNED = "unowned"  # exists without our ownership tag: adopt
    NOT_DECLARED = "not-declared"  # ours, no longer declared: delete
    RETENTION = "retention"  # the retention policy deprecates or deletes a version
    PROTECTED = "protected"  # retention would remove it, but it is in use or not ours
    SKIP_CREATE = "skip-create"  # declared, but retention would retire it at once
    BUILDING = "building"  # an image build is running
    QUEUED = (
        "queued"  # a build waits for a free slot: Settings builds.maxConcurrent runs at once per subscription
    )
    REPAIR = "repair"  # left Failed by a failed operation: the desired body is sent again
    REGIONS = "regions"  # target regions, replica counts or a failed replication to redo
    PIN_MOVED = "pin-moved"  # a pool's pin moves to a newer version (and its hosts follow)
    ROLLBACK = "rollback"  # a pool's pin moves back to an older version (and its hosts follow)
    COUNT_UP = "count-up"  # fewer session hosts than `count`
    COUNT_DOWN = "count-down"  # more session hosts than `count`
    GHOSTS = "ghosts"  # session hosts whose VM is gone
    RETIRING = "retiring"  # half-retired or failed hosts to finish
    REGISTERING = "registering"  # hosts not registered yet
    RECORD_ROLLED_OUT = "record-rolled-out"  # stamp the pool as running its pin (ring gates read it)
    TEST_VM = "test-vm"  # an acceptance test VM that tests nothing current: delete it
    RELEASE_DUE = (
        "release-due"  # a build's trigger fired: a note, `reconcile release` writes the version to git
    )
    RELEASE_BLOCKED = (
        "release-blocked"  # a build is due but its version cannot be released: a note, why and how
    )


def coded(reason: ChangeReason, *fields: str) -> str:
    """A reason code that names what it is about: `drift:/properties/a,/properties/b`."""
    return f"{reason}:{','.join(fields)}" if fields else str(reason)


class Severity(StrEnum):
    WARNING = "warning"
    ERROR = "error"


@dataclass(frozen=True)
class Change:
    """One planned action on one resource.

    `key` is unique within a plan ("<action> <resource id, lower-cased>") and is what `depends_on` refers to.
    `patch` is an RFC 6902 JSON patch from `before` to `after` (updates only); `before`/`after` hold only the
    REST fields the reconciler manages. `reason` explains, it never decides; `reason_code` (a
    :class:`ChangeReason`, maybe with `:<fields>`) is the same why as a code. `fingerprint` is the hash of the
    observed resource JSON this change was computed from ("" when the resource does not exist yet).
    """

    action: Action
    kind: str
    resource_id: str
    reason: str
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None
    patch: list[dict[str, Any]] = field(default_factory=list)
    depends_on: tuple[str, ...] = ()
    fingerprint: str = ""
    details: dict[str, Any] = field(default_factory=dict)
    reason_code: str = ""

    @property
    def key(self) -> str:
        return change_key(self.action, self.resource_id)

    @property
    def name(self) -> str:
        return self.resource_id.rstrip("/").rsplit("/", 1)[-1]

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "action": self.action.value,
            "kind": self.kind,
            "resource_id": self.resource_id,
            "name": self.name,
            "reason": self.reason,
            "reason_code": self.reason_code,
            "before": self.before,
            "after": self.after,
            "patch": list(self.patch),
            "depends_on": list(self.depends_on),
            "fingerprint": self.fingerprint,
            "details": dict(self.details),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Change:
        return cls(
            action=Action(data["action"]),
            kind=data["kind"],
            resource_id=data["resource_id"],
            reason=data["reason"],
            before=data.get("before"),
            after=data.get("after"),
            patch=list(data.get("patch") or []),
            depends_on=tuple(data.get("depends_on") or ()),
            fingerprint=data.get("fingerprint", ""),
            details=dict(data.get("details") or {}),
            reason_code=data.get("reason_code", ""),
        )


def change_key(action: Action, resource_id: str) -> str:
    return f"{action.value} {resource_id.lower()}"


@dataclass(frozen=True)
class Diagnostic:
    """A warning or error found while planning (e.g. an immutable field that cannot be replaced safely)."""

    severity: Severity
    resource_id: str
    message: str
    reason: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "severity": self.severity.value,
            "resource_id": self.resource_id,
            "message": self.message,
            "reason": self.reason,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Diagnostic:
        return cls(Severity(data["severity"]), data["resource_id"], data["message"], data.get("reason", ""))


@dataclass(frozen=True)
class Plan:
    """Changes in dependency order plus what a reviewer needs to judge them.

    `levels` groups change keys into waves: every change in a wave depends only on changes in earlier waves,
    so apply may run a wave's changes in parallel. `fingerprints` maps every observed resource id a change
    depends on (lower-cased) to its hash; apply recomputes them and refuses a stale plan. `fingerprint_fields`
    maps the same ids to a short digest per counting field, so a refusal can say which field changed.
    """

    changes: tuple[Change, ...]
    generated_at: str
    levels: tuple[tuple[str, ...], ...] = ()
    rollouts: tuple[RolloutPreview, ...] = ()
    diagnostics: tuple[Diagnostic, ...] = ()
    fingerprints: dict[str, str] = field(default_factory=dict)
    fingerprint_fields: dict[str, dict[str, str]] = field(default_factory=dict)
    format_version: int = FORMAT_VERSION

    @property
    def actionable(self) -> tuple[Change, ...]:
        return tuple(c for c in self.changes if c.action is not Action.NO_OP)

    @property
    def has_changes(self) -> bool:
        return bool(self.actionable)

    @property
    def has_errors(self) -> bool:
        return any(d.severity is Severity.ERROR for d in self.diagnostics)

    def summary(self) -> dict[str, int]:
        """Counts per action, every action present (zeros included) so consumers need no defaults."""
        counts = {a.value: 0 for a in Action}
        for change in self.changes:
            counts[change.action.value] += 1
        return counts

    def edges(self) -> list[tuple[str, str]]:
        """(dependency, dependent) pairs, sorted."""
        return sorted((dep, c.key) for c in self.changes for dep in c.depends_on)

    def to_dict(self) -> dict[str, Any]:
        return {
            "format_version": self.format_version,
            "generated_at": self.generated_at,
            "summary": self.summary(),
            "changes": [c.to_dict() for c in self.changes],
            "graph": {
                "levels": [list(level) for level in self.levels],
                "edges": [list(e) for e in self.edges()],
            },
            "rollouts": [r.to_dict() for r in self.rollouts],
            "diagnostics": [d.to_dict() for d in self.diagnostics],
            "fingerprints": dict(sorted(self.fingerprints.items())),
            "fingerprint_fields": dict(sorted(self.fingerprint_fields.items())),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Plan:
        version = data.get("format_version")
        if isinstance(version, int) and version < FORMAT_VERSION:
            raise PlanFormatError(
                f"plan format_version {version} was written by an older reconciler and cannot be checked for "
                f"staleness; run `reconcile plan` again"
            )
        if version != FORMAT_VERSION:
            raise PlanFormatError(
                f"unsupported plan format_version {version!r}; this reconciler reads {FORMAT_VERSION}"
            )
        return cls(
            changes=tuple(Change.from_dict(c) for c in data["changes"]),
            generated_at=data["generated_at"],
            levels=tuple(tuple(level) for level in data.get("graph", {}).get("levels", [])),
            rollouts=tuple(RolloutPreview.from_dict(r) for r in data.get("rollouts", [])),
            diagnostics=tuple(Diagnostic.from_dict(d) for d in data.get("diagnostics", [])),
            fingerprints=dict(data.get("fingerprints") or {}),
            fingerprint_fields={k: dict(v) for k, v in (data.get("fingerprint_fields") or {}).items()},
            format_version=version,
        )


class PlanFormatError(ValueError):
    """A saved plan this version cannot read."""
