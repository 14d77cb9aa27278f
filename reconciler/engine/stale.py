"""Refuse a stale saved plan: the Azure it was computed against is not the Azure we see now.

A plan records, for every resource a change depends on, the fingerprint of what was observed (or
"absent"). Before applying a saved plan we observe again and recompute them with the same function
(reconciler.model.fingerprint); any difference means someone (or something) changed Azure since, and
applying the old decisions could undo their change or act on a false premise — as Terraform refuses a plan
whose state moved on.
"""

from __future__ import annotations

from reconciler.model.observed import Observed, norm_id
from reconciler.model.plan import Plan


def subscriptions_of(plan: Plan) -> list[str]:
    """Every subscription a plan touches or depends on (to observe the same scope again)."""
    ids = [c.resource_id for c in plan.changes] + list(plan.fingerprints)
    subs = {norm_id(i).split("/")[2] for i in ids if norm_id(i).startswith("/subscriptions/")}
    return sorted(subs)


def stale_reasons(plan: Plan, observed: Observed) -> list[str]:
    """One line per resource whose fingerprint moved since the plan was made (empty: the plan is fresh)."""
    reasons = []
    for rid, planned in sorted(plan.fingerprints.items()):
        resource = observed.get(rid)
        now = resource.fingerprint if resource is not None else "absent"
        if now == planned:
            continue
        if planned == "absent":
            reasons.append(f"{rid}: created since the plan was made")
        elif now == "absent":
            reasons.append(f"{rid}: deleted since the plan was made")
        else:
            reasons.append(f"{rid}: changed since the plan was made")
    return reasons
