"""A two-ring estate for the `reconcile apply` wait tests: hp-canary, then hp-prod gated on it with a soak.

Real CLI in process (`reconciler.cli.main`), real SDK, the session sandbox with a moving clock (a time scale
chosen per test: fast enough that a 72 h soak passes in seconds, slow enough that hosts register well within
their health timeout on a loaded machine).
"""

from __future__ import annotations

import json
from pathlib import Path

from e2e.rollout_support import pool_doc, seed_estate, write_desired
from reconciler.cli import main
from reconciler.spec import load_desired

VERSIONS = {"1.0.0": ["westeurope"], "2.0.0": ["westeurope"]}
RING = {"batchSize": 1, "capacityFloor": 50, "drainGrace": "0s", "healthTimeout": "24h"}


def ring_docs(version: str, soak: str = "72h") -> list[str]:
    gated = {**RING, "gate": {"after": "hp-canary", "soak": soak}}
    return [pool_doc("hp-canary", count=2, version=version, rollout=RING, prefix="canary"),
            pool_doc("hp-prod", count=2, version=version, rollout=gated, prefix="prod")]  # fmt: skip


def provisioned_rings(sb, root: Path, state: Path, soak: str = "72h") -> Path:
    """Both pools provisioned on 1.0.0 (fresh pools need no soak), then the desired pin moved to 2.0.0."""
    write_desired(root, VERSIONS, ring_docs("1.0.0", soak))
    seed_estate(sb, load_desired(root))
    code, recap, err = apply_json(root, state)
    assert code == 0 and recap["outcome"] == "succeeded", err[-2000:]
    write_desired(root, VERSIONS, ring_docs("2.0.0", soak))
    return root


def apply_json(desired: Path, state: Path, *extra: str, capsys=None) -> tuple[int, dict, str]:
    """Run `reconcile apply -o json` in process; (exit code, recap, stderr)."""
    import contextlib
    import io

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["apply", "--auto-approve", "--desired", str(desired), "--state", str(state), "-o", "json",
                     *extra])  # fmt: skip
    text = out.getvalue()
    recap = json.loads(text)["recap"] if text.strip().startswith("{") else {}
    return code, recap, err.getvalue()


def history(state: Path) -> list[dict]:
    path = state / "history.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []
