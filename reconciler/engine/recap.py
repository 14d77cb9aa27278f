"""The Ansible-style recap of a run: counts per resource kind and in total, as plain data.

Formatting belongs to ``reconciler.render``; this module only counts. The dict shape (stable, JSON-able)::

    {
      "outcome": "succeeded"|"pending"|"failed"|"timed-out"|"interrupted",   # report.RunOutcome
      "kinds": {
        "gallery": {"ok": 1, "changed": 1, "failed": 0, "skipped": 0, "waiting": 0, "pending": 0},
        ...                                           # kinds sorted by name
      },
      "totals": {"ok": …, "changed": …, "failed": …, "skipped": …, "waiting": …, "pending": …},
      "hosts": {"pools": {"<pool>": {"created": …, "replaced": …, "deleted": …, "drained": …,
                                     "messaged": …, "logged_off": …, "writes": …}},
                "totals": {…same keys…}},
      "failures": [{"id": …, "kind": …, "why": …, "error_code": …, "reason_code": …}],   # sorted by id
      "skipped":  [{"id": …, "kind": …, "why": …, "reason_code": "dependency-failed"}],
      "unfinished": [{"id": …, "kind": …, "status": "waiting"|"pending", "why": …, "resume_at": …,
                      "reason_code": …}],
      "pending": [{"change": …, "resource": …, "kind": …, "status": …, "resumes_at": …, "why": …,
                   "reason_code": …, "handed_back": bool}],           # what resumes when, soonest first
      "results": [{"id": …, "kind": …, "status": …, "reason_code": …}],  # every node: its outcome's code
      "resume": "re-run `reconcile apply` after … (or run `reconcile run`)" | None,
      "complete": true|false,    # nothing left for a later cycle
      "succeeded": true|false    # outcome is succeeded or pending: nothing failed, nothing was cut short
    }

``waiting`` and ``pending`` are separate columns on purpose: a reader must see at a glance that work is still
under way, and that it is not broken. ``changed`` counts every node that wrote in this run (``wrote``), even
one that ends waiting (a rollout that replaced 24 hosts, then waits for a soak); otherwise, as in Ansible,
``changed`` is the subset of ``ok`` nodes that wrote. A pending node that was never called resumes when the
last of its unfinished dependencies does (``resumes_at``), or is unknown (None).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from reconciler.engine.outcome import Failed
from reconciler.engine.report import UNFINISHED, ExecutionReport, NodeResult, NodeStatus, RunOutcome

COLUMNS: tuple[NodeStatus, ...] = (
    NodeStatus.OK,
    NodeStatus.CHANGED,
    NodeStatus.FAILED,
    NodeStatus.SKIPPED,
    NodeStatus.WAITING,
    NodeStatus.PENDING,
)
HOST_COLUMNS = ("created", "replaced", "deleted", "drained", "messaged", "logged_off", "writes")


@dataclass(frozen=True)
class Counts:
    """One recap row. ``ok`` counts every node that converged; as in Ansible, ``changed`` is the subset of
    those that wrote -- so a changed node is counted in both."""

    values: Mapping[NodeStatus, int] = field(default_factory=dict)

    def __getitem__(self, status: NodeStatus) -> int:
        return self.values.get(status, 0)

    def to_dict(self) -> dict[str, int]:
        return {status.value: self[status] for status in COLUMNS}


@dataclass(frozen=True)
class Recap:
    per_kind: Mapping[str, Counts]
    totals: Counts
    report: ExecutionReport
    hosts: Mapping[str, Mapping[str, int]] = field(default_factory=dict)  # pool -> HOST_COLUMNS counts

    @property
    def outcome(self) -> RunOutcome:
        return self.report.outcome

    def to_dict(self) -> dict[str, Any]:
        results = self.report.results.values()
        pending = pending_items(self.report)
        return {
            "outcome": self.outcome.value,
            "kinds": {kind: counts.to_dict() for kind, counts in self.per_kind.items()},
            "totals": self.totals.to_dict(),
            "hosts": {
                "pools": {pool: dict(counts) for pool, counts in self.hosts.items()},
                "totals": {c: sum(counts.get(c, 0) for counts in self.hosts.values()) for c in HOST_COLUMNS},
            },
            "failures": [
                {
                    "id": r.id,
                    "kind": r.kind,
                    "why": r.why,
                    "error_code": r.outcome.error_code if isinstance(r.outcome, Failed) else None,
                    "reason_code": r.reason_code,
                }
                for r in results
                if r.status is NodeStatus.FAILED
            ],
            "skipped": [
                {"id": r.id, "kind": r.kind, "why": r.why, "reason_code": r.reason_code}
                for r in results
                if r.status is NodeStatus.SKIPPED
            ],
            "unfinished": [
                {
                    "id": r.id,
                    "kind": r.kind,
                    "status": r.status.value,
                    "why": r.why,
                    "resume_at": _iso(r.resume_at),
                    "reason_code": r.reason_code,
                }
                for r in results
                if r.status in UNFINISHED
            ],
            "pending": pending,
            "results": [
                {"id": r.id, "kind": r.kind, "status": r.status.value, "reason_code": r.reason_code}
                for r in results
            ],
            "resume": resume_hint(self.outcome, pending),
            "complete": self.report.complete,
            "succeeded": self.outcome.ok,
        }


def build_recap(
    report: ExecutionReport,
    *,
    wrote: Collection[str] = (),
    hosts: Mapping[str, Mapping[str, int]] | None = None,
) -> Recap:
    """Count ``report``'s results per kind and in total (see the module docstring for the counting rule).

    ``wrote``: ids of nodes that wrote in this run whatever their status; ``hosts``: host work per pool.
    """
    per_kind: dict[str, dict[NodeStatus, int]] = {}
    totals: dict[NodeStatus, int] = {}
    for result in report.results.values():
        row = per_kind.setdefault(result.kind, {})
        for column in _columns_for(result, result.id in wrote):
            row[column] = row.get(column, 0) + 1
            totals[column] = totals.get(column, 0) + 1
    return Recap(
        per_kind={kind: Counts(per_kind[kind]) for kind in sorted(per_kind)},
        totals=Counts(totals),
        report=report,
        hosts={pool: dict((hosts or {})[pool]) for pool in sorted(hosts or {})},
    )


def pending_items(report: ExecutionReport) -> list[dict[str, Any]]:
    """What a later apply resumes: every waiting or pending node, soonest first (unknown times last)."""
    memo: dict[str, datetime | None] = {}

    def resumes(result: NodeResult) -> datetime | None:
        if result.id in memo:
            return memo[result.id]
        memo[result.id] = None  # a cycle cannot happen (the graph is a DAG); this guards the recursion
        if result.status is NodeStatus.WAITING:
            at = result.resume_at
        else:
            deps = [resumes(report.results[d]) for d in result.blocked_by if d in report.results]
            at = max(deps) if deps and all(d is not None for d in deps) else None
        memo[result.id] = at
        return at

    items = []
    for r in report.results.values():
        if r.status not in UNFINISHED:
            continue
        action, _, resource = r.id.partition(" ")
        items.append(
            {
                "change": action if resource else r.id,
                "resource": resource or r.id,
                "kind": r.kind,
                "status": r.status.value,
                "resumes_at": _iso(resumes(r)),
                "why": r.why,
                "reason_code": r.reason_code,
                "handed_back": r.handed_back,
            }
        )
    return sorted(items, key=lambda i: (i["resumes_at"] is None, i["resumes_at"] or "", i["resource"]))


def resume_hint(outcome: RunOutcome, pending: list[dict[str, Any]]) -> str | None:
    """How the work left over resumes (None when nothing is left)."""
    if not pending:
        return None
    if outcome is RunOutcome.PENDING:
        first = next((p["resumes_at"] for p in pending if p["resumes_at"]), None)
        when = f" after {first}" if first else ""
        return f"re-run `reconcile apply`{when}, or run `reconcile run` (it resumes on its own)"
    return "re-run `reconcile apply`: it continues from what Azure shows"


def _columns_for(result: NodeResult, wrote: bool) -> tuple[NodeStatus, ...]:
    # Ansible counts a changed task under both ok and changed; users read "ok=5 changed=2" that way.
    if result.status is NodeStatus.CHANGED:
        return (NodeStatus.OK, NodeStatus.CHANGED)
    if wrote:
        return (result.status, NodeStatus.CHANGED)
    return (result.status,)


def _iso(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat() if value is not None else None
