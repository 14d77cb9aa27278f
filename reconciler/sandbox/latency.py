"""Service time per request, the way ARM's round trips feel from a client: off unless asked.

The sandbox answers in 2-7 ms; ARM takes ~50-150 ms for a GET and ~150-500 ms for a list page, so without a
model no bench can tell whether observation keeps enough requests in flight. `SandboxConfig.latency` is "" (off),
"azure" (the defaults below) or a mapping of operation -> distribution, merged over the defaults
(`reconcile sandbox serve --latency FILE` reads it from JSON or YAML):

    {"get": {"median_ms": 80, "p95_ms": 150}, "list_page": {"median_ms": 250, "p95_ms": 500, "min_ms": 150},
     "put": {"fixed_ms": 300}}

Each draw is lognormal (service times are skewed right, never negative): sigma = ln(p95/median) / 1.645, then
clamped to [min_ms, max_ms]. Draws come from one generator seeded with the sandbox seed, under a lock of their
own, never the app lock. Delays are real seconds (a faster sandbox clock makes operations finish sooner in real
time, not the network faster), and the server sleeps them in the request's own worker thread, so N concurrent
requests cost about one delay, not N.

Defaults, from public measurements (the upper ends of the issue's observed ranges are the p95s):
- list page ~150-500 ms: a Microsoft.Compute list answered with `x-envoy-upstream-service-time: 353`
  (Azure/azure-rest-api-specs#25455, the response headers quoted there).
- GET ~50-150 ms, PUT/DELETE/POST accept ~200-600 ms, LRO status ~50-150 ms: ARM's control-plane latency metric
  (learn.microsoft.com/azure/azure-resource-manager/management/control-plane-metrics) tracks exactly these
  synchronous parts; the medians are the issue's observed figures, not an SLA.
- token ~100-300 ms: one round trip to login.microsoftonline.com (estimate).
"""

from __future__ import annotations

import json
import math
import random
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

OPERATIONS = ("get", "list_page", "put", "delete", "post", "lro_poll", "token")

AZURE: dict[str, dict[str, float]] = {
    "get": {"median_ms": 80, "p95_ms": 150, "min_ms": 40},
    "list_page": {"median_ms": 250, "p95_ms": 500, "min_ms": 120},
    "put": {"median_ms": 300, "p95_ms": 600, "min_ms": 120},
    "delete": {"median_ms": 250, "p95_ms": 500, "min_ms": 100},
    "post": {"median_ms": 250, "p95_ms": 500, "min_ms": 100},
    "lro_poll": {"median_ms": 70, "p95_ms": 150, "min_ms": 30},
    "token": {"median_ms": 150, "p95_ms": 300, "min_ms": 60},
}

_Z95 = 1.6449


class Distribution:
    def __init__(self, spec: Mapping[str, Any]) -> None:
        unknown = set(spec) - {"median_ms", "p95_ms", "min_ms", "max_ms", "fixed_ms"}
        if unknown:
            raise ValueError(f"unknown latency field(s) {sorted(unknown)}")
        self.fixed = spec.get("fixed_ms")
        self.median = float(spec.get("median_ms", 0.0))
        p95 = float(spec.get("p95_ms", self.median))
        if self.fixed is None and (self.median < 0 or p95 < self.median):
            raise ValueError("latency needs 0 <= median_ms <= p95_ms")
        self.sigma = math.log(p95 / self.median) / _Z95 if self.median > 0 else 0.0
        self.low = float(spec.get("min_ms", 0.0))
        self.high = float(spec.get("max_ms", math.inf))

    def draw_ms(self, rng: random.Random) -> float:
        if self.fixed is not None:
            return float(self.fixed)
        if self.median <= 0:
            return 0.0
        value = self.median * math.exp(rng.gauss(0.0, self.sigma))
        return min(self.high, max(self.low, value))


def parse(setting: Any) -> dict[str, Distribution] | None:
    """None when the model is off; otherwise one distribution per operation."""
    if not setting or setting == "off":
        return None
    if isinstance(setting, str) and setting != "azure":
        raise ValueError(f"latency is 'azure', 'off' or a mapping of distributions, not {setting!r}")
    overrides = {} if setting == "azure" else dict(setting)
    unknown = set(overrides) - set(OPERATIONS)
    if unknown:
        raise ValueError(f"unknown latency operation(s) {sorted(unknown)}; known: {', '.join(OPERATIONS)}")
    return {op: Distribution({**AZURE[op], **overrides.get(op, {})}) for op in OPERATIONS}


def load_file(path: str) -> dict[str, Any]:
    text = Path(path).read_text()
    if path.endswith((".yaml", ".yml")):
        import yaml

        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise ValueError(f"{path}: {exc}") from exc
    else:
        data = json.loads(text)
    if not isinstance(data, dict):
        raise ValueError(f"{path}: a latency file maps operation names to distributions")
    return data


def operation_of(method: str, path: str, status: int, body: Any) -> str | None:
    """Which latency a request pays; None for the sandbox's own admin and discovery routes (no Azure cost)."""
    low = path.lower().split("?", 1)[0]
    if low.startswith("/_sandbox"):
        return None
    if "/oauth2/" in low:
        return "token"
    if low.startswith(("/metadata/", "/common/discovery")) or "/.well-known/" in low or "/discovery/" in low:
        return None
    if method in ("GET", "HEAD"):
        if "/locations/" in low and ("operation" in low.rsplit("/locations/", 1)[1]):
            return "lro_poll"
        if isinstance(body, dict) and isinstance(body.get("value"), list):
            return "list_page"
        return "get"
    return {"PUT": "put", "PATCH": "put", "DELETE": "delete"}.get(method, "post")


class LatencyModel:
    """Draws a delay per request from whatever `config.latency` says now (the admin route may change it)."""

    def __init__(self, config: Any) -> None:
        self.config = config
        self._lock = threading.Lock()
        self._rng = random.Random(getattr(config, "seed", 0))
        self._parsed_from: Any = getattr(config, "latency", "")
        self._table = parse(self._parsed_from)  # a bad setting stops start-up, not a request later

    def _current(self) -> dict[str, Distribution] | None:
        setting = getattr(self.config, "latency", "")
        if setting != self._parsed_from:
            self._table, self._parsed_from = parse(setting), setting
        return self._table

    def delay_seconds(self, method: str, path: str, status: int, body: Any) -> float:
        with self._lock:
            table = self._current()
            if table is None:
                return 0.0
            op = operation_of(method, path, status, body)
            return 0.0 if op is None else table[op].draw_ms(self._rng) / 1000.0

    def reseed(self, seed: int) -> None:
        with self._lock:
            self._rng.seed(seed)
