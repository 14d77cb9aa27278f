"""`make demo`'s promise: the brownfield estate (demo/brownfield.json) plus the shipped desired/ converge under
`reconcile apply`, after which `reconcile plan --detailed-exitcode` exits 0.

The ring gates soak for days (72 h, 24 h) and rollouts wait for maintenance windows. Apply hands such waits back
(`--wait`, default 30 m) and the test moves the sandbox clock to the moment the first pending change resumes
(the recap's `pending[].resumes_at`), as time would pass in production.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

from reconciler.cli import main
from reconciler.sandbox import Sandbox

ROOT = Path(__file__).resolve().parents[2]
MAX_APPLIES = 12  # the demo's own bound: a window that closes under load resumes at the next one


def test_brownfield_demo_converges_then_plan_is_empty(monkeypatch, tmp_path, capsys):
    # Slow enough (1000x) that session hosts are Available within their health timeout despite client CPU.
    with Sandbox(time_scale=1000, seed=str(ROOT / "demo" / "brownfield.json"), landing_zone=True) as sb:
        for name, value in sb.env.items():
            monkeypatch.setenv(name, value)
        monkeypatch.setenv("NO_COLOR", "1")
        desired = str(ROOT / "desired")
        applies = []
        for _ in range(MAX_APPLIES):
            code = main(
                [
                    "apply",
                    "--auto-approve",
                    "--desired",
                    desired,
                    "--state",
                    str(tmp_path / "state"),
                    "-o",
                    "json",
                ]
            )
            out, err = capsys.readouterr()
            if "No changes" in out:
                break
            recap = json.loads(out)["recap"]
            applies.append((code, recap["totals"], recap["failures"]))
            assert not recap["failures"], err[-2000:]
            resume = [
                datetime.fromisoformat(u["resumes_at"]) for u in recap["pending"] if u.get("resumes_at")
            ]
            if resume:  # a gate's soak or the next maintenance window: let that much sandbox time pass
                sb.advance(max(0.0, (min(resume) - sb.now()).total_seconds()) + 60)
        else:
            raise AssertionError(f"still changes after {MAX_APPLIES} applies: {applies}")
        code = main(["plan", "--desired", desired, "--detailed-exitcode", "-o", "json"])
        out, _ = capsys.readouterr()
        data = json.loads(out)
        left = [(c["key"], c["reason"]) for c in data["changes"] if c["action"] != "no-op"]
        assert (code, left, data["diagnostics"]) == (0, [], [])
        invariants = sb.invariants()
        assert invariants["orphan_disks"] == [] and invariants["orphan_nics"] == []
        assert invariants["versions_deleted_in_use"] == []
