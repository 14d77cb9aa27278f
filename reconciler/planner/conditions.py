"""Conditions derived once, from what was observed, what the plan still wants and how the cycle ended.

Pure: no I/O, no clock (``now`` is passed in). Every renderer (``reconcile status``, ``/status``, metrics,
notifications) reads the result of :func:`derive_conditions`, so they cannot disagree on a pool's state.
A condition keeps its previous ``last_transition`` while its status is unchanged, as Flux's do.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime

from reconciler.model.conditions import (
    Condition,
    ConditionSet,
    ConditionStatus,
    ConditionType,
    ObjectConditions,
    ObjectKind,
    Reason,
)
from reconciler.model.observed import Observed
from reconciler.model.plan import Action, Plan
from reconciler.model.rollout import POOL_QUARANTINE_TAG, parse_quarantine

T, F, U = ConditionStatus.TRUE, ConditionStatus.FALSE, ConditionStatus.UNKNOWN
_RUNNING_BUILDS = {"running", "canceling"}
_FAILED_BUILDS = {"failed", "canceled", "partiallysucceeded"}


def derive_conditions(
    observed: Observed,
    plan: Plan | None,
    *,
    pool_names: Mapping[str, str],
    halted_pools: Iterable[str] = (),
    previous: ConditionSet = (),
    now: datetime,
) -> ConditionSet:
    """Conditions of every desired host pool (``pool_names``: lower-cased ARM id -> name), every observed
    image version and every observed image build. ``halted_pools``: pool names whose rollout halted or
    rolled back in this cycle's outcomes."""
    pending = _pending_by_resource(plan)
    halted = set(halted_pools)
    derived = [
        *(_pool(observed, pid, name, pending, name in halted) for pid, name in sorted(pool_names.items())),
        *(_version(v, pending) for _, v in sorted(observed.image_versions.items())),
        *(_build(t, pending) for _, t in sorted(observed.image_templates.items())),
    ]
    return tuple(_carry_transitions(obj, previous, now) for obj in derived)


def _pending_by_resource(plan: Plan | None) -> dict[str, list]:
    pending: dict[str, list] = {}
    for change in plan.actionable if plan else ():
        pending.setdefault(change.resource_id.lower(), []).append(change)
    return pending


_Draft = tuple[ConditionType, ConditionStatus, Reason, str]


def _pool(observed: Observed, pool_id: str, name: str, pending: Mapping[str, list], halted: bool):
    pool = next((p for i, p in observed.host_pools.items() if i.lower() == pool_id), None)
    if pool is None:
        msg = "host pool does not exist in Azure yet"
        drafts = [
            (ConditionType.READY, F, Reason.NOT_FOUND, msg),
            (ConditionType.RECONCILING, T, Reason.CHANGES_PENDING, msg),
            (ConditionType.STALLED, F, Reason.NOT_STALLED, ""),
        ]
        return ObjectKind.HOST_POOL, name, drafts
    quarantine = parse_quarantine((pool.tags or {}).get(POOL_QUARANTINE_TAG))
    changes = pending.get(pool_id, [])
    rolling = [c for c in changes if c.action == Action.ROLL]
    if quarantine or halted:
        reason = Reason.VERSION_QUARANTINED if quarantine else Reason.ROLLOUT_HALTED
        msg = f"version {quarantine[0]} quarantined" if quarantine else "rollout halted this cycle"
        drafts = [
            (ConditionType.READY, F, reason, msg),
            (ConditionType.RECONCILING, F, reason, msg),
            (ConditionType.STALLED, T, reason, msg),
        ]
    elif changes:
        reason = Reason.ROLLOUT_IN_PROGRESS if rolling else Reason.CHANGES_PENDING
        msg = _rolling_message(rolling) if rolling else f"{len(changes)} change(s) pending"
        drafts = [
            (ConditionType.READY, F, reason, msg),
            (ConditionType.RECONCILING, T, reason, msg),
            (ConditionType.STALLED, F, Reason.NOT_STALLED, ""),
        ]
    else:
        drafts = _converged()
    return ObjectKind.HOST_POOL, name, drafts


