"""Acceptance on a dedicated test VM (`where: {testVm: ...}`), end to end: `reconcile apply` passes (real CLI
in process, real SDK over HTTPS) on the frozen sandbox clock; the sandbox audit says which VMs were created
and deleted and where the run commands ran.

The suite runs on a VM made from the version in its own subnet before any pool host runs the version: hp-val
(the validation pool) and hp-prod roll only after the verdict, and a failing version reaches no session host.
"""

from __future__ import annotations

import contextlib
import io

from support.acceptance import TESTS, version_id, write
from support.cli import apply_pass, drive, plan_json
from support.estate import seed_estate
from support.rollout import SUB, versions_running
from support.sandbox import sandbox_environ

from reconciler.cli import main
from reconciler.model.acceptance import ACCEPTANCE_FAILURE_TAG, AcceptanceState, acceptance_of, outcomes_of
from reconciler.model.acceptance_vm import AcceptVmState, accept_vm_name, accept_vm_record
from reconciler.sandbox import landing_zone
from reconciler.spec import load_desired

SUBNET = (
    f"/subscriptions/{SUB}/resourceGroups/rg-net/providers/Microsoft.Network/virtualNetworks/vnet-test"
    "/subnets/snet-accept"
)
AGENT_CHECKS = (
    "    agentChecks:\n      require: [DomainJoinedCheck, FSLogixHealthCheck, SxSStackListenerCheck]\n"
)
TEST_VM = accept_vm_name(version_id("2.0.0"))


def on_test_vm(root, subnet: str = SUBNET):
    """The acceptance estate's suite moved onto a test VM (agent checks are a session host's: dropped)."""
    path = root / "estate.yaml"
    text = path.read_text(encoding="utf-8")
    assert AGENT_CHECKS in text and "    hosts: 1\n" in text
    where = f"    where:\n      testVm: {{subnetId: {subnet}, vmSize: Standard_D2s_v5}}\n"
    path.write_text(text.replace(AGENT_CHECKS, "").replace("    hosts: 1\n", where), encoding="utf-8")
    return root


def provisioned(sb, tmp_path, subnet: str = SUBNET):
    sb.seed(landing_zone.build(subnets=[(SUBNET, "westeurope")]))
    root = on_test_vm(write(tmp_path / "d", "1.0.0"), subnet)
    seed_estate(sb, load_desired(root))
    drive(sb, root)
    assert versions_running(sb, "hp-prod") == {"1.0.0": 2}
    on_test_vm(write(root, "2.0.0"), subnet)
    return root


def version_tags(sb) -> dict:
    return dict((sb.get(version_id("2.0.0")) or {}).get("tags") or {})


def vm_writes(sb, vm: str) -> list[str]:
    """The methods of every write to the VM itself (not its run commands), in audit order."""
    return [
        e["method"]
        for e in sb.audit()["entries"]
        if e["id"].lower().endswith(f"/virtualmachines/{vm}") and e["method"] in ("PUT", "PATCH", "DELETE")
    ]


def run_commands_on(sb, vm: str) -> dict[str, int]:
    counts: dict[str, int] = {}
    for e in sb.audit()["entries"]:
        rid = e["id"].lower()
        if e["method"] == "PUT" and f"/virtualmachines/{vm}/runcommands/avd-accept-" in rid:
            test = rid.rsplit("/avd-accept-", 1)[-1]
            counts[test] = counts.get(test, 0) + 1
    return counts


def accept_steps(node):
    if isinstance(node, dict):
        if node.get("op") == "accept":
            yield node
        for v in node.values():
            yield from accept_steps(v)
    elif isinstance(node, list):
        for v in node:
            yield from accept_steps(v)


def test_the_plan_shows_the_test_vm_step_before_any_pool_host_runs_the_version(frozen, tmp_path):
    root = provisioned(frozen, tmp_path)
    plan = plan_json(frozen, root)
    steps = list(accept_steps(plan))
    assert steps and steps[0]["host"] == TEST_VM and len(TEST_VM) <= 15
    assert steps[0]["test_vm"] == {"name": TEST_VM, "subnet_id": SUBNET, "vm_size": "Standard_D2s_v5"}
    assert steps[0]["tests"] == list(TESTS)
    out = io.StringIO()
    with sandbox_environ(frozen), contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        assert main(["plan", "--desired", str(root)]) == 0
    assert f"runs on test VM {TEST_VM} (Standard_D2s_v5, subnet snet-accept; deleted after the verdict)" in (
        out.getvalue()
    )


