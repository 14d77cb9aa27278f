"""A two-ring estate for the `reconcile apply` wait tests: hp-canary, then hp-prod gated on it with a soak.

Real CLI in process (`reconciler.cli.main`), real SDK, the session sandbox with a moving clock (a time scale
chosen per test: fast enough that a 72 h soak passes in seconds, slow enough that hosts register well within
their health timeout on a loaded machine).
"""

from __future__ import annotations

from pathlib import Path

from support.cli import apply_json, history  # noqa: F401  (the wait tests take them from here)
from support.estate import seed_estate
from support.rollout import pool_doc, write_desired

from reconciler.spec import load_desired

VERSIONS = {"1.0.0": ["westeurope"], "2.0.0": ["westeurope"]}
RING = {"batchSize": 1, "capacityFloor": 50, "drainGrace": "0s", "healthTimeout": "24h"}


def ring_docs(version: str, soak: str = "72h") -> list[str]:
    gated = {**RING, "gate": {"after": "hp-canary", "soak": soak}}
    return [
        pool_doc("hp-canary", count=2, version=version, rollout=RING, prefix="canary"),
        pool_doc("hp-prod", count=2, version=version, rollout=gated, prefix="prod"),
    ]


def provisioned_rings(sb, root: Path, state: Path, soak: str = "72h") -> Path:
    """Both pools provisioned on 1.0.0 (fresh pools need no soak), then the desired pin moved to 2.0.0."""
    write_desired(root, VERSIONS, ring_docs("1.0.0", soak))
    seed_estate(sb, load_desired(root))
    code, recap, err = apply_json(root, state)
    assert code == 0 and recap["outcome"] == "succeeded", err[-2000:]
    write_desired(root, VERSIONS, ring_docs("2.0.0", soak))
    return root
