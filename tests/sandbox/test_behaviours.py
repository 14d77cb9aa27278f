"""Faults, throttling, persistence and the CLI entry point."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from types import SimpleNamespace

import pytest
import requests
from azure.core.exceptions import HttpResponseError
from support.sandbox import bearer, credential_for

from reconciler.sandbox import Sandbox

from .helpers import SOURCE_IMAGE, gallery_body, make_gallery


def test_injected_500_and_429_are_retried_by_azure_core(sb, clients):
    make_gallery(clients)
    sb.inject_fault(method="GET", path=r"/galleries/gal$", status=500, count=2)
    sb.inject_fault(method="GET", path=r"/galleries/gal$", status=429, code="TooManyRequests", count=1)
    assert clients.compute.galleries.get(clients.rg, "gal").name == "gal"
    assert [r["hits"] for r in sb.app.faults.rules] == [2, 1]


def test_fault_rules_over_http_with_probability_and_error_code(sb, clients):
    rule = {"method": "PUT", "path": "galleries/bad", "status": 409, "code": "Conflict", "count": 1}
    r = requests.post(sb.endpoint + "/_sandbox/faults", json=rule, verify=sb.ca_bundle, timeout=5)
    assert r.ok
    with pytest.raises(HttpResponseError) as err:
        clients.compute.galleries.begin_create_or_update(clients.rg, "bad", gallery_body())
    assert err.value.error.code == "Conflict"
    clients.compute.galleries.begin_create_or_update(
        clients.rg, "bad", gallery_body()
    ).result()  # count used up


def test_injected_lro_failure_surfaces_with_its_code(sb, clients):
    sb.inject_fault(method="PUT", path="galleries/doomed", kind="lro", code="InternalOperationError", count=1)
    with pytest.raises(HttpResponseError) as err:
        clients.compute.galleries.begin_create_or_update(clients.rg, "doomed", gallery_body()).result()
    assert err.value.error.code == "InternalOperationError"
    assert clients.compute.galleries.get(clients.rg, "doomed").properties.provisioning_state == "Failed"


def test_throttling_answers_429_with_retry_after_and_the_sdk_recovers(sb, clients):
    make_gallery(clients)
    sb.set_time_scale(1)
    sb.configure(throttle=True, read_bucket=(3.0, 10.0))
    r = requests.get(
        f"{sb.endpoint}/subscriptions/{clients.sub}/resourceGroups/{clients.rg}/providers/"
        "Microsoft.Compute/galleries/gal?api-version=2026-03-03",
        headers=bearer(sb),
        verify=sb.ca_bundle,
        timeout=5,
    )
    assert int(r.headers["x-ms-ratelimit-remaining-subscription-reads"]) >= 0
    for _ in range(5):
        assert clients.compute.galleries.get(clients.rg, "gal").name == "gal"
    throttled = [k for k in sb.stats()["requests"] if k.startswith("GET galleries")]
    assert sb.stats()["requests"][throttled[0]] > 5  # retried after 429s
    raw = None
    session = requests.Session()
    for _ in range(10):
        raw = session.get(r.url, headers=bearer(sb), verify=sb.ca_bundle, timeout=5)
        if raw.status_code == 429:
            break
    assert raw.status_code == 429
    assert 0 < float(raw.headers["Retry-After"]) < 1
    assert raw.json()["error"]["code"] == "OperationNotAllowed"
    assert raw.json()["error"]["details"][0]["code"] == "TooManyRequests"


def test_state_persists_across_restart(tmp_path, client_factory):
    data = str(tmp_path / "state.json")
    sub = "11111111-1111-4111-8111-111111111111"
    rg = [{"id": f"/subscriptions/{sub}/resourceGroups/rg-test", "location": "westeurope"}]
    with Sandbox(time_scale=100_000, data=data, seed=rg, client_secret="s1") as first:
        c = client_factory(first, credential_for(first))
        make_gallery(c)
        saved_time = first.now()
    with Sandbox(time_scale=100_000, data=data, client_secret="s1") as second:
        c = client_factory(second, credential_for(second))
        assert [g.name for g in c.compute.galleries.list_by_resource_group("rg-test")] == ["gal"]
        assert second.now() >= saved_time
        assert any(e["method"] == "PUT" for e in second.audit()["entries"])


def test_cli_serve_prints_one_json_line_and_exits_cleanly_on_sigterm(tmp_path):
    seed = tmp_path / "seed.yaml"
    seed.write_text(
        "resources:\n- id: /subscriptions/11111111-1111-4111-8111-111111111111/resourceGroups/rg1\n"
        "  location: westeurope\n"
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "reconciler", "sandbox", "serve", "--seed", str(seed), "--time-scale", "1000"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        info = json.loads(proc.stdout.readline())
        assert set(info) >= {
            "endpoint",
            "ca_bundle",
            "tenant_id",
            "client_id",
            "client_secret",
            "subscription_ids",
            "env",
        }
        assert set(info["env"]) == {
            "AZURE_TENANT_ID",
            "AZURE_CLIENT_ID",
            "AZURE_CLIENT_SECRET",
            "AZURE_AUTHORITY_HOST",
            "RECONCILE_ARM_ENDPOINT",
            "RECONCILE_KEYVAULT_ENDPOINT",
            "RECONCILE_CA_BUNDLE",
            "REQUESTS_CA_BUNDLE",
        }
        assert info["env"]["RECONCILE_KEYVAULT_ENDPOINT"] == info["endpoint"]
        assert os.path.exists(info["ca_bundle"])
        r = requests.get(
            info["endpoint"] + "/subscriptions/11111111-1111-4111-8111-111111111111/resourcegroups/rg1"
            "?api-version=2024-11-01",
            headers=bearer(SimpleNamespace(**info, port=int(info["endpoint"].rsplit(":", 1)[1]))),
            verify=info["ca_bundle"],
            timeout=5,
        )
        assert r.json()["location"] == "westeurope"
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
    time.sleep(0)


def test_an_operation_in_flight_survives_a_restart(tmp_path, client_factory):
    data = str(tmp_path / "state.json")
    sub = "11111111-1111-4111-8111-111111111111"
    rg = [{"id": f"/subscriptions/{sub}/resourceGroups/rg-test", "location": "westeurope"}]
    with Sandbox(time_scale=0, data=data, seed=rg) as first:
        c = client_factory(first, credential_for(first))
        c.compute.galleries.begin_create_or_update("rg-test", "gal", gallery_body(), polling=False)
    with Sandbox(time_scale=0, data=data) as second:
        c = client_factory(second, credential_for(second))
        assert c.compute.galleries.get("rg-test", "gal").properties.provisioning_state == "Creating"
        second.advance(60)
        assert c.compute.galleries.get("rg-test", "gal").properties.provisioning_state == "Succeeded"


def test_small_estate_is_served_and_listed(client_factory):
    with Sandbox(time_scale=1, estate="small", page_size=50) as sb:
        assert not sb.warnings
        c = client_factory(sb, credential_for(sb))
        galleries = list(c.compute.galleries.list())
        pools = list(c.avd.host_pools.list())
        assert galleries and pools
        hosts = list(c.avd.session_hosts.list(pools[0].id.split("/")[4], pools[0].name))
        assert hosts and all(h.resource_id for h in hosts)


def test_poll_retry_after_is_fractional_and_initial_has_none(sb, clients):
    sb.set_time_scale(20)  # gallery create: 10 s sandbox = 0.5 s real
    poller = clients.compute.galleries.begin_create_or_update(
        clients.rg, "gal", gallery_body(), polling=False
    )
    initial = poller.polling_method()._initial_response.http_response
    assert "Retry-After" not in initial.headers
    url = initial.headers["Azure-AsyncOperation"]
    poll = requests.get(url, headers=bearer(sb), verify=sb.ca_bundle, timeout=5)
    assert poll.json()["status"] == "InProgress"
    assert 0.2 < float(poll.headers["Retry-After"]) < 0.5
    time.sleep(float(poll.headers["Retry-After"]))
    assert (
        requests.get(url, headers=bearer(sb), verify=sb.ca_bundle, timeout=5).json()["status"] == "Succeeded"
    )


def test_faults_file_yaml_is_loaded_at_start(tmp_path, client_factory):
    faults = tmp_path / "faults.yaml"
    faults.write_text(
        "faults:\n- method: GET\n  path: /galleries$\n  status: 503\n  code: ServiceUnavailable\n  count: 1\n"
    )
    with Sandbox(time_scale=1e5, faults=str(faults)) as sb:
        c = client_factory(sb, credential_for(sb))
        assert list(c.compute.galleries.list()) == []  # one 503, retried by azure-core
        assert sb.app.faults.rules[0]["hits"] == 1


def test_admin_http_endpoints(sb, clients):
    def admin(method, what, body=None):
        r = requests.request(
            method, f"{sb.endpoint}/_sandbox/{what}", json=body, verify=sb.ca_bundle, timeout=5
        )
        assert r.ok, r.text
        return r.json()

    sub = sb.subscription_ids[0]
    admin(
        "POST",
        "seed",
        {"resources": [{"id": f"/subscriptions/{sub}/resourceGroups/rg-seeded", "location": "westeurope"}]},
    )
    admin("POST", "config", {"gallery_seconds": 1})
    assert admin("GET", "config")["gallery_seconds"] == 1
    clients.compute.galleries.begin_create_or_update("rg-seeded", "g", gallery_body()).result()
    assert admin("GET", "audit")["entries"][-1]["id"].endswith("/galleries/g")
    assert set(admin("GET", "invariants")) >= {
        "pools",
        "orphan_disks",
        "orphan_nics",
        "ghost_session_hosts",
        "versions_deleted_in_use",
        "forced_session_ends",
    }
    assert admin("GET", "stats")["requests"]["PUT galleries"] == 1
    assert [
        r["id"]
        for r in admin(
            "GET", "resources?prefix=/subscriptions/" + sub.lower() + "/resourcegroups/rg-seeded/"
        )["value"]
    ] == [f"/subscriptions/{sub}/resourceGroups/rg-seeded/providers/Microsoft.Compute/galleries/g"]
    admin("POST", "faults", {"path": "x", "status": 500})
    assert len(admin("GET", "faults")["value"]) == 1
    admin("DELETE", "faults")
    admin("POST", "reset")
    assert admin("GET", "stats")["resources"] == 0
    assert admin("GET", "config")["gallery_seconds"] == 10
    r = requests.post(f"{sb.endpoint}/_sandbox/config", json={"no_such": 1}, verify=sb.ca_bundle, timeout=5)
    assert r.status_code == 400


def test_allow_deletion_of_replicated_locations_false_blocks_region_removal(sb, clients):
    make_gallery(clients)
    body = {
        "location": "westeurope",
        "properties": {
            "publishingProfile": {"targetRegions": [{"name": "westeurope"}, {"name": "northeurope"}]},
            "storageProfile": {"source": {"id": SOURCE_IMAGE}},  # make_gallery made it: a source must exist
            "safetyProfile": {"allowDeletionOfReplicatedLocations": False},
        },
    }
    clients.compute.gallery_image_versions.begin_create_or_update(
        clients.rg, "gal", "img", "1.0.0", body
    ).result()
    with pytest.raises(HttpResponseError) as err:
        clients.compute.gallery_image_versions.begin_update(
            clients.rg,
            "gal",
            "img",
            "1.0.0",
            {"properties": {"publishingProfile": {"targetRegions": [{"name": "westeurope"}]}}},
        )
    assert err.value.error.code == "OperationNotAllowed"
