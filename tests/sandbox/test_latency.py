"""The latency model: off by default; when on, every request waits its drawn service time, outside the app
lock, so concurrent requests overlap their delays instead of queueing behind each other.

Margins are generous on purpose (a loaded 2-core machine): a delay is asserted as a lower bound only, and
overlap as "far less than the serial sum", never as a tight figure."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from types import SimpleNamespace

import pytest
import requests

from reconciler.sandbox import Sandbox
from reconciler.sandbox.latency import AZURE, LatencyModel, operation_of, parse

from .helpers import make_gallery


def _headers(pipeline_response, deserialized, _declared):
    return deserialized, pipeline_response.http_response.headers


def _latency(sb, value) -> None:
    r = requests.post(
        sb.endpoint + "/_sandbox/config", json={"latency": value}, verify=sb.ca_bundle, timeout=5
    )
    assert r.ok, r.text


def test_off_by_default_adds_no_delay(sb, clients):
    make_gallery(clients)
    assert sb.app.config.latency == ""
    _, headers = clients.compute.galleries.get(clients.rg, "gal", cls=_headers)
    assert "x-ms-sandbox-latency-ms" not in headers
    model = LatencyModel(sb.app.config)
    assert model.delay_seconds("GET", f"/subscriptions/{clients.sub}/x", 200, {}) == 0.0


def test_a_get_takes_at_least_its_drawn_latency(sb, clients):
    make_gallery(clients)
    _latency(sb, {"get": {"median_ms": 250, "p95_ms": 400, "min_ms": 250}})
    started = time.perf_counter()
    gallery, headers = clients.compute.galleries.get(clients.rg, "gal", cls=_headers)
    elapsed = time.perf_counter() - started
    drawn = float(headers["x-ms-sandbox-latency-ms"]) / 1000
    assert gallery.name == "gal"
    assert 0.25 <= drawn <= 0.4 + 1e-6  # clamped at min_ms; lognormal rarely above p95 but never below min
    assert elapsed >= drawn


def test_a_list_page_pays_the_list_latency_not_the_get_one(sb, clients):
    make_gallery(clients)
    _latency(sb, {"get": {"fixed_ms": 1}, "list_page": {"fixed_ms": 300}})
    started = time.perf_counter()
    assert [g.name for g in clients.compute.galleries.list_by_resource_group(clients.rg)] == ["gal"]
    assert time.perf_counter() - started >= 0.3


def test_eight_concurrent_gets_overlap_their_latency(sb, clients):
    make_gallery(clients)
    _latency(sb, {"get": {"fixed_ms": 500}})
    clients.compute.galleries.get(clients.rg, "gal")  # token and connection warm
    started = time.perf_counter()
    clients.compute.galleries.get(clients.rg, "gal")
    one = time.perf_counter() - started
    assert one >= 0.5
    with ThreadPoolExecutor(8) as pool:
        started = time.perf_counter()
        names = list(pool.map(lambda _: clients.compute.galleries.get(clients.rg, "gal").name, range(8)))
        eight = time.perf_counter() - started
    assert names == ["gal"] * 8
    assert eight >= 0.5
    assert eight < 4 * one, f"8 concurrent GETs took {eight:.2f} s, one took {one:.2f} s: they queued"


def test_reset_turns_the_model_back_off(sb, clients):
    make_gallery(clients)
    _latency(sb, "azure")
    _, headers = clients.compute.galleries.get(clients.rg, "gal", cls=_headers)
    assert float(headers["x-ms-sandbox-latency-ms"]) >= AZURE["get"]["min_ms"]
    sb.reset()
    assert sb.app.config.latency == ""


@pytest.mark.parametrize(
    ("method", "path", "body", "expected"),
    [
        (
            "GET",
            "/subscriptions/s/resourceGroups/r/providers/Microsoft.Compute/galleries/g",
            {"name": "g"},
            "get",
        ),
        ("GET", "/subscriptions/s/providers/Microsoft.Compute/galleries", {"value": []}, "list_page"),
        (
            "GET",
            "/subscriptions/s/providers/Microsoft.Compute/locations/westeurope/operations/1",
            {},
            "lro_poll",
        ),
        ("PUT", "/subscriptions/s/resourceGroups/r/providers/Microsoft.Compute/galleries/g", {}, "put"),
        ("PATCH", "/subscriptions/s/resourceGroups/r/providers/Microsoft.Compute/galleries/g", {}, "put"),
        (
            "DELETE",
            "/subscriptions/s/resourceGroups/r/providers/Microsoft.Compute/galleries/g",
            None,
            "delete",
        ),
        ("POST", "/subscriptions/s/resourceGroups/r/providers/x/imageTemplates/t/run", None, "post"),
        ("POST", "/tenant/oauth2/v2.0/token", {}, "token"),
        ("GET", "/_sandbox/stats", {"value": []}, None),
        ("GET", "/common/discovery/instance?api-version=1.1", {}, None),
    ],
)
def test_each_request_is_charged_as_its_operation(method, path, body, expected):
    assert operation_of(method, path, 200, body) == expected


def test_bad_settings_are_refused_up_front(sb):
    for bad in (
        "fast",
        {"gett": {"fixed_ms": 1}},
        {"get": {"median_ms": 100, "p95_ms": 50}},
        {"get": {"mean": 1}},
    ):
        with pytest.raises(ValueError):
            parse(bad)
        r = requests.post(
            sb.endpoint + "/_sandbox/config", json={"latency": bad}, verify=sb.ca_bundle, timeout=5
        )
        assert r.status_code == 400
    assert sb.app.config.latency == ""
    with pytest.raises(ValueError), Sandbox(settings={"latency": "fast"}):
        pass


def test_draws_follow_the_sandbox_seed():
    def draws(seed):
        model = LatencyModel(SimpleNamespace(latency="azure", seed=seed))
        return [model.delay_seconds("GET", "/subscriptions/s/x", 200, {"value": []}) for _ in range(5)]

    assert draws(7) == draws(7)
    assert draws(7) != draws(8)
    assert all(s * 1000 >= AZURE["list_page"]["min_ms"] for s in draws(7))


def test_cli_serve_latency_file(tmp_path):
    spec = tmp_path / "latency.yaml"
    spec.write_text("get:\n  fixed_ms: 200\n")
    proc = subprocess.Popen(
        [sys.executable, "-m", "reconciler", "sandbox", "serve", "--bare", "--latency", str(spec)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        info = json.loads(proc.stdout.readline())
        config = requests.get(
            info["endpoint"] + "/_sandbox/config", verify=info["ca_bundle"], timeout=10
        ).json()
        assert config["latency"] == {"get": {"fixed_ms": 200}}
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    assert proc.returncode == 0
