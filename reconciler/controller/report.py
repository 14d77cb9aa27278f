"""Turning one cycle's result into metrics, log lines, notifications and the /status record."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from reconciler.controller.cycle import CycleResult

log = logging.getLogger("reconciler.controller")


def publish(controller: Any, commit: str | None, result: CycleResult, duration: float) -> None:
    m, notifier = controller.metrics, controller.notifier
    outcome = "success" if result.ok else "failure"
    m.cycle_duration.labels(outcome).observe(duration)
    m.cycles.labels(outcome).inc()
    if result.ok:
        m.last_success.set(controller.last_success)
    if commit is not None:
        m.set_labelled(m.applied_commit, {commit: 1})
        m.set_labelled(m.drift, dict(result.drift))
        m.set_labelled(m.hosts, dict(result.hosts))
        m.quarantined.set(len(result.quarantined))
        m.set_labelled(m.rollout_batches, dict(result.rollout_batches))
    for (kind, res), n in result.actions.items():
        m.actions.labels(kind, res).inc(n)
    for (method, status), n in result.arm_requests.items():
        m.arm_requests.labels(method, status).inc(n)
    if result.throttled:
        m.throttled.inc(result.throttled)

    for change in result.changes:
        log.info("%s %s", change.get("action"), change.get("resource"),
                 extra={"commit": commit, **{k: change.get(k) for k in ("resource", "action", "kind", "outcome", "why")}})  # fmt: skip
    drift_total = sum(result.drift.values())
    extra = {"event": "cycle_end", "commit": commit, "outcome": outcome, "duration_s": round(duration, 3)}
    if result.ok:
        log.info("cycle done: %d change(s) pending, %d ARM reads, %d writes", drift_total, result.arm_reads,
                 result.arm_writes, extra=extra)  # fmt: skip
    else:
        log.error("cycle failed: %s", result.error, extra={**extra, "error": result.error})

    controller.last = {
        "finished_at": datetime.now(UTC).isoformat(),
        "commit": commit,
        "ok": result.ok,
        "error": result.error,
        "stopped": result.stopped,
        "duration_s": round(duration, 3),
        "drift": dict(result.drift),
        "arm_reads": result.arm_reads,
        "arm_writes": result.arm_writes,
        "report": result.report,
    }
    _notify(controller, notifier, commit, result)


def _notify(controller: Any, notifier: Any, commit: str | None, result: CycleResult) -> None:
    short = (commit or "")[:12]
    if not result.ok:
        notifier.notify("cycle_failed", f"Reconcile cycle failed at {short or 'no commit'}", result.error or "",
                        key=result.error or "", severity="error", commit=commit)  # fmt: skip
    if result.wrote and result.changes:
        lines = [f"{c.get('action')} {c.get('resource')}: {c.get('outcome')}" for c in result.changes[:20]]
        notifier.notify("applied", f"Applied {len(result.changes)} change(s) from {short}", "\n".join(lines),
                        key=f"{commit}:{len(result.changes)}:{hash(tuple(lines))}", commit=commit)  # fmt: skip
    elif result.drift and not result.wrote:
        drift = ", ".join(f"{k}: {v}" for k, v in sorted(result.drift.items()))
        notifier.notify("drift", "Drift found (not applied: dry run or suspended)", drift,
                        key=drift, severity="warning", commit=commit, fields=dict(result.drift))  # fmt: skip
    for pool in result.halted_rollouts:
        notifier.notify("rollout_halted", f"Rollout halted in host pool {pool}", "", key=f"{pool}:{commit}",
                        severity="error", commit=commit)  # fmt: skip
    new = set(result.quarantined) - controller._quarantined
    for version in sorted(new):
        notifier.notify("quarantined", "Image version quarantined", version, key=version, severity="error",
                        commit=commit)  # fmt: skip
    controller._quarantined = set(result.quarantined)
