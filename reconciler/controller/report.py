"""Turning one cycle's result into metrics, log lines, notifications and the /status record.

The :class:`Reporter` owns what notifications must remember between cycles (which versions were already
announced as quarantined, which conditions were already Stalled), so nothing outside it writes that state.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from reconciler.controller.cycle import CycleResult
from reconciler.controller.metrics import ControllerMetrics
from reconciler.controller.notify import Notifier, notify_acceptance
from reconciler.model.conditions import ConditionSet, ConditionStatus, ConditionType
from reconciler.render.status import conditions_json

log = logging.getLogger("reconciler.controller")


class Reporter:
    def __init__(self, metrics: ControllerMetrics, notifier: Notifier) -> None:
        self.metrics, self.notifier = metrics, notifier
        self._announced_quarantines: set[str] = set()
        self._acceptance: dict = {}  # the last cycle's verdicts, so a failure or force-accept is told once
        self._announced_blocks: set[str] = set()  # blocked-release messages already logged
        self.conditions: ConditionSet = ()  # the last cycle's, handed to the next so transition times carry

    def publish(self, commit: str | None, result: CycleResult, duration: float, last_success: float | None):
        """Metrics, logs and notifications for ``result``; returns the /status record of the cycle."""
        m = self.metrics
        outcome = "success" if result.ok else "failure"
        m.cycle_duration.labels(outcome).observe(duration)
        m.cycles.labels(outcome).inc()
        if result.ok:
            m.last_success.set(last_success)
        if commit is not None:
            m.set_labelled(m.applied_commit, {commit: 1})
            m.set_labelled(m.drift, dict(result.drift))
            m.set_labelled(m.hosts, dict(result.hosts))
            m.quarantined.set(len(result.quarantined))
            m.set_acceptance(result.acceptance)
            m.set_labelled(m.rollout_batches, dict(result.rollout_batches))
            m.set_labelled(m.release_blocked, {b.build: 1 for b in result.blocked_releases if not b.waiting})
        if result.conditions or commit is not None:
            m.set_conditions(result.conditions)
        for (kind, res), n in result.actions.items():
            m.actions.labels(kind, res).inc(n)
        for (method, status), n in result.arm_requests.items():
            m.arm_requests.labels(method, status).inc(n)
        if result.throttled:
            m.throttled.inc(result.throttled)

        for change in result.changes:
            fields = {k: change.get(k) for k in ("resource", "action", "kind", "outcome", "why")}
            log.info(
                "%s %s", change.get("action"), change.get("resource"), extra={"commit": commit, **fields}
            )
        drift_total = sum(result.drift.values())
        extra = {"event": "cycle_end", "commit": commit, "outcome": outcome, "duration_s": round(duration, 3)}
        if result.ok:
            log.info(
                "cycle done: %d change(s) pending, %d ARM reads, %d writes",
                drift_total,
                result.arm_reads,
                result.arm_writes,
                extra=extra,
            )
        else:
            log.error("cycle failed: %s", result.error, extra={**extra, "error": result.error})

        self._log_blocked(commit, result)
        self._notify(commit, result)
        if result.conditions or commit is not None:
            self.conditions = tuple(result.conditions)
        return {
            "finished_at": datetime.now(UTC).isoformat(),
            "commit": commit,
            "ok": result.ok,
            "error": result.error,
            "stopped": result.stopped,
            "duration_s": round(duration, 3),
            "drift": dict(result.drift),
            "arm_reads": result.arm_reads,
            "arm_writes": result.arm_writes,
            "conditions": conditions_json(self.conditions),
            "releases": {
                "due": [
                    {"build": d.build, "version": d.version, "summary": d.summary} for d in result.releases
                ],
                "blocked": [b.to_dict() | {"message": b.message} for b in result.blocked_releases],
            },
            "report": result.report,
        }

    def _log_blocked(self, commit: str | None, result: CycleResult) -> None:
        """A blocked release stays blocked cycle after cycle until git changes: logged once per message."""
        current = {b.message: b for b in result.blocked_releases}
        for message in sorted(current.keys() - self._announced_blocks):
            log.warning(
                "%s",
                message,
                extra={"event": "release_blocked", "commit": commit, "build": current[message].build},
            )
        self._announced_blocks = set(current)

    def _notify(self, commit: str | None, result: CycleResult) -> None:
        notifier, short = self.notifier, (commit or "")[:12]
        if not result.ok:
            notifier.notify(
                "cycle_failed",
                f"Reconcile cycle failed at {short or 'no commit'}",
                result.error or "",
                key=result.error or "",
                severity="error",
                commit=commit,
            )
        if result.wrote and result.changes:
            lines = [
                f"{c.get('action')} {c.get('resource')}: {c.get('outcome')}" for c in result.changes[:20]
            ]
            notifier.notify(
                "applied",
                f"Applied {len(result.changes)} change(s) from {short}",
                "\n".join(lines),
                key=f"{commit}:{len(result.changes)}:{hash(tuple(lines))}",
                commit=commit,
            )
        elif result.drift and not result.wrote:
            drift = ", ".join(f"{k}: {v}" for k, v in sorted(result.drift.items()))
            notifier.notify(
                "drift",
                "Drift found (not applied: dry run or suspended)",
                drift,
                key=drift,
                severity="warning",
                commit=commit,
                fields=dict(result.drift),
            )
        for pool in result.halted_rollouts:
            notifier.notify(
                "rollout_halted",
                f"Rollout halted in host pool {pool}",
                "",
                key=f"{pool}:{commit}",
                severity="error",
                commit=commit,
            )
        for version in sorted(set(result.quarantined) - self._announced_quarantines):
            notifier.notify(
                "quarantined",
                "Image version quarantined",
                version,
                key=version,
                severity="error",
                commit=commit,
            )
        self._announced_quarantines = set(result.quarantined)
        if result.ok or result.acceptance:  # a failed observe has no verdicts: keep the last ones
            notify_acceptance(notifier, self._acceptance, result.acceptance, commit)
            self._acceptance = dict(result.acceptance)
        self._notify_newly_stalled(commit, result.conditions)

    def _notify_newly_stalled(self, commit: str | None, conditions: ConditionSet) -> None:
        """One message when an object's Stalled turns True (its reason code in the fields, for routing)."""
        before = {(o.kind, o.name): o.get(ConditionType.STALLED) for o in self.conditions}
        for obj in conditions:
            stalled = obj.get(ConditionType.STALLED)
            if stalled is None or stalled.status is not ConditionStatus.TRUE:
                continue
            old = before.get((obj.kind, obj.name))
            if old is not None and old.status is ConditionStatus.TRUE:
                continue
            fields = {
                "kind": obj.kind.value,
                "name": obj.name,
                "type": stalled.type.value,
                "status": stalled.status.value,
                "reason": stalled.reason.value,
            }
            self.notifier.notify(
                "stalled",
                f"{obj.kind.value} {obj.name} is Stalled ({stalled.reason.value})",
                stalled.message,
                key=f"{obj.kind.value}:{obj.name}:{stalled.reason.value}",
                severity="error",
                commit=commit,
                fields=fields,
            )
