"""The rollout preview of one pool in Markdown, and its row in the summary's rollouts table."""

from __future__ import annotations

from reconciler.model.rollout import RolloutPreview
from reconciler.render.markdown_text import cell
from reconciler.render.rollout_preview import TOTAL_WORDS, ending_line, now_line, plural

ROLLOUTS_HEADER = (
    "| Pool | Version | Hosts to replace | Batches | Sessions affected | Ends |\n"
    "| --- | --- | ---: | ---: | ---: | --- |\n"
)


def versions(preview: RolloutPreview) -> str:
    return f"{', '.join(preview.from_versions) or '-'} → {preview.to_version}"


def rollout_row(preview: RolloutPreview) -> str:
    hosts = sum(len(b.hosts) for b in preview.batches)
    end = preview.end + (f" ({preview.end_why})" if preview.end_why else "")
    return (
        f"| `{cell(preview.pool)}` | {cell(versions(preview))} | {hosts} | {len(preview.batches)} "
        f"| {preview.sessions_affected} | {cell(end)} |\n"
    )


def rollout_section(preview: RolloutPreview) -> str:
    lines = [
        f"#### Pool `{cell(preview.pool)}`: {versions(preview)}",
        "",
        f"Strategy **{preview.strategy}**, batch {preview.batch_size}"
        + (f", surge {preview.surge}" if preview.strategy == "surge" else "")
        + f", capacity floor {preview.floor_percent}% ({preview.floor_hosts} of {preview.target_count} hosts);"
        f" {plural(preview.sessions_affected, 'user session')} affected.",
        "",
    ]
    if preview.now:
        lines += [f"Now (first apply cycle): {cell(now_line(preview.now))}.", ""]
    if preview.window_start:
        lines += [f"Waits for the maintenance window {preview.window_start} → {preview.window_end}.", ""]
    if preview.gate:
        lines += [f"Ring gate: {cell(preview.gate.get('reason'))}.", ""]
    for reason in preview.blocked:
        lines += [f"> **Blocked:** {cell(reason)}", ""]
    if preview.batches:
        lines += [
            "| Batch | At (simulated) | Hosts | Sessions affected | Available before → min | Floor | Peak VMs |",
            "| ---: | --- | --- | ---: | --- | ---: | ---: |",
        ]
        for b in preview.batches:
            hosts = ", ".join(f"`{cell(h.name)}` ({h.sessions})" for h in b.hosts)
            lines.append(
                f"| {b.index} | {b.at or '-'} | {hosts} | {b.sessions_affected} | {b.available_before} → "
                f"{b.available_min} | {preview.floor_hosts} | {b.peak_total} |"
            )
        lines.append("")
    if preview.totals:
        lines += [f"Writes: {cell(writes_line(preview.totals))}.", ""]
    lines += [f"Simulated: {cell(ending_line(preview))}.", ""]
    return "\n".join(lines) + "\n"


def writes_line(totals: dict[str, int]) -> str:
    """The simulated writes that happen, in the text preview's words (a zero count says nothing here)."""
    parts = [f"{plural(totals[k], word)} {verb}" for k, word, verb in TOTAL_WORDS if totals.get(k)]
    return ", ".join(parts) or "none"
