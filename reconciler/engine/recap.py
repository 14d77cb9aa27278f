"""The Ansible-style recap of a run: counts per resource kind and in total, as plain data.

Formatting belongs to ``reconciler.render``; this module only counts. The dict shape (stable, JSON-able)::

    {
      "kinds": {
        "gallery": {"ok": 1, "changed": 1, "failed": 0, "skipped": 0, "waiting": 0, "pending": 0},
        ...                                           # kinds sorted by name
      },
      "totals": {"ok": …, "changed": …, "failed": …, "skipped": …, "waiting": …, "pending": …},
      "failures": [{"id": …, "kind": …, "why": …, "error_code": …}],   # sorted by id
      "skipped":  [{"id": …, "kind": …, "why": …}],
      "unfinished": [{"id": …, "kind": …, "status": "waiting"|"pending", "why": …, "resume_at": …}],
      "complete": true|false,    # nothing left for a later cycle
      "succeeded": true|false    # nothing failed or was skipped
    }

``waiting`` and ``pending`` are separate columns on purpose: a reader must see at a glance that work is still
under way, and that it is not broken.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC
from typing import Any

from reconciler.engine.outcome import Failed
from reconciler.engine.report import UNFINISHED, ExecutionReport, NodeStatus

COLUMNS: tuple[NodeStatus, ...] = (
    NodeStatus.OK,
    NodeStatus.CHANGED,
    NodeStatus.FAILED,
    NodeStatus.SKIPPED,
    NodeStatus.WAITING,
    NodeStatus.PENDING,
)


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

    def to_dict(self) -> dict[str, Any]:
        results = self.report.results.values()
        return {
            "kinds": {kind: counts.to_dict() for kind, counts in self.per_kind.items()},
            "totals": self.totals.to_dict(),
            "failures": [
                {
                    "id": r.id,
                    "kind": r.kind,
                    "why": r.why,
                    "error_code": r.outcome.error_code if isinstance(r.outcome, Failed) else None,
                }
                for r in results
                if r.status is NodeStatus.FAILED
            ],
            "skipped": [
                {"id": r.id, "kind": r.kind, "why": r.why} for r in results if r.status is NodeStatus.SKIPPED
            ],
            "unfinished": [
                {
                    "id": r.id,
                    "kind": r.kind,
                    "status": r.status.value,
                    "why": r.why,
                    "resume_at": r.resume_at.astimezone(UTC).isoformat() if r.resume_at else None,
                }
                for r in results
                if r.status in UNFINISHED
            ],
            "complete": self.report.complete,
            "succeeded": self.report.succeeded,
        }


def build_recap(report: ExecutionReport) -> Recap:
    """Count ``report``'s results per kind and in total (see the module docstring for the counting rule)."""
    per_kind: dict[str, dict[NodeStatus, int]] = {}
    totals: dict[NodeStatus, int] = {}
    for result in report.results.values():
        row = per_kind.setdefault(result.kind, {})
        for column in _columns_for(result.status):
            row[column] = row.get(column, 0) + 1
            totals[column] = totals.get(column, 0) + 1
    return Recap(
        per_kind={kind: Counts(per_kind[kind]) for kind in sorted(per_kind)},
        totals=Counts(totals),
        report=report,
    )


def _columns_for(status: NodeStatus) -> tuple[NodeStatus, ...]:
    # Ansible counts a changed task under both ok and changed; users read "ok=5 changed=2" that way.
    if status is NodeStatus.CHANGED:
        return (NodeStatus.OK, NodeStatus.CHANGED)
    return (status,)