def _rolling_message(rolling: list) -> str:
    """The waves the plan's simulation still sees; none while it cannot see past what runs now (a host
    coming up, a gate), so then say what that is rather than "0 batches to go" beside a batch in progress."""
    batches = sum(int(c.details.get("batches", 0)) for c in rolling)
    if batches:
        return f"{batches} rollout batch(es) to go"
    why = next((str(c.details.get("simulation", {}).get("why") or "") for c in rolling), "")
    return f"rollout under way: {why}" if why else "rollout under way"


def _converged() -> list[_Draft]:
    return [
        (ConditionType.READY, T, Reason.CONVERGED, "matches the desired state"),
        (ConditionType.RECONCILING, F, Reason.CONVERGED, ""),
        (ConditionType.STALLED, F, Reason.NOT_STALLED, ""),
    ]


def _version(version, pending: Mapping[str, list]):
    name = "/".join(version.id.split("/")[-3::2])  # "<definition>/<version>"
    state = (version.provisioning_state or "").lower()
    changes = pending.get(version.id.lower(), [])
    if state == "failed":
        msg = "provisioning failed"
        drafts = [
            (ConditionType.READY, F, Reason.REPLICATION_PENDING, msg),
            (ConditionType.RECONCILING, F, Reason.REPLICATION_PENDING, msg),
            (ConditionType.STALLED, T, Reason.REPLICATION_PENDING, msg),
            (ConditionType.REPLICATED, F, Reason.REPLICATION_PENDING, msg),
        ]
    elif state != "succeeded" or changes:
        msg = (
            f"provisioning {state or 'unknown'}"
            if state != "succeeded"
            else f"{len(changes)} change(s) pending"
        )
        replicated = (T, Reason.REPLICATED) if state == "succeeded" else (F, Reason.REPLICATION_PENDING)
        drafts = [
            (ConditionType.READY, F, Reason.REPLICATION_PENDING, msg),
            (ConditionType.RECONCILING, T, Reason.REPLICATION_PENDING, msg),
            (ConditionType.STALLED, F, Reason.NOT_STALLED, ""),
            (ConditionType.REPLICATED, *replicated, msg),
        ]
    else:
        drafts = [*_converged(), (ConditionType.REPLICATED, T, Reason.REPLICATED, "in every target region")]
    # No acceptance mark is written to a version today, so acceptance is not observable: say so, do not guess.
    drafts.append(
        (ConditionType.ACCEPTED, U, Reason.ACCEPTANCE_NOT_OBSERVABLE, "no acceptance mark on versions")
    )
    return ObjectKind.IMAGE_VERSION, name, drafts


def _build(template, pending: Mapping[str, list]):
    name = template.id.rsplit("/", 1)[-1]
    run = (template.last_run_state or "").lower()
    msg = template.last_run_message or template.provisioning_error or run or "never run"
    if run in _FAILED_BUILDS or template.provisioning_error:
        drafts = [
            (ConditionType.READY, F, Reason.BUILD_FAILED, msg),
            (ConditionType.RECONCILING, F, Reason.BUILD_FAILED, msg),
            (ConditionType.STALLED, T, Reason.BUILD_FAILED, msg),
        ]
    elif run in _RUNNING_BUILDS or pending.get(template.id.lower()):
        drafts = [
            (ConditionType.READY, F, Reason.BUILD_RUNNING, msg),
            (ConditionType.RECONCILING, T, Reason.BUILD_RUNNING, msg),
            (ConditionType.STALLED, F, Reason.NOT_STALLED, ""),
        ]
    else:
        drafts = [
            (ConditionType.READY, T, Reason.BUILD_SUCCEEDED, msg),
            (ConditionType.RECONCILING, F, Reason.BUILD_SUCCEEDED, ""),
            (ConditionType.STALLED, F, Reason.NOT_STALLED, ""),
        ]
    return ObjectKind.IMAGE_BUILD, name, drafts


def _carry_transitions(draft, previous: ConditionSet, now: datetime) -> ObjectConditions:
    kind, name, drafts = draft
    before = next((o for o in previous if o.kind is kind and o.name == name), None)
    conditions = []
    for type_, status, reason, message in drafts:
        old = before.get(type_) if before else None
        since = old.last_transition if old is not None and old.status is status else now
        conditions.append(Condition(type_, status, reason, message, since))
    return ObjectConditions(kind, name, tuple(conditions))
