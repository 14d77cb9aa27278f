"""The fault campaign's passes (support.fault_campaign has what it applies and how it faults): `reconcile apply
--wait none` in process, or as child processes SIGKILLed after a seeded number of answered requests, on the
frozen sandbox clock, which the campaign moves between passes (and nudges while a pass sits in a retry backoff).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from reconciler.cli import main
from reconciler.sandbox import Sandbox
from support.cli import apply_json
from support.sandbox import sandbox_environ

# The least a pass moves the clock. Every pass is a new run whose polls start again at 5 s, and most waits it
# hands back are such polls: moved by them, a rollout took hundreds of passes. Ten minutes is shorter than
# anything the campaign checks by time (health timeouts of 45 min, windows and soaks of hours), and a VM
# create, an extension or a registration (minutes each) is done by the next pass or still running.
STEP = 600.0
HUNG = 600.0  # real seconds; a pass on two loaded cores takes a few
# A pass that has sent nothing for IDLE real seconds sits in a retry backoff (2 s, 4 s, 8 s... of server time;
# the engine does not hand those back, even with --wait none), which a frozen clock never ends: the clock is
# nudged by NUDGE. Starved of CPU for as long, a pass would see NUDGE go by; a health timeout is 135 of them.
IDLE, NUDGE = 3.0, 20.0


@dataclass
class Run:
    code: int | None  # None: killed
    recap: dict = field(default_factory=dict)
    stderr: str = ""


class Campaign:
    """Runs `reconcile apply` as a child process against `sb`, kills some, and keeps what each run said."""

    def __init__(self, sb: Sandbox, state: Path, rng: random.Random):
        self.sb, self.state, self.rng = sb, state, rng
        self.env = {**os.environ, **sb.env, "NO_COLOR": "1"}
        self.runs: list[Run] = []
        self.kills = 0
        self.nudges = 0

    @contextlib.contextmanager
    def _nudged(self):
        """For the length of one pass: move the frozen clock by NUDGE whenever the sandbox answered nothing
        for IDLE real seconds (see IDLE)."""
        done = threading.Event()

        def watch() -> None:
            first = seen = self.requests()
            since = time.monotonic()
            while not done.wait(0.2):
                now = self.requests()
                if now != seen:
                    seen, since = now, time.monotonic()
                elif seen != first and time.monotonic() - since >= IDLE:  # not while a child starts up
                    self.sb.advance(NUDGE)
                    self.nudges += 1
                    since = time.monotonic()

        watcher = threading.Thread(target=watch, daemon=True)
        watcher.start()
        try:
            yield
        finally:
            done.set()
            watcher.join()

    def requests(self) -> int:
        """ARM requests the sandbox has answered so far (faulted ones included)."""
        app = self.sb._app()
        with app.lock:
            return sum(app.stats.values())

    def faulted(self) -> int:
        app = self.sb._app()
        with app.lock:
            return sum(n for key, n in app.stats.items() if key.startswith("fault "))

    def apply(self, desired: Path) -> Run:
        """One `apply --wait none` pass, in process (the production entry point; no interpreter start-up)."""
        with sandbox_environ(self.sb), self._nudged():
            code, recap, err = apply_json(desired, self.state, "--wait", "none")
        run = Run(code, recap, err)
        self.runs.append(run)
        return run

    def apply_killed(self, desired: Path, kill_after: int, max_passes: int = 40) -> Run:
        """`reconcile apply --wait none` passes as child processes, the clock moved between them, until the
        sandbox has answered `kill_after` requests since the first began: the pass running then is SIGKILLed
        (the kill lands at a request count, whatever the machine's speed). Returns the killed pass."""
        cmd = [sys.executable, "-m", "reconciler", "apply", "--auto-approve", "--desired", str(desired)]
        cmd += ["--state", str(self.state), "-o", "json", "--wait", "none"]
        start = self.requests()
        for _ in range(max_passes):
            # Files, not pipes: nobody reads a pipe while the pass runs, and a full one would stall it.
            with (
                tempfile.TemporaryFile("w+") as out_f,
                tempfile.TemporaryFile("w+") as err_f,
                self._nudged(),
            ):
                proc = subprocess.Popen(cmd, env=self.env, stdout=out_f, stderr=err_f, text=True)
                deadline = time.monotonic() + HUNG
                while proc.poll() is None and self.requests() - start < kill_after:
                    if time.monotonic() > deadline:  # a pass never waits: this one hangs
                        proc.kill()
                        raise AssertionError(f"apply --wait none still running after {HUNG:.0f} s")
                    time.sleep(0.005)
                killed = proc.poll() is None
                if killed:
                    proc.send_signal(signal.SIGKILL)
                    self.kills += 1
                proc.wait(timeout=60)
                out_f.seek(0)
                err_f.seek(0)
                out, err = out_f.read(), err_f.read()
            recap = json.loads(out).get("recap") or {} if out.strip().startswith("{") else {}
            run = Run(None if killed else proc.returncode, recap, err)
            self.runs.append(run)
            if killed:
                return run
            self.advance_to_resume(run)
        raise AssertionError(f"{max_passes} passes answered fewer than {kill_after} requests")

    def advance_to_resume(self, run: Run) -> None:
        """Move the frozen clock to the earliest moment a handed-back wait resumes, at least STEP."""
        resumes = [
            datetime.fromisoformat(p["resumes_at"])
            for p in run.recap.get("pending") or ()
            if p.get("resumes_at")
        ]
        delta = (min(resumes) - self.sb.now()).total_seconds() if resumes else 0.0
        self.sb.advance(max(delta, STEP))

    def plan_exit(self, desired: Path) -> tuple[int, str]:
        """`reconcile plan --detailed-exitcode` in process: (exit code, what it printed)."""
        out, err = io.StringIO(), io.StringIO()
        argv = ["plan", "--desired", str(desired), "--detailed-exitcode"]
        with sandbox_environ(self.sb), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(argv)
        return code, out.getvalue()[-3000:] + err.getvalue()[-2000:]
