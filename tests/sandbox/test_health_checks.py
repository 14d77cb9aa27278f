"""Session host health checks (`sessionHostHealthCheckResults`) through the REAL desktopvirtualization client:
reported `session_host_health_check_seconds` (180 s) after a host registers and empty before, failed per host or
per pool by fault rules of kind "health_check", and the agent version (configurable, or set by a rule).

Hosts register the way Azure's do: a VM gets the DSC extension with the pool's token (120 s), the agent registers
600 s later. The clock is frozen from the extension on, so every instant is exact (the `sb` fixture gives the
session sandbox its speed back).
"""

from __future__ import annotations

from datetime import timedelta

import requests

from reconciler.sandbox.providers.avd_health import HEALTH_CHECKS

from .helpers import dsc_extension, host_pool_body, make_source_image, registration_patch, vm_body

TO_REGISTER = 120 + 600  # extension, then the agent's registration


def register(sb, clients, names=("avd-0",), pool="hp1") -> None:
    """Registers one session host per VM name in `pool`; leaves the clock frozen at the registration instant."""
    clients.avd.host_pools.create_or_update(clients.rg, pool, host_pool_body())
    clients.avd.host_pools.update(clients.rg, pool, registration_patch(sb))
    token = clients.avd.host_pools.retrieve_registration_token(clients.rg, pool).token
    image = make_source_image(clients, "vmsource")
    for name in names:
        body = vm_body(image.id)
        body["properties"]["osProfile"]["computerName"] = name
        clients.compute.virtual_machines.begin_create_or_update(clients.rg, name, body).result()
    sb.set_time_scale(0)
    for name in names:
        clients.compute.virtual_machine_extensions.begin_create_or_update(
            clients.rg, name, "avd", dsc_extension(pool, token), polling=False
        )
    sb.advance(TO_REGISTER)


def host(clients, name: str, pool: str = "hp1"):
    return clients.avd.session_hosts.get(clients.rg, pool, f"{name}.sandbox.local")


def checks(h) -> dict[str, object]:
    return {c.health_check_name: c for c in h.session_host_health_check_results or []}


def test_checks_are_reported_only_some_minutes_after_registration(sb, clients):
    register(sb, clients)
    registered = sb.now()
    h = host(clients, "avd-0")
    assert h.status == "Available" and not h.session_host_health_check_results
    assert h.agent_version == "1.0.9103.3700"
    sb.advance(179)
    assert not host(clients, "avd-0").session_host_health_check_results
    sb.advance(1)
    h = host(clients, "avd-0")
    got = checks(h)
    assert list(got) == list(HEALTH_CHECKS)
    assert {"DomainJoinedCheck", "DomainTrustCheck", "FSLogixHealthCheck", "SxSStackListenerCheck"} <= set(
        got
    )
    assert {"UrlsAccessibleCheck", "MonitoringAgentCheck"} <= set(got)
    for check in got.values():
        assert check.health_check_result == "HealthCheckSucceeded"
        details = check.additional_failure_details
        assert details.error_code == 0 and details.message.startswith("SessionHost healthy: ")
        assert details.last_health_check_date_time == registered + timedelta(seconds=180)
    assert got["DomainJoinedCheck"].additional_failure_details.message == (
        "SessionHost healthy: is joined to domain ≤sandbox.local≥"
    )
    assert h.status == "Available"


def test_a_rule_fails_fslogix_on_one_host_only(sb, clients):
    sb.inject_fault(kind="health_check", check="FSLogixHealthCheck", host="avd-1")
    register(sb, clients, ("avd-0", "avd-1"))
    sb.advance(180)
    bad, good = host(clients, "avd-1"), host(clients, "avd-0")
    fslogix = checks(bad)["FSLogixHealthCheck"]
    assert fslogix.health_check_result == "HealthCheckFailed"
    assert fslogix.additional_failure_details.message.startswith("SessionHost unhealthy: FSLogix")
    assert fslogix.additional_failure_details.error_code == -2146233088
    others = [c for n, c in checks(bad).items() if n != "FSLogixHealthCheck"]
    assert {c.health_check_result for c in others} == {"HealthCheckSucceeded"}
    assert bad.status == "FSLogixNotHealthy"
    assert {c.health_check_result for c in checks(good).values()} == {"HealthCheckSucceeded"}
    assert good.status == "Available"
    pool = sb.invariants()["pools"]
    assert next(iter(pool.values()))["current"] == 1  # the unhealthy host no longer counts as available


def test_a_pool_rule_with_its_own_text_a_non_fatal_check_and_an_old_agent(sb, clients):
    sb.inject_fault(
        kind="health_check", pool="hp1", check="UrlsAccessibleCheck", message="blocked: *.wvd.microsoft.com",
        error_code=12,
    )  # fmt: skip
    sb.inject_fault(kind="health_check", pool="hp1", agent_version="1.0.2548.6500")
    sb.inject_fault(kind="health_check", pool="hp-other", check="DomainJoinedCheck")
    register(sb, clients)
    sb.advance(180)
    h = host(clients, "avd-0")
    urls = checks(h)["UrlsAccessibleCheck"]
    assert urls.health_check_result == "HealthCheckFailed"
    assert urls.additional_failure_details.message == "blocked: *.wvd.microsoft.com"
    assert urls.additional_failure_details.error_code == 12
    assert checks(h)["DomainJoinedCheck"].health_check_result == "HealthCheckSucceeded"  # another pool's rule
    assert h.status == "NeedsAssistance" and h.agent_version == "1.0.2548.6500"


def test_the_delay_and_the_agent_version_are_settings(sb, clients):
    sb.configure(session_host_health_check_seconds=60, session_host_agent_version="1.0.8000.1")
    register(sb, clients)
    assert host(clients, "avd-0").agent_version == "1.0.8000.1"
    sb.advance(60)
    assert len(checks(host(clients, "avd-0"))) == len(HEALTH_CHECKS)


def test_a_bad_health_rule_is_refused(sb):
    for bad in (
        {"kind": "health_check"},
        {"kind": "health_check", "check": "NoSuchCheck"},
        {"kind": "health_check", "check": "FSLogixHealthCheck", "error_code": "x"},
    ):
        r = requests.post(f"{sb.endpoint}/_sandbox/faults", json=bad, verify=sb.ca_bundle, timeout=10)
        assert r.status_code == 400, bad
    ok = {"kind": "health_check", "check": "FSLogixHealthCheck", "host": "avd-*"}
    r = requests.post(f"{sb.endpoint}/_sandbox/faults", json=ok, verify=sb.ca_bundle, timeout=10)
    assert r.ok and r.json()["value"][0]["message"] is None
