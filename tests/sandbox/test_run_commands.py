"""Managed Run Commands (`virtualMachines/{vm}/runCommands`) through the REAL azure-mgmt-compute client: the LRO,
the instance view on the sandbox clock, scripted outcomes (fault rules of kind "run_command"), failure semantics
with and without treatFailureAsDeploymentFailure, timeouts, secrets never echoed, and the VM's lifecycle.

Timelines run on a frozen clock (`sb.advance`): queued `run_command_start_seconds` (2 s), then the script runs
`run_command_seconds` (20 s) unless a rule says otherwise.
"""

from __future__ import annotations

import hashlib
import json

import pytest
import requests
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
from azure.core.rest import HttpRequest
from support.sandbox import RG, credential_for, landing_zone, make_clients, time_scale

from reconciler.sandbox import Sandbox, persist

from .helpers import make_source_image, vm_body

VM = "avd-0"
API = "2026-04-01"
SECRET_VALUE = "Pr0tected-Value-7c1d"
SECRET_PASSWORD = "RunAs-Passw0rd-93fe"


def make_vm(clients, name: str = VM):
    image = make_source_image(clients, "vmsource")
    body = vm_body(image.id)
    body["properties"]["osProfile"]["computerName"] = name
    return clients.compute.virtual_machines.begin_create_or_update(clients.rg, name, body).result()


def body(script: str = "Write-Output ok", location: str = "westeurope", **props) -> dict:
    return {"location": location, "properties": {"source": {"script": script}, **props}}


def rc_id(clients, name: str, vm: str = VM) -> str:
    return (
        f"/subscriptions/{clients.sub}/resourceGroups/{clients.rg}/providers/Microsoft.Compute/"
        f"virtualMachines/{vm}/runCommands/{name}"
    )


def view(clients, name: str, vm: str = VM):
    got = clients.compute.virtual_machine_run_commands.get_by_virtual_machine(
        clients.rg, vm, name, expand="instanceView"
    )
    return got.properties.provisioning_state, got.properties.instance_view


@pytest.fixture
def rcs(sb, clients):
    make_vm(clients)
    return clients.compute.virtual_machine_run_commands


def test_create_poll_instance_view_list_and_delete(sb, clients, rcs):
    done = rcs.begin_create_or_update(
        clients.rg, VM, "check-ehr", body(parameters=[{"name": "app", "value": "ehr"}], timeoutInSeconds=600)
    ).result()
    assert done.properties.provisioning_state == "Succeeded"
    assert done.location == "westeurope" and done.type == "Microsoft.Compute/virtualMachines/runCommands"
    plain = rcs.get_by_virtual_machine(clients.rg, VM, "check-ehr")
    assert plain.properties.instance_view is None  # only with $expand=instanceView
    assert plain.properties.source.script == "Write-Output ok"
    assert [(p.name, p.value) for p in plain.properties.parameters] == [("app", "ehr")]
    assert plain.properties.timeout_in_seconds == 600 and plain.properties.async_execution is False
    state, iv = view(clients, "check-ehr")
    assert (state, iv.execution_state, iv.exit_code) == ("Succeeded", "Succeeded", 0)
    assert iv.output == "Run command 'check-ehr' completed." and iv.error == ""
    assert (iv.end_time - iv.start_time).total_seconds() == pytest.approx(20)
    rcs.begin_create_or_update(clients.rg, VM, "check-printer", body("Get-Printer")).result()
    listed = list(rcs.list_by_virtual_machine(clients.rg, VM, expand="instanceView"))
    assert sorted(r.name for r in listed) == ["check-ehr", "check-printer"]
    assert {r.properties.instance_view.execution_state for r in listed} == {"Succeeded"}
    rcs.begin_delete(clients.rg, VM, "check-ehr").result()
    with pytest.raises(ResourceNotFoundError):
        rcs.get_by_virtual_machine(clients.rg, VM, "check-ehr")
    assert [r.name for r in rcs.list_by_virtual_machine(clients.rg, VM)] == ["check-printer"]


