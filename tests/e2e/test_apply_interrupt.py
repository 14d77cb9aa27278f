"""Ctrl-C during `reconcile apply` (a real subprocess, SIGINT, against the sandbox): apply starts nothing new,
lets in-flight calls end, writes a history entry `interrupted`, prints its recap and exits 130."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time

from support.sandbox import time_scale

from e2e.apply_rings import history, provisioned_rings

SCALE = 10_000  # the 72 h soak the apply sits through (--wait forever) lasts 26 s of wall time


def test_sigint_mid_apply_records_interrupted_and_prints_the_recap(sb, monkeypatch, tmp_path):
    for name, value in sb.env.items():
        monkeypatch.setenv(name, value)
    sb.configure(session_mean_seconds=0)
    with time_scale(sb, SCALE):
        state = tmp_path / "state"
        root = provisioned_rings(sb, tmp_path / "d", state)
        cmd = [
            sys.executable,
            "-m",
            "reconciler",
            "apply",
            "--auto-approve",
            "--desired",
            str(root),
            "--state",
            str(state),
            "--wait",
            "forever",
            "-o",
            "json",
        ]
        env = {**os.environ, **sb.env, "NO_COLOR": "1"}
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        lines: list[str] = []
        soaking = threading.Event()

        def read_stderr() -> None:
            for line in proc.stderr:
                lines.append(line)
                if "soaks until" in line:
                    soaking.set()

        reader = threading.Thread(target=read_stderr, daemon=True)
        reader.start()
        assert soaking.wait(timeout=120), "".join(lines)[-3000:]
        sent = time.monotonic()
        proc.send_signal(signal.SIGINT)
        out = proc.stdout.read()
        code = proc.wait(timeout=90)
        ended = time.monotonic() - sent
        reader.join(timeout=10)
    assert code == 130, "".join(lines)[-3000:]
    assert ended < 45, f"{ended:.1f}s after SIGINT"  # bounded: in-flight calls get at most 30 s
    data = json.loads(out)
    recap = data["recap"]
    assert data["outcome"] == recap["outcome"] == "interrupted"
    assert recap["succeeded"] is False
    assert recap["hosts"]["pools"]["hp-canary"]["replaced"] == 2, "what was done before the signal is counted"
    prod = [p for p in recap["pending"] if p["resource"].endswith("/hostpools/hp-prod")]
    assert prod and prod[0]["reason_code"] == "soak"
    assert any("SIGINT" in line for line in lines)
    entries = history(state)
    assert [e["outcome"] for e in entries] == ["succeeded", "interrupted"]
    assert entries[-1]["hosts"]["replaced"] == 2
