"""Benchmark `reconcile apply`: build + 3-region replication + retention for N definitions, against physics.

    .venv/bin/python bench/apply_bench.py                # 50 definitions, time scale 200
    .venv/bin/python bench/apply_bench.py --quick        # 5 definitions, a smoke run

The sandbox runs in a child process (its CPU is not ours). It is seeded with one gallery holding N image
definitions, each with two published versions; the desired state adds a third version per definition, built by
Image Builder and replicated to three regions, with retention keepNewest=2, endOfLifeAfter=0s,
deleteAfterEndOfLife=true. `reconcile apply` (the real CLI, in this process) runs until `plan` reports no
changes: the first apply builds and replicates, the second retires the oldest version (exclude from latest,
end of life), the third deletes it — retention is level-triggered, each step decided from a fresh observation.

Measured, in sandbox time (the sandbox's simulated clock, so minutes of Azure are seconds here):
- makespan: from the first apply's start to the last apply's end;
- the critical-path bound from the sandbox's configured durations, computed in the same run:
  template create + build + slowest region's replication + version PATCH + deprecate PATCH + version delete
  (limits.md A9: everything else can overlap);
- ARM writes (PUT/PATCH/DELETE/POST, from the sandbox's audit) vs the minimum: per definition a template PUT, a
  run POST, a PATCH of the built version's own fields, a deprecate PATCH, the version DELETE and the template
  DELETE (6). Prints a table and one JSON line.
Note: the client's own CPU time is multiplied by the time scale in sandbox time; --time-scale lower is fairer.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import ssl
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

SUB = "11111111-1111-4111-8111-111111111111"
RG = f"/subscriptions/{SUB}/resourceGroups/rg-bench"
GALLERY = f"{RG}/providers/Microsoft.Compute/galleries/galbench"
REGIONS = {"westeurope": 1200, "northeurope": 1800, "eastus": 2400}
DISPLAY = {"westeurope": "West Europe", "northeurope": "North Europe", "eastus": "East US"}


def desired_yaml(n: int) -> str:
    docs = [
        f"""
apiVersion: avd.reconciler.io/v1alpha1
kind: Settings
metadata: {{name: bench}}
spec:
  subscriptions: {{main: {SUB}}}
  defaults: {{subscription: main, resourceGroup: rg-bench, location: westeurope}}
""",
        """
apiVersion: avd.reconciler.io/v1alpha1
kind: Gallery
metadata: {name: galbench}
spec: {description: bench}
""",
        f"""
apiVersion: avd.reconciler.io/v1alpha1
kind: ImageBuild
metadata: {{name: monthly}}
spec:
  identity: {RG}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/aib
  source: {{platformImage: {{publisher: MicrosoftWindowsDesktop, offer: office-365, sku: win11}}}}
  customize: [{{type: PowerShell, name: step, inline: ["Write-Output hi"]}}]
""",
    ]
    regions = ", ".join(f"{{name: {r}}}" for r in REGIONS)
    for i in range(n):
        docs.append(f"""
apiVersion: avd.reconciler.io/v1alpha1
kind: ImageDefinition
metadata: {{name: def{i:03d}}}
spec:
  gallery: galbench
  identifier: {{publisher: P, offer: O, sku: s{i:03d}}}
  retention: {{keepNewest: 2, endOfLifeAfter: 0s, deleteAfterEndOfLife: true}}
""")
        for name in ("1.0.0", "1.1.0"):
            docs.append(f"""
apiVersion: avd.reconciler.io/v1alpha1
kind: ImageVersion
metadata: {{name: "{name}"}}
spec:
  definition: def{i:03d}
  source: {{managedImageId: {RG}/providers/Microsoft.Compute/images/src-{name.replace(".", "-")}}}
  targetRegions: [{{name: westeurope}}]
""")
        docs.append(f"""
apiVersion: avd.reconciler.io/v1alpha1
kind: ImageVersion
metadata: {{name: "1.2.0"}}
spec:
  definition: def{i:03d}
  source: {{build: monthly}}
  targetRegions: [{regions}]
