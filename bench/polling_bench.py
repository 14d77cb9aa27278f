"""Benchmark polling: ARM reads while image versions replicate, against a client that reads once per Retry-After.

    .venv/bin/python bench/polling_bench.py              # 20 definitions + versions in 2 regions, time scale 2000
    .venv/bin/python bench/polling_bench.py --quick      # 3 definitions

Two measurements, in one run, each on a fresh in-process sandbox (request counts, not timings, so the
sandbox's CPU sharing ours does not matter); replication takes 30 sandbox minutes per region:
1. reads per replicated version: one definition's version to 2 regions created by `reconcile apply` (the real
   CLI) on a gallery and definition that exist; every single-resource GET of the apply (operation status,
   the version) is that version's (target <= 12);
2. total ARM requests of `reconcile apply` creating a gallery, N definitions and N versions in 2 regions, vs
   a baseline measured on a second sandbox: the same writes sent through the SDK's own pollers
   (`begin_*().result()`, which read the operation once per `Retry-After` the service gives and the resource
   once at the end), plus the observation reads (list pages, clock probes) the apply made (target <= 1.2x).
The sandbox advises the real time left until an operation ends (`Retry-After`), capped at
`poll_retry_after_cap` real seconds; the cap is set to an hour here so the advice is the service's, not the
fast sandbox's. Prints a table and one JSON line.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

SUB = "11111111-1111-4111-8111-111111111111"
RG = f"/subscriptions/{SUB}/resourceGroups/rg-bench"
SOURCE = f"{RG}/providers/Microsoft.Compute/images/src"
REGIONS = ("westeurope", "northeurope")
REPLICATION_SECONDS = 1800.0
MIN_POLL = 5.0  # server seconds: what a client polls at when the initial answer gives no Retry-After


def _docs(n: int, *, versions: bool) -> str:
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
""")
        if versions:
            docs.append(f"""
apiVersion: avd.reconciler.io/v1alpha1
kind: ImageVersion
metadata: {{name: "1.0.0"}}
spec:
  definition: def{i:03d}
  source: {{managedImageId: {SOURCE}}}
  targetRegions: [{regions}]
""")
    return "\n---\n".join(docs)


def _sandbox(scale: float):
    from reconciler.sandbox import Sandbox

    settings = {
        "subscription_ids": (SUB,),
        "replication_seconds": REPLICATION_SECONDS,
        "poll_retry_after_cap": 3600.0,
    }
    seed = [{"id": RG, "location": "westeurope"}, {"id": SOURCE, "location": "westeurope", "properties": {}}]
    return Sandbox(time_scale=scale, settings=settings, page_size=100, seed=seed)


@contextlib.contextmanager
def _environ(env: dict[str, str]):
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def _apply(root: Path, state: Path) -> int:
    from reconciler.cli import main as cli

    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        return cli(["apply", "--auto-approve", "--desired", str(root), "--state", str(state)])


def _delta(before: dict, after: dict) -> dict[str, int]:
    got = {k: n - before.get(k, 0) for k, n in after.items() if not k.startswith("fault ")}
    return {k: n for k, n in got.items() if n}


def _is_observation(key: str) -> bool:
    return key.startswith("GET ") and (key.endswith(" list") or key == "GET subscriptions")


def _is_write(key: str) -> bool:
    return key.split(" ", 1)[0] in ("PUT", "PATCH", "DELETE", "POST")


def reads_per_version(scale: float, work: Path) -> dict:
    """One version, 2 regions: the single-resource GETs `reconcile apply` makes while it replicates."""
    root, state = work / "one", work / "one-state"
    root.mkdir()
    with _sandbox(scale) as sb, _environ(sb.env):
        (root / "estate.yaml").write_text(_docs(1, versions=False))
        assert _apply(root, state) == 0, "the gallery and definition"
        (root / "estate.yaml").write_text(_docs(1, versions=True))
        before, started = sb.stats()["requests"], sb.now()
        code = _apply(root, state)
        requests, took = _delta(before, sb.stats()["requests"]), sb.now() - started
    reads = {k: n for k, n in requests.items() if k.startswith("GET ") and not _is_observation(k)}
    return {"code": code, "reads": reads, "total": sum(reads.values()), "sandbox_s": took.total_seconds()}


