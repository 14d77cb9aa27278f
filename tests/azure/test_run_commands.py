"""Managed run commands through the real azure-mgmt-compute client against the sandbox: create (async, not
waited for), the instance view's verdict as the sandbox's clock moves, fault-scripted failures and hangs, list
and delete. The sandbox clock is frozen: only the test moves it (no wall-clock timing)."""

from __future__ import annotations

import pytest
from observe_support import connect
from support.sandbox import RG

from reconciler.azure.run_commands import RunCommands, RunCommandSpec

SECRET = "s3cr3t-Value-never-echoed"


@pytest.fixture
def vm_id(frozen, sandbox_env):
    sub = frozen.subscription_ids[0]
    vid = f"/subscriptions/{sub}/resourceGroups/{RG}/providers/Microsoft.Compute/virtualMachines/vm-accept"
    frozen.seed(
        [
            {
                "id": vid,
                "name": "vm-accept",
                "type": "Microsoft.Compute/virtualMachines",
                "location": "westeurope",
                "properties": {
                    "vmId": "00000000-0000-4000-8000-000000000001",
                    "hardwareProfile": {"vmSize": "Standard_D4s_v5"},
                    "osProfile": {"computerName": "vm-accept", "adminUsername": "avdadmin"},
                    "provisioningState": "Succeeded",
                },
            }
        ]
    )
    return vid


@pytest.fixture
def runs(vm_id):
    with connect() as conn:
        yield RunCommands(conn)


def spec(name: str, **kw) -> RunCommandSpec:
    return RunCommandSpec(name=name, location="westeurope", script=kw.pop("script", "Write-Output ok"), **kw)


def run_to_end(sb, runs, vm_id, name, seconds=600):
    sb.advance(seconds)
    got = runs.get(vm_id, name)
    assert got is not None and got.finished, got
    return got


def test_a_script_runs_asynchronously_and_its_verdict_is_read_from_the_instance_view(frozen, runs, vm_id):
    runs.create(
        vm_id,
        spec(
            "avd-accept-ok",
            parameters=(("QueueName", "Ward-Labels"),),
            secret_parameters=(("Token", SECRET),),
            tags=(("avd-reconciler-attempt", "1"),),
        ),
    )
    first = runs.get(vm_id, "avd-accept-ok")
    assert first is not None and not first.finished  # asyncExecution: the PUT did not wait for the script
    assert first.tags == {"avd-reconciler-attempt": "1"}
    done = run_to_end(frozen, runs, vm_id, "avd-accept-ok")
    assert (done.execution_state, done.exit_code, done.provisioning_state) == ("Succeeded", 0, "Succeeded")
    assert done.start_time is not None and done.end_time is not None and done.end_time >= done.start_time
    assert SECRET not in str(frozen.get(vm_id + "/runCommands/avd-accept-ok") or "")
    [listed] = runs.list(vm_id)
    assert listed.name == "avd-accept-ok"


def test_a_failing_script_succeeds_as_a_deployment_and_fails_in_its_instance_view(frozen, runs, vm_id):
    frozen.inject_fault(
        kind="run_command", name="avd-accept-ehr*", exit_code=1, output="EHR client crashed\n"
    )
    runs.create(vm_id, spec("avd-accept-ehr-client-starts"))
    done = run_to_end(frozen, runs, vm_id, "avd-accept-ehr-client-starts")
    assert done.provisioning_state == "Succeeded"  # treatFailureAsDeploymentFailure: false
    assert (done.execution_state, done.exit_code) == ("Failed", 1)
    assert "EHR client crashed" in done.output


def test_a_hanging_script_times_out(frozen, runs, vm_id):
    frozen.inject_fault(kind="run_command", name="avd-accept-hang", hang=True)
    runs.create(vm_id, spec("avd-accept-hang", timeout_seconds=120))
    frozen.advance(60)
    assert not runs.get(vm_id, "avd-accept-hang").finished
    done = run_to_end(frozen, runs, vm_id, "avd-accept-hang", seconds=600)
    assert done.execution_state == "TimedOut"


def test_delete_removes_the_command_and_an_absent_one_is_already_deleted(frozen, runs, vm_id):
    runs.create(vm_id, spec("avd-accept-gone"))
    runs.delete(vm_id, "avd-accept-gone")
    frozen.advance(120)
    assert runs.get(vm_id, "avd-accept-gone") is None
    runs.delete(vm_id, "avd-accept-gone")  # no error
    assert runs.list(vm_id) == []


def test_the_body_sends_one_source_and_keeps_secrets_out_of_its_repr():
    s = spec("x", secret_parameters=(("Token", SECRET),), run_as_user="svc", run_as_password=SECRET)
    body = s.body()["properties"]
    assert body["asyncExecution"] is True and body["treatFailureAsDeploymentFailure"] is False
    assert body["protectedParameters"] == [{"name": "Token", "value": SECRET}]
    assert body["runAsUser"] == "svc" and SECRET not in repr(s)
    with pytest.raises(ValueError, match="exactly one"):
        RunCommandSpec(name="x", location="westeurope").body()
