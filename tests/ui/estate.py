"""A two-ring estate caught mid-rollout, on the frozen sandbox clock: hp-canary (validation, 2 hosts, one
at a time) and hp-prod (production, 4 hosts, gated on the canary with a 72 h soak), all seeded on 1.0.0
with users signed in, and the desired pin moved to 2.0.0."""

from __future__ import annotations

from pathlib import Path

from support.cli import advance_to_earliest_wait, apply_pass
from support.estate import PoolHosts
from support.plan_writes import seed_pools
from support.rollout import pool_doc, write_desired

from reconciler.spec import load_desired

VERSIONS = {"1.0.0": ["westeurope"], "2.0.0": ["westeurope"]}
RING = {"batchSize": 1, "capacityFloor": 50, "drainGrace": "30m", "healthTimeout": "24h"}


def docs(version: str) -> list[str]:
    prod = {**RING, "batchSize": 2, "gate": {"after": "hp-canary", "soak": "72h"}}
    return [
        pool_doc("hp-canary", count=2, version=version, rollout=RING, prefix="canary"),
        pool_doc("hp-prod", count=4, version=version, rollout=prod, prefix="prod"),
    ]


def seeded(sb, root: Path) -> Path:
    write_desired(root, VERSIONS, docs("1.0.0"))
    hosts = {"hp-canary": PoolHosts(2, sessions=[1, 0]), "hp-prod": PoolHosts(4, sessions=[2, 0, 1, 0])}
    seed_pools(sb, load_desired(root), hosts)
    write_desired(root, VERSIONS, docs("2.0.0"))
    return root


def cycle(sb, root: Path):
    """One `reconcile apply --wait none`, then the clock to the earliest wait it handed back."""
    result = apply_pass(sb, root)
    advance_to_earliest_wait(sb, result)
    return result
