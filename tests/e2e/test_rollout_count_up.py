"""Count-up before a roll, on the sandbox: a pool of 6 hosts on 1.0.0 is told `count: 24` and pinned to 2.0.0
in one change. The plan lists the 18 creates on 2.0.0 (and the first replacements); apply makes exactly the
writes the plan listed for its first cycle, never creates a VM on 1.0.0, and ends on 24 hosts of 2.0.0."""

from __future__ import annotations

from support.cli import drive, plan_json
from support.estate import PoolHosts
from support.plan_writes import expected_writes, pool_changes, seed_pools, totals_from, writes
from support.rollout import pool_doc, pool_id, versions_running, vms_of, write_desired

from reconciler.spec import load_desired

VERSIONS = {"1.0.0": ["westeurope"], "2.0.0": ["westeurope"]}
ROLLOUT = {"strategy": "surge", "batchSize": 2, "capacityFloor": 75, "drainGrace": "30m"}


def test_count_up_24_hosts_while_pin_moves(frozen, tmp_path):
    root = write_desired(tmp_path / "d", VERSIONS, [pool_doc("hp-g", count=6, rollout=ROLLOUT, prefix="hpg")])
    seed_pools(
        frozen, load_desired(root), {"hp-g": PoolHosts(6, version="1.0.0", sessions=[1, 0, 2, 0, 1, 0])}
    )
    write_desired(
        root, VERSIONS, [pool_doc("hp-g", count=24, version="2.0.0", rollout=ROLLOUT, prefix="hpg")]
    )
    result = plan_json(frozen, root)

    [roll] = [c for c in result["changes"] if c["action"] == "roll"]
    assert "add 18 on 2.0.0, replace 6" in roll["reason"]
    details = pool_changes(result)["hp-g"]
    added = [s for s in details["now"] if s["op"] == "create" and "replaces" not in s]
    replacements = [s for s in details["now"] if s["op"] == "create" and "replaces" in s]
    assert len(added) == 18 and {s["version"] for s in added} == {"2.0.0"}
    assert [s["replaces"] for s in replacements] == ["hpg-1", "hpg-3"]  # surge 2, empty hosts first
    assert details["totals"]["created"] == 24 and details["totals"]["replaced"] == 6
    [preview] = result["rollouts"]
    assert preview["peak_vms"] == 26 and preview["end"] == "converged"

    old = {v["name"] for v in vms_of(frozen, "hp-g")} | {f"hpg-{i}" for i in range(6)}
    start = len(frozen.audit()["entries"])
    marks: list[int] = []

    def never_on_old(cycle, result):
        marks.append(len(frozen.audit()["entries"]))
        for vm in vms_of(frozen, "hp-g"):
            if vm["name"] not in old:
                ref = vm["properties"]["storageProfile"]["imageReference"]["id"]
                assert ref.lower().endswith("/versions/2.0.0"), (vm["name"], ref)

    _, last = drive(frozen, root, on_cycle=never_on_old, max_hosts={pool_id("hp-g"): 26})
    assert last.pool("hp-g").done
    assert versions_running(frozen, "hp-g") == {"2.0.0": 24}
    entries = frozen.audit()["entries"]
    first = writes(entries[start : marks[0]])
    assert first == expected_writes(details["now"])  # resource by resource, what the plan said happens now
    whole = totals_from(writes(entries[start:]), entries[start:])
    assert whole == {k: details["totals"][k] for k in whole}
