"""Full bodies, Terraform style: every field of a create, nested, never cut at 100 characters, secrets redacted;
a pool's host template instead of the internal `target` data; past-tense wording from the Action."""

from __future__ import annotations

import pytest

from reconciler.model.plan import Action, Change, Plan
from reconciler.render import render, render_markdown, render_text

from .conftest import PASSWORD, POOL, TOKEN

LONG = "x" * 150
TEMPLATE = {
    "pool": {
        "name": "prod",
        "subscription_id": "11111111-1111-4111-8111-111111111111",
        "resource_group": "rg-avd",
        "location": "westeurope",
        "tags": {"owner": "us"},
        "spec": {
            "hostPoolType": "Pooled",
            "sessionHosts": {
                "count": 3,
                "vmSize": "Standard_D4s_v5",
                "zones": ["1", "2"],
                "localAdmin": {
                    "username": "avdadmin",
                    "passwordRef": {"keyVaultSecretRef": {"vaultName": "kv", "secretName": "adm"}},
                },
            },
            "rollout": {"strategy": "surge"},
        },
    },
    "version_id": "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/galleries/g/images/win11/versions/1.2.0",
    "gate_pool_id": "/subscriptions/s/resourceGroups/rg/providers/Microsoft.DesktopVirtualization/hostPools/validation",
}


def plan_of(*changes: Change) -> Plan:
    return Plan(changes=changes, generated_at="2026-12-03T08:00:00+00:00")


def create(after: dict, **kw) -> Change:
    return Change(Action.CREATE, "gallery", POOL.replace("hostPools/prod", "x/g1"), "r", after=after, **kw)


def block_of(out: str) -> list[str]:
    return out.split("\n\n")[1].splitlines()


def test_a_create_prints_every_field_nested_with_aligned_keys():
    after = {
        "location": "westeurope",
        "properties": {"description": LONG, "softDeletePolicy": {"isSoftDeleteEnabled": True}, "list": []},
        "tags": {"owner": "us", "cost center": "CC-1"},
    }
    lines = block_of(render_text(plan_of(create(after))))
    assert lines[2:] == [
        '      + location   = "westeurope"',
        "      + properties = {",
        f'          + description      = "{LONG}"',
        "          + list             = []",
        "          + softDeletePolicy = {",
        "              + isSoftDeleteEnabled = true",
        "            }",
        "        }",
        "      + tags       = {",
        '          + "cost center" = "CC-1"',
        '          + owner         = "us"',
        "        }",
        "      reason: r",
    ]


def test_lists_of_objects_are_one_block_per_item_and_short_scalar_lists_stay_inline():
    after = {
        "properties": {
            "customize": [{"name": "a", "validExitCodes": [0]}, {"name": "b"}],
            "zones": ["1", "2"],
        }
    }
    out = render_text(plan_of(create(after)))
    assert '          + customize = [\n              + {\n                  + name           = "a"' in out
    assert "                  + validExitCodes = [0]\n                },\n              + {" in out
    assert '          + zones     = ["1", "2"]' in out


def test_secrets_in_bodies_are_redacted_bare():
    after = {
        "properties": {"adminPassword": PASSWORD, "registrationInfo": {"token": TOKEN}, "note": f"t={TOKEN}"}
    }
    out = render_text(plan_of(create(after)))
    assert PASSWORD not in out and TOKEN not in out
    assert "          + adminPassword    = (sensitive value)" in out
    assert "          + note             = (sensitive value)" in out


def test_session_hosts_show_the_host_template_not_the_internal_target():
    change = Change(
        Action.CREATE,
        "session-hosts",
        POOL + "/sessionHosts",
        "add 3",
        details={"count": 3, "target": TEMPLATE, "session_host_ids": ["/x/y"]},
    )
    out = render_text(plan_of(change))
    assert "  + session-hosts prod  (create)" in out
    assert "target" not in out and "subscription_id" not in out and "session_host_ids" not in out
    assert '      image: "g/win11/1.2.0"' in out and '      gated_on: "validation"' in out
    assert "      session_hosts: {" in out and '          + vmSize     = "Standard_D4s_v5"' in out
    assert '                      + secretName = "adm"' in out  # a reference, not a secret
    md = render_markdown(plan_of(change))
    assert '"subscription_id"' not in md and '"image": "g/win11/1.2.0"' in md and "`prod`" in md


def test_an_unexpected_target_shape_is_shown_nested_not_dropped():
    change = Change(Action.ROLL, "host-pool", POOL, "roll", details={"target": {"hosts": ["h-1", "h-2"]}})
    out = render_text(plan_of(change))
    assert "      target: {" in out and '["h-1", "h-2"]' in out


def test_update_values_are_not_cut():
    change = Change(
        Action.UPDATE,
        "gallery",
        POOL,
        "drift",
        before={"properties": {"description": "old"}},
        after={"properties": {"description": LONG}},
        patch=[{"op": "replace", "path": "/properties/description", "value": LONG}],
    )
    assert f'~ /properties/description: "old" → "{LONG}"' in render_text(plan_of(change))


@pytest.mark.parametrize("fmt", ["text", "markdown", "json"])
def test_no_format_prints_an_ellipsis_cut(fmt):
    change = create({"properties": {"description": LONG}}, details={"produces": "/a/" + LONG})
    out = render(plan_of(change), fmt)
    assert LONG in out and "..." not in out


def test_every_action_has_a_past_tense_a_person_would_write():
    assert {a: a.past for a in Action} == {
        Action.CREATE: "created", Action.UPDATE: "updated", Action.REPLACE: "replaced", Action.DELETE: "deleted",
        Action.REPLICATE: "replicated", Action.BUILD: "built", Action.PIN: "pinned", Action.ROLL: "rolled",
        Action.DEPRECATE: "deprecated", Action.ADOPT: "adopted", Action.NO_OP: "unchanged",
    }  # fmt: skip


def test_empty_details_are_left_out():
    change = Change(
        Action.REPLICATE,
        "image-version",
        POOL,
        "replicas",
        details={"add": [], "retry": [], "replica_counts": {"westeurope": [1, 2]}, "note": None},
    )
    out = render_text(plan_of(change))
    assert "add:" not in out and "retry:" not in out and "note:" not in out
    assert "      replica_counts: {\n            westeurope = [1, 2]\n        }" in out