def create_with_apply(n: int, scale: float, work: Path) -> dict[str, int]:
    root, state = work / "many", work / "many-state"
    root.mkdir()
    (root / "estate.yaml").write_text(_docs(n, versions=True))
    with _sandbox(scale) as sb, _environ(sb.env):
        before = sb.stats()["requests"]
        code = _apply(root, state)
        requests = _delta(before, sb.stats()["requests"])
    assert code == 0, f"reconcile apply exited {code}"
    return requests


def create_with_sdk_pollers(n: int, scale: float, work: Path) -> dict[str, int]:
    """The same resources, written by the SDK's own LRO pollers: one status read per Retry-After."""
    from reconciler.azure.connection import Connection, ConnectionSettings
    from reconciler.planner.bodies import definition_body, gallery_body, version_body
    from reconciler.planner.versions import source_id
    from reconciler.spec import load_desired

    root = work / "sdk"
    root.mkdir()
    (root / "estate.yaml").write_text(_docs(n, versions=True))
    desired = load_desired(root)
    with _sandbox(scale) as sb, _environ(sb.env):
        settings = ConnectionSettings.from_env(polling_interval=MIN_POLL / scale, retry_backoff_factor=0)
        with Connection(settings) as conn:
            compute = conn.compute(SUB)
            before = sb.stats()["requests"]
            [g] = desired.galleries
            compute.galleries.begin_create_or_update("rg-bench", g.name, gallery_body(g)).result()

            def definition(d):
                images = compute.gallery_images
                images.begin_create_or_update("rg-bench", g.name, d.name, definition_body(d)).result()

            def version(v):
                body = version_body(v, source_id(v))
                versions = compute.gallery_image_versions
                versions.begin_create_or_update("rg-bench", g.name, v.definition.name, v.name, body).result()

            with ThreadPoolExecutor(max_workers=max(1, n)) as pool:
                list(pool.map(definition, desired.image_definitions))
                list(pool.map(version, desired.image_versions))
            requests = _delta(before, sb.stats()["requests"])
    return requests


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--definitions", type=int, default=20)
    parser.add_argument("--time-scale", type=float, default=2000.0)
    parser.add_argument("--quick", action="store_true", help="3 definitions")
    args = parser.parse_args()
    n = 3 if args.quick else args.definitions
    work = Path(tempfile.mkdtemp(prefix="polling-bench-"))
    wall = time.monotonic()
    one = reads_per_version(args.time_scale, work)
    ours = create_with_apply(n, args.time_scale, work)
    sdk = create_with_sdk_pollers(n, args.time_scale, work)
    wall = time.monotonic() - wall

    observation = sum(v for k, v in ours.items() if _is_observation(k))
    writes = sum(v for k, v in ours.items() if _is_write(k))
    polling = sum(v for k, v in ours.items() if k.startswith("GET ") and not _is_observation(k))
    baseline_polling = sum(v for k, v in sdk.items() if k.startswith("GET "))
    baseline = sum(v for k, v in sdk.items() if _is_write(k)) + baseline_polling + observation
    total = sum(ours.values())
    result = {
        "reads_per_version": one["total"],
        "reads_per_version_target": 12,
        "version_reads": one["reads"],
        "definitions": n,
        "requests": total,
        "writes": writes,
        "observation": observation,
        "polling": polling,
        "baseline": baseline,
        "baseline_polling": baseline_polling,
        "ratio": round(total / baseline, 3),
        "ratio_target": 1.2,
        "time_scale": args.time_scale,
        "wall_s": round(wall, 1),
    }
    rows = [
        ("reads per version (30 min, 2 regions)", one["total"], f"target <= 12; {one['reads']}"),
        (f"apply: {n} definitions + versions, requests", total, ""),
        ("  writes", writes, ""),
        ("  observation (lists, clock)", observation, ""),
        ("  polling (status + resource GETs)", polling, f"{polling / max(n, 1):.1f} per definition+version"),
        ("baseline: writes + observation + SDK", baseline, "SDK pollers: one read per Retry-After"),
        ("  of which SDK polling", baseline_polling, ""),
        ("requests / baseline", result["ratio"], "target <= 1.2"),
        ("wall time (s)", result["wall_s"], f"time scale {args.time_scale:g}"),
    ]
    for label, value, note in rows:
        print(f"{label:<42} {value!s:>8}  {note}")
    print(json.dumps(result, sort_keys=True))
    return 0 if one["total"] <= 12 and result["ratio"] <= 1.2 else 1


if __name__ == "__main__":
    sys.exit(main())
