"""Compute's own request limits behind ARM's (limits.md A2): the policy header on every Compute write, and the
429 a spent window answers, with code OperationNotAllowed and a Retry-After until the window ends (minutes).

Each test has its own sandbox: it narrows the policy windows so a handful of requests reaches their end, and
turns azure-core's retries off so a 30-minute Retry-After is seen, not slept."""

from __future__ import annotations

import json

import pytest
from azure.core.exceptions import HttpResponseError
from support.sandbox import RG, credential_for, make_clients, own_sandbox, time_scale

from reconciler.sandbox.throttle import compute_policy

from .helpers import make_gallery, make_version, vm_body


@pytest.fixture
def throttled():
    with own_sandbox(throttle=True, time_scale=100_000) as sb:
        sub = sb.subscription_ids[0]
        sb.seed([{"id": f"/subscriptions/{sub}/resourceGroups/{RG}", "location": "westeurope"}])
        clients = make_clients(sb, credential_for(sb), retry_total=0)
        make_gallery(clients)
        make_version(clients)
        yield sb, clients


def _version_id(c) -> str:
    return f"/subscriptions/{c.sub}/resourceGroups/{c.rg}/providers/Microsoft.Compute/galleries/gal/images/img/versions/1.0.0"


def _put_vm(c, name: str) -> dict:
    seen: list = []
    c.compute.virtual_machines.begin_create_or_update(
        c.rg, name, vm_body(_version_id(c)), polling=False, raw_response_hook=lambda r: seen.append(r)
    )
    return dict(seen[-1].http_response.headers)


def _remaining(headers: dict) -> dict[str, int]:
    pairs = (item.rsplit(";", 1) for item in headers["x-ms-ratelimit-remaining-resource"].split(","))
    return {name: int(count) for name, count in pairs}


def test_compute_writes_carry_the_policy_header_next_to_the_arm_bucket(throttled):
    sb, c = throttled
    with time_scale(sb, 0):  # at the fixture's 100,000x a 3-minute window lasts 2 ms
        first = _put_vm(c, "vm1")
        second = _put_vm(c, "vm2")
    assert _remaining(first) == {"Microsoft.Compute/PutVM3Min": 239, "Microsoft.Compute/PutVM30Min": 1199}
    assert _remaining(second) == {"Microsoft.Compute/PutVM3Min": 238, "Microsoft.Compute/PutVM30Min": 1198}
    assert first["x-ms-request-charge"] == "1"
    assert int(second["x-ms-ratelimit-remaining-subscription-writes"]) < int(
        first["x-ms-ratelimit-remaining-subscription-writes"]
    )
    seen: list = []
    c.compute.virtual_machines.get(c.rg, "vm1", raw_response_hook=lambda r: seen.append(r))
    read = seen[-1].http_response.headers
    assert "x-ms-ratelimit-remaining-resource" not in read  # reads are ARM's bucket only here
    assert "x-ms-ratelimit-remaining-subscription-reads" in read


def test_a_spent_30_minute_window_answers_429_operation_not_allowed_with_a_long_retry_after(throttled):
    sb, c = throttled
    sb._app().throttle.compute_policies["PutVM"] = {"3Min": (180.0, 100), "30Min": (1800.0, 2)}
    with time_scale(sb, 1):
        _put_vm(c, "vm1")
        _put_vm(c, "vm2")
        with pytest.raises(HttpResponseError) as err:
            _put_vm(c, "vm3")
    exc = err.value
    assert exc.status_code == 429
    assert exc.error.code == "OperationNotAllowed"
    retry_after = float(exc.response.headers["Retry-After"])
    assert (
        1000 < retry_after <= 1800
    )  # minutes, not seconds: the window's end (Azure sends up to 1200 s and more)
    detail = exc.error.details[0]
    assert (detail.code, detail.target) == ("TooManyRequests", "PutVM30Min")
    assert json.loads(detail.message)["allowedRequestCount"] == 2
    assert _remaining(dict(exc.response.headers))["Microsoft.Compute/PutVM30Min"] == 0
    vms = [v.name for v in c.compute.virtual_machines.list(c.rg)]
    assert sorted(vms) == ["vm1", "vm2"]  # the refused PUT created nothing


def test_the_3_minute_window_opens_again_when_it_ends(throttled):
    sb, c = throttled
    sb._app().throttle.compute_policies["PutVM"] = {"3Min": (180.0, 2), "30Min": (1800.0, 100)}
    with time_scale(sb, 0):
        _put_vm(c, "vm1")
        _put_vm(c, "vm2")
        with pytest.raises(HttpResponseError) as err:
            _put_vm(c, "vm3")
        assert 170 <= float(err.value.response.headers["Retry-After"]) <= 180
        assert err.value.error.details[0].target == "PutVM3Min"
        sb.advance(181)
        headers = _put_vm(c, "vm3")
    assert _remaining(headers) == {"Microsoft.Compute/PutVM3Min": 1, "Microsoft.Compute/PutVM30Min": 97}


def test_gallery_writes_are_counted_and_other_providers_are_not(throttled):
    sb, c = throttled
    seen: list = []
    c.compute.galleries.begin_create_or_update(
        c.rg, "gal2", {"location": "westeurope"}, polling=False, raw_response_hook=lambda r: seen.append(r)
    )
    assert "Microsoft.Compute/CreateUpdateGalleryResources3Min" in _remaining(
        dict(seen[-1].http_response.headers)
    )
    assert (
        compute_policy("PUT", "/subscriptions/s/resourceGroups/r/providers/Microsoft.Network/nics/n") is None
    )
    assert (
        compute_policy("GET", "/subscriptions/s/resourceGroups/r/providers/Microsoft.Compute/disks/d") is None
    )
    assert compute_policy(
        "DELETE", "/subscriptions/s/resourceGroups/r/providers/Microsoft.Compute/disks/d"
    ) == ("DeleteDisks")
    vm = "/subscriptions/s/resourceGroups/r/providers/Microsoft.Compute/virtualMachines/v"
    assert compute_policy("POST", vm + "/deallocate") == "DeleteVM"
    assert compute_policy("PUT", vm + "/extensions/dsc") == "UpdateVM"
    assert compute_policy("PATCH", vm) == "UpdateVM"