def test_a_good_version_passes_on_its_test_vm_which_is_deleted_and_then_the_pools_roll(frozen, tmp_path):
    root = provisioned(frozen, tmp_path)
    early: list[str] = []
    events: list[str] = []

    def watch(cycle, result):
        events.extend(f"{a['test']} {a['what']} on {a['host']}" for a in result.recap.get("acceptance") or ())
        verdict = acceptance_of(version_tags(frozen))
        passed = verdict is not None and verdict.state is AcceptanceState.PASSED
        for pool in ("hp-val", "hp-prod"):
            if "2.0.0" in versions_running(frozen, pool) and not passed:
                early.append(pool)

    drive(frozen, root, on_cycle=watch)
    tags = version_tags(frozen)
    verdict = acceptance_of(tags)
    assert verdict.state is AcceptanceState.PASSED and verdict.host == TEST_VM
    assert {n: o.verdict.value for n, o in outcomes_of(tags).items()} == dict.fromkeys(TESTS, "passed")
    assert run_commands_on(frozen, TEST_VM) == dict.fromkeys(TESTS, 1)
    assert early == []  # no session host ran the version before its verdict
    assert events[0] == f"test-vm created on {TEST_VM}" and events[-1] == f"test-vm deleted on {TEST_VM}"
    assert [e for e in events if " passed " in e] == [f"{t} passed on {TEST_VM}" for t in TESTS]
    assert vm_writes(frozen, TEST_VM) == ["PUT", "DELETE"]
    assert (
        frozen.get(
            f"/subscriptions/{SUB}/resourceGroups/rg-pools/providers/Microsoft.Compute/virtualMachines/{TEST_VM}"
        )
        is None
    )
    assert accept_vm_record(tags).state is AcceptVmState.DELETED
    assert versions_running(frozen, "hp-val") == {"2.0.0": 1}
    assert versions_running(frozen, "hp-prod") == {"2.0.0": 2}


def test_a_failing_test_on_the_test_vm_quarantines_the_version_and_no_pool_ever_runs_it(frozen, tmp_path):
    frozen.inject_fault(
        kind="run_command", name="avd-accept-ehr-client-starts", exit_code=1, output="cannot reach lic01"
    )
    root = provisioned(frozen, tmp_path)
    ran: list[str] = []

    def watch(cycle, result):
        ran.extend(p for p in ("hp-val", "hp-prod") if "2.0.0" in versions_running(frozen, p))

    def settled(result) -> bool:
        record = accept_vm_record(version_tags(frozen))
        return record is not None and record.state is AcceptVmState.DELETED

    drive(frozen, root, on_cycle=watch, settled=settled, max_cycles=80, stop_on_failed=False)
    tags = version_tags(frozen)
    verdict = acceptance_of(tags)
    assert verdict.state is AcceptanceState.FAILED and verdict.host == TEST_VM
    assert tags[ACCEPTANCE_FAILURE_TAG] == "ehr-client-starts: exit 1: cannot reach lic01"
    assert run_commands_on(frozen, TEST_VM) == {"ehr-client-starts": 1}
    assert vm_writes(frozen, TEST_VM) == ["PUT", "DELETE"]
    for _ in range(4):
        drive(frozen, root, max_cycles=3, stop_on_failed=False, settled=lambda r: True)
        frozen.advance(6 * 3600)
    assert ran == []
    assert versions_running(frozen, "hp-val") == {"1.0.0": 1}
    assert versions_running(frozen, "hp-prod") == {"1.0.0": 2}


