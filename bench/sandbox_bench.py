"""Sandbox benchmark: request latencies with the real SDK clients, and the large estate end to end.

Run:  .venv/bin/python bench/sandbox_bench.py [--quick] [--estate large|small] [--json-only] [--latency azure|FILE]

Prints a table and, last, one JSON line (``{"bench": "sandbox", ...}``) for CI to keep. Targets (issue 3):
GET < 5 ms, LRO < 15 ms, large estate generated < 30 s, process RSS < 2 GB. The sandbox runs in this process
(its server threads share the GIL with the clients), so latencies are client + server on one 2-core machine,
and the RSS is the sandbox's store plus the clients. With `--latency`, the request latencies are measured with the
sandbox's latency model on (sandbox/latency.py) and set beside the model's median; the speed targets then do
not apply.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime

import psutil
from azure.core.credentials import AccessToken
from azure.core.rest import HttpRequest
from azure.mgmt.compute import ComputeManagementClient
from azure.mgmt.desktopvirtualization import DesktopVirtualizationMgmtClient
from azure.mgmt.desktopvirtualization.models import SessionHostPatch

from reconciler.sandbox import Sandbox
from reconciler.sandbox.estate import estate_subscription_ids, generate
from reconciler.sandbox.latency import load_file, parse

TARGETS_MS = {"get": 5.0, "lro": 15.0}
TARGET_GENERATE_S = 30.0
TARGET_RSS_MB = 2048.0
RG = "rg-bench"
# Simulated durations (gallery create 10 s, replication 30 min) take microseconds: the bench measures protocol
# and server overhead, not simulated waits.
TIME_SCALE = 1e7
GALLERY_API, VM_API, AVD_API = "2026-03-03", "2026-04-01", "2024-04-03"  # what the SDKs send
LOCATION = "westeurope"


class StaticCredential:
    """The bench measures the sandbox, not token acquisition: one long-lived token."""

    def get_token(self, *scopes, **kwargs):
        return AccessToken("bench-token", int(time.time()) + 86400)


def clients(sb: Sandbox, sub: str) -> tuple[ComputeManagementClient, DesktopVirtualizationMgmtClient]:
    kw = dict(
        base_url=sb.endpoint, connection_verify=sb.ca_bundle, polling_interval=0, retry_backoff_factor=0
    )
    cred = StaticCredential()
    return ComputeManagementClient(cred, sub, **kw), DesktopVirtualizationMgmtClient(cred, sub, **kw)


def timed(n: int, fn: Callable[[int], object]) -> list[float]:
    out = []
    for i in range(n):
        t = time.perf_counter()
        fn(i)
        out.append((time.perf_counter() - t) * 1000)
    return out


def pct(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def summary(samples: list[float]) -> dict:
    return {
        "n": len(samples),
        "p50_ms": round(statistics.median(samples), 2),
        "p95_ms": round(pct(samples, 0.95), 2),
        "max_ms": round(max(samples), 2),
    }


def seed_latency_fixture(sb: Sandbox, sub: str) -> dict:
    """A resource group, a gallery, a definition with versions, a host pool with session hosts."""
    resources = [r for r in generate("small", [sub], datetime.now(UTC)) if r["id"].split("/")[2] == sub]
    sb.seed(resources)
    by_type: dict[str, list[dict]] = {}
    for r in resources:
        by_type.setdefault(r["type"], []).append(r)
    return by_type


def measure_latencies(sb: Sandbox, n: int) -> dict:
    sub = sb.subscription_ids[0]
    compute, avd = clients(sb, sub)
    data = seed_latency_fixture(sb, sub)
    gallery = data["Microsoft.Compute/galleries"][0]
    rg, gname = gallery["id"].split("/")[4], gallery["name"]
    host = data["Microsoft.DesktopVirtualization/hostPools/sessionHosts"][0]
    hrg, hp, sh = host["id"].split("/")[4], host["id"].split("/")[8], host["id"].split("/")[-1]
    compute.galleries.get(rg, gname)  # warm the connection and the token

    results = {"get": summary(timed(n, lambda i: compute.galleries.get(rg, gname)))}

    page_times: list[float] = []
    for _ in range(max(1, n // 20)):
        pages = compute.virtual_machines.list_all().by_page()  # full pages of the sandbox's page size
        while True:
            t = time.perf_counter()
            try:
                list(next(pages))
            except StopIteration:
                break
            page_times.append((time.perf_counter() - t) * 1000)
    results["list_page"] = summary(page_times)

    sb.seed([{"id": f"/subscriptions/{sub}/resourceGroups/{RG}", "location": LOCATION}])
    lro_n = max(5, n // 4)
    results["lro_create_gallery"] = summary(
        timed(
            lro_n,
            lambda i: compute.galleries.begin_create_or_update(
                RG, f"galbench{i}", {"location": LOCATION, "properties": {"description": "bench"}}
            ).result(),
        )
    )
    results["lro_delete_gallery"] = summary(
        timed(lro_n, lambda i: compute.galleries.begin_delete(RG, f"galbench{i}").result())
    )
    results["avd_patch"] = summary(
        timed(
            n,
            lambda i: avd.session_hosts.update(
                hrg, hp, sh, session_host=SessionHostPatch(allow_new_session=bool(i % 2))
            ),
        )
    )
    return results


def list_with_sdk(sb: Sandbox, sub: str, counts: Counter) -> int:
    """The observation A8 describes, with the typed SDK pagers: returns the number of list calls."""
    compute, avd = clients(sb, sub)
    calls = 0
    for page in compute.galleries.list().by_page():
        calls += 1
        for gal in page:
            counts["galleries"] += 1
            rg = gal.id.split("/")[4]
            for dpage in compute.gallery_images.list_by_gallery(rg, gal.name).by_page():
                calls += 1
                for definition in dpage:
                    counts["definitions"] += 1
                    for vpage in compute.gallery_image_versions.list_by_gallery_image(
                        rg, gal.name, definition.name
                    ).by_page():
                        calls += 1
                        counts["versions"] += sum(1 for _ in vpage)
    for page in avd.host_pools.list().by_page():
        calls += 1
        for pool in page:
            counts["host_pools"] += 1
            for spage in avd.session_hosts.list(pool.id.split("/")[4], pool.name).by_page():
                calls += 1
                counts["session_hosts"] += sum(1 for _ in spage)
    for page in compute.virtual_machines.list_all().by_page():
        calls += 1
        counts["vms"] += sum(1 for _ in page)
    return calls


def list_raw(sb: Sandbox, sub: str, counts: Counter) -> int:
    """The same calls through the SDK pipeline (auth, TLS, retries) but without model deserialization, to
    separate the sandbox's serving cost from the client's."""
    compute, _ = clients(sb, sub)
    calls = 0

    def items(path: str, api: str):
        nonlocal calls
        url = f"{path}?api-version={api}"
        while url:
            calls += 1
            body = compute.send_request(HttpRequest("GET", url)).json()
            yield from body["value"]
            url = body.get("nextLink")

    for gal in items(f"/subscriptions/{sub}/providers/Microsoft.Compute/galleries", GALLERY_API):
        counts["galleries"] += 1
        for definition in items(gal["id"] + "/images", GALLERY_API):
            counts["definitions"] += 1
            counts["versions"] += sum(1 for _ in items(definition["id"] + "/versions", GALLERY_API))
    for pool in items(f"/subscriptions/{sub}/providers/Microsoft.DesktopVirtualization/hostPools", AVD_API):
        counts["host_pools"] += 1
        counts["session_hosts"] += sum(1 for _ in items(pool["id"] + "/sessionHosts", AVD_API))
    counts["vms"] += sum(
        1 for _ in items(f"/subscriptions/{sub}/providers/Microsoft.Compute/virtualMachines", VM_API)
    )
    return calls


def measure_estate(sb: Sandbox, name: str) -> dict:
    process = psutil.Process()
    rss_before = process.memory_info().rss
    t = time.perf_counter()
    resources = list(generate(name, list(sb.subscription_ids), datetime.now(UTC)))
    generate_s = time.perf_counter() - t
    t = time.perf_counter()
    seeded = sb.seed(resources)
    seed_s = time.perf_counter() - t
    subs = sorted({r["id"].split("/")[2] for r in resources})
    del resources
    out = {
        "estate": name,
        "resources": seeded,
        "subscriptions": len(subs),
        "generate_s": round(generate_s, 2),
        "seed_s": round(seed_s, 2),
        "rss_mb": round(process.memory_info().rss / 2**20, 1),
        "rss_growth_mb": round((process.memory_info().rss - rss_before) / 2**20, 1),
    }
    for mode, lister in (("sdk", list_with_sdk), ("raw", list_raw)):
        counts: Counter = Counter()
        t = time.perf_counter()
        calls = sum(lister(sb, sub, counts) for sub in subs)
        seconds = time.perf_counter() - t
        out[f"listing_{mode}"] = {
            "seconds": round(seconds, 2),
            "calls": calls,
            "ms_per_call": round(1000 * seconds / max(1, calls), 2),
            "counts": dict(counts),
        }
    return out


def render_table(lat: dict, estate: dict | None, model: dict | None = None) -> str:
    rows = [
        "| measurement | n | p50 ms | p95 ms | max ms | target |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    targets = {"get": "< 5 ms", "lro_create_gallery": "< 15 ms"}
    if model is not None:
        targets = {k: f"model median {model[k].median:.0f} ms" for k in ("get", "list_page")}
    for key, s in lat.items():
        rows.append(
            f"| {key} | {s['n']} | {s['p50_ms']} | {s['p95_ms']} | {s['max_ms']} | {targets.get(key, '')} |"
        )
    if estate:
        rows += [
            "",
            "| estate step | value | target |",
            "| --- | --- | --- |",
            f"| generate {estate['estate']} ({estate['resources']} resources, "
            f"{estate['subscriptions']} subscriptions) "
            f"| {estate['generate_s']} s | < 30 s |",
            f"| seed into the sandbox | {estate['seed_s']} s | |",
            f"| process RSS after seeding | {estate['rss_mb']} MB (+{estate['rss_growth_mb']} MB) "
            "| < 2048 MB |",
        ]
        for mode, label in (("sdk", "typed SDK pagers"), ("raw", "raw JSON, same calls")):
            listing = estate[f"listing_{mode}"]
            rows.append(
                f"| full listing, {label} | {listing['seconds']} s, {listing['calls']} list calls "
                f"({listing['ms_per_call']} ms/call) | |"
            )
        counts = estate["listing_sdk"]["counts"]
        rows.append(f"| listed | {', '.join(f'{k} {v}' for k, v in counts.items())} | |")
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer samples and the small estate (CI smoke)")
    parser.add_argument("--estate", choices=("small", "large", "none"), default=None)
    parser.add_argument("-n", type=int, default=None, help="samples per latency measurement")
    parser.add_argument(
        "--page-size",
        type=int,
        default=100,
        help="list page size for the estate run (default 100, about ARM's; the sandbox's own default is 5)",
    )
    parser.add_argument("--latency", help="turn the sandbox's latency model on: azure, or a JSON/YAML file")
    args = parser.parse_args(argv)
    latency = None if not args.latency else "azure" if args.latency == "azure" else load_file(args.latency)
    n = args.n or (40 if args.quick else 400)
    estate_name = args.estate or ("small" if args.quick else "large")

    with Sandbox(time_scale=TIME_SCALE, settings={"session_mean_seconds": 0, "latency": latency or ""}) as sb:
        lat = measure_latencies(sb, n)
    estate = None
    if estate_name != "none":
        # The sandbox must know every subscription the estate spans, or it answers SubscriptionNotFound.
        # Users stay signed in (at this time scale they would all log off during the listing).
        settings = {"subscription_ids": estate_subscription_ids(estate_name), "session_mean_seconds": 0}
        with Sandbox(time_scale=TIME_SCALE, page_size=args.page_size, settings=settings) as sb:
            estate = measure_estate(sb, estate_name)
    print(render_table(lat, estate, parse(latency) if latency else None))
    ok = lat["get"]["p50_ms"] < TARGETS_MS["get"] and lat["lro_create_gallery"]["p50_ms"] < TARGETS_MS["lro"]
    ok = ok or latency is not None
    if estate:
        ok = ok and estate["generate_s"] < TARGET_GENERATE_S and estate["rss_mb"] < TARGET_RSS_MB
    print(json.dumps({"bench": "sandbox", "ok": ok, "latency": lat, "estate": estate}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
