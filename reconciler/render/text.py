"""The plan as text for a terminal, in the shape Terraform users read without a manual.

One block per change: symbol, kind, name, then the field-level diff (from the JSON patch) and the reason.
Then the rollout previews (batches, capacity against the floor, sessions affected, window, ring gate), then
warnings and errors, then one summary line. Colour only when asked (the CLI asks only on a TTY).
"""

from __future__ import annotations

import json
from typing import Any

import jsonpointer

from reconciler.model.plan import Action, Change, Plan, Severity
from reconciler.model.rollout import RolloutPreview
from reconciler.render.common import SUMMARY_WORDS, SYMBOLS, redact, redact_patch, summary_line
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


# Details that exist for apply and fingerprints, not for people (still in the JSON form).
_HIDDEN_DETAILS = frozenset({"session_host_ids"})


class _Out:
    def __init__(self, colour: bool):
        self.colour = colour
        self.lines: list[str] = []

    def paint(self, text: str, code: str) -> str:
        return f"\x1b[{code}m{text}\x1b[0m" if self.colour else text

    def add(self, text: str = "") -> None:
        self.lines.append(text)


def _value(value: Any) -> str:
    text = json.dumps(redact(value), ensure_ascii=False, sort_keys=True)
    return text if len(text) <= 100 else text[:97] + "..."


def _field_lines(change: Change) -> list[str]:
    lines = []
    for op in redact_patch(change.patch):
        path = op["path"] or "/"
        if op["op"] == "replace":
            try:
                old = jsonpointer.resolve_pointer(change.before or {}, op["path"])
            except jsonpointer.JsonPointerException:
                old = None
            lines.append(f"~ {path}: {_value(old)} → {_value(op['value'])}")
        elif op["op"] == "add":
            lines.append(f"+ {path}: {_value(op['value'])}")
        elif op["op"] == "remove":
            lines.append(f"- {path}")
        else:
            lines.append(f"{op['op']} {path}")
    return lines


def _short(key: str) -> str:
    """`create /subscriptions/…/galleries/gal1` → `create gal1`."""
    action, _, rid = key.partition(" ")
    return f"{action} {rid.rstrip('/').rsplit('/', 1)[-1]}"


def _change_block(out: _Out, change: Change) -> None:
    symbol = SYMBOLS[change.action]
    head = f"  {symbol} {change.kind} {change.name}"
    out.add(out.paint(head, _COLOURS[change.action]) + f"  ({change.action.value})")
    out.add(f"      id: {change.resource_id}")
    for line in _field_lines(change):
        out.add(f"      {line}")
    if change.action is Action.CREATE and change.after and not change.patch:
        for key in sorted(change.after):
            out.add(f"      + {key}: {_value(change.after[key])}")
    for key in sorted(k for k in change.details if k not in _HIDDEN_DETAILS):
        out.add(f"      {key}: {_value(change.details[key])}")
    out.add(f"      reason: {change.reason}")
    if change.depends_on:
        out.add(f"      after: {', '.join(_short(k) for k in change.depends_on)}")
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


def render_text(plan: Plan, *, colour: bool = False, show_noop: bool = False) -> str:
    out = _Out(colour)
    legend = "  ".join(f"{SYMBOLS[a]} {words.removeprefix('to ')}" for a, words in SUMMARY_WORDS)
    if plan.has_changes:
        out.add("Reconcile will perform the following actions (symbols: " + legend + "):")
        out.add()
    for change in plan.changes:
        if change.action is Action.NO_OP and not show_noop:
            continue
        _change_block(out, change)
    notes = [c for c in plan.changes if c.action is Action.NO_OP]
    if notes and not show_noop:
        out.add("Notes:")
        for change in notes:
            out.add(f"  {SYMBOLS[Action.NO_OP]} {change.kind} {change.name}: {change.reason}")
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
