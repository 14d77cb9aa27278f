"""Image versions of each desired definition: create or build, update, replicate, deprecate, delete.

Per definition: collect the declared and the existing versions, let retention decide which are kept,
deprecated or deleted (never one in use), then diff each kept desired version against Azure
(:mod:`.version_diff`; a version Image Builder makes: :mod:`.version_build`).
"""

from __future__ import annotations

from reconciler.model.observed import norm_id
from reconciler.model.plan import Action, Change, ChangeReason
from reconciler.planner.context import Context, leaf
from reconciler.planner.diff import Outcome
from reconciler.planner.retention import Decision, RetentionPolicy, VersionFacts, decide_retention
from reconciler.planner.usage import versions_in_use
from reconciler.planner.version_build import queue_builds
from reconciler.planner.version_diff import plan_declared, source_id


def plan_versions(ctx: Context) -> Outcome:
    out = Outcome()
    in_use = _under_each_prefix(versions_in_use(ctx))
    for definition in sorted(ctx.desired.image_definitions, key=lambda d: d.arm_id.lower()):
        _plan_definition(ctx, definition, in_use, out)
    out.changes = queue_builds(ctx, out.changes)
    return out


def _under_each_prefix(in_use: dict[str, str]) -> dict[str, dict[str, str]]:
    """Lower-cased id prefix -> {leaf name: why} of the in-use ids below it (in `in_use` order), so each
    definition finds its own in one lookup instead of a scan of every in-use id."""
    out: dict[str, dict[str, str]] = {}
    for vid, why in in_use.items():
        key = norm_id(vid)
        name = leaf(vid)
        cut = key.find("/", 1)
        while cut != -1:
            out.setdefault(key[:cut], {})[name] = why
            cut = key.find("/", cut + 1)
    return out


def _plan_definition(ctx: Context, definition, in_use: dict[str, dict[str, str]], out: Outcome) -> None:
    desired = {v.name: v for v in ctx.desired.versions_of(definition)}
    observed = {leaf(v.id): v for v in ctx.observed.versions_of(definition.arm_id)}
    r = definition.spec.retention
    policy = RetentionPolicy(
        keep=r.keep_newest,
        exclude_from_latest=r.exclude_older_from_latest,
        eol_after_days=int(r.end_of_life_after.total_seconds() // 86400),
        delete_after_eol=r.delete_after_end_of_life,
    )
    facts = []
    for name in sorted(set(desired) | set(observed)):
        o = observed.get(name)
        published = None
        if o is not None and o.provisioning_state == "Succeeded":
            published = o.published_date or ctx.now
        facts.append(
            VersionFacts(
                name,
                o is not None,
                published,
                bool(o and o.exclude_from_latest),
                o.end_of_life_date if o else None,
                bool(o and ctx.owned(o)),
            )
        )
    definition_id = definition.arm_id
    usage = in_use.get(norm_id(definition_id), {})
    origin = definition.origin("spec.retention")
    for decision in decide_retention(facts, policy, usage, ctx.now):
        o = observed.get(decision.name)
        if decision.decision is not Decision.KEEP:  # the usual decision, which the plan does not show
            version_id = f"{definition_id}/versions/{decision.name}"
            reason = f"{origin}: retention of {definition.key}: {decision.reason}"
            out.changes.append(_retention_change(version_id, reason, decision, o))
        if decision.name in desired and decision.decision is not Decision.SKIP_CREATE:
            plan_declared(ctx, desired[decision.name], o, decision.superseded, out)


def _retention_change(version_id: str, reason: str, decision, o) -> Change:
    """What a decision other than keep plans: a delete, a deprecation, or a no-op that says why not."""
    if decision.decision is Decision.DELETE:
        return Change(
            Action.DELETE,
            "image-version",
            version_id,
            reason,
            before=_brief(o),
            fingerprint=o.fingerprint,
            reason_code=ChangeReason.RETENTION,
        )
    if decision.decision is Decision.DEPRECATE:
        after = {}
        if decision.exclude_from_latest is not None:
            after["excludeFromLatest"] = decision.exclude_from_latest
        if decision.end_of_life is not None:
            after["endOfLifeDate"] = decision.end_of_life.isoformat()
        before = {"excludeFromLatest": o.exclude_from_latest, "endOfLifeDate": None}
        patch = [
            {"op": "add", "path": f"/properties/publishingProfile/{k}", "value": v} for k, v in after.items()
        ]
        return Change(
            Action.DEPRECATE,
            "image-version",
            version_id,
            reason,
            before=before,
            after=after,
            patch=patch,
            fingerprint=o.fingerprint,
            reason_code=ChangeReason.RETENTION,
        )
    assert decision.decision in (Decision.PROTECT, Decision.SKIP_CREATE), decision
    code = ChangeReason.PROTECTED if decision.decision is Decision.PROTECT else ChangeReason.SKIP_CREATE
    return Change(Action.NO_OP, "image-version", version_id, reason, reason_code=code)


def _brief(o) -> dict:
    return {
        "excludeFromLatest": o.exclude_from_latest,
        "endOfLifeDate": o.end_of_life_date and o.end_of_life_date.isoformat(),
    }


__all__ = ["plan_versions", "source_id"]  # source_id: the estate seeders and benches read it from here
