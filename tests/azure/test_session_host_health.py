"""A session host's agent version and its own AVD health checks, read from the REST body (the published
SessionHost example, plus a failing check as the troubleshooting docs describe it)."""

from __future__ import annotations

import copy
import json
from pathlib import Path

from reconciler.azure import convert

EXAMPLES = Path(__file__).parents[1] / "fixtures" / "rest-examples"


def example() -> dict:
    responses = json.loads((EXAMPLES / "SessionHost_Update.json").read_text())["responses"]
    return responses[sorted(responses)[0]]["body"]


def test_agent_version_and_health_checks_come_from_the_session_host_body():
    host = convert.session_host(example(), {})
    assert host.agent_version == "1.0.0.1391"
    [check] = host.health_checks
    assert (check.name, check.result, check.succeeded) == ("DomainJoinedCheck", "HealthCheckSucceeded", True)
    assert (
        check.error_code == 0 and check.at == "2021-01-14T02:09:37.623684+00:00"
    )  # one spelling for both readers
    assert check.message == "SessionHost healthy: is joined to domain"


def test_a_failed_check_is_kept_with_its_details_and_a_host_that_has_not_reported_has_none():
    raw = copy.deepcopy(example())
    raw["properties"]["sessionHostHealthCheckResults"].append(
        {
            "healthCheckName": "FSLogixHealthCheck",
            "healthCheckResult": "HealthCheckFailed",
            "additionalFailureDetails": {
                "message": "profile container unreachable",
                "errorCode": -2147467259,
            },
        }
    )
    checks = {c.name: c for c in convert.session_host(raw, {}).health_checks}
    assert not checks["FSLogixHealthCheck"].succeeded
    assert checks["FSLogixHealthCheck"].error_code == -2147467259
    assert checks["FSLogixHealthCheck"].at is None
    del raw["properties"]["sessionHostHealthCheckResults"], raw["properties"]["agentVersion"]
    bare = convert.session_host(raw, {})
    assert bare.health_checks == () and bare.agent_version is None
