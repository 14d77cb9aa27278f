"""The Azure CLI smoke test (scripts/azcli-smoke.sh) as a pytest case, marked ``azcli``.

Skipped unless ./.azcli-venv holds an `az` (the script builds it on first run; `make test-azcli` does that).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "azcli-smoke.sh"
AZ = Path(os.environ.get("AZCLI_VENV", ROOT / ".azcli-venv")) / "bin" / "az"

pytestmark = [
    pytest.mark.azcli,
    pytest.mark.skipif(not AZ.exists(), reason=f"no Azure CLI at {AZ} (run scripts/azcli-smoke.sh once)"),
]


@pytest.mark.timeout(240)
def test_azure_cli_drives_the_sandbox_end_to_end():
    env = dict(os.environ, PY=sys.executable)
    proc = subprocess.run(
        ["bash", str(SCRIPT)], cwd=ROOT, env=env, capture_output=True, text=True, timeout=230
    )
    assert proc.returncode == 0, f"stdout:\n{proc.stdout[-3000:]}\nstderr:\n{proc.stderr[-6000:]}"
    assert "all steps passed" in proc.stderr
    # Every group of commands the issue names ran.
    for step in (
        "az cloud register",
        "az login",
        "az sig create",
        "image-definition",
        "image-version",
        "az rest",
    ):
        assert step in proc.stderr, step
