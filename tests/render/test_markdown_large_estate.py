"""The Markdown plan of a large estate is cut to GitHub's comment limit, and nothing cut is lost.

A slice of the sandbox's large estate (10 of its 100 galleries: 1,000 versions, 30 pools, 1,500 hosts, with
bench/desired_gen.py's 5 % drift) is planned by the real CLI over HTTPS with the real SDK clients, as a pull
request's plan job would: `reconcile plan -o markdown --out plan.json`. Its whole Markdown is over twice the
limit (the whole large estate's is 1.4 MB; it takes ~46 s to observe and plan, too slow for a test).
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest

from reconciler.cli import main
from reconciler.model.plan import Plan
from reconciler.render.markdown import render_markdown
from reconciler.render.markdown_text import cell
from reconciler.sandbox import Sandbox
from render.large_estate import large_estate_slice, large_estate_subscriptions
from render.markdown_shape import problems

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
from desired_gen import generate_desired  # noqa: E402

LIMIT = 65_536
NOTE = re.compile(
    r"> :scissors: \*\*This plan was cut to fit 65,536 characters\*\* \(GitHub's comment limit\): "
    r"(\d+) of (\d+) planned changes(?:, the values of (\d+) more)? and (\d+) of (\d+) sections are left out"
)
_PIPE = re.compile(r"(?<!\\)\|")


@pytest.fixture(scope="module")
def planned(tmp_path_factory):
    """(the comment, the saved JSON plan) from one `reconcile plan` of the slice."""
    root = tmp_path_factory.mktemp("large")
    subs = large_estate_subscriptions()
    with (
        pytest.MonkeyPatch.context() as mp,
        Sandbox(page_size=100, settings={"subscription_ids": tuple(subs)}, throttle=False) as sb,
    ):
        resources = large_estate_slice(sb.now(), galleries=10)
        sb.seed(resources)
        generate_desired(resources, subs, root / "desired", drift_share=0.05)
        for name, value in sb.env.items():
            mp.setenv(name, value)
        mp.setenv("NO_COLOR", "1")
        mp.chdir(root)  # reasons name `desired/...` as in a checkout
        out = root / "comment.md"
        with out.open("w", encoding="utf-8") as stdout:
            mp.setattr(sys, "stdout", stdout)
            code = main(["plan", "--desired", "desired", "-o", "markdown", "--out", "plan.json"])
        assert code == 0
        return out.read_text(encoding="utf-8"), json.loads((root / "plan.json").read_text(encoding="utf-8"))


def _rows(md: str) -> set[tuple[str, str, str, str]]:
    """(action, kind, name, reason code and reason) of each change row of the comment's per-kind tables."""
    rows = set()
    for line in md.splitlines():
        cols = [c.strip() for c in _PIPE.split(line)[1:-1]]
        if len(cols) == 4 and cols[0].startswith("`") and cols[2].startswith("`"):
            rows.add((cols[0].split()[-1], cols[1], cols[2].strip("`"), cols[3]))
    return rows


def _row_of(change: dict) -> tuple[str, str, str, str]:
    code = f"`{change['reason_code']}` " if change["reason_code"] else ""
    return change["action"], change["kind"], cell(change["name"]), code + cell(change["reason"])


def test_the_large_estate_plan_is_cut_to_the_comment_limit_with_a_note(planned):
    md, saved = planned
    whole = render_markdown(Plan.from_dict(saved), max_chars=10**9)
    assert len(whole) > 2 * LIMIT  # the cut path runs, not just the whole plan
    assert len(md) <= LIMIT
    note = NOTE.search(md)
    assert note, md[-1500:]
    assert (
        "The full plan is in the JSON artifact (`reconcile plan -o json`, or the plan file `--out` saved)"
        in md
    )
    actionable = [c for c in saved["changes"] if c["action"] != "no-op"]
    assert int(note[2]) == len(actionable)
    assert int(note[4]) >= 1  # whole sections are left out, and counted


def test_the_cut_comment_is_whole_markdown(planned):
    md, _ = planned
    assert problems(md) == []
    outside_code = "".join(md.split("```")[::2])
    assert outside_code.count("<details>") == outside_code.count("</details>") >= 1
    assert md.rstrip().endswith("</sub>")


def test_the_summary_is_intact_and_agrees_with_the_json_plan(planned):
    md, saved = planned
    whole = render_markdown(Plan.from_dict(saved), max_chars=10**9)
    summary = whole.split("<details>")[0]
    assert md.startswith(summary)  # never cut, whatever else is
    for action, count in saved["summary"].items():
        if count and action != "no-op":
            assert re.search(rf"^\| {action} `.` \| {count} \|", summary, re.M), action
    rollout_rows = re.findall(r"^\| `(hp-[a-z0-9-]+)` \| [^|]+ \| \d+ \| (\d+) \|", summary, re.M)
    batches = {r["pool"]: len(r["batches"]) for r in saved["rollouts"]}
    assert len(rollout_rows) == len(saved["rollouts"]) == 30
    assert {pool: int(n) for pool, n in rollout_rows} == batches


def test_everything_cut_from_the_comment_is_in_the_json_plan(planned):
    md, saved = planned
    plan = Plan.from_dict(saved)
    # The comment is what the saved plan renders to: a reviewer can rebuild it, and the rest, from the artifact.
    assert render_markdown(plan) == md
    whole = render_markdown(plan, max_chars=10**9)
    shown, every = _rows(md), _rows(whole)
    actionable = [c for c in saved["changes"] if c["action"] != "no-op"]
    assert every == {_row_of(c) for c in actionable}  # the JSON plan lists each change the comment could
    left_out = [c for c in actionable if _row_of(c) not in shown]
    note = NOTE.search(md)
    assert shown <= every and left_out and int(note[1]) == len(left_out)
    # What is shown is the start of the whole plan; the values left out are the whole plan's later bodies.
    kept = md.split("\n> :scissors:")[0]
    bodies = re.findall(r"^`.` [a-z-]+ `[^`]+`.*$", kept, re.M)
    every_body = re.findall(r"^`.` [a-z-]+ `[^`]+`.*$", whole, re.M)
    assert bodies and len(bodies) < len(every_body) and set(bodies) <= set(every_body)
    for c in left_out:  # each left-out change keeps its full record in the artifact
        assert c["resource_id"] and c["reason"] and (c["after"] or c["patch"] or c["details"] or c["before"])
    # Rollout previews (batch by batch) left out of the comment are in the JSON, every batch's hosts named.
    if "### Rollout preview" not in md:
        assert all(r["batches"] and all(b["hosts"] for b in r["batches"]) for r in saved["rollouts"])
