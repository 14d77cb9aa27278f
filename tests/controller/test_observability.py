"""Probes and metrics over HTTP, JSON log lines without secrets, and rate-limited webhooks."""

from __future__ import annotations

import io
import json
import logging
import urllib.error
import urllib.request

import pytest
from prometheus_client.parser import text_string_to_metric_families

from reconciler.controller.http import Probes, ProbeServer
from reconciler.controller.leader import AlwaysLeader
from reconciler.controller.logs import setup_logging
from reconciler.controller.loop import Controller, LoopSettings
from reconciler.controller.notify import Notifier, body_for
from reconciler.controller.source import DirSource

from .fakes import FakeClock, RecordingCycle
from .gitrepo import EXAMPLE


def get(port: int, path: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


@pytest.fixture
def served():
    controller = Controller(
        DirSource(EXAMPLE), RecordingCycle(), elector=AlwaysLeader(), settings=LoopSettings(interval=60)
    )
    probes = Probes(controller.healthy, controller.ready, controller.metrics.exposition, controller.status)
    server = ProbeServer("127.0.0.1:0", probes).start()
    yield controller, server.port
    server.stop()


def test_endpoints_before_and_after_the_first_cycle(served):
    controller, port = served
    assert get(port, "/healthz")[0] == 200
    assert get(port, "/readyz") == (503, b"no valid desired state yet\n")
    controller.sync()
    controller.reconcile()
    assert get(port, "/readyz") == (200, b"ready (leader)\n")
    code, body = get(port, "/status")
    status = json.loads(body)
    assert code == 200 and status["role"] == "leader" and status["last_cycle"]["ok"] is True
    code, body = get(port, "/metrics")
    families = {f.name: f for f in text_string_to_metric_families(body.decode())}
    for name in (
        "reconcile_cycle_duration_seconds",
        "reconcile_last_success_timestamp_seconds",
        "reconcile_drift",
        "reconcile_actions",
        "reconcile_arm_requests",
        "reconcile_arm_throttled",
        "reconcile_session_hosts",
        "reconcile_rollout_batches",
        "reconcile_quarantined_versions",
        "reconcile_leader",
    ):
        assert name in families, name
    hosts = [s for s in families["reconcile_session_hosts"].samples]
    assert hosts[0].labels == {"pool": "hp-a", "version": "1.0.0"} and hosts[0].value == 2
    assert get(port, "/nope")[0] == 404


def test_a_wedged_loop_fails_healthz(served):
    controller, port = served
    clock = FakeClock()
    controller._clock = clock
    controller._beat = clock.now
    assert get(port, "/healthz")[0] == 200
    clock.advance(3 * controller.settings.poll + 31)
    code, body = get(port, "/healthz")
    assert code == 503 and b"last beat" in body


def test_every_log_line_is_json_and_secrets_are_scrubbed(monkeypatch):
    monkeypatch.setenv("AZURE_CLIENT_SECRET", "s3cr3t-value-xyz")
    stream = io.StringIO()
    setup_logging("json", stream=stream, secrets=["tok-abcdef-123"])
    log = logging.getLogger("reconciler.controller")
    log.info(
        "hello",
        extra={"commit": "abc", "resource": "/subscriptions/x", "action": "pin", "outcome": "changed"},
    )
    log.error("oops %s and tok-abcdef-123", "s3cr3t-value-xyz", extra={"error": "tok-abcdef-123 leaked?"})
    lines = stream.getvalue().splitlines()
    records = [json.loads(line) for line in lines]
    assert records[0]["commit"] == "abc" and records[0]["action"] == "pin" and records[0]["level"] == "info"
    assert {"time", "level", "message"} <= set(records[1])
    assert "s3cr3t" not in stream.getvalue() and "tok-abcdef" not in stream.getvalue()


def test_webhooks_are_rate_limited_and_shaped():
    sent: list[tuple[str, dict]] = []
    clock = FakeClock()
    notifier = Notifier(
        "http://127.0.0.1:9/hook",
        repeat_after=600,
        per_hour=3,
        post=lambda url, body: sent.append((url, body)),
        clock=clock,
    )
    assert notifier.notify("invalid_commit", "bad", key="c1")
    assert not notifier.notify("invalid_commit", "bad", key="c1")  # the same event again: suppressed
    assert notifier.notify("invalid_commit", "bad", key="c2")
    assert notifier.notify("drift", "d", key="x")
    assert not notifier.notify("drift", "d", key="y")  # 3 per hour
    clock.advance(3601)
    assert notifier.notify("invalid_commit", "bad", key="c1")
    assert len(sent) == 4 and notifier.suppressed == 2
    assert sent[0][1]["event"] == "invalid_commit"
    assert body_for("slack", "e", "info", "T", "x", None, {}) == {"text": "*T*\nx"}
    teams = body_for("teams", "e", "error", "T", "x", "c", {"k": 1})
    assert teams["@type"] == "MessageCard" and teams["themeColor"] == "C62828" and "**k**: 1" in teams["text"]


def test_a_failing_webhook_never_raises():
    def refuse(url, body):
        raise OSError("connection refused")

    notifier = Notifier("http://127.0.0.1:9/hook", post=refuse)
    assert notifier.notify("drift", "d") is False and notifier.failed == 1
