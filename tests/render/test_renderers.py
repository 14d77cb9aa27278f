"""Text, JSON and Markdown renderers: symbols, summary line, round trip, rollout tables, no secrets."""

from __future__ import annotations

import json

import pytest

from reconciler.model.plan import FORMAT_VERSION, Plan, PlanFormatError
from reconciler.render import render, render_json, render_markdown, render_text

from .conftest import PASSWORD, TOKEN


def test_text_lists_every_action_with_its_symbol_and_ends_with_the_summary(sample_plan):
    out = render_text(sample_plan)
    for line in (
        "+ gallery corpgallery",
        "~ image-definition win11-m365",
        "± image-definition",
        "- image-version 0.9.0",
        "* image-build corp-abc",
        "> image-version 1.2.0",
        "@ host-pool prod",
        "↻ host-pool prod",
        "! image-version 1.0.0",
        "& gallery corpgallery2",
    ):
        assert line in out, line
    assert '~ /properties/description: "old" → "new | piped"' in out
    assert out.rstrip().splitlines()[-1] == (
        "Plan: 1 to create, 1 to update, 1 to replace, 1 to delete, 1 to build, 1 to replicate, 1 to pin, "
        "1 to roll, 1 to deprecate, 1 to adopt."
    )
    assert "\x1b[" not in out


def test_colour_only_when_asked(sample_plan):
    assert "\x1b[32m" in render_text(sample_plan, colour=True)


def test_text_rollout_preview_shows_batches_sessions_floor_window_and_gate(sample_plan):
    out = render_text(sample_plan)
    assert "pool prod: 1.1.0 → 1.2.0; surge, batch 2, surge 2, floor 80% (4 of 4 hosts Available)" in out
    assert "batch 1: avd-0 (3 sessions), avd-1 (0 sessions); sessions affected 3; Available 4 → min 4" in out
    assert "waits for maintenance window 2026-12-05T22:00:00+00:00" in out
    assert "ring gate (waiting): waits for validation" in out
    assert "total: 3 hosts in 2 batches, 8 user sessions affected" in out


def test_text_rollout_preview_lists_the_first_cycle_totals_and_says_one_batch(sample_plan):
    from dataclasses import replace

    preview = replace(
        sample_plan.rollouts[0],
        batches=sample_plan.rollouts[0].batches[:1],
        now=(
            {"op": "create", "host": "avd-4", "version": "1.2.0"},
            {"op": "create", "host": "avd-5", "version": "1.2.0", "replaces": "avd-0"},
        ),
        totals={
            "created": 3,
            "replaced": 1,
            "deleted": 1,
            "drained": 1,
            "messaged": 3,
            "messages": 6,
            "logged_off": 0,
        },
        min_available=4,
        peak_vms=6,
        finished_at="2026-12-05T23:10:00+00:00",
    )
    out = render_text(replace(sample_plan, rollouts=(preview,)))
    assert "now (first apply cycle): create 1 host on 1.2.0; create 1 replacement on 1.2.0 (for avd-0)" in out
    assert "total: 2 hosts in 1 batch, 3 user sessions affected" in out
    assert (
        "writes: 3 hosts created, 1 host replaced, 1 VM deleted, 1 host drained, 3 user sessions messaged, "
        "0 user sessions logged off"
    ) in out
    assert (
        "simulated: converges at 2026-12-05T23:10:00+00:00; Available min 4 (floor 4); peak 6 VMs (max 6)"
        in out
    )
    again = type(preview).from_dict(json.loads(json.dumps(preview.to_dict())))
    assert again == preview  # saved plans (plan --out) carry the whole preview


def test_no_changes_says_so():
    plan = Plan(changes=(), generated_at="2026-11-29T12:00:00+00:00")
    assert render_text(plan).strip() == "No changes. Azure matches the desired state."
    assert "No changes" in render_markdown(plan)


def test_json_round_trips_and_is_versioned(sample_plan):
    data = json.loads(render_json(sample_plan))
    assert data["format_version"] == FORMAT_VERSION
    assert data["summary"]["create"] == 1 and data["summary"]["no-op"] == 1
    assert data["graph"]["edges"] == [[sample_plan.changes[0].key, sample_plan.changes[1].key]]
    again = Plan.from_dict(sample_plan.to_dict())
    assert again == sample_plan


def test_json_from_a_future_format_is_refused(sample_plan):
    data = sample_plan.to_dict()
    data["format_version"] = FORMAT_VERSION + 1
    with pytest.raises(PlanFormatError):
        Plan.from_dict(data)


def test_markdown_has_summary_table_collapsed_details_and_rollout_table(sample_plan):
    out = render_markdown(sample_plan)
    assert "| Action | Count |" in out
    assert "<details><summary><b>image-definition</b> (2): 1 to update, 1 to replace</summary>" in out
    assert '"value": "new | piped"' in out  # inside a code block, pipes stay as they are
    assert (
        "| Batch | At (simulated) | Hosts | Sessions affected | Available before → min | Floor | Peak VMs |"
        in out
    )
    assert "| 1 | - | `avd-0` (3), `avd-1` (0) | 3 | 4 → 4 | 4 | 6 |" in out
    assert ":warning: **Warning:** osType cannot change" in out


@pytest.mark.parametrize("fmt", ["text", "json", "markdown"])
def test_secrets_never_appear_in_any_format(sample_plan, fmt):
    out = render(sample_plan, fmt)
    assert TOKEN not in out
    assert TOKEN.split(".")[0] not in out
    assert PASSWORD not in out
    assert "(sensitive value)" in out


def test_json_output_validates_against_the_published_schema(sample_plan):
    import jsonschema

    from reconciler.model.plan_schema import PLAN_SCHEMA

    data = json.loads(render_json(sample_plan))
    data["changes"][1]["fingerprint"] = "sha256:" + "0" * 64
    data["fingerprints"] = {k: "sha256:" + "0" * 64 for k in data["fingerprints"]}
    jsonschema.validate(data, PLAN_SCHEMA)
    data["format_version"] = FORMAT_VERSION + 1
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(data, PLAN_SCHEMA)
