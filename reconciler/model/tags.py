"""Tags the reconciler writes on Azure resources, shared by planner (reads) and engine (writes).

Azure tag names may not contain `/`, so these are flat names. Rollout progress lives on the resources
themselves (DESIGN.md), so any controller replica can resume; these are the tags that carry it.
"""

from __future__ import annotations

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


# On an image template whose run failed: "<failed runs>|<cause>|transient" or "…|needs-change", written by
# apply from the run's diagnosis. The planner runs a transient failure again up to BUILD_RETRY_BUDGET failed
# runs, and never runs a recipe again whose failure needs a change (a script's exit code, a checksum): the
# same recipe would fail the same way, for hours each time. A changed recipe is a new template.
BUILD_FAILURES_TAG = "avd-reconciler-build-failures"
BUILD_RETRY_BUDGET = 3


def build_failures_value(failed_runs: int, cause: str, transient: bool) -> str:
    return f"{failed_runs}|{cause}|{'transient' if transient else 'needs-change'}"


def parse_build_failures(value: str | None) -> tuple[int, str, bool] | None:
    """(failed runs, cause, transient) from a BUILD_FAILURES_TAG value, or None if absent or malformed."""
    parts = (value or "").split("|")
    if len(parts) != 3 or not parts[0].isdigit() or parts[2] not in ("transient", "needs-change"):
        return None
    return int(parts[0]), parts[1], parts[2] == "transient"
