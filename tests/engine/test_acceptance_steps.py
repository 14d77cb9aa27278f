"""The `accept` and `record-acceptance` steps carried out against the sandbox (real SDK, frozen sandbox clock
moved by the test): the order of writes that makes a killed apply resume right, retries, timeouts, sanitised
output, and the audit's count of run command PUTs per test. Each `advance` call is one rollout cycle's worth."""

from __future__ import annotations

import pytest
from support.sandbox import RG

from reconciler.azure.connection import Connection, ConnectionSettings
from reconciler.azure.image_version_tags import VersionTags
from reconciler.azure.run_commands import RunCommands
from reconciler.engine.actions.acceptance import Acceptor
from reconciler.model.acceptance import (
    ACCEPTANCE_FAILURE_TAG,
    Acceptance,
    AcceptanceState,
    AcceptTest,
    Verdict,
    acceptance_of,
    outcomes_of,
)
from reconciler.planner.host_steps import AcceptanceVerdictData, AcceptData

VM = "vm-val-0"
TESTS = (
    AcceptTest("ehr-client-starts", inline="Write-Output ehr", timeout_seconds=300),
    AcceptTest("printer-queue-exists", inline="Write-Output printer", timeout_seconds=120),
)


@pytest.fixture
def world(frozen, sandbox_env):
    sub = frozen.subscription_ids[0]
    rg = f"/subscriptions/{sub}/resourceGroups/{RG}"
    gallery = f"{rg}/providers/Microsoft.Compute/galleries/galacc"
    version = f"{gallery}/images/win11/versions/2.0.0"
    frozen.seed(
        [
            {"id": gallery, "name": "galacc", "type": "Microsoft.Compute/galleries", "location": "westeurope",
             "properties": {"provisioningState": "Succeeded"}},
            {"id": f"{gallery}/images/win11", "name": "win11", "type": "Microsoft.Compute/galleries/images",
             "location": "westeurope",
             "properties": {"osType": "Windows", "osState": "Generalized", "hyperVGeneration": "V2",
                            "identifier": {"publisher": "T", "offer": "W", "sku": "m"},
                            "provisioningState": "Succeeded"}},
            {"id": version, "name": "2.0.0", "type": "Microsoft.Compute/galleries/images/versions",
             "location": "westeurope", "tags": {"owner": "imaging"},
             "properties": {"publishingProfile": {"targetRegions": [{"name": "westeurope"}]},
                            "storageProfile": {}, "provisioningState": "Succeeded"}},
            {"id": f"{rg}/providers/Microsoft.Compute/virtualMachines/{VM}", "name": VM,
             "type": "Microsoft.Compute/virtualMachines", "location": "westeurope",
             "properties": {"vmId": "00000000-0000-4000-8000-000000000007",
                            "hardwareProfile": {"vmSize": "Standard_D4s_v5"},
                            "osProfile": {"computerName": VM, "adminUsername": "avdadmin"},
                            "provisioningState": "Succeeded"}},
        ]
    )  # fmt: skip
    with connect() as conn:
        yield frozen, conn, rg, version


def connect() -> Connection:
    # as production builds it, from the environment (sandbox_env), with immediate LRO polling
    return Connection(ConnectionSettings.from_env(polling_interval=0, retry_backoff_factor=0))


def acceptor(conn, rg, resolve=None) -> Acceptor:
    # A fresh one per cycle, as each rollout cycle builds its own (nothing carried over but what Azure holds).
    return Acceptor(RunCommands(conn), VersionTags(conn), rg, "westeurope", resolve)


def tags_of(sb, version) -> dict:
    return dict((sb.get(version) or {}).get("tags") or {})


def puts(sb, test: str) -> int:
    name = f"runcommands/avd-accept-{test}"
    return sum(1 for e in sb.audit()["entries"] if e["method"] == "PUT" and e["id"].lower().endswith(name))


def cycle(sb, conn, rg, version, tests=TESTS, seconds=60, resolve=None):
    got = acceptor(conn, rg, resolve).advance(VM, AcceptData(version, tests), sb.now())
    sb.advance(seconds)
    return got


def test_a_good_version_passes_test_by_test_and_its_run_commands_are_deleted(world):
    sb, conn, rg, version = world
    first = cycle(sb, conn, rg, version)
    assert [e.what for e in first.events] == ["started"]
    assert acceptance_of(tags_of(sb, version)).state is AcceptanceState.RUNNING
    verdicts = [first.verdict]
    for _ in range(10):
        got = cycle(sb, conn, rg, version)
        verdicts.append(got.verdict)
        if got.verdict is not None:
            break
    tags = tags_of(sb, version)
    assert acceptance_of(tags).state is AcceptanceState.PASSED and acceptance_of(tags).host == VM
    assert {n: o.verdict for n, o in outcomes_of(tags).items()} == {
        "ehr-client-starts": Verdict.PASSED,
        "printer-queue-exists": Verdict.PASSED,
    }
    assert tags["owner"] == "imaging"  # a read-modify-write keeps the tags others wrote
    assert RunCommands(conn).list(f"{rg}/providers/Microsoft.Compute/virtualMachines/{VM}") == []
    assert puts(sb, "ehr-client-starts") == 1 and puts(sb, "printer-queue-exists") == 1
    again = cycle(sb, conn, rg, version)  # a verdict is final: nothing runs again
    assert again.verdict is AcceptanceState.PASSED and again.events == [] and again.writes == 0


