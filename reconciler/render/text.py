"""The plan as text for a terminal, in the shape Terraform users read without a manual.

One block per change: symbol, kind, name, then the field-level diff (from the JSON patch) and the reason.
Then the rollout previews (batches, capacity against the floor, sessions affected, window, ring gate), then
warnings and errors, then one summary line. Colour only when asked (the CLI asks only on a TTY).
"""

from __future__ import annotations

import json
import re
from typing import Any

import jsonpointer

from reconciler.model.plan import Action, Change, ChangeReason, Plan, Severity
from reconciler.model.rollout import RolloutPreview
from reconciler.render.common import (
    REDACTED,
    SUMMARY_WORDS,
    SYMBOLS,
    details_view,
    display_name,
    redact,
    redact_patch,
    summary_line,
)
from reconciler.render.rollout_preview import ending_line, now_line, plural, totals_line

_COLOURS = {
    Action.CREATE: "32",
    Action.UPDATE: "33",
    Action.DELETE: "31",
    Action.REPLACE: "35",
    Action.REPLICATE: "36",
    Action.BUILD: "36",
    Action.PIN: "34",
    Action.ROLL: "34",
    Action.DEPRECATE: "33",
    Action.ADOPT: "32",
    Action.NO_OP: "2",
}


class _Out:
    def __init__(self, colour: bool):
        self.colour = colour
        self.lines: list[str] = []

    def paint(self, text: str, code: str) -> str:
        return f"\x1b[{code}m{text}\x1b[0m" if self.colour else text

    def add(self, text: str = "") -> None:
        self.lines.append(text)


_BARE_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")
_INLINE_LIST = 60  # a list of scalars up to this many characters stays on one line


def _scalar(value: Any) -> str:
    if value == REDACTED:
        return REDACTED  # bare, as Terraform prints "(sensitive value)"
    return json.dumps(value, ensure_ascii=False)


def _value(value: Any) -> str:
    """One value on one line, in full (redacted)."""
    value = redact(value)
    if isinstance(value, str):
        return _scalar(value)
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def _key(key: Any) -> str:
    key = str(key)
    return key if _BARE_KEY.match(key) else json.dumps(key, ensure_ascii=False)


def _assign(head: str, value: Any, indent: str, sign: str) -> list[str]:
    """`head` (e.g. `+ name = `) followed by `value`, nested blocks indented Terraform style."""
    inner = indent + "    "
    if isinstance(value, dict) and value:
        return [head + "{", *_block(value, inner, sign), indent + "  }"]
    if isinstance(value, list) and value:
        nested = any(isinstance(v, dict | list) for v in value)
        if not nested and len(json.dumps(value, ensure_ascii=False)) <= _INLINE_LIST:
            return [head + "[" + ", ".join(_scalar(v) for v in value) + "]"]
        lines = [head + "["]
        for item in value:
            item_lines = _assign(f"{inner}{sign} ", item, inner, sign)
            item_lines[-1] += ","
            lines += item_lines
        return [*lines, indent + "  ]"]
    if isinstance(value, dict | list):
        return [head + ("{}" if isinstance(value, dict) else "[]")]
    return [head + _scalar(value)]


def _block(mapping: dict[str, Any], indent: str, sign: str) -> list[str]:
    """Every field of `mapping`, one `sign key = value` per line, keys aligned within the block."""
    width = max((len(_key(k)) for k in mapping), default=0)
    lines: list[str] = []
    for key in sorted(mapping, key=str):
        lines += _assign(f"{indent}{sign} {_key(key):<{width}} = ", mapping[key], indent, sign)
    return lines


def body_lines(value: dict[str, Any], indent: str = "", sign: str = "+") -> list[str]:
    """A whole resource body, redacted, the way `terraform plan` prints a create."""
    return _block(redact(value), indent, sign)


def _field_lines(change: Change, indent: str) -> list[str]:
    lines = []
    for op in redact_patch(change.patch):
        path = op["path"] or "/"
        if op["op"] == "replace":
            try:
                old = jsonpointer.resolve_pointer(change.before or {}, op["path"])
            except jsonpointer.JsonPointerException:
                old = None
            lines.append(f"{indent}~ {path}: {_value(old)} → {_value(op['value'])}")
        elif op["op"] == "add" and isinstance(op["value"], dict | list) and op["value"]:
            lines += _assign(f"{indent}+ {path}: ", op["value"], indent, "+")
        elif op["op"] == "add":
            lines.append(f"{indent}+ {path}: {_value(op['value'])}")
        elif op["op"] == "remove":
            lines.append(f"{indent}- {path}")
        else:
            lines.append(f"{indent}{op['op']} {path}")
    return lines


def _short(key: str) -> str:
    """`create /subscriptions/…/galleries/gal1` → `create gal1`."""
    action, _, rid = key.partition(" ")
    return f"{action} {rid.rstrip('/').rsplit('/', 1)[-1]}"


# Actions whose `after` is a whole body that will be written (a build writes its image template).
_BODY_ACTIONS = frozenset({Action.CREATE, Action.BUILD, Action.REPLACE})