def test_instance_view_and_provisioning_follow_the_sandbox_clock(sb, clients, rcs):
    with time_scale(sb, 0):
        rcs.begin_create_or_update(clients.rg, VM, "t", body(), polling=False)
        state, iv = view(clients, "t")
        assert (state, iv.execution_state, iv.start_time) == ("Creating", "Pending", None)
        sb.advance(2)
        state, iv = view(clients, "t")
        assert (state, iv.execution_state, iv.exit_code) == ("Creating", "Running", None)
        sb.advance(19.5)
        assert view(clients, "t")[1].execution_state == "Running"
        sb.advance(0.5)
        state, iv = view(clients, "t")
        assert (state, iv.execution_state, iv.exit_code) == ("Succeeded", "Succeeded", 0)


def test_async_execution_completes_the_put_when_the_script_starts(sb, clients, rcs):
    with time_scale(sb, 0):
        rcs.begin_create_or_update(clients.rg, VM, "t", body(asyncExecution=True), polling=False)
        sb.advance(2)
        state, iv = view(clients, "t")
        assert (state, iv.execution_state) == ("Succeeded", "Running")
        sb.advance(20)
        assert view(clients, "t")[1].execution_state == "Succeeded"


def test_a_failing_script_still_provisions_succeeded_and_the_instance_view_fails(sb, clients, rcs):
    sb.inject_fault(
        kind="run_command", name="check-*", exit_code=1, output="EHR client missing", error="boom"
    )
    done = rcs.begin_create_or_update(clients.rg, VM, "check-ehr", body()).result()
    assert done.properties.provisioning_state == "Succeeded"
    _, iv = view(clients, "check-ehr")
    assert (iv.execution_state, iv.exit_code, iv.output, iv.error) == (
        "Failed",
        1,
        "EHR client missing",
        "boom",
    )


def test_treat_failure_as_deployment_failure_fails_the_put_and_the_resource(sb, clients, rcs):
    script = "Start-Process ehr.exe; exit 3"
    sha = hashlib.sha256(script.encode()).hexdigest()
    sb.inject_fault(kind="run_command", script_sha256=sha, exit_code=3, error="not found")
    poller = rcs.begin_create_or_update(
        clients.rg, VM, "ehr", body(script, treatFailureAsDeploymentFailure=True)
    )
    with pytest.raises(HttpResponseError) as caught:
        poller.result()
    assert caught.value.error.code == "VMExtensionProvisioningError"
    assert "exit code 3" in caught.value.error.message and "not found" in caught.value.error.message
    state, iv = view(clients, "ehr")
    assert (state, iv.execution_state, iv.exit_code) == ("Failed", "Failed", 3)
    # The same script under another name, with no rule matching its hash, succeeds.
    ok = rcs.begin_create_or_update(
        clients.rg, VM, "other", body("exit 0", treatFailureAsDeploymentFailure=True)
    ).result()
    assert ok.properties.provisioning_state == "Succeeded"


def test_a_hanging_script_times_out_at_its_timeout(sb, clients, rcs):
    sb.inject_fault(kind="run_command", script_uri="https://scripts.example/hang*", hang=True)
    source = {"scriptUri": "https://scripts.example/hang.ps1"}
    with time_scale(sb, 0):
        rcs.begin_create_or_update(
            clients.rg,
            VM,
            "hangs",
            {"location": "westeurope", "properties": {"source": source, "timeoutInSeconds": 120}},
            polling=False,
        )
        sb.advance(2 + 119)
        state, iv = view(clients, "hangs")
        assert (state, iv.execution_state) == ("Creating", "Running")
        sb.advance(1)
        state, iv = view(clients, "hangs")
        assert (state, iv.execution_state, iv.exit_code) == ("Succeeded", "TimedOut", None)
        assert "timed out after 120 seconds" in iv.execution_message


