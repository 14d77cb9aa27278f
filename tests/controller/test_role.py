"""deploy/azure-role.json grants exactly the Azure actions an end-to-end run of the controller uses."""

from __future__ import annotations

import json

from e2e.apply_estate import RG, version, write_desired

from .gitrepo import REPO, GitRepo
from .rbac import action_of_read, action_of_write, used_actions
from .running import RunningController

ROLE = REPO / "deploy" / "azure-role.json"
# Late steps of a session-host rollout that a short run may not reach (drain, retire, delete). The role keeps
# them; the test only tolerates their absence from this run. Empty this set once the rollout converges
# deterministically in a few cycles, and the test is exact both ways.
ROLLOUT_TAIL = {
    "Microsoft.DesktopVirtualization/hostPools/sessionHosts/write",
    "Microsoft.DesktopVirtualization/hostPools/sessionHosts/delete",
    "Microsoft.DesktopVirtualization/hostPools/userSessions/read",
    "Microsoft.DesktopVirtualization/hostPools/sessionHosts/userSessions/read",
    "Microsoft.Compute/virtualMachines/delete",
}


def test_rbac_mapping():
    rid = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/galleries/g/images/d/versions/1.0.0"
    assert action_of_write("PUT", rid) == "Microsoft.Compute/galleries/images/versions/write"
    assert action_of_write("DELETE", rid) == "Microsoft.Compute/galleries/images/versions/delete"
    run = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.VirtualMachineImages/imageTemplates/t/run"
    assert action_of_write("POST", run) == "Microsoft.VirtualMachineImages/imageTemplates/run/action"
    assert action_of_read("GET galleries/images list") == "Microsoft.Compute/galleries/images/read"
    assert action_of_read("PUT galleries") is None


def with_hosts(desired) -> None:
    """Two session hosts in the pool, so a run creates VMs and then rolls them to a new version."""
    path = desired / "estate.yaml"
    path.write_text(path.read_text().replace("count: 0", "count: 2"))


def run_once(tmp_path, env, repo, name: str) -> bool:
    """One `reconcile run --once`; True when its plan found nothing to do (converged)."""
    c = RunningController(tmp_path, env, identity=name, args=[
        "--git-url", repo.url, "--state", f"local:{tmp_path / 'state'}", "--once", "--listen", "off"])  # fmt: skip
    try:
        c.wait(90)
    finally:
        c.stop()
    ends = [r for r in c.log_records() if r.get("event") == "cycle_end"]  # every line JSON, too
    return bool(ends) and ends[-1]["message"].startswith("cycle done: 0 change(s)")


def converge(sb, tmp_path, env, repo, name: str, runs: int = 2) -> None:
    """A few cycles, sandbox time jumping a day between them (drain grace, end of life)."""
    for i in range(runs):
        if run_once(tmp_path, env, repo, f"{name}-{i}"):
            return
        sb.advance(86_400)


def test_the_role_grants_exactly_what_a_full_run_uses(sb, tmp_path):
    sb.seed([{"id": RG, "location": "westeurope"}])
    seed = write_desired(tmp_path / "seed", [version("1.0.0"), version("1.1.0", build=True)], pin="1.1.0")
    with_hosts(seed)
    repo = GitRepo(tmp_path / "origin", desired=seed)
    env = dict(sb.env)
    converge(sb, tmp_path, env, repo, "create")
    # Retention: keep one; a new version; the older ones are deprecated, then deleted.
    write_desired(repo.root / "desired", [version("1.0.0"), version("1.1.0", build=True), version("1.2.0")],
                  pin="1.2.0", keep=1)  # fmt: skip
    with_hosts(repo.root / "desired")
    repo.commit("new version, keep one")
    converge(sb, tmp_path, env, repo, "retire")
    used = {a.lower() for a in used_actions(sb.audit(), sb.stats())}  # RBAC compares without case
    role = json.loads(ROLE.read_text())
    granted = {a.lower() for a in role["Actions"]}
    assert not used - granted, f"the role lacks: {sorted(used - granted)}"
    unused = granted - used - {a.lower() for a in ROLLOUT_TAIL}
    assert not unused, f"the role grants actions no run used: {sorted(unused)}"
