"""Rollout benchmark: 10 host pools x 50 session hosts in 2 regions move to a new image version that is still
replicating. Runs on the sandbox's frozen clock through the production entry point, one
`reconcile apply --wait none` per cycle (it does what is ready and hands every wait back; the clock then jumps
to the earliest `resumes_at` the recap names), and prints the makespan in sandbox time, the critical-path lower bound (reference/limits.md A9) computed from the
same run's settings, their ratio (target <= 1.10), and ARM writes per replaced host.

    .venv/bin/python bench/rollout_bench.py [--quick] [--pools 10] [--hosts 50] [--batch 25%] [--parallelism 8]

Lower bound, per pool p (surge, empty hosts, so no drain wait):
  T_rep(region of p) + ceil(N_p / B_p) * (T_vm_create + T_join + T_agent + T_register + T_vm_delete)
and the makespan bound is the max over pools. T_vm_delete is on the path because the pool may never hold more
than count + surge VMs: the next batch can only be created once the previous originals are gone.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import math
import os
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # this checkout's reconciler, not an installed one
sys.path.insert(0, str(ROOT / "tests"))  # reuse the e2e estate writer and seeding helpers

from support.estate import PoolHosts, converged  # noqa: E402
from support.rollout import pool_doc, write_desired  # noqa: E402
from support.sandbox import landing_zone as test_landing_zone  # noqa: E402

from reconciler.cli import main as reconcile  # noqa: E402
from reconciler.sandbox import Sandbox, landing_zone  # noqa: E402
from reconciler.spec import load_desired  # noqa: E402

REGIONS = ("westeurope", "northeurope")
REPLICATION = {"westeurope": 1200.0, "northeurope": 2400.0}
# The e2e pool document names one West Europe subnet; Azure refuses a NIC in another region than its subnet,
# so the North Europe pools get a subnet of their own.
WEU_SUBNET = "/virtualNetworks/vnet/subnets/avd"
NEU_SUBNET = "/virtualNetworks/vnet-neu/subnets/avd"


def writes_of(stats: dict) -> int:
    return sum(
        n
        for k, n in stats["requests"].items()
        if k.split(" ", 1)[0] in ("PUT", "PATCH", "DELETE", "POST") and "token" not in k.lower()
    )


def apply_pass(desired: Path, state: Path, parallelism: int) -> tuple[int, dict, str]:
    """`reconcile apply --wait none -o json`, in process; (exit code, recap, stderr). No recap: "No changes"."""
    out, err = io.StringIO(), io.StringIO()
    argv = ["apply", "--auto-approve", "--desired", str(desired), "--state", str(state), "-o", "json"]
    argv += ["--wait", "none", "--parallelism", str(parallelism)]
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = reconcile(argv)
    text = out.getvalue()
    return code, json.loads(text)["recap"] if text.strip().startswith("{") else {}, err.getvalue()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pools", type=int, default=10)
    ap.add_argument("--hosts", type=int, default=50)
    ap.add_argument("--batch", default="25%")
    ap.add_argument("--parallelism", type=int, default=8, help="reconcile apply --parallelism")
    ap.add_argument("--quick", action="store_true", help="2 pools x 12 hosts, a smoke run")
    args = ap.parse_args()
    if args.quick:
        args.pools, args.hosts = 2, 12
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
        out = []
        for i, n in enumerate(names):
            doc = pool_doc(
                n,
                count=args.hosts,
                version=version,
                rollout=rollout,
                location=REGIONS[i % 2],
                prefix=f"bench{i:02d}",
            )
            out.append(doc if REGIONS[i % 2] == "westeurope" else doc.replace(WEU_SUBNET, NEU_SUBNET))
        return out

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
        sub = sb.subscription_ids[0]
        neu = f"/subscriptions/{sub}/resourceGroups/rg-net/providers/Microsoft.Network{NEU_SUBNET}"
        sb.seed(test_landing_zone(sb.subscription_ids) + landing_zone.build(subnets=[(neu, "northeurope")]))
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
        cfg = sb._app().config
        start, writes0, wall = sb.now(), writes_of(sb.stats()), time.perf_counter()
        cycles = 0
        os.environ.update(sb.env)  # the sandbox's endpoint, CA bundle and principal, as production reads them
        state = Path(tmp) / "state"
        while True:
            cycles += 1
            code, recap, err = apply_pass(root, state, args.parallelism)
            if code != 0 or recap.get("failures"):
                print(f"FAILED (exit {code}):", recap.get("failures") or err[-3000:], file=sys.stderr)
                return 1
            waits = [
                datetime.fromisoformat(p["resumes_at"])
                for p in recap.get("pending") or ()
                if p.get("resumes_at")
            ]
            if not recap.get("pending"):
                break  # every pool converged in this pass (or there was nothing left to do)
            at = min(waits, default=sb.now())
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
        wall = time.perf_counter() - wall
        print(
            f"reconcile apply passes: {cycles}; wall time {wall:.1f} s; "
            f"lowest Available per pool: {min(floors.values())}; "
            f"most VMs per pool: {max(inv['max_hosts_per_pool'].values())}; "
            f"orphans: {len(inv['orphan_disks']) + len(inv['orphan_nics'])}; "
            f"ghosts: {len(inv['ghost_session_hosts'])}"
        )
        result = {
            "pools": args.pools,
            "hosts": args.hosts,
            "makespan_s": round(makespan, 1),
            "bound_s": bound,
            "ratio": round(makespan / bound, 3),
            "writes_per_host": round(writes / replaced, 2),
            "passes": cycles,
            "wall_s": round(wall, 1),
            "min_available": min(floors.values()),
        }
        print(json.dumps(result, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
