"""A session host's own AVD health checks (`sessionHostHealthCheckResults`), reported by its agent.

A registered host shows an empty list until its agent has run the checks, `session_host_health_check_seconds`
(sandbox seconds) after registration; then every check below is reported, succeeded unless a fault rule of
kind "health_check" fails it for that host or pool (faults.py). A failed fatal check takes the host out of
service with the status Azure gives it; a failed non-fatal one marks it NeedsAssistance
(troubleshoot-statuses-checks.md, reference/pipeline.md §3). The checks are reported once: a rule added after
a host reported does not change it.

Texts: the DomainJoined success text is the spec example's (SessionHost_Update.json); the DomainJoined,
DomainTrust, DomainReachable, UrlsAccessible, MonitoringAgent and MetaDataService failure texts are the agent's
as quoted in public troubleshooting pages; the others are inferred in the same style.
"""

from __future__ import annotations

from typing import Any

from ..clock import iso

# Failure errorCode when a rule gives none: the agent reports the HRESULT of the exception it caught; the one
# quoted for a failed DomainTrustCheck (-2146233088, COR_E_EXCEPTION) is the generic one.
DEFAULT_ERROR_CODE = -2146233088

# name -> (success text, failure text, the host status a failure gives, None = NeedsAssistance)
CHECKS: dict[str, tuple[str, str, str | None]] = {
    "DomainJoinedCheck": (
        "SessionHost healthy: is joined to domain ≤{domain}≥",
        "SessionHost unhealthy: SessionHost is not joined to a domain",
        "NotJoinedToDomain",
    ),
    "DomainTrustCheck": (
        "SessionHost healthy: VerifyDomainTrust succeeded",
        "SessionHost unhealthy: VerifyDomainTrust failed with the domain ≤{domain}≥",
        "DomainTrustRelationshipLost",
    ),
    "DomainReachable": (
        "SessionHost healthy: the domain the SessionHost is joined to is reachable",
        "SessionHost unhealthy: the domain the SessionHost is joined to is not reachable!",
        None,
    ),
    "FSLogixHealthCheck": (
        "SessionHost healthy: FSLogix is healthy",
        "SessionHost unhealthy: FSLogix is not healthy: the profile container could not be attached",
        "FSLogixNotHealthy",
    ),
    "SxSStackListenerCheck": (
        "SessionHost healthy: SxS stack listener is ready",
        "SessionHost unhealthy: SxS stack listener is not ready",
        "SxSStackListenerNotReady",
    ),
    "UrlsAccessibleCheck": (
        "SessionHost healthy: all required URLs are accessible",
        "SessionHost unhealthy: NOT ALL required URLs are accessible!",
        None,
    ),
    "MonitoringAgentCheck": (
        "SessionHost healthy: Monitoring Agent is running",
        "SessionHost unhealthy: Monitoring Agent Launcher file path was NOT located",
        None,
    ),
    "WebRTCRedirectorCheck": (
        "SessionHost healthy: WebRTC Redirector is installed",
        "SessionHost unhealthy: WebRTC Redirector is not installed",
        None,
    ),
    "SupportedEncryptionCheck": (
        "SessionHost healthy: supported encryption is in use",
        "SessionHost unhealthy: the encryption in use is not supported",
        None,
    ),
    "MetaDataServiceCheck": (
        "SessionHost healthy: IMDS accessible",
        "SessionHost unhealthy: IMDS not accessible",
        None,
    ),
    "AppAttachHealthCheck": (
        "SessionHost healthy: App Attach is healthy",
        "SessionHost unhealthy: App Attach packages could not be staged",
        None,
    ),
}
HEALTH_CHECKS = tuple(CHECKS)


def schedule(app: Any, host_id: str, registered_at: float) -> None:
    delay = max(0.0, float(app.config.session_host_health_check_seconds))
    app.scheduler.at(registered_at + delay, "avd:health", {"host": host_id})


def host_names(host: dict[str, Any]) -> tuple[str, str, str]:
    """(pool name, host FQDN, its first label): what a rule's `pool` and `host` globs are matched against."""
    parts = host["id"].split("/")
    fqdn = parts[-1]
    return parts[-3], fqdn, fqdn.split(".")[0]


def report(app: Any, payload: dict[str, Any], at: float) -> None:
    host = app.store.get(payload["host"])
    if host is None:
        return
    from ..faults import glob_match

    pool, fqdn, label = host_names(host)

    def for_host(rule: dict[str, Any]) -> bool:
        return glob_match(rule.get("pool"), pool) and glob_match(rule.get("host"), fqdn, label)

    rules = app.faults.match_inside("health_check", for_host)
    failed = {r["check"]: r for r in rules if r.get("check")}
    domain = app.config.session_host_domain
    results, status = [], None
    for name, (ok_text, fail_text, fatal_status) in CHECKS.items():
        rule = failed.get(name)
        if rule is None:
            results.append(result(name, "HealthCheckSucceeded", ok_text.format(domain=domain), 0, at))
            continue
        outcome = rule.get("result") or "HealthCheckFailed"
        text = rule.get("message") or fail_text.format(domain=domain)
        code = rule.get("error_code", DEFAULT_ERROR_CODE)
        results.append(result(name, outcome, text, code, at))
        if outcome == "HealthCheckFailed" and (status in (None, "NeedsAssistance")):
            status = fatal_status or status or "NeedsAssistance"  # the first fatal failure names the status
    props = host["properties"]
    props["sessionHostHealthCheckResults"] = results
    for rule in rules:
        if rule.get("agent_version"):
            props["agentVersion"] = str(rule["agent_version"])
    if status is not None and props.get("status") == "Available":
        props["status"] = status
        props["statusTimestamp"] = iso(at)
        app.types["microsoft.desktopvirtualization/hostpools/sessionhosts"].recount(
            host["id"].rsplit("/", 2)[0], at
        )


def result(name: str, outcome: str, message: str, code: int, at: float) -> dict[str, Any]:
    return {
        "healthCheckName": name,
        "healthCheckResult": outcome,
        "additionalFailureDetails": {
            "message": message,
            "errorCode": code,
            "lastHealthCheckDateTime": iso(at),
        },
    }


def install(app: Any) -> None:
    app.scheduler.on("avd:health", lambda payload, at: report(app, payload, at))
