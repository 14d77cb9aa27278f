"""Fidelity of refusals: what the sandbox answers when it refuses a resource write has Azure's status, error code,
target, message shape and headers, as recorded with a public source per entry in tests/fixtures/refusals.json.

Each entry has one provoker below that makes the sandbox refuse through the REAL SDK clients over HTTPS (raw
requests where the SDK would not send the body); `test_every_recorded_refusal_is_provoked` keeps the fixture and
the provokers in step, so a refusal recorded without a test (or a test without its source) fails. The front-door
refusals (unknown api-version, bad bearer token) have theirs in tests/fixtures/api_versions.json, checked by
tests/sandbox/test_fidelity.py.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from azure.core.exceptions import HttpResponseError
from azure.core.rest import HttpRequest
from support.sandbox import RG, credential_for, make_clients, own_sandbox, time_scale

from .helpers import host_pool_body, make_gallery, make_source_image, make_version, version_body, vm_body
from .test_imagebuilder import template

FIXTURE = json.loads((Path(__file__).resolve().parents[1] / "fixtures" / "refusals.json").read_text())
REFUSALS: dict[str, dict] = FIXTURE["refusals"]
AVD_API = "2024-04-03"


class Refused:
    """One refusal as the client saw it: status, headers and the JSON error body."""

    def __init__(self, status: int, headers, body: dict) -> None:
        self.status, self.headers, self.error = status, headers, body.get("error") or {}

    @classmethod
    def of(cls, call: Callable[[], object]) -> Refused:
        with pytest.raises(HttpResponseError) as caught:
            call()
        response = caught.value.response
        return cls(response.status_code, response.headers, response.json())

    @classmethod
    def sent(cls, client, method: str, url: str, body: dict) -> Refused:
        response = client.send_request(HttpRequest(method, url, json=body))
        assert response.status_code >= 400, response.text()
        return cls(response.status_code, response.headers, response.json())


def assert_matches(refused: Refused, name: str) -> None:
    want = REFUSALS[name]
    err = refused.error
    assert refused.status == want["status"], (name, refused.status, err)
    assert err.get("code") == want["code"], (name, err)
    assert re.search(want["message_pattern"], err.get("message", "")), (name, err.get("message"))
    if "target" in want:
        assert err.get("target") == want["target"], (name, err)
    if "target_pattern" in want:
        assert re.match(want["target_pattern"], err.get("target") or ""), (name, err)
    for header in want.get("headers_absent", []):
        assert header not in refused.headers, (name, header)  # azure-core would retry a refusal carrying it
    for header, pattern in want.get("headers_present", {}).items():
        assert re.match(pattern, refused.headers.get(header, "")), (name, header, refused.headers.get(header))
    for got, expected in zip(err.get("details") or [], want.get("details", []), strict=False):
        assert got["code"] == expected["code"]
        assert re.match(expected["target_pattern"], got["target"]), got
        assert sorted(json.loads(got["message"])) == sorted(expected["message_keys"]), got
    assert len(err.get("details") or []) >= len(want.get("details", []))


def _version_id(c, name: str = "1.0.0") -> str:
    return f"/subscriptions/{c.sub}/resourceGroups/{c.rg}/providers/Microsoft.Compute/galleries/gal/images/img/versions/{name}"


def _put_version(c, name: str, body: dict) -> Refused:
    versions = c.compute.gallery_image_versions
    return Refused.of(lambda: versions.begin_create_or_update(c.rg, "gal", "img", name, body).result())


# ---------------------------------------------------------------- one provoker per recorded refusal
def conflict_while_operation_runs(sb, c) -> Refused:
    make_gallery(c)
    sb.set_time_scale(0)
    versions = c.compute.gallery_image_versions
    versions.begin_create_or_update(c.rg, "gal", "img", "1.0.0", version_body(), polling=False)
    return Refused.of(
        lambda: versions.begin_update(
            c.rg, "gal", "img", "1.0.0", {"tags": {"a": "b"}}, polling=False
        ).result()
    )


def marked_for_deletion(sb, c) -> Refused:
    image = make_source_image(c, "vmsource")
    vms = c.compute.virtual_machines
    vms.begin_create_or_update(c.rg, "avd-0", vm_body(image.id)).result()
    sb.set_time_scale(0)
    vms.begin_delete(c.rg, "avd-0", polling=False)
    return Refused.of(lambda: vms.begin_update(c.rg, "avd-0", {"tags": {"x": "y"}}, polling=False).result())


def compute_throttled(sb, c) -> Refused:
    """In a sandbox of its own with throttling on and a 2-request PutVM window; azure-core's retries off, so the
    long Retry-After is seen rather than slept."""
    with own_sandbox(throttle=True, time_scale=100_000) as own:
        sub = own.subscription_ids[0]
        own.seed([{"id": f"/subscriptions/{sub}/resourceGroups/{RG}", "location": "westeurope"}])
        clients = make_clients(own, credential_for(own), retry_total=0)
        image = make_source_image(clients, "vmsource")
        own._app().throttle.compute_policies["PutVM"] = {"3Min": (180.0, 100), "30Min": (1800.0, 2)}
        vms = clients.compute.virtual_machines
        with time_scale(own, 0):
            for name in ("vm1", "vm2"):
                vms.begin_create_or_update(clients.rg, name, vm_body(image.id), polling=False)
            return Refused.of(
                lambda: vms.begin_create_or_update(clients.rg, "vm3", vm_body(image.id), polling=False)
            )


def windows_computer_name(sb, c) -> Refused:
    image = make_source_image(c)
    body = vm_body(image.id)
    body["properties"]["osProfile"]["computerName"] = "avdclinicalw1-13"  # 16 characters
    return Refused.of(lambda: c.compute.virtual_machines.begin_create_or_update(c.rg, "vm1", body).result())


def version_name_not_32_bit(sb, c) -> Refused:
    make_gallery(c)
    return _put_version(c, "2147483648.0.0", version_body())


def duplicate_target_region(sb, c) -> Refused:
    make_gallery(c)
    return _put_version(c, "1.0.0", version_body(("westeurope", "West Europe")))


def replica_count_zero(sb, c) -> Refused:
    make_gallery(c)
    body = version_body()
    body["properties"]["publishingProfile"]["targetRegions"][0]["regionalReplicaCount"] = 0
    return _put_version(c, "1.0.0", body)


def version_source_not_found(sb, c) -> Refused:
    make_gallery(c)
    missing = f"/subscriptions/{c.sub}/resourceGroups/{c.rg}/providers/Microsoft.Compute/images/deleted"
    return _put_version(c, "1.0.0", version_body(source=missing))


def template_source_not_found(sb, c) -> Refused:
    make_gallery(c)
    body = template(c)
    missing = f"/subscriptions/{c.sub}/resourceGroups/{c.rg}/providers/Microsoft.Compute/images/deleted"
    body["properties"]["source"] = {"type": "ManagedImage", "imageId": missing}
    templates = c.aib.virtual_machine_image_templates
    return Refused.of(lambda: templates.begin_create_or_update(c.rg, "tpl", body).result())


def image_reference_immutable(sb, c) -> Refused:
    first, second = make_source_image(c, "one"), make_source_image(c, "two")
    vms = c.compute.virtual_machines
    vms.begin_create_or_update(c.rg, "avd-0", vm_body(first.id)).result()
    return Refused.of(lambda: vms.begin_create_or_update(c.rg, "avd-0", vm_body(second.id)).result())


def host_pool_type_immutable(sb, c) -> Refused:
    c.avd.host_pools.create_or_update(c.rg, "hp1", host_pool_body())
    pool = f"/subscriptions/{c.sub}/resourceGroups/{c.rg}/providers/Microsoft.DesktopVirtualization/hostPools/hp1"
    body = {"properties": {"hostPoolType": "Personal"}}
    return Refused.sent(c.compute, "PATCH", f"{pool}?api-version={AVD_API}", body)


def _running_vm(c, name: str = "avd-0"):
    image = make_source_image(c, "vmsource")
    return c.compute.virtual_machines.begin_create_or_update(c.rg, name, vm_body(image.id)).result()


def generalize_running_vm(sb, c) -> Refused:
    _running_vm(c)
    return Refused.of(lambda: c.compute.virtual_machines.generalize(c.rg, "avd-0"))


def start_generalized_vm(sb, c) -> Refused:
    _running_vm(c)
    vms = c.compute.virtual_machines
    vms.begin_deallocate(c.rg, "avd-0").result()
    vms.generalize(c.rg, "avd-0")
    return Refused.of(lambda: vms.begin_start(c.rg, "avd-0").result())


def capture_not_generalized_vm(sb, c) -> Refused:
    make_gallery(c)
    vm = _running_vm(c)
    c.compute.virtual_machines.begin_deallocate(c.rg, "avd-0").result()  # stopped, but Sysprep never ran
    body = version_body()
    body["properties"]["storageProfile"] = {"source": {"virtualMachineId": vm.id}}
    return _put_version(c, "1.0.0", body)


def _run_command(script: str = "Write-Output ok") -> dict:
    return {"location": "westeurope", "properties": {"source": {"script": script}}}


def run_command_vm_missing(sb, c) -> Refused:
    rcs = c.compute.virtual_machine_run_commands
    return Refused.of(lambda: rcs.begin_create_or_update(c.rg, "gone", "t", _run_command()).result())


def run_command_vm_not_running(sb, c) -> Refused:
    _running_vm(c)
    c.compute.virtual_machines.begin_deallocate(c.rg, "avd-0").result()
    rcs = c.compute.virtual_machine_run_commands
    return Refused.of(lambda: rcs.begin_create_or_update(c.rg, "avd-0", "t", _run_command()).result())


def run_command_unknown_member(sb, c) -> Refused:
    vm = _running_vm(c)
    body = _run_command()
    body["properties"]["scriptText"] = "Write-Output ok"  # not a member of VirtualMachineRunCommandProperties
    return Refused.sent(c.compute, "PUT", f"{sb.endpoint}{vm.id}/runCommands/t?api-version=2026-04-01", body)


PROVOKERS: dict[str, Callable] = {
    "RunCommandVmMissing": run_command_vm_missing,
    "RunCommandVmNotRunning": run_command_vm_not_running,
    "RunCommandUnknownMember": run_command_unknown_member,
    "GeneralizeRunningVm": generalize_running_vm,
    "StartGeneralizedVm": start_generalized_vm,
    "CaptureNotGeneralizedVm": capture_not_generalized_vm,
    "ConflictWhileOperationRuns": conflict_while_operation_runs,
    "MarkedForDeletion": marked_for_deletion,
    "ComputeThrottled": compute_throttled,
    "WindowsComputerName": windows_computer_name,
    "VersionNameNot32Bit": version_name_not_32_bit,
    "DuplicateTargetRegion": duplicate_target_region,
    "ReplicaCountZero": replica_count_zero,
    "VersionSourceNotFound": version_source_not_found,
    "TemplateSourceNotFound": template_source_not_found,
    "ImageReferenceImmutable": image_reference_immutable,
    "HostPoolTypeImmutable": host_pool_type_immutable,
}
ERROR_REFUSALS = [name for name, entry in REFUSALS.items() if "status" in entry]


def test_every_recorded_refusal_is_provoked_and_sourced():
    assert sorted(PROVOKERS) == sorted(ERROR_REFUSALS)
    for name, entry in REFUSALS.items():
        assert entry.get("source") and entry.get("provenance") in ("obs", "spec", "inf"), name


@pytest.mark.parametrize("name", ERROR_REFUSALS)
def test_refusal_has_azures_status_code_target_message_and_headers(sb, clients, name):
    assert_matches(PROVOKERS[name](sb, clients), name)


def test_the_refused_write_changed_nothing(sb, clients):
    """A refusal is a refusal: the version named by a missing source is not created half-way."""
    version_source_not_found(sb, clients)
    assert sb.get(_version_id(clients)) is None


def test_a_failed_operation_shows_failed_on_the_resource_and_the_error_on_its_status(sb, clients):
    want = REFUSALS["FailedOperation"]
    make_gallery(clients)
    make_version(clients)
    sb.inject_fault(
        method="PATCH", path="versions/1.0.0$", kind="lro", code="InternalOperationError", count=1
    )
    versions = clients.compute.gallery_image_versions
    poller = versions.begin_update(clients.rg, "gal", "img", "1.0.0", {"tags": {"a": "b"}})
    with pytest.raises(HttpResponseError):
        poller.result()
    url = poller.polling_method()._initial_response.http_response.headers["Azure-AsyncOperation"]
    status = clients.compute._client.send_request(HttpRequest("GET", url)).json()
    assert status["status"] == want["operation_status"]["status"]
    assert set(want["operation_status"]["keys"]) <= set(status), status
    assert sorted(status["error"]) == sorted(want["operation_status"]["error_keys"])
    got = versions.get(clients.rg, "gal", "img", "1.0.0")
    assert got.provisioning_state == want["resource_provisioning_state"]


def test_enum_values_come_back_in_the_specs_casing(sb, clients):
    want = FIXTURE["normalised_enums"]["values"]
    compute = clients.compute
    make_source_image(clients)
    compute.galleries.begin_create_or_update(clients.rg, "gal", {"location": "westeurope"}).result()
    identifier = {"publisher": "acme", "offer": "avd", "sku": "win11"}
    definition = {
        "location": "westeurope",
        "properties": {
            "osType": "windows",
            "osState": "generalized",
            "hyperVGeneration": "v2",
            "identifier": identifier,
        },
    }
    raw = {"cls": lambda pipeline_response, _d, _h: pipeline_response.http_response.json()}
    image = compute.gallery_images.begin_create_or_update(
        clients.rg, "gal", "img", definition, **raw
    ).result()
    for key in ("osType", "osState", "hyperVGeneration"):
        assert image["properties"][key] == want[key]
    body = version_body(storageAccountType="standard_zrs")
    made = compute.gallery_image_versions.begin_create_or_update(
        clients.rg, "gal", "img", "1.0.0", body, **raw
    ).result()
    assert made["properties"]["publishingProfile"]["storageAccountType"] == want["storageAccountType"]
    pool = host_pool_body() | {"host_pool_type": "pooled", "load_balancer_type": "depthfirst"}
    got = clients.avd.host_pools.create_or_update(clients.rg, "hp1", pool, **raw)
    assert got["properties"]["hostPoolType"] == want["hostPoolType"]
    assert got["properties"]["loadBalancerType"] == want["loadBalancerType"]
