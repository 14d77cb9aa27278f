"""What every plan renderer shares: action symbols, the summary line, and secret redaction.

Redaction is defence in depth: the observer already drops registration tokens, but a renderer must never be
the place a secret leaks, so every value is scrubbed by key name before it is printed, whatever its source.
"""

from __future__ import annotations

import re
from typing import Any

from reconciler.model.plan import Action, Change, Plan

SYMBOLS: dict[Action, str] = {
    Action.CREATE: "+",
    Action.UPDATE: "~",
    Action.DELETE: "-",
    Action.REPLACE: "±",
    Action.REPLICATE: ">",
    Action.BUILD: "*",
    Action.PIN: "@",
    Action.ROLL: "↻",
    Action.DEPRECATE: "!",
    Action.ADOPT: "&",
    Action.NO_OP: "=",
}

# Summary wording, in the order the summary line lists actions.
SUMMARY_WORDS: tuple[tuple[Action, str], ...] = (
    (Action.CREATE, "to create"),
    (Action.UPDATE, "to update"),
    (Action.REPLACE, "to replace"),
    (Action.DELETE, "to delete"),
    (Action.BUILD, "to build"),
    (Action.REPLICATE, "to replicate"),
    (Action.PIN, "to pin"),
    (Action.ROLL, "to roll"),
    (Action.DEPRECATE, "to deprecate"),
    (Action.ADOPT, "to adopt"),
)

REDACTED = "(sensitive value)"
_SECRET_KEY = re.compile(
    r"(token|password|secret|passwd|connectionstring|accountkey|primarykey|secondarykey|sastoken|sas)$",
    re.IGNORECASE,
)
_SECRET_VALUE = re.compile(r"(eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}|sig=[A-Za-z0-9%]{10,})")


def is_secret_key(key: str) -> bool:
    return bool(_SECRET_KEY.search(key.replace("_", "").replace("-", "")))


def redact(value: Any) -> Any:
    """A copy of `value` with secret-named keys and token-shaped strings replaced by REDACTED."""
    if isinstance(value, dict):
        return {
            k: (REDACTED if is_secret_key(str(k)) and v not in (None, "") else redact(v))
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [redact(v) for v in value]
    if isinstance(value, str) and _SECRET_VALUE.search(value):
        return REDACTED
    return value


def redact_patch(patch: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """JSON patch ops whose path ends in a secret-named key get their value redacted."""
    out = []
    for op in patch:
        op = dict(op)
        leaf = str(op.get("path", "")).rsplit("/", 1)[-1]
        if "value" in op:
            op["value"] = REDACTED if is_secret_key(leaf) else redact(op["value"])
        out.append(op)
    return out


def summary_line(plan: Plan) -> str:
    if plan.has_errors and not plan.has_changes:
        return "Plan: errors only, nothing can be applied until they are fixed."
    if not plan.has_changes:
        return "No changes. Azure matches the desired state."
    counts = plan.summary()
    parts = [f"{counts[a.value]} {words}" for a, words in SUMMARY_WORDS if counts[a.value]]
    return "Plan: " + ", ".join(parts) + "."


def short_id(resource_id: str) -> str:
    """A gallery path (`gal/def/1.2.0`) for gallery resources, else the resource name."""
    parts = resource_id.strip("/").split("/")
    lowered = [p.lower() for p in parts]
    if "galleries" in lowered:
        return "/".join(parts[lowered.index("galleries") + 1 :: 2])
    return parts[-1]


def display_name(change: Change) -> str:
    """What a person calls the resource: the pool for a pool's session hosts (the id ends in `/sessionHosts`)."""
    parts = change.resource_id.rstrip("/").split("/")
    if len(parts) >= 2 and parts[-1].lower() == "sessionhosts":
        return parts[-2]
    return change.name


# Details that exist for apply and fingerprints, not for people (the JSON form keeps them all).
HIDDEN_DETAILS = frozenset({"session_host_ids"})


def details_view(details: dict[str, Any]) -> dict[str, Any]:
    """A change's details as a reviewer reads them, redacted: internal keys dropped, and a pool's host
    template (`target`, the data apply rebuilds its decisions from) cut down to what is created: the image
    version, the ring gate and the session-host template. Empty lists and nulls (nothing to add, nothing to
    retry) are left out. An unexpected shape is shown as it is."""
    view: dict[str, Any] = {}
    for key, value in details.items():
        if key in HIDDEN_DETAILS or value is None or value == [] or value == {}:
            continue
        if key == "target" and isinstance(value, dict) and isinstance(value.get("pool"), dict):
            spec = value["pool"].get("spec") or {}
            if value.get("version_id"):
                view["image"] = short_id(value["version_id"])
            if value.get("gate_pool_id"):
                view["gated_on"] = short_id(value["gate_pool_id"])
            if isinstance(spec, dict) and spec.get("sessionHosts"):
                view["session_hosts"] = spec["sessionHosts"]
            continue
        view[key] = value
    return redact(view)