def test_a_rule_sets_duration_and_a_hang_with_deployment_failure_fails_the_put(sb, clients, rcs):
    sb.inject_fault(kind="run_command", name="slow", duration=300, output="done late")
    sb.inject_fault(kind="run_command", name="stuck", hang=True)
    with time_scale(sb, 0):
        rcs.begin_create_or_update(clients.rg, VM, "slow", body(), polling=False)
        rcs.begin_create_or_update(
            clients.rg,
            VM,
            "stuck",
            body(timeoutInSeconds=60, treatFailureAsDeploymentFailure=True),
            polling=False,
        )
        sb.advance(2 + 299)
        assert view(clients, "slow")[1].execution_state == "Running"
        assert view(clients, "stuck")[0] == "Failed"
        sb.advance(1)
        _, iv = view(clients, "slow")
        assert (iv.execution_state, iv.output) == ("Succeeded", "done late")


def test_secrets_are_never_in_a_response_the_audit_the_admin_api_or_the_saved_state(sb, clients, rcs):
    secret_body = body(
        "param($key) Test-Key $key",
        parameters=[{"name": "visible", "value": "plain"}],
        protectedParameters=[{"name": "key", "value": SECRET_VALUE}],
        runAsUser="svc-accept",
        runAsPassword=SECRET_PASSWORD,
    )
    seen: list[str] = []
    raw = {"cls": lambda pipeline_response, _d, _h: seen.append(pipeline_response.http_response.text())}
    rcs.begin_create_or_update(clients.rg, VM, "secret", secret_body, **raw).result()
    base = sb.endpoint + rc_id(clients, "secret")
    http = clients.compute._client
    for url in (f"{base}?api-version={API}", f"{base}?api-version={API}&$expand=instanceView"):
        seen.append(http.send_request(HttpRequest("GET", url)).text())
    listing = base.rsplit("/", 1)[0]
    seen.append(http.send_request(HttpRequest("GET", f"{listing}?api-version={API}")).text())
    patched = http.send_request(
        HttpRequest(
            "PATCH", f"{base}?api-version={API}", json={"properties": {"runAsPassword": SECRET_PASSWORD}}
        )
    )
    assert patched.status_code == 200, patched.text()
    seen.append(patched.text())
    seen.append(json.dumps(sb.audit()))
    seen.append(requests.get(f"{sb.endpoint}/_sandbox/resources", verify=sb.ca_bundle, timeout=10).text)
    seen.append(json.dumps(persist.snapshot(sb._app())))
    got = rcs.get_by_virtual_machine(clients.rg, VM, "secret")
    assert got.properties.run_as_user == "svc-accept" and got.properties.run_as_password is None
    assert got.properties.protected_parameters is None
    assert "plain" in seen[1]  # ordinary parameters are echoed
    for text in seen:
        assert SECRET_VALUE not in text and SECRET_PASSWORD not in text


def test_a_repeated_put_runs_nothing_and_a_changed_one_runs_again(sb, clients, rcs):
    secret = [{"name": "key", "value": "one"}]
    rcs.begin_create_or_update(clients.rg, VM, "t", body(protectedParameters=secret)).result()
    first = view(clients, "t")[1].start_time
    rcs.begin_create_or_update(clients.rg, VM, "t", body(protectedParameters=secret)).result()
    assert view(clients, "t")[1].start_time == first
    assert sb.get(rc_id(clients, "t"))["_sb"]["runs"] == 1
    changed = [{"name": "key", "value": "two"}]  # only a protected value differs
    rcs.begin_create_or_update(clients.rg, VM, "t", body(protectedParameters=changed)).result()
    assert sb.get(rc_id(clients, "t"))["_sb"]["runs"] == 2
    rcs.begin_update(clients.rg, VM, "t", {"properties": {"source": {"script": "Write-Output v2"}}}).result()
    assert sb.get(rc_id(clients, "t"))["_sb"]["runs"] == 3
    assert view(clients, "t")[1].start_time > first
    runs = [e for e in sb.audit()["run_commands"] if e["id"] == rc_id(clients, "t")]
    assert [e["run"] for e in runs] == [1, 2, 3]
    assert [e["outcome"] for e in runs] == ["Succeeded"] * 3
    sha = hashlib.sha256(b"Write-Output v2").hexdigest()
    assert runs[-1]["script_sha256"] == sha and runs[0]["script_uri"] is None


