"""A failed delete of an Image Builder template is sent again. Image Builder's DELETE has only a Location
header, whose URL answers a failed operation with a 4xx and the error; read as a refused poll, the failed
operation stayed in the ledger and every later apply failed on it without sending the DELETE again (found
by the fault campaign, tests/e2e/test_fault_campaign.py)."""

from __future__ import annotations

from datetime import datetime

from support.cli import apply_json
from support.image_estate import RG, version, write_desired
from support.sandbox import sandbox_environ


def test_a_failed_template_delete_is_sent_again_and_apply_converges(frozen, tmp_path):
    sb = frozen
    sb.seed([{"id": RG, "location": "westeurope"}])
    sb.configure(replication_seconds=120.0, build_seconds=300.0)
    sb.inject_fault(
        method="DELETE", path=r"/imageTemplates/", kind="lro", code="InternalExecutionError", count=1
    )
    root = write_desired(tmp_path / "d", [version("1.0.0"), version("1.1.0", build=True)], pin="1.1.0")
    failures = []
    for _ in range(40):
        with sandbox_environ(sb):
            code, recap, err = apply_json(root, tmp_path / "state", "--wait", "none")
        assert code in (0, 1) and (recap or code == 0), err[-2000:]
        failures += [f["why"] for f in (recap or {}).get("failures") or ()]
        pending = (recap or {}).get("pending") or []
        if code == 0 and not pending:
            break
        waits = [datetime.fromisoformat(p["resumes_at"]) for p in pending if p.get("resumes_at")]
        sb.advance(max((min(waits) - sb.now()).total_seconds(), 30.0) if waits else 30.0)
    else:
        raise AssertionError(f"not converged: {failures[-3:]}")
    assert sb._app().faults.rules[0]["hits"] == 1
    deletes = [
        e for e in sb.audit()["entries"] if e["method"] == "DELETE" and "/imagetemplates/" in e["id"].lower()
    ]
    assert len(deletes) == 2 and deletes[0]["id"] == deletes[1]["id"], deletes  # the failed one, then again
    templates = [r for r in sb._app().store.all() if r.get("type", "").lower().endswith("/imagetemplates")]
    assert templates == []
    assert len(failures) <= 1, failures  # at most the apply whose delete failed reports it
