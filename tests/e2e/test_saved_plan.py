"""Saved plans survive users: `plan --out`, users sign in and out and hosts send heartbeats on the sandbox's
clock, then `apply PLANFILE` still goes through; after a configuration change made out of band (a pool's
maxSessionLimit, a host drained by hand, a VM deleted) it is refused, naming the resource and the field, and
nothing is written.

The estate is the demo's (demo/brownfield.json, 12 users on 8 hosts) with the shipped desired/. The clock is
frozen and moved by the test, so which users leave is decided by the sandbox's seeded random source, not by
how loaded this machine is.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from azure.mgmt.desktopvirtualization.models import HostPoolPatch, SessionHostPatch

from reconciler.cli import main
from reconciler.sandbox import landing_zone

ROOT = Path(__file__).resolve().parents[2]
RG = "rg-avd-images-weu"
POOL = "hp-clinical-weu"  # 6 hosts, 10 users; the plan rolls it
USER_SESSION = "Microsoft.DesktopVirtualization/hostPools/sessionHosts/userSessions"


@pytest.fixture
def demo(frozen, monkeypatch, tmp_path):
    for name, value in frozen.env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("RECONCILE_STATE", str(tmp_path / "state"))
    monkeypatch.setenv("NO_COLOR", "1")
    frozen.configure(session_mean_seconds=1800)  # users leave on their own, half an hour on average
    frozen.seed(json.loads((ROOT / "demo" / "brownfield.json").read_text())["resources"])
    frozen.seed(
        landing_zone.shipped(frozen.subscription_ids)
    )  # the network, identity and vaults desired/ uses
    return frozen


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def saved_plan(capsys, tmp_path) -> Path:
    plan_file = tmp_path / "plan.json"
    code, out, err = run(capsys, "plan", "--desired", str(ROOT / "desired"), "--out", str(plan_file))
    assert code == 0, out + err
    fingerprinted = json.loads(plan_file.read_text())["fingerprints"]
    assert sum(f"/hostpools/{POOL}/sessionhosts/" in rid for rid in fingerprinted) == 6
    return plan_file


def host_activity(clients) -> dict[str, tuple[int, str]]:
    """Host name → (sessions, last heartbeat), as the AVD API reports them."""
    hosts = clients.avd.session_hosts.list(RG, POOL)
    return {h.name.rsplit("/", 1)[-1]: (h.sessions, str(h.last_heart_beat)) for h in hosts}


def sign_in(sb, host: str, users: int) -> None:
    host_id = sb.get(f"{pool_id(sb)}/sessionHosts/{host}")["id"]
    sb.seed(
        [
            {
                "id": f"{host_id}/userSessions/{n}",
                "name": f"{POOL}/{host}/{n}",
                "type": USER_SESSION,
                "properties": {
                    "userPrincipalName": f"late{n}@corp.example",
                    "sessionState": "Active",
                    "applicationType": "Desktop",
                },
            }
            for n in range(50, 50 + users)
        ]
    )


def pool_id(sb) -> str:
    return f"/subscriptions/{sb.subscription_ids[0]}/resourceGroups/{RG}/providers/Microsoft.DesktopVirtualization/hostPools/{POOL}"


def writes(sb) -> list[dict]:
    return [e for e in sb.audit()["entries"] if e["method"] != "GET"]


def test_a_saved_plan_applies_while_users_come_and_go(demo, clients, tmp_path, capsys):
    plan_file = saved_plan(capsys, tmp_path)
    before = host_activity(clients)
    # An hour of business: users leave on their own, others sign in, one is signed out by the help desk,
    # every Available host sends heartbeats.
    demo.advance(3600)
    sign_in(demo, "avdclnweu-2.corp.example", 3)
    clients.avd.user_sessions.delete(RG, POOL, "avdclnweu-2.corp.example", "50")
    after = host_activity(clients)
    assert after["avdclnweu-2.corp.example"][0] == before["avdclnweu-2.corp.example"][0] + 2
    assert [n for n in before if before[n][0] != after[n][0]], (before, after)  # sessions moved
    assert all(before[n][1] != after[n][1] for n in before), (before, after)  # so did every heartbeat

    # What is applied here (a pool's update) finishes at once; the clock runs again in case apply waits.
    demo.set_time_scale(1000)
    code, out, err = run(
        capsys, "apply", "--auto-approve", "--limit", "host-pool/hp-clinical-neu", str(plan_file)
    )
    assert code == 0, out + err
    assert "stale" not in err
    neu = clients.avd.host_pools.get("rg-avd-hostpools-neu", "hp-clinical-neu")
    desired = json.loads(plan_file.read_text())
    [update] = [
        c for c in desired["changes"] if c["key"].startswith("update ") and c["name"] == "hp-clinical-neu"
    ]
    assert neu.max_session_limit == update["after"]["properties"]["maxSessionLimit"] != 20


def _max_session_limit(sb, clients) -> str:
    clients.avd.host_pools.update(RG, POOL, host_pool=HostPoolPatch(max_session_limit=4))
    return f"{pool_id(sb).lower()}: changed since the plan was made: maxSessionLimit (now 4)"


def _drained_by_hand(sb, clients) -> str:
    host = "avdclnweu-1.corp.example"
    clients.avd.session_hosts.update(RG, POOL, host, session_host=SessionHostPatch(allow_new_session=False))
    return f"{pool_id(sb).lower()}/sessionhosts/{host}: changed since the plan was made: allowNewSession (now false)"


def _vm_deleted(sb, clients) -> str:
    poller = clients.compute.virtual_machines.begin_delete(RG, "avdclnweu-3")
    sb.advance(sb.config.vm_delete_seconds + 60)
    poller.result()
    return f"{pool_id(sb).lower()}/sessionhosts/avdclnweu-3.corp.example: changed since the plan was made: vm (now absent)"


@pytest.mark.parametrize(
    "change", [_max_session_limit, _drained_by_hand, _vm_deleted], ids=lambda f: f.__name__[1:]
)
def test_a_saved_plan_is_refused_after_a_configuration_change(demo, clients, tmp_path, capsys, change):
    plan_file = saved_plan(capsys, tmp_path)
    demo.advance(600)  # users keep coming and going meanwhile
    sign_in(demo, "avdclnweu-4.corp.example", 2)
    reason = change(demo, clients)
    written = len(writes(demo))

    code, out, err = run(capsys, "apply", "--auto-approve", str(plan_file))
    assert code == 1
    lines = [line.strip() for line in err.splitlines()]
    assert lines[:2] == [
        reason,
        f"error: the saved plan {plan_file} is stale (1 resource(s) changed since it was made); run `reconcile plan` again",
    ]
    assert len(writes(demo)) == written, "a refused plan writes nothing"