def test_deleting_the_vm_deletes_its_run_commands(sb, clients, rcs):
    for name in ("a", "b"):
        rcs.begin_create_or_update(clients.rg, VM, name, body()).result()
    clients.compute.virtual_machines.begin_delete(clients.rg, VM).result()
    for name in ("a", "b"):
        assert sb.get(rc_id(clients, name)) is None
    with pytest.raises(ResourceNotFoundError):
        list(rcs.list_by_virtual_machine(clients.rg, VM))


def test_deleting_a_running_command_stops_it(sb, clients, rcs):
    with time_scale(sb, 0):
        rcs.begin_create_or_update(clients.rg, VM, "t", body(), polling=False)
        sb.advance(5)
        rcs.begin_delete(clients.rg, VM, "t", polling=False)
        assert view(clients, "t")[1].execution_state == "Canceled"
        sb.advance(10)
        assert sb.get(rc_id(clients, "t")) is None


def test_an_empty_script_cancels_the_run_in_progress(sb, clients, rcs):
    with time_scale(sb, 0):
        rcs.begin_create_or_update(clients.rg, VM, "t", body(), polling=False)
        sb.advance(5)
        rcs.begin_update(clients.rg, VM, "t", {"properties": {"source": {"script": ""}}}, polling=False)
        _, iv = view(clients, "t")
        assert (iv.execution_state, iv.exit_code) == ("Canceled", None)
        sb.advance(1)
        state, iv = view(clients, "t")
        assert (state, iv.execution_state) == ("Succeeded", "Canceled")
        assert sb.get(rc_id(clients, "t"))["_sb"]["runs"] == 1  # nothing ran again


def test_a_vm_stopped_under_a_running_script_cancels_it(sb, clients, rcs):
    sb.inject_fault(kind="run_command", name="long", duration=600)
    with time_scale(sb, 0):
        rcs.begin_create_or_update(clients.rg, VM, "long", body(), polling=False)
        clients.compute.virtual_machines.begin_power_off(clients.rg, VM, polling=False)
        sb.advance(60)  # vm_action_seconds: the VM stops while the script runs
        state, iv = view(clients, "long")
        assert (state, iv.execution_state, iv.exit_code) == ("Canceled", "Canceled", None)
        assert (iv.end_time - iv.start_time).total_seconds() == pytest.approx(58)
        sb.advance(600)
        assert view(clients, "long")[1].execution_state == "Canceled"
    (entry,) = sb.audit()["run_commands"]
    assert (entry["outcome"], entry["rule"]) == ("Canceled", sb.app.faults.rules[0]["id"])


def test_a_write_while_the_script_runs_is_a_409(sb, clients, rcs):
    with time_scale(sb, 0):
        rcs.begin_create_or_update(clients.rg, VM, "t", body(), polling=False)
        with pytest.raises(HttpResponseError) as caught:
            rcs.begin_create_or_update(clients.rg, VM, "t", body("other"), polling=False)
        assert caught.value.status_code == 409


def refused(call) -> HttpResponseError:
    with pytest.raises(HttpResponseError) as caught:
        call()
    return caught.value


