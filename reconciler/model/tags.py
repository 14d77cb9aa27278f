"""Tags the reconciler writes on Azure resources, shared by planner (reads) and engine (writes).

Azure tag names may not contain `/`, so these are flat names. Rollout progress lives on the resources
themselves (DESIGN.md), so any controller replica can resume; these are the tags that carry it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import NamedTuple

# On a host pool: the ARM id (lower-cased) of the image version new session hosts are built from.
PIN_TAG = "avd-reconciler-image-version"

# On a host pool: "<version id>|<ISO time>" written when every host runs that version and is Available.
# Ring gates read it: a gated pool waits until this time + soak.
ROLLED_OUT_TAG = "avd-reconciler-rolled-out"


def parse_rolled_out(value: str | None) -> tuple[str, str] | None:
    """(version id lower-cased, ISO time) from a ROLLED_OUT_TAG value, or None if absent or malformed."""
    if not value or "|" not in value:
        return None
    version_id, _, when = value.rpartition("|")
    return version_id.lower(), when


# On an image template whose run failed: "<failed runs>|<cause>|transient|<run end>" (or "needs-change"),
# written by apply from the run's diagnosis. The planner runs a transient failure again up to BUILD_RETRY_BUDGET
# failed runs, and never runs a recipe again whose failure needs a change (a script's exit code, a checksum): the
# same recipe would fail the same way, for hours each time. A changed recipe is a new template.
# <run end> is the lastRunStatus.endTime of the run the count includes: a controller (or `apply --wait none`)
# finds a run ended in a later cycle than the one that started it, and must tell a run not counted yet from one
# that is. A value without it (written before it existed) is taken to count an earlier run: counting a run twice
# costs one retry, counting none re-runs a failing build for ever.
BUILD_FAILURES_TAG = "avd-reconciler-build-failures"
BUILD_RETRY_BUDGET = 3


class BuildFailures(NamedTuple):
    runs: int
    cause: str
    transient: bool
    run_end: str = ""  # "" in the three-part form

    @property
    def runs_again(self) -> bool:
        """Whether running the same recipe again can help: a transient cause within the budget."""
        return self.transient and self.runs < BUILD_RETRY_BUDGET

    @property
    def why_stopped(self) -> str:
        """Why the recipe is run no more, for a sentence: "failed 3 times (…)" or "failed with …, which needs a
        change"."""
        if self.transient:
            return f"failed {self.runs} times ({self.cause})"
        return f"failed with {self.cause}, which needs a change"

    def counts(self, run_end: datetime | None) -> bool:
        """Whether this count already includes the run that ended at `run_end`."""
        return bool(self.run_end) and self.run_end == run_end_text(run_end)


def run_end_text(run_end: datetime | None) -> str:
    return run_end.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if run_end is not None else ""


def build_failures_value(failures: BuildFailures) -> str:
    parts = [str(failures.runs), failures.cause, "transient" if failures.transient else "needs-change"]
    return "|".join([*parts, failures.run_end] if failures.run_end else parts)


def parse_build_failures(value: str | None) -> BuildFailures | None:
    """The count a BUILD_FAILURES_TAG value holds, or None if absent or malformed."""
    parts = (value or "").split("|")
    if len(parts) not in (3, 4) or not parts[0].isdigit() or parts[2] not in ("transient", "needs-change"):
        return None
    return BuildFailures(
        int(parts[0]), parts[1], parts[2] == "transient", parts[3] if len(parts) == 4 else ""
    )
