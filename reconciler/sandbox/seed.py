"""Loading REST-shaped resources: --seed FILE (JSON list, {"resources": [...]}, or YAML), --estate NAME
(reconciler.sandbox.estate.generate), and POST /_sandbox/seed. Seeded resources skip validation and LROs: they
exist as given, with provisioningState Succeeded unless the seed says otherwise."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from . import etags
from .errors import provider_type_of


def read_data_file(path: str) -> Any:
    """A --seed or --faults file: YAML by its .yaml/.yml suffix, else JSON."""
    with open(path, encoding="utf-8") as fh:
        text = fh.read()
    if path.endswith((".yaml", ".yml")):
        import yaml

        data = yaml.safe_load(text)
    else:
        data = json.loads(text)
    return data


def load_file(path: str) -> list[dict[str, Any]]:
    data = read_data_file(path)
    if isinstance(data, dict):
        data = data.get("resources", [])
    if not isinstance(data, list):
        raise ValueError(f"{path}: expected a list of resources or {{'resources': [...]}}")
    return data


def estate(
    name: str, subscription_ids: Iterable[str], now: datetime
) -> tuple[list[str], list[dict[str, Any]]] | None:
    """(subscription ids, resources) of a generated estate, or None when the generator module is not there.
    The estate may span more subscriptions than given (large: 20); the sandbox must then serve all of them."""
    try:
        from . import estate as generator  # written separately; optional at run time
    except ImportError:
        return None
    subs = list(subscription_ids)
    if hasattr(generator, "estate_subscription_ids"):
        subs = list(generator.estate_subscription_ids(name, subs))
    return subs, list(generator.generate(name, subs, now))


def apply(app: Any, resources: Iterable[dict[str, Any]]) -> int:
    now = app.clock.now_ts()
    count = 0
    pools: set[str] = set()
    for raw in resources:
        if not isinstance(raw, dict) or not raw.get("id"):
            raise ValueError(f"seed resource #{count + 1} has no 'id'")
        res = dict(raw)
        rid = res["id"]
        spec = app.type_for_id(rid)
        res.setdefault("type", provider_type_of(rid) if spec is None else spec.type_name)
        res.setdefault("name", spec.name_of(rid) if spec is not None else rid.rstrip("/").split("/")[-1])
        props = res.setdefault("properties", {})
        if (
            spec is not None
            and not spec.sync
            and "provisioningState" not in props
            and "/providers/" in rid.lower()
        ):
            props["provisioningState"] = "Succeeded"
        if spec is not None and hasattr(spec, "seed"):
            spec.seed(res, now)
        etags.stamp_if_missing(res["type"].lower(), res, now)
        app.store.put(res)
        if res["type"].lower() == "microsoft.desktopvirtualization/hostpools/sessionhosts":
            pools.add(rid.rsplit("/", 2)[0])
        count += 1
    hosts = app.types["microsoft.desktopvirtualization/hostpools/sessionhosts"]
    for pool in pools:
        hosts.recount(pool, now)
    return count


def utcnow(app: Any) -> datetime:
    return datetime.fromtimestamp(app.clock.now_ts(), UTC)
