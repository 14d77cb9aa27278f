"""`make demo`'s acceptance act, as a user sees it: scripts/demo.py run as `make demo` runs it (a subprocess, its
own in-process sandbox on the simulated clock), its output read line by line.

The promise checked: the new clinical version 1.6.0 fails its EHR acceptance test on the validation pool and the
demo shows the failure (test, exit code, output, hint); 1.6.0 never runs on a production pool; the fixed 1.6.1
passes, soaks and runs on both production pools; the demo exits 0. No timing is asserted: the demo's own clock
moves with the sandbox's, and a loaded machine only makes it slower.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION = ("hp-clinical-weu", "hp-clinical-neu")


@pytest.fixture(scope="module")
def demo() -> subprocess.CompletedProcess:
    env = {**os.environ, "NO_COLOR": "1"}
    return subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "demo.py")],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=1500,  # about 2 minutes on an idle laptop; a loaded 2-core CI box is allowed far more
    )


def section(out: str, title: str) -> str:
    """The demo's output from the banner starting with `title` to the next banner."""
    start = out.index(f"==> {title}")
    end = out.find("\n==> ", start + 1)
    return out[start : end if end >= 0 else len(out)]


def status_lines(text: str) -> dict[str, str]:
    return dict(re.findall(r"^\s+status (hp-\S+)\s+(.*)$", text, re.MULTILINE))


@pytest.mark.slow
@pytest.mark.timeout(1800)
def test_the_demo_shows_a_version_failing_acceptance_held_back_then_the_fix_promoted(demo):
    out = demo.stdout
    assert demo.returncode == 0, (out[-3000:], demo.stderr[-3000:])
    assert out.rstrip().endswith("==> Done")

    failed = [line for line in out.splitlines() if "ehr-client-starts failed" in line]
    assert len(failed) == 1 and "(exit 1)" in failed[0], failed
    assert "cannot reach license server" in failed[0]

    held = section(out, "1.6.0 failed acceptance")
    [hint] = [line for line in held.splitlines() if line.strip().startswith("plan:")]
    assert "ImageVersion 1.6.0" in hint and "ehr-client-starts: exit 1" in hint
    assert "cannot reach license server" in hint and "reconcile accept 1.6.0 --rerun" in hint
    before = status_lines(held)
    assert "QUARANTINED 1.6.0" in before["hp-clinical-validation"]
    for pool in PRODUCTION:
        assert "1.6.0" not in before[pool].split(";")[0]  # what runs there
        assert "failed acceptance" in before[pool]  # its ring gate says why it waits

    fixed = section(out, "The fix: 1.6.1")
    for test in (
        "ehr-client-starts",
        "radiology-viewer-present",
        "printer-queue-exists",
        "edr-agent-running",
    ):
        assert f"{test} passed" in fixed
    after = status_lines(fixed)
    for pool in PRODUCTION:
        assert re.fullmatch(r"running 1\.6\.1×\d+", after[pool]), after[pool]
    [never] = [line for line in fixed.splitlines() if "1.6.0 never ran on a production pool" in line]
    seen = re.search(r"came from ([^)]*)\)", never).group(1).split(", ")
    assert "1.6.1" in seen and "1.6.0" not in seen  # production VMs' images, looked up after every apply
    assert (
        "left behind: orphan disks 0, orphan nics 0, ghost session hosts 0, versions deleted in use 0" in out
    )
