"""plan(): retention, the in-use guard, builds, pins, rollouts with floors, windows and ring gates."""

from __future__ import annotations

from datetime import timedelta

import pytest
from e2e.plan_estate import PoolHosts, converged, session_host_pair

from reconciler.model.plan import Action
from reconciler.model.tags import PIN_TAG, ROLLED_OUT_TAG
from reconciler.planner import plan

from .conftest import DEF_ID, NOW, RG, SUB, base_docs, find, observed_from, pool_doc, version_doc

V = {name: f"{DEF_ID}/versions/{name}" for name in ("1.0.0", "1.1.0", "1.2.0")}


def changes_of(result, action, name=None):
    return [c for c in result.changes if c.action is action and (name is None or c.name == name)]


def retention_estate(load, *, eol_days_ago=None, excluded=False):
    desired = load(base_docs(versions=("1.0.0", "1.1.0", "1.2.0"), pools=[pool_doc(version="1.2.0")]))
    resources = converged(desired, NOW)
    profile = find(resources, "versions/1.0.0")["properties"]["publishingProfile"]
    profile["excludeFromLatest"] = excluded
    if eol_days_ago is not None:
        profile["endOfLifeDate"] = (NOW - timedelta(days=eol_days_ago)).isoformat()
    return desired, resources


def test_superseded_version_is_excluded_and_stamped(load):
    desired, resources = retention_estate(load)
    result = plan(desired, observed_from(resources), NOW)
    [change] = result.actionable
    assert change.action is Action.DEPRECATE and change.name == "1.0.0"
    assert change.after == {
        "excludeFromLatest": True,
        "endOfLifeDate": (NOW + timedelta(days=30)).isoformat(),
    }
    assert "superseded by 1.2.0" in change.reason and "retention" in change.reason


def test_past_end_of_life_is_deleted_when_opted_in(load):
    desired, resources = retention_estate(load, eol_days_ago=1, excluded=True)
    [change] = plan(desired, observed_from(resources), NOW).actionable
    assert change.action is Action.DELETE and change.name == "1.0.0"


def test_before_end_of_life_nothing_happens(load):
    desired, resources = retention_estate(load, eol_days_ago=-5, excluded=True)
    assert not plan(desired, observed_from(resources), NOW).actionable


@pytest.mark.parametrize(
    ("use", "why"),
    [
        ("session host", "session host"),
        ("vm", "VM "),
        ("pin in azure", "pinned by host pool pool-a in Azure"),
        ("running build", "is building it"),
        ("not ours", "no ownership tag"),
    ],
)
def test_a_version_in_use_or_not_ours_is_never_deleted(load, use, why):
    desired, resources = retention_estate(load, eol_days_ago=1, excluded=True)
    pool = desired.host_pool("pool-a")
    if use == "session host":
        resources += session_host_pair(pool, 0, V["1.0.0"], sessions=2)
    elif use == "vm":
        resources += session_host_pair(pool, 0, V["1.0.0"], sessions=0)[:1]
    elif use == "pin in azure":
        find(resources, "hostPools/pool-a")["tags"][PIN_TAG] = V["1.0.0"].lower()
    elif use == "running build":
        resources.append(
            {
                "id": f"{RG}/providers/Microsoft.VirtualMachineImages/imageTemplates/t1",
                "name": "t1",
                "location": "westeurope",
                "type": "Microsoft.VirtualMachineImages/imageTemplates",
                "tags": {},
                "properties": {
                    "lastRunStatus": {"runState": "Running"},
                    "distribute": [{"galleryImageId": V["1.0.0"]}],
                },
            }
        )
    else:
        find(resources, "versions/1.0.0")["tags"] = {}
    result = plan(desired, observed_from(resources), NOW)
    assert not changes_of(result, Action.DELETE)
    [note] = [c for c in changes_of(result, Action.NO_OP) if c.name == "1.0.0"]
    assert why in note.reason


def test_an_old_declared_version_is_not_created(load):
    desired = load(base_docs(versions=("1.0.0", "1.1.0", "1.2.0")))
    resources = [r for r in converged(desired, NOW) if not r["id"].endswith("/versions/1.0.0")]
    result = plan(desired, observed_from(resources), NOW)
    assert not result.actionable
    [note] = changes_of(result, Action.NO_OP)
    assert note.name == "1.0.0" and "not created" in note.reason


