"""`agentChecks.minAgentVersion` above the agent the validation pool's hosts report (the sandbox's
session_host_agent_version) is explained by `reconcile plan` as a warning naming the field's file and line,
the pool and both versions; a reachable minimum says nothing."""

from __future__ import annotations

from support.acceptance import write
from support.cli import drive, plan_json
from support.estate import seed_estate

from reconciler.spec import load_desired

REQUIRE = "      require: [DomainJoinedCheck, FSLogixHealthCheck, SxSStackListenerCheck]\n"
REASON = "acceptance-agent-version-unmet"


def estate(sb, tmp_path, minimum: str):
    root = write(tmp_path / "d", "1.0.0")
    path = root / "estate.yaml"
    text = path.read_text(encoding="utf-8")
    assert REQUIRE in text
    path.write_text(
        text.replace(REQUIRE, REQUIRE + f"      minAgentVersion: {minimum}\n", 1), encoding="utf-8"
    )
    seed_estate(sb, load_desired(root))
    drive(sb, root)  # the suite applies from 2.0.0: the pools come up on 1.0.0 and their hosts report
    return root


def warnings(sb, root) -> list[dict]:
    return [d for d in plan_json(sb, root).get("diagnostics") or () if d.get("reason") == REASON]


def test_a_minimum_agent_version_the_validation_hosts_do_not_run_is_a_plan_warning(frozen, tmp_path):
    frozen.configure(session_host_agent_version="1.0.9103.3700")
    root = estate(frozen, tmp_path, "1.0.9742.0")
    [warning] = warnings(frozen, root)
    assert warning["severity"] == "warning"
    message = warning["message"]
    assert "estate.yaml:" in message and "minAgentVersion" in message
    assert "1.0.9742.0" in message and "1.0.9103.3700" in message and "hp-val" in message


def test_a_minimum_the_hosts_meet_says_nothing(frozen, tmp_path):
    frozen.configure(session_host_agent_version="1.0.9103.3700")
    root = estate(frozen, tmp_path, "1.0.9103.0")
    assert warnings(frozen, root) == []
