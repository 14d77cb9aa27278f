"""`reconcile sandbox serve`: start the sandbox, print one JSON line with connection facts, serve until
SIGINT/SIGTERM (exit 0). It starts with the landing zone the shipped `desired/` expects unless `--bare`. Kept here so the sandbox stays free of other reconciler packages."""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from typing import Any

from . import latency
from .estate import ESTATE_NAMES


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--port", type=int, default=0, help="TCP port on 127.0.0.1 (default: a free one)")
    parser.add_argument("--data", help="persist state to this JSON file and resume from it")
    parser.add_argument("--seed", help="load REST-shaped resources from this JSON/YAML file")
    parser.add_argument(
        "--estate", choices=ESTATE_NAMES, help="generate a synthetic estate (-converged: nothing to do)"
    )
    parser.add_argument(
        "--bare",
        action="store_true",
        help="start empty: without the landing zone (network, identities, Key Vaults) the shipped desired/ uses",
    )
    parser.add_argument("--time-scale", type=float, default=1.0, help="sandbox seconds per real second")
    parser.add_argument("--faults", help="fault injection rules (JSON or YAML)")
    parser.add_argument("--throttle", action="store_true", help="enable ARM token-bucket throttling")
    parser.add_argument(
        "--latency",
        metavar="azure|FILE",
        help="add ARM-like service time to every response: 'azure' defaults or a JSON/YAML file of distributions",
    )
    parser.add_argument("--page-size", type=int, help="items per list page (default 5)")
    parser.add_argument(
        "--initial-retry-after",
        type=int,
        default=0,
        help="integer Retry-After on initial LRO responses (1 for the Azure CLI)",
    )
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=JSON",
        help="any sandbox setting, e.g. --set replication_seconds=600",
    )


def serve(args: Any) -> int:
    from .api import Sandbox

    settings: dict[str, Any] = {"initial_retry_after": args.initial_retry_after}
    for item in args.set:
        key, _, value = item.partition("=")
        try:
            settings[key] = json.loads(value)
        except ValueError:
            settings[key] = value
    try:
        if args.latency:
            settings["latency"] = "azure" if args.latency == "azure" else latency.load_file(args.latency)
        sb = Sandbox(
            port=args.port,
            time_scale=args.time_scale,
            data=args.data,
            seed=args.seed,
            estate=args.estate,
            faults=args.faults,
            landing_zone=not args.bare,
            throttle=args.throttle,
            page_size=args.page_size,
            settings=settings,
        )
        sb.start()
    except (OSError, ValueError, KeyError) as exc:
        print(f"sandbox: cannot start: {exc}", file=sys.stderr)
        return 1
    for warning in sb.warnings:
        print(f"sandbox: {warning}", file=sys.stderr)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    print(json.dumps(sb.info()), flush=True)
    try:
        stop.wait()
    finally:
        sb.stop()
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m reconciler.sandbox")
    add_arguments(parser)
    return serve(parser.parse_args(argv))
