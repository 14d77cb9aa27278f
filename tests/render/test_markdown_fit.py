"""The Markdown plan within a comment limit: a plan longer than GitHub's 65,536 characters is cut between
whole pieces (a table at a row, a kind's section after a change), never inside a tag, table or code block, and
ends with a note saying what was left out and where the rest is. A plan that fits is printed whole."""

from __future__ import annotations

import pytest

from reconciler.model.plan import Action, Change, Diagnostic, Plan, Severity
from reconciler.render.markdown import render_markdown
from reconciler.render.markdown_fit import GITHUB_COMMENT_LIMIT, Node, fit
from render.markdown_shape import problems

SUB = "/subscriptions/11111111-1111-4111-8111-111111111111/resourceGroups/rg-images/providers"
GALLERY = f"{SUB}/Microsoft.Compute/galleries/g1"


def _big_plan(versions: int) -> Plan:
    """A gallery with `versions` new image versions, each with a create body, and a warning."""
    changes = [Change(Action.CREATE, "gallery", GALLERY, "declared", after={"location": "westeurope"})]
    for i in range(versions):
        rid = f"{GALLERY}/images/win11/versions/1.0.{i}"
        body = {
            "properties": {
                "publishingProfile": {"targetRegions": [{"name": "westeurope", "replicaCount": 2}]}
            }
        }
        changes.append(
            Change(Action.CREATE, "image-version", rid, f"desired/g.yaml:{i}: declared", after=body)
        )
    changes.append(Change(Action.DELETE, "gallery", GALLERY + "old", "not declared"))
    warning = Diagnostic(Severity.WARNING, GALLERY, "a version is quarantined")
    return Plan(changes=tuple(changes), diagnostics=(warning,), generated_at="2026-12-07T06:00:00+00:00")


def test_a_plan_past_the_comment_limit_is_cut_whole_with_a_note():
    plan = _big_plan(600)
    md = render_markdown(plan)
    assert len(md) <= GITHUB_COMMENT_LIMIT
    assert problems(md) == []
    assert ":warning: **Warning:** a version is quarantined" in md  # diagnostics come first, never cut
    assert "This plan was cut to fit 65,536 characters" in md
    assert "The full plan is in the JSON artifact (`reconcile plan -o json`" in md
    # Every change is listed; the versions' section is cut after a whole body, the rest of the values left out.
    assert md.count("| `+` create | image-version |") == 600
    bodies = md.count("```json")
    assert 1 < bodies < 601
    assert (
        f"0 of 602 planned changes, the values of {601 - bodies} more and 0 of 3 sections are left out, 1 cut short."
        in md
    )
    assert md.rstrip().endswith("<sub>plan format 2, generated 2026-12-07T06:00:00+00:00</sub>")


def test_a_table_too_long_for_the_limit_is_cut_at_a_row():
    md = render_markdown(_big_plan(1500))
    assert len(md) <= GITHUB_COMMENT_LIMIT and problems(md) == []
    listed = md.count("| `+` create | image-version |")
    assert 0 < listed < 1500 and "```json" not in md.split("<b>image-version</b>")[1]
    note = f"{1500 - listed} of 1502 planned changes, the values of {listed} more and 0 of 3 sections are left out"
    assert note + ", 1 cut short." in md


def test_what_is_shown_is_the_start_of_the_whole_plan():
    plan = _big_plan(600)
    whole = render_markdown(plan, max_chars=10**9)
    cut = render_markdown(plan)
    assert len(whole) > GITHUB_COMMENT_LIMIT and "cut to fit" not in whole
    kept = cut.split("\n> :scissors:")[0]
    # Only closing tags are added where a piece was cut; the rows shown are the whole plan's first rows.
    rows = [line for line in kept.splitlines() if line.startswith("| `+` create | image-version")]
    assert (
        rows
        == [line for line in whole.splitlines() if line.startswith("| `+` create | image-version")][
            : len(rows)
        ]
    )


@pytest.mark.parametrize("limit", [2_000, 5_000, 20_000])
def test_any_limit_is_kept_and_the_result_is_whole(limit):
    md = render_markdown(_big_plan(200), max_chars=limit)
    assert len(md) <= limit and problems(md) == [] and f"cut to fit {limit:,} characters" in md


def test_a_plan_that_fits_is_printed_whole_without_a_note():
    plan = _big_plan(3)
    md = render_markdown(plan)
    assert "cut to fit" not in md and md.count("| `+` create | image-version |") == 3
    assert problems(md) == []


def test_a_section_with_nothing_that_fits_is_left_out_not_shown_empty():
    sections = [
        Node("A\n", [Node("a" * 50, changes=1)]),
        Node("<details>\n", [Node("b" * 400, changes=1)], "</details>\n"),
    ]
    out = fit(sections, "end\n", limit=len("A\n" + "a" * 50) + 300)
    assert "<details>" not in out and "b" not in out.split("> :scissors:")[0]
    assert "1 of 2 planned changes and 1 of 2 sections are left out." in out
