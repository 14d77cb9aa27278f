"""`plan(desired, observed, now) -> Plan`: the pure decision function of the reconciler.

No I/O, no clock (`now` is the server's time from the observation), no randomness; every output is sorted,
so the same inputs always give the same plan, byte for byte. The work is split by concern:
landing zone (missing resource groups; referenced subnets, identities, secrets) → resources (galleries,
definitions, host pools) → versions (builds, replication, retention) → pools (pins,
rollouts) → ownership (deletions) → graph (order, waves) → fingerprints.
"""

from __future__ import annotations

import gc
from datetime import datetime

from reconciler.model.observed import Observed, norm_id
from reconciler.model.plan import Action, Change, Plan
from reconciler.planner.acceptance_plan import acceptance_diagnostics, with_verdicts
from reconciler.planner.agent_version_check import agent_version_diagnostics
from reconciler.planner.context import Context
from reconciler.planner.diff import Outcome
from reconciler.planner.fingerprint import collect_fingerprints
from reconciler.planner.graph import order
from reconciler.planner.ownership import plan_deletions
from reconciler.planner.pools import plan_pools
from reconciler.planner.references import check_references
from reconciler.planner.resource_groups import after_groups, plan_resource_groups
from reconciler.planner.resources import plan_definitions, plan_galleries, plan_host_pools
from reconciler.planner.staging_groups import after_old_templates
from reconciler.planner.triggers import evaluate as evaluate_triggers
from reconciler.planner.versions import plan_versions
from reconciler.spec.desired import DesiredState


def plan(desired: DesiredState, observed: Observed, now: datetime, *, reference: bool = False) -> Plan:
    """`reference=True` takes the straightforward path: the rollout simulation rebuilds its host index every
    cycle and every field digest is hashed on its own. It gives the same plan, only slower; the tests hold
    the default path to it (tests/planner/test_plan_fast_path.py)."""
    # Planning allocates ~1M short-lived, acyclic objects. With the cyclic collector on, that triggers full
    # collections over the whole heap (a large estate's 40,000 observed resources): ~0.5 s that find nothing.
    # Reference counting still frees everything; the collector runs again as soon as planning ends.
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        return _plan(desired, observed, now, reference)
    finally:
        if was_enabled:
            gc.enable()


def _plan(desired: DesiredState, observed: Observed, now: datetime, reference: bool) -> Plan:
    desired = with_verdicts(
        desired, observed
    )  # `latest` skips versions not accepted (where a suite is declared)
    ctx = Context(desired, observed, now, reference)
    groups = plan_resource_groups(ctx)
    parts: list[Outcome] = [
        groups,
        check_references(ctx),
        plan_galleries(ctx),
        plan_definitions(ctx),
        plan_host_pools(ctx),
        plan_versions(ctx),
    ]
    pools, previews = plan_pools(ctx)
    parts.append(pools)
    parts.append(Outcome(diagnostics=acceptance_diagnostics(ctx) + agent_version_diagnostics(ctx)))
    # Builds due for a new version: notes, not Azure changes (git gets the version first).
    parts.append(evaluate_triggers(desired, observed, now).outcome(desired))
    wanted_templates = {norm_id(c.resource_id) for p in parts for c in p.changes if c.kind == "image-build"}
    wanted_templates |= {k for p in parts for k in p.kept}
    parts.append(plan_deletions(ctx, wanted_templates))
    changes: list[Change] = after_old_templates(
        after_groups([c for p in parts for c in p.changes], groups.changes)
    )
    _check_changes(changes)
    ordered, levels = order(changes)
    diagnostics = sorted(
        (d for p in parts for d in p.diagnostics),
        key=lambda d: (d.severity.value, d.resource_id.lower(), d.message),
    )
    fingerprints, fields = collect_fingerprints(ordered, observed, shared=not reference)
    return Plan(
        changes=ordered,
        generated_at=now.isoformat(),
        levels=levels,
        rollouts=tuple(sorted(previews, key=lambda r: r.pool_id.lower())),
        diagnostics=tuple(diagnostics),
        fingerprints=fingerprints,
        fingerprint_fields=fields,
    )


def _check_changes(changes: list[Change]) -> None:
    seen: set[str] = set()
    for change in changes:
        if change.key in seen and change.action is not Action.NO_OP:
            raise AssertionError(f"planner bug: two changes with key {change.key!r}")
        # What reads a plan decides from the code; a change without one would be read from its words.
        if not change.reason_code:
            raise AssertionError(f"planner bug: change {change.key!r} has no reason code")
        seen.add(change.key)