BUILD = f"""
apiVersion: avd.reconciler.io/v1alpha1
kind: ImageBuild
metadata: {{name: b1}}
spec:
  identity: /subscriptions/{SUB}/resourceGroups/rg-img/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id1
  source: {{platformImage: {{publisher: MicrosoftWindowsDesktop, offer: office-365, sku: win11}}}}
  customize: [{{type: PowerShell, name: s1, inline: ["echo hi"]}}]
"""


def build_estate(load):
    built = version_doc("1.2.0").replace(
        f"source: {{managedImageId: {RG}/providers/Microsoft.Compute/images/src-1-2-0}}",
        "source: {build: b1}",
    )
    desired = load(base_docs() + [BUILD, built])
    resources = [r for r in converged(desired, NOW) if not r["id"].endswith("/versions/1.2.0")]
    return desired, resources


def test_a_missing_built_version_plans_a_build_with_a_content_named_template(load):
    desired, resources = build_estate(load)
    result = plan(desired, observed_from(resources), NOW)
    [build] = result.actionable
    assert build.action is Action.BUILD and build.name.startswith("b1-") and len(build.name) == 13
    assert build.details["produces"] == V["1.2.0"]
    assert build.after["properties"]["distribute"][0]["galleryImageId"] == V["1.2.0"]
    again = plan(desired, observed_from(resources), NOW).actionable[0]
    assert again.resource_id == build.resource_id  # same recipe, same template name


def test_a_running_build_is_waited_for_and_a_failed_one_rerun(load):
    desired, resources = build_estate(load)
    template_id = plan(desired, observed_from(resources), NOW).actionable[0].resource_id
    template = {
        "id": template_id,
        "name": template_id.rsplit("/", 1)[-1],
        "location": "westeurope",
        "tags": {"owner": "us"},
        "type": "Microsoft.VirtualMachineImages/imageTemplates",
        "properties": {
            "lastRunStatus": {"runState": "Running", "runSubState": "Customizing"},
            "distribute": [{"galleryImageId": V["1.2.0"]}],
        },
    }
    result = plan(desired, observed_from([*resources, template]), NOW)
    [waiting] = result.actionable  # a build to wait on (pins depend on it), not a no-op
    assert waiting.action is Action.BUILD and waiting.reason_code == "building"
    assert "Customizing" in waiting.reason and waiting.resource_id == template_id
    template["properties"]["lastRunStatus"] = {"runState": "Failed", "message": "customizer s1 failed"}
    [rerun] = plan(desired, observed_from([*resources, template]), NOW).actionable
    assert rerun.action is Action.BUILD and "customizer s1 failed" in rerun.reason


def test_a_finished_template_we_own_is_cleaned_up(load):
    desired = load(base_docs())
    resources = converged(desired, NOW)
    resources.append(
        {
            "id": f"{RG}/providers/Microsoft.VirtualMachineImages/imageTemplates/old-1",
            "name": "old-1",
            "type": "Microsoft.VirtualMachineImages/imageTemplates",
            "location": "westeurope",
            "tags": {"owner": "us"},
            "properties": {"lastRunStatus": {"runState": "Succeeded"}},
        }
    )
    [change] = plan(desired, observed_from(resources), NOW).actionable
    assert (
        change.action is Action.DELETE and change.kind == "image-build" and "build finished" in change.reason
    )


def rollout_estate(load, rollout, sessions=(3, 0, 1, 5), extra=""):
    desired = load(base_docs(pools=[pool_doc(rollout=rollout, extra=extra)]))
    resources = converged(
        desired, NOW, hosts={"pool-a": PoolHosts(4, version="1.0.0", sessions=list(sessions))}
    )
    return desired, plan(desired, observed_from(resources), NOW)


def test_surge_rollout_takes_the_emptiest_hosts_first_and_never_drops_capacity(load):
    _, result = rollout_estate(load, "{strategy: surge, batchSize: 2, capacityFloor: 100}")
    [roll] = changes_of(result, Action.ROLL)
    [preview] = result.rollouts
    # apply's own decide() over the simulated timeline: the first two replacements come up together; the
    # next waits for room (count + surge) as each original is deleted, the empty one at once, the other
    # after its users' grace period.
    assert [[h.name.split(".")[0] for h in b.hosts] for b in preview.batches] == [
        ["ha-1", "ha-2"],
        ["ha-0"],
        ["ha-3"],
    ]
    assert [b.sessions_affected for b in preview.batches] == [1, 3, 5]
    assert all(b.available_min == 4 and b.peak_total == 6 for b in preview.batches)
    assert [(s["op"], s["host"], s["version"], s["replaces"]) for s in preview.now] == [
        ("create", "ha-4", "1.1.0", "ha-1"),
        ("create", "ha-5", "1.1.0", "ha-2"),
    ]
    assert preview.totals == {
        "created": 4,
        "replaced": 4,
        "deleted": 4,
        "drained": 4,
        "messaged": 9,
        "messages": preview.totals["messages"],
        "logged_off": 9,
    }
    assert preview.end == "converged" and roll.details["now"] == list(preview.now)
    assert preview.from_versions == ("1.0.0",) and preview.to_version == "1.1.0"
    assert roll.details["sessions_affected"] == 9


