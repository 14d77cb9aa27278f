"""The plan as JSON: the versioned schema of reconciler.model.plan (documented in README.md), redacted."""

from __future__ import annotations

import json

from reconciler.model.plan import Plan
from reconciler.render.common import redact, redact_patch


def plan_to_json_dict(plan: Plan) -> dict:
    data = plan.to_dict()
    for change in data["changes"]:
        change["before"] = redact(change["before"])
        change["after"] = redact(change["after"])
        change["patch"] = redact_patch(change["patch"])
        change["details"] = redact(change["details"])
    return data


def render_json(plan: Plan) -> str:
    return json.dumps(plan_to_json_dict(plan), indent=2, ensure_ascii=False) + "\n"