def _change_block(out: _Out, change: Change) -> None:
    symbol = SYMBOLS[change.action]
    head = f"  {symbol} {change.kind} {display_name(change)}"
    out.add(out.paint(head, _COLOURS[change.action]) + f"  ({change.action.value})")
    indent = "      "
    out.add(f"{indent}id: {change.resource_id}")
    for line in _field_lines(change, indent):
        out.add(line)
    if change.action in _BODY_ACTIONS and change.after and not change.patch:
        for line in body_lines(change.after, indent, "+"):
            out.add(line)
    sign = "+" if change.action is Action.CREATE else " "  # the details of a create are created too
    for key, value in sorted(details_view(change.details).items()):
        if isinstance(value, dict | list) and value:
            for line in _assign(f"{indent}{key}: ", value, indent, sign):
                out.add(line)
        else:
            out.add(f"{indent}{key}: {_value(value)}")
    code = f" [{change.reason_code}]" if change.reason_code else ""
    out.add(f"{indent}reason{code}: {change.reason}")
    if change.depends_on:
        out.add(f"{indent}after: {', '.join(_short(k) for k in change.depends_on)}")
    out.add()


def _rollout_block(out: _Out, preview: RolloutPreview) -> None:
    out.add(
        f"  {SYMBOLS[Action.ROLL]} pool {preview.pool}: {', '.join(preview.from_versions) or '-'} → "
        f"{preview.to_version}; {preview.strategy}, batch {preview.batch_size}"
        + (f", surge {preview.surge}" if preview.strategy == "surge" else "")
        + f", floor {preview.floor_percent}% ({preview.floor_hosts} of {preview.target_count} hosts Available)"
    )
    if preview.window_start:
        out.add(f"      waits for maintenance window {preview.window_start} → {preview.window_end}")
    if preview.gate:
        state = "satisfied" if preview.gate.get("satisfied") else "waiting"
        out.add(f"      ring gate ({state}): {preview.gate.get('reason')}")
    for reason in preview.blocked:
        out.add(out.paint(f"      blocked: {reason}", "31"))
    if preview.now:
        out.add(f"      now (first apply cycle): {now_line(preview.now)}")
    for batch in preview.batches:
        hosts = ", ".join(f"{h.name} ({plural(h.sessions, 'session')})" for h in batch.hosts)
        out.add(
            f"      batch {batch.index}" + (f" at {batch.at}" if batch.at else "") + f": {hosts}; "
            f"sessions affected {batch.sessions_affected}; Available {batch.available_before} → min "
            f"{batch.available_min} (floor {preview.floor_hosts}); peak {batch.peak_total} VMs"
        )
    out.add(
        f"      total: {plural(sum(len(b.hosts) for b in preview.batches), 'host')} in "
        f"{plural(len(preview.batches), 'batch')}, {plural(preview.sessions_affected, 'user session')} affected"
    )
    if preview.totals:
        out.add(f"      writes: {totals_line(preview.totals)}")
    out.add(f"      simulated: {ending_line(preview)}")
    out.add()


def render_text(
    plan: Plan, *, colour: bool = False, show_noop: bool = False, source: str | None = None
) -> str:
    out = _Out(colour)
    if source:
        out.add(f"Saved plan {source}, made {plan.generated_at} (format {plan.format_version}).")
        out.add()
    legend = "  ".join(f"{SYMBOLS[a]} {words.removeprefix('to ')}" for a, words in SUMMARY_WORDS)
    if plan.has_changes:
        out.add("Reconcile will perform the following actions (symbols: " + legend + "):")
        out.add()
    for change in plan.changes:
        if change.action is Action.NO_OP and not show_noop:
            continue
        _change_block(out, change)
    releases = [c for c in plan.changes if c.reason_code == ChangeReason.RELEASE_DUE]
    if releases:  # not Azure changes: git gets these versions first
        out.add(out.paint("Releases due (run `reconcile release` to write them to desired/):", "33"))
        for change in releases:
            out.add(f"  + image-version {display_name(change)}: {change.reason}")
        out.add()
    blocked = [c for c in plan.changes if c.reason_code == ChangeReason.RELEASE_BLOCKED]
    for waiting, heading in ((False, "Releases blocked:"), (True, "Releases waiting:")):
        # Blocked: due, but no version can be written until git changes. Waiting: until the source is ready.
        shown = [
            c.details["blocked"] for c in blocked if bool(c.details["blocked"].get("waiting")) is waiting
        ]
        if not shown:
            continue
        out.add(out.paint(heading, "33" if waiting else "31"))
        for b in shown:
            since = f" ({'since' if waiting else 'due since'} {b['since']})" if b.get("since") else ""
            out.add(f"  ! ImageBuild {b['build']}{since}: {b['why']}")
            if not waiting:
                out.add(f"    to unblock: {b['unblock']}")
        out.add()
    notes = [c for c in plan.changes if c.action is Action.NO_OP and c not in releases and c not in blocked]
    if notes and not show_noop:
        out.add("Notes:")
        for change in notes:
            out.add(f"  {SYMBOLS[Action.NO_OP]} {change.kind} {display_name(change)}: {change.reason}")
        out.add()
    if plan.rollouts:
        out.add("Rollout preview:")
        for preview in plan.rollouts:
            _rollout_block(out, preview)
    for diagnostic in plan.diagnostics:
        label = "Error" if diagnostic.severity is Severity.ERROR else "Warning"
        code = "31" if diagnostic.severity is Severity.ERROR else "33"
        out.add(out.paint(f"{label}: {diagnostic.message}", code))
        out.add(f"  on {diagnostic.resource_id}" + (f" ({diagnostic.reason})" if diagnostic.reason else ""))
        out.add()
    out.add(out.paint(summary_line(plan), "1"))
    return "\n".join(out.lines) + "\n"
