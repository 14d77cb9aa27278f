"""What the commands print besides plans, recaps and status: desired-state errors, validation results,
plan statistics and one-line errors. One place, so `plan`, `apply` and `validate` say the same thing the
same way, and the CLI modules only parse arguments and choose."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import asdict
from typing import Any


def render_error(message: str) -> str:
    return f"error: {message}\n"


def error_count(count: int, directory: str) -> str:
    return f"{count} error{'s' if count != 1 else ''} in desired state {directory}"


def render_desired_errors(errors: Iterable[Any], directory: str) -> str:
    """Each error on its line (``file:LINE:COL: field: message``), then how many, in which directory."""
    errors = list(errors)
    return "".join(f"{e}\n" for e in errors) + error_count(len(errors), directory) + "\n"


def render_validation_json(*, errors: Iterable[Any] = (), counts: Mapping[str, int] | None = None) -> str:
    """`reconcile validate -o json`: errors are dataclasses (file, line, col, field, message)."""
    errors = [asdict(e) for e in errors]
    if errors:
        return json.dumps({"valid": False, "errors": errors}, indent=2, ensure_ascii=False) + "\n"
    return json.dumps({"valid": True, "errors": [], "counts": dict(counts or {})}, indent=2) + "\n"


def render_plan_stats(
    observed_counts: Mapping[str, Any], calls: Mapping[str, Any], planner_cpu: float
) -> str:
    stats = {"observed": observed_counts, "calls": calls, "planner_cpu_seconds": round(planner_cpu, 3)}
    return "stats: " + json.dumps(stats, sort_keys=True) + "\n"


__all__ = [
    "error_count",
    "render_desired_errors",
    "render_error",
    "render_plan_stats",
    "render_validation_json",
]