""")
    return "\n---\n".join(docs)


def seed_resources(desired, now: datetime) -> list[dict]:
    """The estate before the apply: what the desired state says, minus the version still to be built."""
    from reconciler.planner.bodies import definition_body, gallery_body, version_body
    from reconciler.planner.versions import source_id

    # The build's identity must exist: the plan checks references before it applies anything.
    identity = "Microsoft.ManagedIdentity/userAssignedIdentities"
    out = [
        {"id": RG, "location": "westeurope"},
        {"id": f"{RG}/providers/{identity}/aib", "type": identity, "location": "westeurope"},
    ]
    for g in desired.galleries:
        out.append({"id": g.arm_id, "type": "Microsoft.Compute/galleries", **gallery_body(g)})
    for d in desired.image_definitions:
        out.append({"id": d.arm_id, "type": "Microsoft.Compute/galleries/images", **definition_body(d)})
    for v in desired.image_versions:
        if v.build is not None:
            continue
        body = version_body(v, source_id(v))
        days = 60 if v.name == "1.0.0" else 30
        body["properties"]["publishingProfile"]["publishedDate"] = (now - timedelta(days=days)).isoformat()
        body["properties"]["provisioningState"] = "Succeeded"
        # Seed the replication as finished: without it the sandbox replicates a seeded version afresh on its
        # first PATCH (a sandbox artefact that would add 20 simulated minutes to a deprecation).
        body["properties"]["replicationStatus"] = {
            "aggregatedState": "Completed",
            "summary": [{"region": "westeurope", "state": "Completed", "progress": 100}],
        }
        out.append({"id": v.arm_id, "type": "Microsoft.Compute/galleries/images/versions", **body})
    return out


def _serve(time_scale: float, settings: dict, seed: list[dict], pipe) -> None:
    from reconciler.sandbox import Sandbox

    with Sandbox(time_scale=time_scale, settings=settings, page_size=100, seed=seed) as sb:
        pipe.send({"env": sb.env, "endpoint": sb.endpoint, "ca": sb.ca_bundle})
        pipe.recv()


def admin(endpoint: str, ca: str, path: str) -> dict:
    context = ssl.create_default_context(cafile=ca)
    with urllib.request.urlopen(f"{endpoint}/_sandbox/{path}", context=context) as response:
        return json.loads(response.read())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--definitions", type=int, default=50)
    parser.add_argument("--time-scale", type=float, default=200.0)
    parser.add_argument("--parallelism", type=int, default=32)
    parser.add_argument("--quick", action="store_true", help="5 definitions")
    args = parser.parse_args()
    n = 5 if args.quick else args.definitions
    from reconciler.cli import main as cli
    from reconciler.spec import load_desired

    settings = {"replication_seconds_by_region": REGIONS, "subscription_ids": (SUB,)}
    work = Path(tempfile.mkdtemp(prefix="apply-bench-"))
    (work / "desired").mkdir()
    (work / "desired" / "estate.yaml").write_text(desired_yaml(n))
    desired = load_desired(work / "desired")
    seed = seed_resources(desired, datetime.now(UTC))
    parent, child = mp.Pipe()
    proc = mp.get_context("spawn").Process(target=_serve, args=(args.time_scale, settings, seed, child))
    proc.start()
    info = parent.recv()
    try:
        os.environ.update(info["env"])
        config = admin(info["endpoint"], info["ca"], "config")
        start = datetime.fromisoformat(admin(info["endpoint"], info["ca"], "clock")["now"])
        wall = time.monotonic()
        applies = 0
        devnull = open(os.devnull, "w")  # noqa: SIM115
        for _ in range(6):
            applies += 1
            stdout, stderr = sys.stdout, sys.stderr
            sys.stdout = sys.stderr = devnull
            try:
                code = cli(
                    [
                        "apply",
                        "--auto-approve",
                        "--desired",
                        str(work / "desired"),
                        "--state",
                        str(work / "state"),
                        "--parallelism",
                        str(args.parallelism),
                    ]
                )
                clean = cli(["plan", "--desired", str(work / "desired"), "--detailed-exitcode"]) == 0
            finally:
                sys.stdout, sys.stderr = stdout, stderr
            if code == 0 and clean:
                break
        end = datetime.fromisoformat(admin(info["endpoint"], info["ca"], "clock")["now"])
        wall = time.monotonic() - wall
        audit = admin(info["endpoint"], info["ca"], "audit")["entries"]
    finally:
        parent.send("stop")
        proc.join(10)
    writes = [e for e in audit if e["method"] in ("PUT", "PATCH", "DELETE", "POST")]
    history = [json.loads(line) for line in (work / "state" / "history.jsonl").read_text().splitlines()]
    executing = sum(
        (datetime.fromisoformat(h["finished_at"]) - datetime.fromisoformat(h["started_at"])).total_seconds()
        for h in history
    )
    makespan = (end - start).total_seconds()
    bound = (
        config["template_create_seconds"]
        + config["build_seconds"]
        + max(REGIONS.values())
        + 1.0
        + 1.0
        + config["version_delete_seconds"]
    )
    minimum = 6 * n
    result = {
        "definitions": n,
        "applies": applies,
        "converged": bool(code == 0 and clean),
        "makespan_s": round(makespan, 1),
        "bound_s": bound,
        "makespan_ratio": round(makespan / bound, 3),
        "arm_writes": len(writes),
        "min_writes": minimum,
        "writes_ratio": round(len(writes) / minimum, 3),
        "executing_s": round(executing, 1),
        "wall_s": round(wall, 2),
        "time_scale": args.time_scale,
    }
    rows = [
        ("definitions", n, ""),
        ("applies until plan is clean", applies, "converged" if result["converged"] else "NOT converged"),
        ("makespan (sandbox s)", result["makespan_s"], f"{makespan / 60:.1f} min"),
        ("critical-path bound (s)", bound, f"{bound / 60:.1f} min"),
        ("makespan / bound", result["makespan_ratio"], ""),
        ("  of which executing plans", result["executing_s"], "the rest: observe + plan, scaled CPU"),
        ("ARM writes", len(writes), ""),
        ("minimum writes", minimum, "6 per definition"),
        ("writes / minimum", result["writes_ratio"], ""),
        ("wall time (s)", result["wall_s"], f"time scale {args.time_scale:g}"),
    ]
    for n_apply, h in enumerate(history, 1):
        took = datetime.fromisoformat(h["finished_at"]) - datetime.fromisoformat(h["started_at"])
        rows.append(
            (f"  apply {n_apply}: {h['changes']} changes", round(took.total_seconds(), 1), "sandbox s")
        )
    for label, value, note in rows:
        print(f"{label:<30} {value!s:>10}  {note}")
    print(json.dumps(result, sort_keys=True))
    return 0 if result["converged"] else 1


if __name__ == "__main__":
    sys.exit(main())
