"""kill -9 during acceptance (issue 14): a real `reconcile apply` subprocess runs the suite against the session
sandbox (served from this process) on a slow clock, and is SIGKILLed right after the first test passed; the
next apply resumes from the version's tags and converges. Judged from the sandbox audit.

No real-time race decides where the kill lands: the test watches the sandbox (its audit, or a fault rule holding
a request) and freezes the clock before the kill, so the run command it caught cannot finish meanwhile and a
test that has not started cannot start (its PUT is held until the process is dead).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time

from support.acceptance import TESTS
from support.cli import drive
from support.rollout import versions_running
from support.sandbox import stored, time_scale

from e2e.test_acceptance import provisioned, version_tags
from reconciler.model.acceptance import AcceptanceState, acceptance_of, outcomes_of

SLOW = (
    60  # a test's 22 s run is 0.4 s; the host's health checks, reported minutes after it registers, seconds
)
FIRST, SECOND = (f"avd-accept-{t}" for t in TESTS[:2])
RUN_COMMANDS = "Microsoft.Compute/virtualMachines/runCommands"


class Apply:
    """`reconcile apply --wait forever` in a child process, its stderr collected for the failure message."""

    def __init__(self, sb, root):
        cmd = [sys.executable, "-m", "reconciler", "apply", "--auto-approve", "--wait", "forever"]
        cmd += ["--desired", str(root), "--state", str(root.parent / "state")]
        env = {**os.environ, **sb.env, "NO_COLOR": "1"}
        self.proc = subprocess.Popen(
            cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
        )
        self.lines: list[str] = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        for line in self.proc.stderr:
            self.lines.append(line)

    def stderr(self) -> str:
        return "".join(self.lines)[-4000:]

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=30)
        self.reader.join(timeout=10)


def wait_for(apply: Apply, what: str, seen, timeout: float = 240.0) -> None:
    """Poll the sandbox (never a fixed sleep) until `seen()`; the apply must still be running."""
    deadline = time.monotonic() + timeout
    while not seen():
        assert apply.proc.poll() is None, (
            f"apply ended ({apply.proc.returncode}) before {what}:\n{apply.stderr()}"
        )
        assert time.monotonic() < deadline, f"no {what} within {timeout:.0f}s:\n{apply.stderr()}"
        time.sleep(0.05)


def accepted_puts(sb) -> dict[str, int]:
    """Run command PUTs Azure accepted (2xx), per test: a PUT a fault rule answered never reached the VM."""
    counts: dict[str, int] = {}
    for e in sb.audit()["entries"]:
        rid = e["id"].lower()
        if e["method"] == "PUT" and "/runcommands/avd-accept-" in rid and 200 <= e["status"] < 300:
            test = rid.rsplit("/avd-accept-", 1)[-1]
            counts[test] = counts.get(test, 0) + 1
    return counts


def runs_of(sb) -> dict[str, int]:
    """Script runs the sandbox's VMs carried out, per run command name (the audit's own record of runs)."""
    counts: dict[str, int] = {}
    for run in sb.audit()["run_commands"]:
        name = run["id"].rsplit("/", 1)[-1].lower()
        counts[name] = counts.get(name, 0) + 1
    return counts


def first_passed(sb) -> bool:
    outcome = outcomes_of(version_tags(sb)).get(TESTS[0])
    return outcome is not None and outcome.verdict.value == "passed"


def hosts_up(result) -> bool:
    """The validation pool's new host exists and the suite waits for it: the subprocess runs the whole suite."""
    return "acceptance of 2.0.0 waits" in result.pool("hp-val").why


def resume_and_check(sb, root, apply: Apply) -> None:
    """The clock is frozen and the apply dead: the first test's verdict is on the version, the second has not
    finished. The next applies (in process, the frozen clock moved to each wait) converge."""
    detail = apply.stderr()
    assert first_passed(sb), f"the kill was meant to land after {TESTS[0]} passed:\n{detail}"
    assert accepted_puts(sb).get(TESTS[0]) == 1, detail
    assert acceptance_of(version_tags(sb)).state is AcceptanceState.RUNNING, detail
    drive(sb, root)
    tags = version_tags(sb)
    verdict = acceptance_of(tags)
    assert verdict.state is AcceptanceState.PASSED, (verdict, detail)
    assert {n: o.verdict.value for n, o in outcomes_of(tags).items()} == dict.fromkeys(TESTS, "passed")
    assert accepted_puts(sb) == dict.fromkeys(TESTS, 1), "the passed test ran once, the others once each"
    assert runs_of(sb) == {f"avd-accept-{t}": 1 for t in TESTS}
    assert versions_running(sb, "hp-prod") == {"2.0.0": 2}, "promotion went on after the soak"
    assert stored(sb, RUN_COMMANDS) == [], "no run command left on a VM"


def test_a_kill_while_the_second_test_runs_resumes_it_without_running_the_first_again(sb, tmp_path):
    with time_scale(sb, 0):
        root = provisioned(sb, tmp_path)
        drive(sb, root, settled=hosts_up)
        assert acceptance_of(version_tags(sb)) is None  # the suite has not begun: the subprocess runs it
    with time_scale(sb, SLOW):
        apply = Apply(sb, root)
        try:
            wait_for(apply, f"a PUT of {SECOND}", lambda: accepted_puts(sb).get(TESTS[1], 0) >= 1)
            sb.set_time_scale(0)  # SECOND stays Running (its 22 s cannot pass) until the kill has landed
        finally:
            apply.kill()
        resume_and_check(sb, root, apply)


def test_a_kill_before_the_second_test_starts_starts_it_once(sb, tmp_path):
    with time_scale(sb, 0):
        root = provisioned(sb, tmp_path)
        drive(sb, root, settled=hosts_up)
    # SECOND's first PUT is held by the sandbox (answered with a 503 much later, never carried out): while it
    # is held, FIRST's verdict is on the version and nothing of SECOND exists on the VM.
    hold = sb.inject_fault(method="PUT", path=f"/runCommands/{SECOND}$", status=503, delay=20, count=1)
    with time_scale(sb, SLOW):
        apply = Apply(sb, root)
        try:
            wait_for(apply, f"the held PUT of {SECOND}", lambda: hold["hits"] >= 1)
            sb.set_time_scale(0)
        finally:
            apply.kill()
        assert accepted_puts(sb).get(TESTS[1]) is None
        resume_and_check(sb, root, apply)
