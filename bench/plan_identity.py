"""Prove a planner change keeps the plan byte-identical, and time the planner alone on frozen inputs.

    .venv/bin/python bench/plan_identity.py snapshot DIR                 # observe once, pickle (minutes)
    .venv/bin/python bench/plan_identity.py dump DIR OUT [--tree T] [--runs N] [--profile FILE]
    cmp OUT_before/large.json OUT_after/large.json                       # or: ... compare A B

`snapshot` observes three estates against the sandbox and pickles each Observed next to its desired/ tree:
- `large`: the large estate with plan_bench's 5 % drift (what issue 12's planner CPU is measured on);
- `small`: the small estate with 30 % drift (many pins, rolls and creates at once);
- `shipped`: the repository's desired/ against the sandbox landing zone.
`dump` plans each snapshot with the planner of `--tree` (default: this checkout), at the snapshot's own
`observed_at`, and writes the plan JSON per estate; planner CPU is the least of `--runs` (median printed too).
Frozen inputs make two trees' plans comparable byte for byte: observation is not re-run, the clock is fixed.
"""

from __future__ import annotations

import argparse
import copyreg
import os
import pickle
import resource
import shutil
import statistics
import sys
import time
from pathlib import Path
from types import MappingProxyType

ROOT = Path(__file__).resolve().parents[1]
ESTATES = ("large", "small", "shipped")


def _mappingproxy(d):
    return MappingProxyType(d)


# Observed wraps its indexes in read-only views, which pickle cannot store as such.
copyreg.pickle(MappingProxyType, lambda m: (_mappingproxy, (dict(m),)))


def _on_path(tree: Path) -> None:
    sys.path.insert(0, str(ROOT / "bench"))
    sys.path.insert(0, str(tree))


def _snapshot_generated(out: Path, estate: str, drift: float, page_size: int) -> object:
    from desired_gen import generate_desired

    from reconciler.azure.connection import Connection, ConnectionSettings
    from reconciler.azure.observe import observe
    from reconciler.model.observed import ObserveScope
    from reconciler.sandbox import Sandbox
    from reconciler.sandbox.estate import estate_subscription_ids, generate

    subs = estate_subscription_ids(estate)
    settings = {"subscription_ids": tuple(subs)}
    with Sandbox(estate=estate, page_size=page_size, settings=settings, throttle=False) as sb:
        os.environ.update(sb.env)
        resources = list(generate(estate, subs, sb.now()))
        summary = generate_desired(resources, subs, out / "desired", drift_share=drift)
        del resources
        with Connection(ConnectionSettings.from_env(polling_interval=0)) as conn:
            return observe(ObserveScope.of(subs, roll_pools=summary.pins_moved), conn, max_workers=8)


def _snapshot_shipped(out: Path) -> object:
    from reconciler.azure.connection import Connection, ConnectionSettings
    from reconciler.engine.reconcile import Reconciler, subscriptions_of_desired
    from reconciler.sandbox import Sandbox
    from reconciler.spec import load_desired

    shutil.copytree(ROOT / "desired", out / "desired")
    desired = load_desired(out / "desired")
    with Sandbox(time_scale=500, landing_zone=True, settings={"session_mean_seconds": 0}) as sb:
        os.environ.update(sb.env)
        with Connection(ConnectionSettings.from_env(polling_interval=0)) as conn:
            return Reconciler(conn).observe(subscriptions_of_desired(desired), desired=desired)


def snapshot(root: Path, estates) -> None:
    _on_path(ROOT)
    for estate in estates:
        out = root / estate
        if out.exists():
            shutil.rmtree(out)
        out.mkdir(parents=True)
        if estate == "shipped":
            observed = _snapshot_shipped(out)
        elif estate == "large":
            observed = _snapshot_generated(out, "large", 0.05, 100)
        else:
            observed = _snapshot_generated(out, "small", 0.3, 20)
        (out / "observed.pkl").write_bytes(pickle.dumps(observed, protocol=5))
        print(estate, observed.counts(), flush=True)


def dump(root: Path, out: Path, tree: Path, runs: int, estates, profile: str | None) -> int:
    _on_path(tree)
    from reconciler.planner import plan
    from reconciler.render.json_render import render_json
    from reconciler.spec import load_desired

    out.mkdir(parents=True, exist_ok=True)
    for estate in estates:
        observed = pickle.loads((root / estate / "observed.pkl").read_bytes())
        desired = load_desired(root / estate / "desired")
        times, result = [], None
        for _ in range(runs if estate == "large" else 1):
            result = None  # one plan alive at a time, as in plan_bench
            started = time.process_time()
            result = plan(desired, observed, observed.observed_at)
            times.append(time.process_time() - started)
        if profile and estate == "large":
            import cProfile

            cProfile.runctx("plan(desired, observed, observed.observed_at)", globals(), locals(), profile)
        (out / f"{estate}.json").write_text(render_json(result))
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(
            f"{estate}: planner CPU least {min(times):.3f} s, median {statistics.median(times):.3f} s "
            f"({[round(t, 3) for t in times]}); peak RSS {rss:.0f} MB",
            flush=True,
        )
    return 0


def compare(a: Path, b: Path, estates) -> int:
    differs = [e for e in estates if (a / f"{e}.json").read_bytes() != (b / f"{e}.json").read_bytes()]
    for estate in estates:
        print(f"{estate}: {'DIFFERS' if estate in differs else 'identical'}")
    return 1 if differs else 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    snap = sub.add_parser("snapshot", help="observe the estates once and pickle them under DIR")
    snap.add_argument("dir", type=Path)
    dmp = sub.add_parser("dump", help="plan each snapshot and write OUT/<estate>.json")
    dmp.add_argument("dir", type=Path)
    dmp.add_argument("out", type=Path)
    dmp.add_argument("--tree", type=Path, default=ROOT, help="the checkout whose planner runs")
    dmp.add_argument("--runs", type=int, default=1, help="plan the large estate N times (least CPU)")
    dmp.add_argument("--profile", help="also write a cProfile of one large plan to this file")
    cmp_ = sub.add_parser("compare", help="byte-compare two dump outputs")
    cmp_.add_argument("a", type=Path)
    cmp_.add_argument("b", type=Path)
    for p in (snap, dmp, cmp_):
        p.add_argument("--estates", default=",".join(ESTATES), help="comma-separated subset")
    args = parser.parse_args(argv)
    estates = [e for e in args.estates.split(",") if e]
    if args.command == "snapshot":
        snapshot(args.dir, estates)
        return 0
    if args.command == "dump":
        return dump(args.dir, args.out, args.tree.resolve(), args.runs, estates, args.profile)
    return compare(args.a, args.b, estates)


if __name__ == "__main__":
    sys.exit(main())
