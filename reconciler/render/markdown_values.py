"""A change's values as a pull-request reviewer reads them: compact JSON, redacted, without what other
sections already show.

Pretty-printed JSON puts every scalar on its own line, and a build template alone then fills most of a
comment; here nesting past the second level is kept on one line, so the shape stays readable and the plan of a
version bump fits a reviewer's screen. Nothing is cut: every value is printed whole.
"""

from __future__ import annotations

import json
from typing import Any

from reconciler.model.plan import Change
from reconciler.render.common import details_view, redact, redact_patch

# Under this many characters a container stays on one line at any depth.
INLINE_WIDTH = 100
# From this depth on a container stays on one line whatever its length.
INLINE_DEPTH = 4
# A roll's details that the rollout preview of its pool shows already (batches, hosts, simulated timeline),
# and the host template its new hosts are made from: a roll moves hosts to a new image, the pool's template
# is the one desired/ holds and the hosts run (the text and JSON plans print it whole).
ROLLOUT_DETAILS = frozenset(
    {"batches", "hosts", "now", "simulation", "totals", "sessions_affected", "version", "session_hosts"}
)
# A build's details for apply: the template's name (the change's name) and what apply sets on the version
# after the build, made from the same ImageVersion document as the template's `distribute`.
BUILD_DETAILS = frozenset({"template", "version_patch"})


def compact_json(value: Any, depth: int = 0, indent: str = "") -> str:
    if depth >= INLINE_DEPTH:  # one deep item per line: no spaces, the line is long anyway
        return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    inline = json.dumps(value, ensure_ascii=False, sort_keys=True)
    if not isinstance(value, dict | list) or not value or len(indent) + len(inline) <= INLINE_WIDTH:
        return inline
    inner = indent + "  "
    if isinstance(value, dict):
        items = [
            f"{inner}{json.dumps(k, ensure_ascii=False)}: {compact_json(v, depth + 1, inner)}"
            for k, v in sorted(value.items())
        ]
        return "{\n" + ",\n".join(items) + "\n" + indent + "}"
    items = [inner + compact_json(v, depth + 1, inner) for v in value]
    return "[\n" + ",\n".join(items) + "\n" + indent + "]"


def change_values(change: Change, *, previewed: bool) -> dict[str, Any]:
    """What the Markdown shows of `change`: the field diff when the plan has one, else the whole new body,
    plus its details. `previewed`: the pool has a rollout preview, so a roll's simulated steps are left to it."""
    body: dict[str, Any] = {}
    if change.patch:
        body["patch"] = [_with_old(op, change.before) for op in redact_patch(change.patch)]
    elif change.after:
        body["after"] = redact(change.after)
    details = details_view(change.details)
    hidden = (ROLLOUT_DETAILS if previewed else frozenset()) | (
        BUILD_DETAILS if change.kind == "image-build" else frozenset()
    )
    shown = set(_strings(body))
    # A detail that repeats a value the body shows (a build's `produces` is its distribute target) says
    # nothing new.
    details = {
        k: v for k, v in details.items() if k not in hidden and not (isinstance(v, str) and v in shown)
    }
    if details:
        body["details"] = details
    return body


_MISSING = object()


def _with_old(op: dict[str, Any], before: dict[str, Any] | None) -> dict[str, Any]:
    """A replace or remove op with the value it overwrites (`was`), redacted like the new one."""
    if op.get("op") not in ("replace", "remove") or before is None:
        return op
    old = _pointer(before, str(op.get("path", "")))
    if old is _MISSING:
        return op
    [redacted] = redact_patch([{"path": op.get("path", ""), "value": old}])
    return {**op, "was": redacted["value"]}


def _pointer(doc: Any, path: str) -> Any:
    """RFC 6901: the value at `path` in `doc`, or _MISSING."""
    for token in path.split("/")[1:]:
        token = token.replace("~1", "/").replace("~0", "~")
        if isinstance(doc, dict) and token in doc:
            doc = doc[token]
        elif isinstance(doc, list) and token.isdigit() and int(token) < len(doc):
            doc = doc[int(token)]
        else:
            return _MISSING
    return doc


def _strings(value: Any):
    if isinstance(value, dict):
        for v in value.values():
            yield from _strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)
    elif isinstance(value, str):
        yield value
