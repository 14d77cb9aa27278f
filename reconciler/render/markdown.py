"""The plan as Markdown for a pull-request comment: summary table first, details collapsed.

GitHub renders `<details>` blocks collapsed, so a reviewer sees the counts and the rollout impact at a glance
and expands the field-level diff only when needed. Table cells are escaped (`|`, newlines).
"""

from __future__ import annotations

import json

from reconciler.model.plan import Action, ChangeReason, Plan, Severity
from reconciler.model.rollout import RolloutPreview
from reconciler.render.common import (
    SUMMARY_WORDS,
    SYMBOLS,
    details_view,
    display_name,
    redact,
    redact_patch,
    summary_line,
)
from reconciler.render.rollout_preview import ending_line, now_line, plural, totals_line


def _cell(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _summary_table(plan: Plan) -> list[str]:
    counts = plan.summary()
    lines = ["| Action | Count |", "| --- | ---: |"]
    for action, words in SUMMARY_WORDS:
        if counts[action.value]:
            lines.append(f"| `{SYMBOLS[action]}` {words.removeprefix('to ')} | {counts[action.value]} |")
    return lines


def _changes_table(plan: Plan) -> list[str]:
    lines = ["| | Action | Kind | Name | Reason |", "| --- | --- | --- | --- | --- |"]
    for c in plan.actionable:
        lines.append(
            f"| `{SYMBOLS[c.action]}` | {c.action.value} | {c.kind} | `{_cell(display_name(c))}` "
            f"| {_reason_cell(c)} |"
        )
    return lines


def _reason_cell(change) -> str:
    """The reason with its machine-readable code first, as the JSON plan carries it."""
    code = f"`{change.reason_code}` " if change.reason_code else ""
    return code + _cell(change.reason)


def _details(plan: Plan) -> list[str]:
    lines: list[str] = []
    for c in plan.actionable:
        if not (c.patch or c.after or c.details):
            continue
        body = {"id": c.resource_id}
        if c.patch:
            body["patch"] = redact_patch(c.patch)
        elif c.after:
            body["after"] = redact(c.after)
        details = details_view(c.details)
        if details:
            body["details"] = details
        lines += [
            f"<details><summary><code>{SYMBOLS[c.action]}</code> {c.action.value} {c.kind} "
            f"<code>{_cell(display_name(c))}</code></summary>",
            "",
            "```json",
            json.dumps(body, indent=2, ensure_ascii=False, sort_keys=True),
            "```",
            "",
            "</details>",
        ]
    return lines


def _rollout(preview: RolloutPreview) -> list[str]:
    lines = [
        f"#### Pool `{_cell(preview.pool)}`: {', '.join(preview.from_versions) or '-'} → {preview.to_version}",
        "",
        f"Strategy **{preview.strategy}**, batch {preview.batch_size}"
        + (f", surge {preview.surge}" if preview.strategy == "surge" else "")
        + f", capacity floor {preview.floor_percent}% ({preview.floor_hosts} of {preview.target_count} hosts);"
        f" {plural(preview.sessions_affected, 'user session')} affected.",
        "",
    ]
    if preview.now:
        lines += [f"Now (first apply cycle): {_cell(now_line(preview.now))}.", ""]
    if preview.window_start:
        lines += [f"Waits for the maintenance window {preview.window_start} → {preview.window_end}.", ""]
    if preview.gate:
        lines += [f"Ring gate: {_cell(preview.gate.get('reason'))}.", ""]
    for reason in preview.blocked:
        lines += [f"> **Blocked:** {_cell(reason)}", ""]
    if preview.batches:
        lines += [
            "| Batch | At (simulated) | Hosts | Sessions affected | Available before → min | Floor | Peak VMs |",
            "| ---: | --- | --- | ---: | --- | ---: | ---: |",
        ]
        for b in preview.batches:
            hosts = ", ".join(f"`{_cell(h.name)}` ({h.sessions})" for h in b.hosts)
            lines.append(
                f"| {b.index} | {b.at or '-'} | {hosts} | {b.sessions_affected} | {b.available_before} → "
                f"{b.available_min} | {preview.floor_hosts} | {b.peak_total} |"
            )
        lines.append("")
    if preview.totals:
        lines += [f"Writes: {_cell(totals_line(preview.totals))}.", ""]
    lines += [f"Simulated: {_cell(ending_line(preview))}.", ""]
    return lines


def render_markdown(plan: Plan, *, source: str | None = None) -> str:
    lines = [f"### Reconcile plan — {summary_line(plan)}", ""]
    if source:
        lines += [f"Saved plan `{_cell(source)}`, made {plan.generated_at}.", ""]
    errors = [d for d in plan.diagnostics if d.severity is Severity.ERROR]
    warnings = [d for d in plan.diagnostics if d.severity is Severity.WARNING]
    for d in errors:
        lines.append(f"> :x: **Error:** {_cell(d.message)} (`{_cell(d.resource_id)}`)")
    for d in warnings:
        lines.append(f"> :warning: **Warning:** {_cell(d.message)} (`{_cell(d.resource_id)}`)")
    if errors or warnings:
        lines.append("")
    if plan.has_changes:
        lines += _summary_table(plan) + [""]
        lines += [f"<details><summary>Changes ({len(plan.actionable)})</summary>", ""]
        lines += _changes_table(plan) + ["", "</details>", ""]
        details = _details(plan)
        if details:
            lines += ["<details><summary>Field-level diff</summary>", ""] + details + ["", "</details>", ""]
    releases = [c for c in plan.changes if c.reason_code == ChangeReason.RELEASE_DUE]
    if releases:
        lines += ["**Releases due** (`reconcile release` writes them to `desired/`; not Azure changes):", ""]
        lines += [f"- `{_cell(display_name(c))}`: {_cell(c.reason)}" for c in releases] + [""]
    notes = [c for c in plan.changes if c.action is Action.NO_OP and c not in releases]
    if notes:
        lines += [f"<details><summary>Notes ({len(notes)})</summary>", ""]
        lines += [f"- `{_cell(display_name(c))}` ({c.kind}): {_cell(c.reason)}" for c in notes]
        lines += ["", "</details>", ""]
    if plan.rollouts:
        lines += ["### Rollout preview", ""]
        for preview in plan.rollouts:
            lines += _rollout(preview)
    lines.append(f"<sub>plan format {plan.format_version}, generated {plan.generated_at}</sub>")
    return "\n".join(lines) + "\n"
