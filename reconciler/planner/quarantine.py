"""A pool whose rollout spent its failure budget is quarantined (a tag on the pool names the failed version):
apply will not try that version again, so without a word the plan would look settled. Say so, per pool.

Pure: reads the Observed pool's tags; the decision to halt or roll back is reconciler.planner.hosts's.
"""

from __future__ import annotations

from reconciler.model.acceptance import ACCEPTANCE_FAILURE_TAG, AcceptanceState, acceptance_of
from reconciler.model.observed import norm_id
from reconciler.model.plan import Diagnostic, Severity
from reconciler.model.rollout import POOL_FAILURES_TAG, POOL_QUARANTINE_TAG, parse_failures, parse_quarantine
from reconciler.planner.context import Context, leaf


def quarantine_warning(ctx: Context, pool, target_id: str) -> Diagnostic | None:
    """A warning when `pool`'s pinned version `target_id` is quarantined on it, else None.

    A quarantine of another version is stale (the pin moved on; hosts.decide ignores it) and says nothing.
    """
    observed = ctx.find("host_pools", pool.arm_id)
    tags = (observed.tags or {}) if observed else {}
    quarantine = parse_quarantine(tags.get(POOL_QUARANTINE_TAG))
    if quarantine is None or quarantine[0] != norm_id(target_id):
        return None
    version_id, since = quarantine
    count, failed_version, _ = parse_failures(tags.get(POOL_FAILURES_TAG))
    rollout = pool.spec.rollout
    budget = rollout.failure_budget
    failures = (
        f"{count} failed host(s), failure budget {budget}"
        if failed_version == version_id
        else f"failure budget {budget} spent"
    )
    version = ctx.find("image_versions", version_id)
    verdict = acceptance_of(version.tags) if version is not None else None
    failed_acceptance = verdict is not None and verdict.state is AcceptanceState.FAILED
    if failed_acceptance:
        excerpt = (version.tags or {}).get(ACCEPTANCE_FAILURE_TAG) or verdict.reason or "no details recorded"
        failures = f"failed acceptance on {verdict.host or '?'}: {excerpt}"
    if rollout.on_failure == "rollback":
        effect = "rolled back to the last version it ran fully"
    else:
        effect = "rollout halted; hosts stay on the versions they run"
    return Diagnostic(
        Severity.WARNING,
        pool.arm_id,
        f"HostPool {pool.name}: version {leaf(version_id)} is quarantined ({failures}); {effect}. "
        + (
            f"Fix the image, or `reconcile accept {leaf(version_id)} --rerun` / `--force --reason ...` and "
            f"`reconcile clear-quarantine {pool.name}`"
            if failed_acceptance
            else f"Fix the image or pin another version, then run `reconcile clear-quarantine {pool.name}` to retry"
        ),
        reason=f"{POOL_QUARANTINE_TAG} since {since}" if since else POOL_QUARANTINE_TAG,
    )