def test_a_failing_test_quarantines_the_version_with_its_sanitised_output(world):
    sb, conn, rg, version = world
    sb.inject_fault(
        kind="run_command",
        name="avd-accept-ehr-client-starts",
        exit_code=1,
        output="starting EHR\n\x1b[31mEhrClient.exe: license server unreachable\x1b[0m\n",
    )
    for _ in range(10):
        got = cycle(sb, conn, rg, version)
        if got.verdict is not None:
            break
    assert got.verdict is AcceptanceState.FAILED
    [failed] = [e for e in got.events if e.what == "failed"]
    assert failed.exit_code == 1 and "license server unreachable" in failed.excerpt
    tags = tags_of(sb, version)
    verdict = acceptance_of(tags)
    assert verdict.state is AcceptanceState.FAILED and verdict.reason == "ehr-client-starts: exit 1"
    assert tags[ACCEPTANCE_FAILURE_TAG].startswith("ehr-client-starts: exit 1: starting EHR / EhrClient.exe")
    assert "\x1b" not in tags[ACCEPTANCE_FAILURE_TAG]
    assert "printer-queue-exists" not in outcomes_of(tags)  # the suite stopped at the first failure
    assert puts(sb, "printer-queue-exists") == 0


def test_a_failed_test_is_run_again_within_its_retries(world):
    sb, conn, rg, version = world
    sb.inject_fault(kind="run_command", name="avd-accept-ehr-client-starts", exit_code=2, count=1)
    tests = (AcceptTest("ehr-client-starts", inline="Write-Output ehr", timeout_seconds=300, retries=1),)
    events = []
    for _ in range(10):
        got = cycle(sb, conn, rg, version, tests)
        events += [e.what for e in got.events]
        if got.verdict is not None:
            break
    assert got.verdict is AcceptanceState.PASSED
    assert events == ["started", "retried", "passed"]
    assert puts(sb, "ehr-client-starts") == 2


def test_a_hanging_test_times_out(world):
    sb, conn, rg, version = world
    sb.inject_fault(kind="run_command", name="avd-accept-ehr-client-starts", hang=True)
    for _ in range(20):
        got = cycle(sb, conn, rg, version, seconds=60)
        if got.verdict is not None:
            break
    assert got.verdict is AcceptanceState.FAILED
    assert [e.what for e in got.events] == ["timed-out"]
    outcome = outcomes_of(tags_of(sb, version))["ehr-client-starts"]
    assert outcome.verdict is Verdict.TIMED_OUT and outcome.exit_code is None
    assert tags_of(sb, version)[ACCEPTANCE_FAILURE_TAG].startswith("ehr-client-starts: timed out")


def test_a_resumed_suite_adopts_the_running_command_and_never_reruns_a_passed_test(world):
    sb, conn, rg, version = world
    cycle(sb, conn, rg, version, seconds=0)  # ehr started; the "apply" is killed here
    cycle(sb, conn, rg, version, seconds=0)  # a new one adopts the same run command: no second PUT
    assert puts(sb, "ehr-client-starts") == 1
    sb.advance(600)
    got = cycle(sb, conn, rg, version, seconds=0)  # ehr passed, printer started; killed again
    assert [e.what for e in got.events] == ["passed", "started"]
    sb.advance(600)
    for _ in range(5):
        got = cycle(sb, conn, rg, version)
        if got.verdict is not None:
            break
    assert got.verdict is AcceptanceState.PASSED
    assert puts(sb, "ehr-client-starts") == 1 and puts(sb, "printer-queue-exists") == 1


def test_secrets_go_as_protected_parameters_and_are_masked_in_the_output(world):
    sb, conn, rg, version = world
    secret = "Pa55-word-of-the-ward"
    uri = "https://kv-test.vault.azure.net/secrets/printer-token"
    sb.inject_fault(
        kind="run_command",
        name="avd-accept-printer-queue-exists",
        exit_code=1,
        output=f"token={secret} refused",
    )
    tests = (AcceptTest("printer-queue-exists", inline="exit 1", secret_parameters=(("Token", uri),)),)
    for _ in range(10):
        got = cycle(sb, conn, rg, version, tests, resolve={uri: secret}.__getitem__)
        if got.verdict is not None:
            break
    tags = tags_of(sb, version)
    assert secret not in str(tags) and "token=*** refused" in tags[ACCEPTANCE_FAILURE_TAG]
    assert secret not in str([e.excerpt for e in got.events])


def test_record_acceptance_writes_the_planners_verdict(world):
    sb, conn, rg, version = world
    verdict = Acceptance(AcceptanceState.FAILED, sb.now().isoformat(), VM, "FSLogixHealthCheck failed")
    data = AcceptanceVerdictData(version, verdict, "FSLogixHealthCheck: profile container unreachable")
    assert acceptor(conn, rg).record(data) == 1
    sb.advance(60)
    tags = tags_of(sb, version)
    assert acceptance_of(tags) == verdict
    assert tags[ACCEPTANCE_FAILURE_TAG] == "FSLogixHealthCheck: profile container unreachable"
