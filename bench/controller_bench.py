"""Benchmark `reconcile run`'s cycle: the idle cycle on the sandbox's large estate, and a faulty soak.

    .venv/bin/python bench/controller_bench.py idle            # large converged estate: reads/writes per cycle, time, RSS
    .venv/bin/python bench/controller_bench.py idle --quick    # small converged estate
    .venv/bin/python bench/controller_bench.py idle --estate large   # the unconverged estate (rollouts halt)
    .venv/bin/python bench/controller_bench.py soak            # 1 h of sandbox time, 10 % injected faults

idle: the estate is converged (`large-converged`: every host on its pool's pinned, newest version, the pool tags
the reconciler leaves after a finished rollout) and the desired/ tree mirrors it (bench/desired_gen.py with no
drift), so `plan` finds nothing: a cycle must be one list call per collection page (compared with the floor
computed from the seeded estate) and zero writes. `--estate large` measures the unconverged estate instead
(about 20 % of hosts on the previous version, so every pool plans a rollout that halts and re-reads its pool);
its figures are labelled "not converged" and are not held to the read target. The controller's own cycle
(observe -> plan -> apply path) runs --cycles times; RSS is this process's (the sandbox runs in a child).
soak: the small estate at time_scale 120 (1 h = 30 s), interval 60 s of sandbox time; after three warm-up
cycles without faults, 10 % of requests are answered 503 (azure-core retries them) for one hour of sandbox
time; prints cycles ok/failed, the longest cycle (a stuck cycle shows here), RSS growth.
Prints a table and one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import ssl
import sys
import tempfile
import threading
import time
import urllib.request
from datetime import timedelta
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from plan_bench import _in_child, _prepare  # noqa: E402

from reconciler.planner.references import reference_ids  # noqa: E402
from reconciler.sandbox.estate import ESTATE_NAMES  # noqa: E402
from reconciler.spec import load_desired  # noqa: E402

TARGETS = {"idle_writes": 0, "reads_ratio": 1.05, "soak_rss_growth_pct": 10.0}


def _serve(estate: str, page_size: int, subscription_ids: list[str], time_scale: float, pipe) -> None:
    from reconciler.sandbox import Sandbox

    settings = {"subscription_ids": tuple(subscription_ids)}
    with Sandbox(
        estate=estate, page_size=page_size, settings=settings, throttle=False, time_scale=time_scale
    ) as sb:
        pipe.send({"env": sb.env, "endpoint": sb.endpoint})
        pipe.recv()


def _admin(endpoint: str, path: str, body: dict | None = None) -> dict:
    context = ssl.create_default_context(cafile=os.environ["RECONCILE_CA_BUNDLE"])
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(
        f"{endpoint}/_sandbox/{path}",
        data=data,
        method="POST" if data else "GET",
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, context=context, timeout=30) as response:
        return json.loads(response.read() or b"{}")


def _rss_mb() -> float:
    return psutil.Process().memory_info().rss / 2**20


def _controller(desired_dir: str, state_dir: str, interval: float, budget: float = 60.0):
    from reconciler.controller.engine_cycle import EngineCycle
    from reconciler.controller.leader import AlwaysLeader
    from reconciler.controller.loop import Controller, LoopSettings
    from reconciler.controller.source import DirSource
    from reconciler.store import LocalStore

    cycle = EngineCycle(
        LocalStore(state_dir), parallelism=8, user_agent="bench", timeout=timedelta(seconds=60)
    )
    settings = LoopSettings(interval=interval, jitter=0.0, poll=interval, retry_base=interval)
    return Controller(DirSource(desired_dir), cycle, elector=AlwaysLeader(), settings=settings), cycle


def _start(estate: str, page_size: int, drift: float, time_scale: float):
    from reconciler.sandbox.estate import estate_subscription_ids

    subs = estate_subscription_ids(estate)
    desired_dir = tempfile.mkdtemp(prefix="bench-desired-")
    # No latency model: the idle cycle is judged on reads against the call floor, not on wall time.
    prep, pipe = _in_child(_prepare, estate, subs, desired_dir, drift, page_size, None, 8)
    prepared = pipe.recv()
    prep.join()
    server, parent = _in_child(_serve, estate, page_size, subs, time_scale)
    info = parent.recv()
    os.environ.update(info["env"])
    return desired_dir, prepared, server, parent, info["endpoint"]


def idle(args) -> dict:
    estate = args.estate or ("small-converged" if args.quick else "large-converged")
    # A fast sandbox clock only matters if the first cycle has something to wait for; reads are unaffected.
    desired_dir, prepared, server, parent, endpoint = _start(estate, args.page_size, 0.0, 10_000.0)
    out: dict = {
        "mode": "idle",
        "estate": estate,
        "converged": estate.endswith("-converged"),
        # The landing-zone checks read each subnet and Key Vault secret the desired state names, once: a GET
        # each (no list is cheaper for one resource), so they are part of the floor.
        "list_floor": prepared["floor"]["total"],
        "reference_reads": (refs := len(reference_ids(load_desired(desired_dir)))),
        "floor": prepared["floor"]["total"] + refs,
        "cycles": [],
    }
    try:
        controller, cycle = _controller(desired_dir, tempfile.mkdtemp(prefix="bench-state-"), 3600)
        controller.sync()
        out["rss_mb_start"] = round(_rss_mb(), 1)
        for _ in range(args.cycles):
            before, audited = _admin(endpoint, "stats")["requests"], len(_admin(endpoint, "audit")["entries"])
            started = time.perf_counter()
            controller.reconcile()
            wall = time.perf_counter() - started
            after = _admin(endpoint, "stats")["requests"]
            audited = len(_admin(endpoint, "audit")["entries"]) - audited  # the sandbox's own log of writes
            calls = {k: after[k] - before.get(k, 0) for k in after if after[k] - before.get(k, 0)}
            last = controller.last or {}
            out["cycles"].append(
                {
                    "ok": last.get("ok"),
                    "error": last.get("error"),
                    "wall_s": round(wall, 2),
                    "arm_reads": sum(n for k, n in calls.items() if k.startswith("GET ")),
                    "list_calls": sum(
                        n for k, n in calls.items() if k.startswith("GET ") and k.endswith(" list")
                    ),
                    "writes": sum(n for k, n in calls.items() if not k.startswith("GET ")),
                    "audited_writes": audited,
                    "drift": last.get("drift"),
                    "rss_mb": round(_rss_mb(), 1),
                }
            )
        # One observe-and-plan-only cycle: the reads observation itself makes (actions may read more).
        controller.settings.dry_run = True
        before = _admin(endpoint, "stats")["requests"]
        started = time.perf_counter()
        controller.reconcile()
        wall = time.perf_counter() - started
        after = _admin(endpoint, "stats")["requests"]
        gets = {k: after[k] - before.get(k, 0) for k in after if k.startswith("GET ")}
        out["dry_run_cycle"] = {
            "arm_reads": sum(gets.values()),
            "wall_s": round(wall, 2),
            "list_calls": sum(n for k, n in gets.items() if k.endswith(" list")),
        }
        cycle.close()
    finally:
        parent.send("stop")
        server.join(timeout=30)
    steady = out["cycles"][-1]
    ratio = round(steady["arm_reads"] / out["floor"], 3)
    if out["converged"]:  # only an estate with nothing to do is held to the idle targets
        out["idle_writes"], out["reads_ratio"] = max(steady["writes"], steady["audited_writes"]), ratio
    else:
        out["unconverged_writes"], out["unconverged_reads_ratio"] = steady["writes"], ratio
    return out


def soak(args) -> dict:
    scale = 120.0
    desired_dir, prepared, server, parent, endpoint = _start("small", args.page_size, 0.0, scale)
    out: dict = {"mode": "soak", "estate": "small", "time_scale": scale}
    try:
        interval = 60 / scale  # 60 s of sandbox time
        # Each cycle may wait at most one interval (the rest is picked up next cycle, level-triggered).
        controller, cycle = _controller(
            desired_dir, tempfile.mkdtemp(prefix="bench-state-"), interval, interval
        )
        controller.sync()
        for _ in range(3):  # warm-up without faults: the estate's own drift is applied first
            controller.reconcile()
        _admin(
            endpoint,
            "faults",
            {
                "method": "*",
                "path": "/subscriptions/",
                "status": 503,
                "code": "ServiceUnavailable",
                "probability": 0.10,
                "count": None,
            },
        )
        durations: list[float] = []
        original = controller.reconcile

        def timed() -> None:
            started = time.perf_counter()
            original()
            durations.append(time.perf_counter() - started)

        controller.reconcile = timed
        thread = threading.Thread(target=controller.run, daemon=True)
        start_sandbox = _admin(endpoint, "clock")["now"]
        thread.start()
        time.sleep(max(5 * interval, 2))  # warm-up: clients, tokens, first cycles
        rss_start = _rss_mb()
        time.sleep(3600 / scale)
        rss_end = _rss_mb()
        controller.request_stop()
        thread.join(60)
        cycle.close()
        stats = _admin(endpoint, "stats")
        out.update(
            sandbox_from=start_sandbox,
            sandbox_to=stats["time"],
            cycles=len(durations),
            cycles_ok=controller.metrics.cycles.labels("success")._value.get(),
            cycles_failed=controller.metrics.cycles.labels("failure")._value.get(),
            longest_cycle_s=round(max(durations), 2) if durations else None,
            mean_cycle_s=round(sum(durations) / len(durations), 3) if durations else None,
            faults_injected=sum(v for k, v in stats["requests"].items() if k.startswith("fault ")),
            rss_mb_start=round(rss_start, 1),
            rss_mb_end=round(rss_end, 1),
            soak_rss_growth_pct=round(100 * (rss_end - rss_start) / rss_start, 1),
        )
    finally:
        parent.send("stop")
        server.join(timeout=30)
    return out


def report(out: dict) -> str:
    if out["mode"] == "idle":
        label = "converged" if out["converged"] else "NOT converged: rollouts planned, not an idle figure"
        rows = [
            f"estate {out['estate']} ({label}): read floor {out['floor']} = {out['list_floor']} list pages (one per "
            f"collection page) + {out['reference_reads']} reference GETs (one per subnet and secret named)"
        ]
        for i, c in enumerate(out["cycles"], 1):
            rows.append(
                f"cycle {i}: ok={c['ok']} reads={c['arm_reads']} (lists {c['list_calls']}) writes={c['writes']} (audit {c['audited_writes']}) "
                f"wall={c['wall_s']} s rss={c['rss_mb']} MB drift={c['drift']}"
            )
        if out["converged"]:
            rows.append(f"steady idle cycle: reads/floor {out['reads_ratio']}, writes {out['idle_writes']}")
        else:
            rows.append(
                f"steady cycle (not converged): reads/floor {out['unconverged_reads_ratio']}, "
                f"writes {out['unconverged_writes']}"
            )
        d = out["dry_run_cycle"]
        rows.append(
            f"observe+plan only (--dry-run): reads={d['arm_reads']} (lists {d['list_calls']}) wall={d['wall_s']} s"
        )
        return "\n".join(rows)
    return (
        f"soak {out['sandbox_from']} -> {out['sandbox_to']} (sandbox time): {out['cycles']} cycles, "
        f"{out['cycles_ok']:.0f} ok, {out['cycles_failed']:.0f} failed, longest {out['longest_cycle_s']} s, "
        f"mean {out['mean_cycle_s']} s; {out['faults_injected']} faults injected; RSS {out['rss_mb_start']} -> "
        f"{out['rss_mb_end']} MB ({out['soak_rss_growth_pct']} %)"
    )


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mode", choices=("idle", "soak"))
    parser.add_argument("--quick", action="store_true", help="idle: small-converged estate")
    parser.add_argument(
        "--estate",
        choices=ESTATE_NAMES,
        help="idle: sandbox estate (default large-converged; plain large/small are not converged)",
    )
    parser.add_argument("--cycles", type=int, default=3, help="idle: cycles to run (default 3)")
    parser.add_argument("--page-size", type=int, default=100, help="sandbox list page size (default 100)")
    args = parser.parse_args(argv)
    out = idle(args) if args.mode == "idle" else soak(args)
    print(report(out))
    print(json.dumps(out, sort_keys=True, default=str))
    missed = [n for n, limit in TARGETS.items() if out.get(n) is not None and out[n] > limit]
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
