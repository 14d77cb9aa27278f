"""Refuse a stale saved plan: the Azure it was computed against is not the Azure we see now.

A plan records, for every resource a change depends on, the fingerprint of what was observed (or
"absent"). Before applying a saved plan we observe again and recompute them with the same function
(reconciler.model.fingerprint); any difference means someone (or something) changed Azure since, and
applying the old decisions could undo their change or act on a false premise — as Terraform refuses a plan
whose state moved on.

Fingerprints cover configuration, not runtime facts (sessions, heartbeats, status, operations in flight), so
a plan survives users signing in and out; reconciler.model.fingerprint lists what counts. Each refusal is one
line naming the resource and the fields that changed, with their value now (from the plan's
`fingerprint_fields` digests), e.g. `…/hostpools/hp1: changed since the plan was made: maxSessionLimit (now 4)`.
"""

from __future__ import annotations

from reconciler.model.fingerprint import canonical_json, changed_fields
from reconciler.model.observed import Observed, norm_id
from reconciler.model.plan import Plan

_VALUE_CHARS = 60
_FIELDS_SHOWN = 4


def subscriptions_of(plan: Plan) -> list[str]:
    """Every subscription a plan touches or depends on (to observe the same scope again)."""
    ids = [c.resource_id for c in plan.changes] + list(plan.fingerprints)
    subs = {norm_id(i).split("/")[2] for i in ids if norm_id(i).startswith("/subscriptions/")}
    return sorted(subs)


def _now(fields: dict, label: str) -> str:
    if label not in fields or fields[label] == "absent":
        return "now absent"
    text = canonical_json(fields[label])
    return "now " + (text if len(text) <= _VALUE_CHARS else text[: _VALUE_CHARS - 1] + "…")


def _what_changed(planned: dict[str, str] | None, fields: dict) -> str:
    """ ": f1 (now v1), f2 (now v2)" for the fields that changed, or "" when the plan has no digests."""
    if not planned:
        return ""
    labels = changed_fields(planned, fields)
    # "vm" (now absent) says it all: its "vm.<field>" labels, gone with it, are not listed one by one.
    labels = [label for label in labels if not any(label.startswith(other + ".") for other in labels)]
    if not labels:
        return ""
    shown = [f"{label} ({_now(fields, label)})" for label in labels[:_FIELDS_SHOWN]]
    more = f" and {len(labels) - _FIELDS_SHOWN} more" if len(labels) > _FIELDS_SHOWN else ""
    return ": " + ", ".join(shown) + more


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
        elif resource is None:
            reasons.append(f"{rid}: deleted since the plan was made")
        else:
            detail = _what_changed(plan.fingerprint_fields.get(rid), resource.fingerprint_fields)
            reasons.append(f"{rid}: changed since the plan was made{detail}")
    return reasons
