"""deploy/azure-role.json grants exactly the Azure actions an end-to-end run of the controller uses."""

from __future__ import annotations

import json

import pytest
from support.image_estate import RG, version, write_desired
from support.sandbox import own_sandbox

from .gitrepo import REPO, GitRepo
from .rbac import LINKED, action_of_read, action_of_write, used_actions
from .running import RunningController

ROLE = REPO / "deploy" / "azure-role.json"
# A sandbox clock this test owns. The shared one runs 100,000x: a cycle's few real milliseconds are sandbox
# hours there, so a new host's 45 min health timeout (27 ms) runs out before it can register and the pool
# halts before the rollout's tail (drain, retire, delete). At 500x a cycle's latency is seconds of sandbox
# time, the health timeout is 5.4 s of real time, and the whole run still takes ~15 s.
TIME_SCALE = 500
FASTER = {"build_seconds": 600, "replication_seconds": 600}  # shorter waits, same steps
MAX_RUNS = 6  # `--once` runs per phase (each waits inside its cycle until nothing is in flight)


@pytest.fixture
def clock_sb():
    with own_sandbox(time_scale=TIME_SCALE, settings=FASTER) as sb:  # with the estate's landing zone
        yield sb


def test_rbac_mapping():
    rid = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/galleries/g/images/d/versions/1.0.0"
    assert action_of_write("PUT", rid) == "Microsoft.Compute/galleries/images/versions/write"
    assert action_of_write("DELETE", rid) == "Microsoft.Compute/galleries/images/versions/delete"
    run = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.VirtualMachineImages/imageTemplates/t/run"
    assert action_of_write("POST", run) == "Microsoft.VirtualMachineImages/imageTemplates/run/action"
    assert action_of_read("GET galleries/images list") == "Microsoft.Compute/galleries/images/read"
    assert action_of_read("PUT galleries") is None


def with_hosts(desired) -> None:
    """Two session hosts in the pool, so a run creates VMs and then rolls them to a new version; the pool in a
    resource group of its own that does not exist yet, so the run creates it (its vault named by id)."""
    path = desired / "estate.yaml"
    text = path.read_text().replace("count: 0", "count: 2")
    text = text.replace(
        "  friendlyName: Pool A\n", "  friendlyName: Pool A\n  resourceGroup: rg-role-pools\n"
    )
    text = text.replace("{vaultName: kv1,", f"{{vaultId: {RG}/providers/Microsoft.KeyVault/vaults/kv1,")
    path.write_text(text)


def run_once(tmp_path, env, repo, name: str) -> bool:
    """One `reconcile run --once`; True when its cycle succeeded and its plan found nothing to do."""
    c = RunningController(
        tmp_path,
        env,
        identity=name,
        args=["--git-url", repo.url, "--state", f"local:{tmp_path / 'state'}", "--once", "--listen", "off"],
    )
    try:
        c.wait(90)
    finally:
        c.stop()
    ends = [r for r in c.log_records() if r.get("event") == "cycle_end"]  # every line JSON, too
    assert ends, f"{name}: no cycle ended:\n{c.log()[-3000:]}"
    # A halted rollout (or any failed cycle) would hide the rollout's tail: fail here, with the reason.
    assert ends[-1]["level"] != "error", f"{name}: {ends[-1]['message']}"
    return ends[-1]["message"].startswith("cycle done: 0 change(s)")


def converge(sb, tmp_path, env, repo, name: str) -> None:
    """`--once` runs until one finds nothing to do; sandbox time jumps a day between them (end of life)."""
    for i in range(MAX_RUNS):
        if run_once(tmp_path, env, repo, f"{name}-{i}"):
            return
        sb.advance(86_400)
    raise AssertionError(f"{name}: not converged after {MAX_RUNS} runs")


def test_the_role_grants_exactly_what_a_full_run_uses(clock_sb, tmp_path):
    sb = clock_sb
    sb.seed([{"id": RG, "location": "westeurope"}])
    seed = write_desired(tmp_path / "seed", [version("1.0.0"), version("1.1.0", build=True)], pin="1.1.0")
    with_hosts(seed)
    repo = GitRepo(tmp_path / "origin", desired=seed)
    env = dict(sb.env)
    converge(sb, tmp_path, env, repo, "create")
    # Retention: keep one; a new version (the hosts roll to it); the older ones are deprecated, then deleted.
    write_desired(
        repo.root / "desired",
        [version("1.0.0"), version("1.1.0", build=True), version("1.2.0")],
        pin="1.2.0",
        keep=1,
    )
    with_hosts(repo.root / "desired")
    repo.commit("new version, keep one")
    converge(sb, tmp_path, env, repo, "retire")
    used = {a.lower() for a in used_actions(sb.audit(), sb.stats())}  # RBAC compares without case
    granted = {a.lower() for a in json.loads(ROLE.read_text())["Actions"]}
    assert not used - granted, f"the role lacks: {sorted(used - granted)}"
    assert not granted - used, f"the role grants actions no run used: {sorted(granted - used)}"
    # The one documented exception: ARM's linked-access checks (rbac.LINKED) are granted without being calls
    # of ours. They must stay exactly that: never a request the sandbox saw, so the audit cannot vouch for them.
    called = {a.lower() for a in used_actions(sb.audit(), sb.stats(), linked_checks=False)}
    linked = {a.lower() for needs in LINKED.values() for a in needs}
    assert used - called == linked, (
        f"linked-access checks that are calls, or missing: {sorted(used - called ^ linked)}"
    )
