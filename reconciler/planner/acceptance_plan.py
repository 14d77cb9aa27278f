"""Acceptance across the plan — pure: what `latest` may resolve to, and what people are told.

The verdicts live on the versions (tags, model.acceptance); `with_verdicts` hands them to the desired state
so every `resolve_pin` of this plan (pins, rollouts, usage, rollback) skips the same versions. A definition
without a suite costs nothing: the desired state is returned as it is.
"""

from __future__ import annotations

from dataclasses import replace

from reconciler.model.acceptance import ACCEPTANCE_FAILURE_TAG, AcceptanceState, acceptance_of
from reconciler.model.observed import Observed, norm_id
from reconciler.model.plan import Diagnostic, Severity
from reconciler.planner.context import Context
from reconciler.spec.desired import DesiredState

HINT = "fix the image, or `reconcile accept {version} --rerun` / `reconcile accept {version} --force --reason ...`"


def with_verdicts(desired: DesiredState, observed: Observed) -> DesiredState:
    """`desired` knowing the acceptance verdict of every version whose definition declares a suite."""
    suites = [d for d in desired.image_definitions if d.spec.acceptance is not None]
    if not suites:
        return desired
    verdicts: dict[str, str] = {}
    for definition in suites:
        for version in desired.versions_of(definition):
            key = norm_id(version.arm_id)
            found = observed.image_versions.get(key)
            verdict = acceptance_of(found.tags) if found is not None else None
            if verdict is not None:
                verdicts[key] = verdict.state.value
    return replace(desired, verdicts=verdicts)


def acceptance_diagnostics(ctx: Context) -> list[Diagnostic]:
    """A warning per version that failed acceptance (with its excerpt and the way out), per suite that no
    validation pool runs, and per pool whose `latest` has no accepted version yet."""
    out: list[Diagnostic] = []
    desired = ctx.desired
    for definition in desired.image_definitions:
        if definition.spec.acceptance is None:
            continue
        pools = [p for p in desired.host_pools if p.definition is definition]
        if not any(desired.is_validation(p) for p in pools):
            out.append(
                Diagnostic(
                    Severity.WARNING,
                    definition.arm_id,
                    f"{definition.origin('spec.acceptance')}: ImageDefinition {definition.key} declares acceptance "
                    "tests but no validation pool runs them (a pool another pool's ring gate names, itself "
                    "ungated); its versions never pass, and `latest` of its other pools never moves",
                    reason="acceptance-without-validation-pool",
                )
            )
        for version in desired.versions_of(definition):
            found = ctx.find("image_versions", version.arm_id)
            verdict = acceptance_of(found.tags) if found is not None else None
            if verdict is None or verdict.state is not AcceptanceState.FAILED:
                continue
            excerpt = (
                (found.tags or {}).get(ACCEPTANCE_FAILURE_TAG) or verdict.reason or "no details recorded"
            )
            out.append(
                Diagnostic(
                    Severity.WARNING,
                    version.arm_id,
                    f"ImageVersion {version.name} of {definition.key} failed acceptance on {verdict.host or '?'} "
                    f"at {verdict.at}: {excerpt}; it is excluded from latest and not promoted. "
                    + HINT.format(version=version.name),
                    reason="acceptance-failed",
                )
            )
        for pool in pools:
            if pool.pinned == "latest" and desired.resolve_pin(pool) is None:
                out.append(
                    Diagnostic(
                        Severity.WARNING,
                        pool.arm_id,
                        f"HostPool {pool.name}: `latest` of {definition.key} has no version that passed "
                        "acceptance yet; the pool waits for one",
                        reason="latest-not-accepted",
                    )
                )
    return out
