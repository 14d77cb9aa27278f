"""Rollout benchmark: 10 host pools x 50 session hosts in 2 regions move to a new image version that is still
replicating. Runs on the sandbox's frozen clock, one apply cycle at a time (reconciler.engine.rollout), and
prints the makespan in sandbox time, the critical-path lower bound (reference/limits.md A9) computed from the
same run's settings, their ratio (target <= 1.10), and ARM writes per replaced host.

    .venv/bin/python bench/rollout_bench.py [--pools 10] [--hosts 50] [--batch 25%]

Lower bound, per pool p (surge, empty hosts, so no drain wait):
  T_rep(region of p) + ceil(N_p / B_p) * (T_vm_create + T_join + T_agent + T_register + T_vm_delete)
and the makespan bound is the max over pools. T_vm_delete is on the path because the pool may never hold more
than count + surge VMs: the next batch can only be created once the previous originals are gone.
"""

from __future__ import annotations

import argparse
import math
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))  # reuse the e2e estate writer and seeding helpers

from support.estate import PoolHosts, converged  # noqa: E402
from support.rollout import pool_doc, write_desired  # noqa: E402
from support.sandbox import connect  # noqa: E402

from reconciler.engine.outcome import Done, Failed, WaitUntil  # noqa: E402
from reconciler.engine.rollout import converge_pools  # noqa: E402
from reconciler.sandbox import Sandbox  # noqa: E402
from reconciler.spec import load_desired  # noqa: E402

REGIONS = ("westeurope", "northeurope")
REPLICATION = {"westeurope": 1200.0, "northeurope": 2400.0}


def writes_of(stats: dict) -> int:
    return sum(
        n
        for k, n in stats["requests"].items()
        if k.split(" ", 1)[0] in ("PUT", "PATCH", "DELETE", "POST") and "token" not in k.lower()
    )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pools", type=int, default=10)
    ap.add_argument("--hosts", type=int, default=50)
    ap.add_argument("--batch", default="25%")
    args = ap.parse_args()
    rollout = {
        "strategy": "surge",
        "batchSize": f'"{args.batch}"',
        "capacityFloor": 80,
        "drainGrace": "15m",
        "healthTimeout": "45m",
    }
    names = [f"hp-bench-{i:02d}" for i in range(args.pools)]
    versions = {"1.0.0": list(REGIONS), "2.0.0": list(REGIONS)}

    def docs(version: str) -> list[str]:
        return [
            pool_doc(
                n,
                count=args.hosts,
                version=version,
                rollout=rollout,
                location=REGIONS[i % 2],
                prefix=f"bench{i:02d}",
            )
            for i, n in enumerate(names)
        ]

    with (
        Sandbox(
            time_scale=0,
            page_size=1000,
            settings={"session_mean_seconds": 0, "replication_seconds_by_region": REPLICATION},
        ) as sb,
        tempfile.TemporaryDirectory() as tmp,
    ):
        root = write_desired(Path(tmp) / "d", versions, docs("1.0.0"))
        desired = load_desired(root)
        groups = {"rg-img", "rg-pools", "rg-net"}
        sub = sb.subscription_ids[0]
        sb.seed(
            [{"id": f"/subscriptions/{sub}/resourceGroups/{g}", "location": "westeurope"} for g in groups]
        )
        resources = converged(desired, sb.now(), hosts={n: PoolHosts(args.hosts) for n in names})
        for res in resources:  # 2.0.0 was just published: replicating to both regions
            if res["type"].endswith("/versions") and res["name"] == "2.0.0":
                res["properties"]["provisioningState"] = "Creating"
                res["properties"]["replicationStatus"] = {
                    "summary": [{"region": r, "state": "Replicating", "progress": 0} for r in REGIONS]
                }
            if res["type"].endswith("/hostPools"):
                res["properties"]["registrationInfo"] = {
                    "expirationTime": None,
                    "token": None,
                    "registrationTokenOperation": "None",
                }
        sb.seed(resources)
        write_desired(root, versions, docs("2.0.0"))
        desired = load_desired(root)
        cfg = sb._app().config
        start, writes0, wall = sb.now(), writes_of(sb.stats()), time.perf_counter()
        cycles = 0
        with connect(sb) as conn:
            while True:
                cycles += 1
                results = converge_pools(desired, desired.host_pools, conn, workers=args.pools)
                outcomes = [r.outcome for r in results]
                if any(isinstance(o, Failed) for o in outcomes):
                    print("FAILED:", [o for o in outcomes if isinstance(o, Failed)], file=sys.stderr)
                    return 1
                if all(isinstance(o, Done) for o in outcomes):
                    break
                at = min(o.at for o in outcomes if isinstance(o, WaitUntil))
                sb.advance(max(1.0, (at - sb.now()).total_seconds()))
        makespan = (sb.now() - start).total_seconds()
        writes = writes_of(sb.stats()) - writes0
        inv = sb.invariants()
        batch = (
            math.ceil(args.hosts * int(args.batch.rstrip("%")) / 100)
            if args.batch.endswith("%")
            else int(args.batch)
        )
        per_batch = (
            cfg.vm_create_seconds
            + 2 * cfg.extension_seconds
            + cfg.registration_seconds
            + cfg.vm_delete_seconds
        )
        bound = max(
            REPLICATION[REGIONS[i % 2]] + math.ceil(args.hosts / batch) * per_batch for i in range(args.pools)
        )
        replaced = args.pools * args.hosts
        floors = {p: v for p, v in inv["min_available_per_pool"].items()}
        print(f"pools {args.pools} x hosts {args.hosts} in {len(REGIONS)} regions, surge batch {batch}")
        print(f"makespan (sandbox):        {makespan / 60:8.1f} min")
        print(
            f"critical-path lower bound: {bound / 60:8.1f} min  "
            f"(replication up to {max(REPLICATION.values()) / 60:.0f} min + {math.ceil(args.hosts / batch)} x "
            f"{per_batch / 60:.1f} min)"
        )
        print(f"ratio:                     {makespan / bound:8.3f}  (target <= 1.10)")
        print(f"ARM writes per replaced host: {writes / replaced:.2f}  ({writes} writes, {replaced} hosts)")
        print(
            f"apply cycles: {cycles}; wall time {time.perf_counter() - wall:.1f} s; "
            f"lowest Available per pool: {min(floors.values())}; "
            f"most VMs per pool: {max(inv['max_hosts_per_pool'].values())}; "
            f"orphans: {len(inv['orphan_disks']) + len(inv['orphan_nics'])}; "
            f"ghosts: {len(inv['ghost_session_hosts'])}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
