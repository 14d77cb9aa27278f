"""Stable fingerprints of observed resource JSON, so apply can refuse a plan made against an older Azure.

The hash covers the canonical JSON (sorted keys, no whitespace) of the resource as observed, minus fields
that change without anyone acting (provisioning timestamps, heartbeats, etag). Both plan and apply compute it
with this one function, so they can never disagree about what "unchanged" means.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

# Fields that move on their own; including them would make every plan stale within seconds.
VOLATILE_KEYS = frozenset(
    {"etag", "systemData", "lastHeartBeat", "statusTimestamp", "lastUpdateTime", "progress"}
)


_CONTAINERS = (dict, list)


def _strip(value: Any) -> Any:
    # Scalars are passed through without a call each: a plan fingerprints 10,000s of resources.
    if isinstance(value, dict):
        return {
            k: _strip(v) if isinstance(v, _CONTAINERS) else v
            for k, v in value.items()
            if k not in VOLATILE_KEYS
        }
    if isinstance(value, list):
        return [_strip(v) if isinstance(v, _CONTAINERS) else v for v in value]
    return value


# What json.dumps(..., sort_keys=True, separators=(",", ":"), default=str) builds on every call (constructing
# the encoder costs as much as encoding a resource); encode() keeps no state between calls.
_ENCODER = json.JSONEncoder(sort_keys=True, separators=(",", ":"), default=str)


def canonical_json(value: Any) -> str:
    return _ENCODER.encode(_strip(value))


def fingerprint(value: Any) -> str:
    """`sha256:<hex>` of the canonical JSON of an observed resource (a REST dict or any JSON-able value)."""
    return "sha256:" + hashlib.sha256(canonical_json(value).encode()).hexdigest()