def test_delete_first_rollout_respects_the_floor(load):
    _, result = rollout_estate(load, "{strategy: delete-first, batchSize: 2, capacityFloor: 75}")
    [preview] = result.rollouts
    assert [len(b.hosts) for b in preview.batches] == [1, 1, 1, 1]
    assert all(b.available_min >= preview.floor_hosts == 3 for b in preview.batches)
    _, result = rollout_estate(load, "{strategy: delete-first, batchSize: 2, capacityFloor: 50}")
    # Two at a time while the batch has room: one slot stays taken while ha-1's users have their grace.
    assert [len(b.hosts) for b in result.rollouts[0].batches] == [2, 1, 1]
    assert all(b.available_min >= 2 for b in result.rollouts[0].batches)


def test_rollout_waits_for_the_next_maintenance_window(load):
    rollout = "{strategy: surge, maintenanceWindows: [{cron: '0 22 * * *', duration: 4h, timeZone: UTC}]}"
    _, result = rollout_estate(load, rollout)
    assert result.rollouts[0].window_start == "2026-11-29T22:00:00+00:00"
    assert result.rollouts[0].window_end == "2026-11-30T02:00:00+00:00"
    open_now = "{strategy: surge, maintenanceWindows: [{cron: '0 11 * * *', duration: 4h}]}"
    _, result = rollout_estate(load, open_now)
    assert result.rollouts[0].window_start is None


def ring_estate(load, *, a_hosts_version, rolled_out_ago=None):
    pools = [pool_doc(), pool_doc(name="pool-b", rollout="{gate: {after: pool-a, soak: 24h}}")]
    desired = load(base_docs(pools=pools))
    hosts = {"pool-a": PoolHosts(2, version=a_hosts_version), "pool-b": PoolHosts(2, version="1.0.0")}
    resources = converged(desired, NOW, hosts=hosts)
    if rolled_out_ago is not None:
        stamp = f"{V['1.1.0'].lower()}|{(NOW - rolled_out_ago).isoformat()}"
        find(resources, "hostPools/pool-a")["tags"][ROLLED_OUT_TAG] = stamp
    return plan(desired, observed_from(resources), NOW)


def test_ring_gate_waits_for_the_earlier_pool_to_roll(load):
    result = ring_estate(load, a_hosts_version="1.0.0")
    roll_a, roll_b = changes_of(result, Action.ROLL)
    assert (roll_a.name, roll_b.name) == ("pool-a", "pool-b") and roll_a.key in roll_b.depends_on
    gate = {r.pool: r.gate for r in result.rollouts}["pool-b"]
    assert gate["satisfied"] is False and "waits for pool pool-a" in gate["reason"]


@pytest.mark.parametrize(
    ("ago", "satisfied", "until"),
    [
        (timedelta(days=2), True, NOW - timedelta(days=1)),
        (timedelta(hours=1), False, NOW + timedelta(hours=23)),
    ],
)
def test_ring_gate_soak(load, ago, satisfied, until):
    result = ring_estate(load, a_hosts_version=None, rolled_out_ago=ago)
    [preview] = result.rollouts
    assert preview.pool == "pool-b"
    assert preview.gate["satisfied"] is satisfied and preview.gate["waits_until"] == until.isoformat()


def test_a_build_running_from_an_older_recipe_is_not_started_twice(load):
    desired, resources = build_estate(load)
    old = {
        "id": f"{RG}/providers/Microsoft.VirtualMachineImages/imageTemplates/b1-0000000000",
        "name": "b1-0000000000",
        "location": "westeurope",
        "tags": {"owner": "us"},
        "type": "Microsoft.VirtualMachineImages/imageTemplates",
        "properties": {
            "lastRunStatus": {"runState": "Running"},
            "distribute": [{"galleryImageId": V["1.2.0"]}],
        },
    }
    result = plan(desired, observed_from([*resources, old]), NOW)
    [waiting] = result.actionable  # waits on the running one: no second template, no second run
    assert waiting.reason_code == "building" and waiting.details["template"] == "b1-0000000000"
    assert waiting.resource_id.endswith("/b1-0000000000")
