"""The text and Markdown plans show each change's reason code beside its reason, so a reader sees what the JSON carries."""

from __future__ import annotations

from reconciler.model.plan import Action, Change, ChangeReason, Plan
from reconciler.render.markdown import render_markdown
from reconciler.render.text import render_text

GALLERY = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/galleries/g1"


def test_the_reason_line_carries_the_code():
    change = Change(
        Action.CREATE, "gallery", GALLERY, "declared, does not exist", reason_code=ChangeReason.MISSING
    )
    text = render_text(Plan(changes=(change,), generated_at="2026-01-01T00:00:00+00:00"))
    assert "reason [missing]: declared, does not exist" in text


def test_the_markdown_changes_table_carries_the_code():
    change = Change(
        Action.CREATE, "gallery", GALLERY, "declared, does not exist", reason_code=ChangeReason.MISSING
    )
    markdown = render_markdown(Plan(changes=(change,), generated_at="2026-01-01T00:00:00+00:00"))
    row = next(line for line in markdown.splitlines() if "gallery" in line and line.startswith("| `+`"))
    assert row.endswith("| `missing` declared, does not exist |")
