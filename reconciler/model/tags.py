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
