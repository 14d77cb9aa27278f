"""HTML pieces every dashboard page uses. Every value from Azure or the desired state is untrusted: it only
enters a page through `_e` (HTML-escaped); the other helpers take already-escaped cells."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from typing import Any


def _e(value: Any) -> str:
    return escape("—" if value is None or value == "" else str(value), quote=True)


def _table(caption: str, head: Sequence[str], rows: Sequence[Sequence[str]], *, row_header=True) -> str:
    """`rows` hold already-escaped cells; the first cell of each row is its header when `row_header`."""
    if not rows:
        return f'<p class="muted">{_e(caption)}: none.</p>'
    out = [f"<table><caption>{_e(caption)}</caption><thead><tr>"]
    out += [f'<th scope="col">{_e(h)}</th>' for h in head]
    out.append("</tr></thead><tbody>")
    for row in rows:
        cells = [
            f'<th scope="row">{c}</th>' if i == 0 and row_header else f"<td>{c}</td>"
            for i, c in enumerate(row)
        ]
        out.append("<tr>" + "".join(cells) + "</tr>")
    out.append("</tbody></table>")
    return "".join(out)


def _state(value: Any) -> str:
    text = str(value or "")
    cls = (
        "ok"
        if text.lower() in ("succeeded", "completed", "converged", "available", "passed", "true", "forced")
        else "bad"
        if text.lower() in ("failed", "halted", "canceled", "partiallysucceeded", "stalled", "quarantined")
        else "warn"
    )
    return f'<span class="{cls}">{_e(value)}</span>'


def _facts(items: Sequence[tuple[str, str]]) -> str:
    return '<dl class="facts">' + "".join(f"<dt>{_e(k)}</dt><dd>{v}</dd>" for k, v in items) + "</dl>"