def test_a_test_vm_subnet_that_does_not_exist_stops_the_plan_at_its_line_and_apply_writes_nothing(
    frozen, tmp_path
):
    root = provisioned(frozen, tmp_path)
    missing = SUBNET.replace("snet-accept", "snet-gone")
    on_test_vm(write(root, "2.0.0"), missing)
    line = next(
        i for i, text in enumerate((root / "estate.yaml").read_text().splitlines(), 1) if "snet-gone" in text
    )
    before = len(frozen.audit()["entries"])
    err = io.StringIO()
    with sandbox_environ(frozen), contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):
        code = main(["plan", "--desired", str(root)])
        applied = main(
            ["apply", "--auto-approve", "--desired", str(root), "--state", str(tmp_path / "state")]
        )
    assert code == 1 and applied == 1
    assert f"estate.yaml:{line}" in err.getvalue() and missing in err.getvalue()
    assert "spec.acceptance.where.testVm.subnetId" in err.getvalue()
    new = frozen.audit()["entries"][before:]
    assert [e for e in new if e["method"] in ("PUT", "PATCH", "DELETE", "POST")] == []
    assert vm_writes(frozen, TEST_VM) == []


def test_a_delete_lost_after_the_verdict_is_resumed_from_the_versions_record(frozen, tmp_path):
    # The first delete of the test VM is refused (as a kill right after the verdict would leave it): the
    # version says passed, its record still says created, so a later pass deletes the VM and records it.
    rule = frozen.inject_fault(
        method="DELETE",
        path=f"/virtualMachines/{TEST_VM}$",
        status=409,
        code="AnotherOperationInProgress",
        message="Another operation is pending on the specified resource.",
        count=1,
    )
    root = provisioned(frozen, tmp_path)
    drive(frozen, root, stop_on_failed=False)
    tags = version_tags(frozen)
    assert acceptance_of(tags).state is AcceptanceState.PASSED
    assert run_commands_on(frozen, TEST_VM) == dict.fromkeys(TESTS, 1)  # nothing ran twice
    assert frozen.stats()["requests"]["fault " + rule["id"]] == 1  # refused answers are not in the audit
    assert vm_writes(frozen, TEST_VM) == ["PUT", "DELETE"]
    assert accept_vm_record(tags).state is AcceptVmState.DELETED
    assert versions_running(frozen, "hp-prod") == {"2.0.0": 2}


def test_the_first_apply_pass_writes_what_the_plans_first_cycle_lists(frozen, tmp_path):
    root = provisioned(frozen, tmp_path)
    plan = plan_json(frozen, root)
    [planned] = list(accept_steps(plan))[:1]
    before = len(frozen.audit()["entries"])
    apply_pass(frozen, root)
    wrote = [
        (e["method"], e["id"].lower())
        for e in frozen.audit()["entries"][before:]
        if e["method"] in ("PUT", "PATCH", "DELETE", "POST")
    ]
    vm_id = (
        f"/subscriptions/{SUB}/resourceGroups/rg-pools/providers/Microsoft.Compute/virtualMachines/{TEST_VM}"
    )
    # the version's record of its test VM, then the VM itself; no session host VM is touched (the host pool
    # PATCH is the pool's own update to the new pin, a change of its own in the plan)
    vms = [w for w in wrote if "/virtualmachines/" in w[1]]
    record = ("PATCH", version_id("2.0.0").lower())
    assert vms == [("PUT", vm_id.lower())] and record in wrote and wrote.index(record) < wrote.index(vms[0])
    pool_changes = [
        c for c in plan_json(frozen, root)["changes"] if c["resource_id"].lower().endswith("/hp-val")
    ]
    assert all(c["kind"] == "host-pool" for c in pool_changes)
    vm = frozen.get(vm_id)["properties"]
    assert planned["test_vm"]["vm_size"] == vm["hardwareProfile"]["vmSize"] == "Standard_D2s_v5"
    nic = vm["networkProfile"]["networkInterfaceConfigurations"][0]["properties"]
    assert nic["ipConfigurations"][0]["properties"]["subnet"]["id"] == SUBNET
    assert vm["osProfile"]["computerName"] == TEST_VM
    assert vm["storageProfile"]["imageReference"]["id"].lower() == version_id("2.0.0").lower()
    assert vm["storageProfile"]["osDisk"]["deleteOption"] == "Delete" and nic["deleteOption"] == "Delete"
