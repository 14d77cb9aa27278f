"""Rollout preview data: which session hosts are replaced in which batch, and what waits before it starts.

Pure data, serialised inside a Plan (see README.md). Built by reconciler.planner.rollout from the simulated
timeline of apply's own decision (reconciler.planner.timeline).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class HostRef:
    """A session host as the preview shows it: name, current image version, sessions, status."""

    name: str
    version: str | None
    sessions: int
    status: str

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "version": self.version, "sessions": self.sessions, "status": self.status}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> HostRef:
        return cls(d["name"], d.get("version"), int(d.get("sessions", 0)), d.get("status", ""))


@dataclass(frozen=True)
class BatchPreview:
    """One wave of retirements in the simulated rollout: the hosts `decide()` retired in one cycle, at `at`
    (simulated time, ISO 8601), and why (`replaced`: a new host took its place; `count`: the pool shrinks).
    `available_before` counts Available hosts when the wave starts; `available_min` is the lowest Available
    count until the next wave (or the end); `peak_total` the most VMs that existed at once in that span."""

    index: int
    hosts: tuple[HostRef, ...]
    sessions_affected: int
    available_before: int
    available_min: int
    peak_total: int
    at: str | None = None
    reason: str = "replaced"

    def to_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "at": self.at,
            "reason": self.reason,
            "hosts": [h.to_dict() for h in self.hosts],
            "sessions_affected": self.sessions_affected,
            "available_before": self.available_before,
            "available_min": self.available_min,
            "peak_total": self.peak_total,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> BatchPreview:
        return cls(
            index=int(d["index"]),
            hosts=tuple(HostRef.from_dict(h) for h in d.get("hosts", [])),
            sessions_affected=int(d["sessions_affected"]),
            available_before=int(d["available_before"]),
            available_min=int(d["available_min"]),
            peak_total=int(d["peak_total"]),
            at=d.get("at"),
            reason=d.get("reason", "replaced"),
        )


TOTALS = ("created", "replaced", "deleted", "drained", "messaged", "messages", "logged_off")


@dataclass(frozen=True)
class RolloutPreview:
    """The whole simulated rollout of one host pool (reconciler.planner.timeline runs apply's `decide()`).

    `now` lists the writes apply's first cycle makes from this observation (op, host, version), in order.
    `batches` are the waves of retirements of the simulated timeline; `totals` counts every write of the
    whole rollout (hosts created, replaced, deleted, drained; users messaged, logged off). `end` is how the
    simulation ended (converged | halted | blocked | bound) and `end_why` why it stopped short;
    `finished_at` the simulated time of its last cycle; `assumptions` what it had to assume (replication
    done, a gate opening). `window_start`/`window_end` (ISO 8601, UTC) name the maintenance window the
    rollout waits for, or are None when the pool has no windows or one is open now. `gate` describes a ring
    gate (`after`, `soak_seconds`, `satisfied`, `waits_until`, `reason`) or is empty. `blocked` lists reasons
    the rollout cannot start now (informational, the plan still contains the change).
    """

    pool_id: str
    pool: str
    from_versions: tuple[str, ...]
    to_version: str
    strategy: str
    batch_size: int
    surge: int
    floor_percent: int
    floor_hosts: int
    target_count: int
    batches: tuple[BatchPreview, ...]
    window_start: str | None = None
    window_end: str | None = None
    gate: dict[str, Any] = field(default_factory=dict)
    blocked: tuple[str, ...] = ()
    now: tuple[dict[str, Any], ...] = ()
    totals: dict[str, int] = field(default_factory=dict)
    min_available: int | None = None
    peak_vms: int | None = None
    end: str = "converged"
    end_why: str = ""
    finished_at: str | None = None
    assumptions: tuple[str, ...] = ()
    # The version's acceptance as this pool sees it (`role` runs | waits, `host`, `tests`, `state`, `why`);
    # empty when its definition declares no suite.
    acceptance: dict[str, Any] = field(default_factory=dict)

    @property
    def sessions_affected(self) -> int:
        return sum(b.sessions_affected for b in self.batches)

    def to_dict(self) -> dict[str, Any]:
        return {
            "pool_id": self.pool_id,
            "pool": self.pool,
            "from_versions": list(self.from_versions),
            "to_version": self.to_version,
            "strategy": self.strategy,
            "batch_size": self.batch_size,
            "surge": self.surge,
            "floor_percent": self.floor_percent,
            "floor_hosts": self.floor_hosts,
            "target_count": self.target_count,
            "batches": [b.to_dict() for b in self.batches],
            "sessions_affected": self.sessions_affected,
            "window_start": self.window_start,
            "window_end": self.window_end,
            "gate": dict(self.gate),
            "blocked": list(self.blocked),
            "now": [dict(s) for s in self.now],
            "totals": dict(self.totals),
            "min_available": self.min_available,
            "peak_vms": self.peak_vms,
            "end": self.end,
            "end_why": self.end_why,
            "finished_at": self.finished_at,
            "assumptions": list(self.assumptions),
            **({"acceptance": dict(self.acceptance)} if self.acceptance else {}),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> RolloutPreview:
        return cls(
            pool_id=d["pool_id"],
            pool=d["pool"],
            from_versions=tuple(d.get("from_versions", [])),
            to_version=d["to_version"],
            strategy=d["strategy"],
            batch_size=int(d["batch_size"]),
            surge=int(d.get("surge", 0)),
            floor_percent=int(d["floor_percent"]),
            floor_hosts=int(d["floor_hosts"]),
            target_count=int(d["target_count"]),
            batches=tuple(BatchPreview.from_dict(b) for b in d.get("batches", [])),
            window_start=d.get("window_start"),
            window_end=d.get("window_end"),
            gate=dict(d.get("gate") or {}),
            blocked=tuple(d.get("blocked", [])),
            now=tuple(dict(s) for s in d.get("now", [])),
            totals={k: int(v) for k, v in (d.get("totals") or {}).items()},
            min_available=d.get("min_available"),
            peak_vms=d.get("peak_vms"),
            end=d.get("end", "converged"),
            end_why=d.get("end_why", ""),
            finished_at=d.get("finished_at"),
            assumptions=tuple(d.get("assumptions", [])),
            acceptance=dict(d.get("acceptance") or {}),
        )


# --- Tags that carry session-host rollout progress (DESIGN.md: progress lives on the Azure resources) --------
# Session hosts are ARM proxy resources without tags, so per-host progress sits on the host's VM; pool-wide
# progress (failures, quarantine, "rolled out") sits on the host pool. Names are flat (no `/` allowed).
HOST_POOL_TAG = "avd-reconciler-pool"  # on a VM: the lower-cased id of the host pool it serves
HOST_CREATED_TAG = "avd-reconciler-created-at"  # on a VM: ISO time it was created (health timeout base)
HOST_ROLLOUT_TAG = "avd-reconciler-rollout"  # on a VM: the rollout id (short hash of the version id)
HOST_REPLACES_TAG = "avd-reconciler-replaces"  # on a VM: the VM name this host replaces
HOST_ASSIGN_TAG = "avd-reconciler-assign"  # on a VM: personal pools, the user the replaced host had
HOST_STAGE_TAG = "avd-reconciler-stage"  # on a VM: vm | join | agent (which extension was last started)
HOST_DRAIN_TAG = "avd-reconciler-drain-at"  # on a VM: ISO time it was put in drain to be retired
HOST_RETIRE_TAG = "avd-reconciler-retire"  # on a VM: why it is retired (replaced | count | rollback)
HOST_MESSAGED_TAG = "avd-reconciler-messaged-at"  # on a VM: ISO time its users were last messaged
HOST_FAILED_TAG = "avd-reconciler-failed"  # on a VM: why it failed (it is being removed, counted once)
# On a VM: ISO time the reconciler sent the AVD agent extension (with its token). The health timeout runs from
# here, never from the VM's creation: until the reconciler has done its part a host cannot be late.
HOST_REGISTERED_TAG = "avd-reconciler-registered-at"
POOL_FAILURES_TAG = "avd-reconciler-failures"  # on a pool: "<n>|<version id>|<last failed VM name>"
POOL_QUARANTINE_TAG = "avd-reconciler-quarantine"  # on a pool: "<version id>|<ISO time>" (failed version)
POOL_LAST_FAILURE_TAG = "avd-reconciler-last-failure"  # on a pool: "<VM>|<check>|<code>|<reason>" (status)
ROLLOUT_TAGS = (
    HOST_POOL_TAG,
    HOST_CREATED_TAG,
    HOST_ROLLOUT_TAG,
    HOST_REPLACES_TAG,
    HOST_ASSIGN_TAG,
    HOST_STAGE_TAG,
    HOST_DRAIN_TAG,
    HOST_RETIRE_TAG,
    HOST_MESSAGED_TAG,
    HOST_FAILED_TAG,
    HOST_REGISTERED_TAG,
)


def rollout_id(version_id: str | None) -> str:
    """A short, stable id for "the rollout of this pool to this version" (tag values are limited to 256)."""
    import hashlib

    if not version_id:
        return ""
    leaf = version_id.rstrip("/").rsplit("/", 1)[-1]
    return f"{leaf}-{hashlib.sha256(version_id.lower().encode()).hexdigest()[:8]}"


def parse_failures(value: str | None) -> tuple[int, str, str]:
    """(count, version id lower-cased, last failed VM name) from POOL_FAILURES_TAG; (0, "", "") if absent."""
    if not value:
        return 0, "", ""
    parts = value.split("|")
    try:
        return int(parts[0]), (parts[1] if len(parts) > 1 else "").lower(), parts[2] if len(parts) > 2 else ""
    except ValueError:
        return 0, "", ""


def parse_quarantine(value: str | None) -> tuple[str, str] | None:
    """(version id lower-cased, ISO time) from POOL_QUARANTINE_TAG, or None."""
    if not value:
        return None
    version_id, _, when = value.partition("|")
    return version_id.lower(), when


# --- Why a new host failed (structured, so status names each failed host and its cause) ----------------------
FAILURE_CHECKS = ("provisioning", "extension", "timeout")  # closed vocabulary: decisions read `check`


@dataclass(frozen=True)
class HostFailure:
    """Why one new host counts as failed. `check` is one of FAILURE_CHECKS: `provisioning` (the VM create
    failed; `code` is ARM's error code when observable), `extension` (`extension` names it; `code`/`message`
    from its status when observable), `timeout` (the agent was sent but the host was not Available within
    the health timeout). `text` is the readable sentence status and outcomes show."""

    check: str
    code: str | None = None
    message: str | None = None
    extension: str | None = None
    timeout: str | None = None  # the health timeout, as text, for `timeout`

    @property
    def text(self) -> str:
        if self.check == "provisioning":
            cause = f"{self.code}: {self.message}" if self.code and self.message else (self.code or "")
            return "VM provisioning failed" + (f" ({cause})" if cause else "")
        if self.check == "extension":
            cause = (
                f"{self.code}: {self.message}" if self.code and self.message else (self.code or self.message)
            )
            return f"extension {self.extension} failed" + (f" ({cause})" if cause else "")
        return f"not Available within the health timeout ({self.timeout}) after the AVD agent was sent"

    def to_tag(self) -> str:
        """Tag value (<= 256 characters): check|code|extension|readable text."""
        return "|".join((self.check, self.code or "", self.extension or "", self.text.replace("|", "/")))[
            :256
        ]

    @classmethod
    def from_tag(cls, value: str | None) -> tuple[HostFailure | None, str]:
        """(failure, readable text) from a HOST_FAILED_TAG value; older free-text values keep their text."""
        if not value:
            return None, ""
        parts = value.split("|", 3)
        if len(parts) == 4 and parts[0] in FAILURE_CHECKS:
            return cls(parts[0], parts[1] or None, None, parts[2] or None), parts[3]
        return None, value


def parse_last_failure(value: str | None) -> dict[str, str | None] | None:
    """{"host", "check", "code", "extension", "reason"} from POOL_LAST_FAILURE_TAG, or None."""
    if not value or "|" not in value:
        return None
    vm, _, rest = value.partition("|")
    failure, text = HostFailure.from_tag(rest)
    return {
        "host": vm,
        "check": failure.check if failure else None,
        "code": failure.code if failure else None,
        "extension": failure.extension if failure else None,
        "reason": text,
    }