def test_refusals(sb, clients, rcs):
    put = rcs.begin_create_or_update
    missing_vm = refused(lambda: put(clients.rg, "nope", "t", body()))
    assert (missing_vm.status_code, missing_vm.error.code) == (404, "ParentResourceNotFound")
    elsewhere = refused(lambda: put(clients.rg, VM, "t", body(location="northeurope")))
    assert (elsewhere.status_code, elsewhere.error.code, elsewhere.error.target) == (
        400,
        "InvalidParameter",
        "location",
    )
    no_location = refused(lambda: put(clients.rg, VM, "t", {"properties": {"source": {"script": "x"}}}))
    assert (no_location.status_code, no_location.error.code) == (400, "LocationRequired")
    two = body()
    two["properties"]["source"]["scriptUri"] = "https://scripts.example/a.ps1"
    both = refused(lambda: put(clients.rg, VM, "t", two))
    assert (both.status_code, both.error.target) == (400, "properties.source")
    for bad in ("-lead", "a" * 81, "bad/../x", "trailing."):
        err = refused(lambda bad=bad: put(clients.rg, VM, bad, body()).result())
        assert err.status_code in (400, 404), bad
    timeout = refused(lambda: put(clients.rg, VM, "t", body(timeoutInSeconds=-1)))
    assert (timeout.status_code, timeout.error.target) == (400, "properties.timeoutInSeconds")
    assert sb.get(rc_id(clients, "t")) is None  # a refusal creates nothing


def test_a_vm_that_is_not_running_refuses_run_commands(sb, clients, rcs):
    clients.compute.virtual_machines.begin_deallocate(clients.rg, VM).result()
    err = refused(lambda: rcs.begin_create_or_update(clients.rg, VM, "t", body()))
    assert (err.status_code, err.error.code) == (409, "OperationNotAllowed")
    clients.compute.virtual_machines.begin_start(clients.rg, VM).result()
    assert rcs.begin_create_or_update(clients.rg, VM, "t", body()).result().properties.provisioning_state == (
        "Succeeded"
    )


def test_fault_rules_over_http_and_a_bad_rule_is_refused(sb, clients, rcs):
    rule = {"kind": "run_command", "name": "via-http", "exit_code": 2, "count": 1}
    r = requests.post(f"{sb.endpoint}/_sandbox/faults", json=rule, verify=sb.ca_bundle, timeout=10)
    assert r.ok and r.json()["value"][0]["kind"] == "run_command"
    rcs.begin_create_or_update(clients.rg, VM, "via-http", body()).result()
    assert view(clients, "via-http")[1].exit_code == 2
    rcs.begin_delete(clients.rg, VM, "via-http").result()
    rcs.begin_create_or_update(clients.rg, VM, "via-http", body()).result()
    assert view(clients, "via-http")[1].exit_code == 0  # count used up
    for bad in ({"kind": "run_command"}, {"kind": "run_command", "name": "x", "exit_code": "1"}):
        r = requests.post(f"{sb.endpoint}/_sandbox/faults", json=bad, verify=sb.ca_bundle, timeout=10)
        assert r.status_code == 400, bad


def test_a_run_in_flight_survives_a_restart_and_its_secret_is_not_in_the_saved_file(tmp_path):
    data = tmp_path / "state.json"
    with Sandbox(time_scale=100_000, data=str(data)) as first:
        sub = first.subscription_ids[0]
        first.seed([{"id": f"/subscriptions/{sub}/resourceGroups/{RG}", "location": "westeurope"}])
        first.seed(landing_zone(first.subscription_ids))
        c = make_clients(first, credential_for(first))
        make_vm(c)
        first.set_time_scale(0)
        secret = [{"name": "key", "value": SECRET_VALUE}]
        c.compute.virtual_machine_run_commands.begin_create_or_update(
            c.rg, VM, "t", body(protectedParameters=secret), polling=False
        )
        first.advance(5)
    assert SECRET_VALUE not in data.read_text()
    with Sandbox(time_scale=0, data=str(data)) as second:
        c = make_clients(second, credential_for(second))
        assert view(c, "t")[1].execution_state == "Running"
        second.advance(20)
        state, iv = view(c, "t")
        assert (state, iv.execution_state, iv.exit_code) == ("Succeeded", "Succeeded", 0)
        assert [e["run"] for e in second.audit()["run_commands"]] == [1]
