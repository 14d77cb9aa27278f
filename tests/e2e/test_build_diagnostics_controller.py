"""Through the controller: a build failing on Sysprep/Appx fails the cycle with the cause first in its error (so a
notification, which carries the error's first 400 characters, names it), and the /status record's apply recap
carries the whole diagnosis (cause, hint, excerpt)."""

from __future__ import annotations

import threading
from datetime import timedelta

from support.image_estate import RG

from e2e.test_build_diagnostics import desired
from reconciler.controller.cycle import CycleInput
from reconciler.controller.engine_cycle import EngineCycle
from reconciler.controller.metrics import ControllerMetrics
from reconciler.controller.notify import Notifier
from reconciler.controller.report import Reporter
from reconciler.spec import load_desired
from reconciler.store import LocalStore


def test_the_cycle_error_notification_and_status_carry_the_diagnosis(
    sb, module_azurite, monkeypatch, tmp_path
):
    for name, value in sb.env.items():
        monkeypatch.setenv(name, value)
    sb.seed([{"id": RG, "location": "westeurope"}])
    sb.configure(blob_connection_string=module_azurite.connection_string)
    sb.inject_fault(kind="build", path=r"imageTemplates/monthly-[0-9a-f]+/run", count=1, cause="sysprep-appx")
    root = desired(tmp_path)
    cycle = EngineCycle(LocalStore(str(tmp_path / "state")), parallelism=4, timeout=timedelta(minutes=2))
    inp = CycleInput(
        desired=load_desired(root),
        commit="abc123",
        dry_run=False,
        suspended=False,
        suspended_pools=frozenset(),
        stop=threading.Event(),
    )
    try:
        result = cycle(inp)
    finally:
        cycle.close()
    assert not result.ok
    assert "cause: sysprep-appx in customizer 'deprovision (Sysprep)' (exit code 1)" in result.error
    sent: list[dict] = []
    reporter = Reporter(
        ControllerMetrics(), Notifier("http://hook.invalid/x", post=lambda url, body: sent.append(body))
    )
    record = reporter.publish("abc123", result, 1.0, None)
    [failure] = record["report"]["apply"]["failures"]
    assert "hint: remove the app before generalising" in failure["why"]
    assert "Remove-AppxProvisionedPackage" in failure["why"] and "setuperr.log" in failure["why"]
    assert "log excerpt:" in failure["why"]
    assert any("cause: sysprep-appx" in str(body) for body in sent), sent
