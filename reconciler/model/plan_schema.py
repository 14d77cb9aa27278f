"""JSON Schema (draft 2020-12) of the saved plan, format_version 2 — what `reconcile plan -o json` and
`--out PLANFILE` write. README.md explains every field; tests validate real plans against this schema.

Compatibility rule: adding an optional field keeps the format_version; renaming, removing or changing the
meaning of a field bumps it, and `Plan.from_dict` refuses versions it does not know.
"""

from __future__ import annotations

from reconciler.model.plan import FORMAT_VERSION, Action

_JSON_OBJECT = {"type": ["object", "null"]}
_PATCH_OP = {
    "type": "object",
    "required": ["op", "path"],
    "properties": {
        "op": {"enum": ["add", "remove", "replace", "move", "copy", "test"]},
        "path": {"type": "string"},
        "from": {"type": "string"},
        "value": {},
    },
}
_CHANGE = {
    "type": "object",
    "required": [
        "key",
        "action",
        "kind",
        "resource_id",
        "name",
        "reason",
        "patch",
        "depends_on",
        "fingerprint",
    ],
    "additionalProperties": False,
    "properties": {
        "key": {"type": "string", "description": "'<action> <lower-cased resource id>', unique in the plan"},
        "action": {"enum": [a.value for a in Action]},
        "kind": {
            "enum": [
                "gallery",
                "image-definition",
                "image-version",
                "image-build",
                "host-pool",
                "session-hosts",
                "resource-group",
            ]
        },
        "resource_id": {"type": "string"},
        "name": {"type": "string"},
        "reason": {"type": "string"},
        "reason_code": {
            "type": "string",
            "description": "why, as a code (model.plan.ChangeReason, maybe ':<fields>'): decide from this",
        },
        "before": _JSON_OBJECT,
        "after": _JSON_OBJECT,
        "patch": {"type": "array", "items": _PATCH_OP},
        "depends_on": {"type": "array", "items": {"type": "string"}},
        "fingerprint": {"type": "string", "pattern": "^(sha256:[0-9a-f]{64})?$"},
        "details": {"type": "object"},
    },
}
_HOST = {
    "type": "object",
    "required": ["name", "sessions"],
    "properties": {
        "name": {"type": "string"},
        "version": {"type": ["string", "null"]},
        "sessions": {"type": "integer", "minimum": 0},
        "status": {"type": "string"},
    },
}
_BATCH = {
    "type": "object",
    "required": ["index", "hosts", "sessions_affected", "available_before", "available_min", "peak_total"],
    "properties": {
        "index": {"type": "integer", "minimum": 1},
        "hosts": {"type": "array", "items": _HOST},
        "sessions_affected": {"type": "integer", "minimum": 0},
        "available_before": {"type": "integer"},
        "available_min": {"type": "integer"},
        "peak_total": {"type": "integer"},
        "at": {"type": ["string", "null"], "format": "date-time"},
        "reason": {"type": "string"},
    },
}
_STEP = {
    "type": "object",
    "required": ["op", "host"],
    "properties": {
        "op": {"type": "string"},
        "host": {"type": ["string", "null"]},
        "version": {"type": ["string", "null"]},
        "replaces": {"type": "string"},
    },
}
_ROLLOUT = {
    "type": "object",
    "required": [
        "pool_id",
        "pool",
        "to_version",
        "strategy",
        "batch_size",
        "floor_percent",
        "floor_hosts",
        "target_count",
        "batches",
        "sessions_affected",
    ],
    "properties": {
        "pool_id": {"type": "string"},
        "pool": {"type": "string"},
        "from_versions": {"type": "array", "items": {"type": "string"}},
        "to_version": {"type": "string"},
        "strategy": {"enum": ["surge", "delete-first"]},
        "batch_size": {"type": "integer", "minimum": 1},
        "surge": {"type": "integer", "minimum": 0},
        "floor_percent": {"type": "integer", "minimum": 0, "maximum": 100},
        "floor_hosts": {"type": "integer", "minimum": 0},
        "target_count": {"type": "integer", "minimum": 0},
        "batches": {"type": "array", "items": _BATCH},
        "sessions_affected": {"type": "integer", "minimum": 0},
        "window_start": {"type": ["string", "null"], "format": "date-time"},
        "window_end": {"type": ["string", "null"], "format": "date-time"},
        "gate": {"type": "object"},
        "blocked": {"type": "array", "items": {"type": "string"}},
        "now": {"type": "array", "items": _STEP},
        "totals": {"type": "object", "additionalProperties": {"type": "integer", "minimum": 0}},
        "min_available": {"type": ["integer", "null"]},
        "peak_vms": {"type": ["integer", "null"]},
        "end": {"enum": ["converged", "halted", "blocked", "bound"]},
        "end_why": {"type": "string"},
        "finished_at": {"type": ["string", "null"], "format": "date-time"},
        "assumptions": {"type": "array", "items": {"type": "string"}},
        "acceptance": {"type": "object"},
    },
}
PLAN_SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "reconcile plan",
    "type": "object",
    "required": [
        "format_version",
        "generated_at",
        "summary",
        "changes",
        "graph",
        "rollouts",
        "diagnostics",
        "fingerprints",
    ],
    "properties": {
        "format_version": {"const": FORMAT_VERSION},
        "generated_at": {"type": "string", "format": "date-time"},
        "summary": {
            "type": "object",
            "required": [a.value for a in Action],
            "additionalProperties": {"type": "integer", "minimum": 0},
        },
        "changes": {"type": "array", "items": _CHANGE},
        "graph": {
            "type": "object",
            "required": ["levels", "edges"],
            "properties": {
                "levels": {"type": "array", "items": {"type": "array", "items": {"type": "string"}}},
                "edges": {
                    "type": "array",
                    "items": {"type": "array", "items": {"type": "string"}, "minItems": 2, "maxItems": 2},
                },
            },
        },
        "rollouts": {"type": "array", "items": _ROLLOUT},
        "diagnostics": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["severity", "resource_id", "message"],
                "properties": {
                    "severity": {"enum": ["warning", "error"]},
                    "resource_id": {"type": "string"},
                    "message": {"type": "string"},
                    "reason": {"type": "string"},
                },
            },
        },
        "fingerprints": {
            "type": "object",
            "additionalProperties": {"type": "string", "pattern": "^(sha256:[0-9a-f]{64}|absent)$"},
        },
        "fingerprint_fields": {
            "type": "object",
            "description": "id → counting field label → short digest of its value (names what changed)",
            "additionalProperties": {
                "type": "object",
                "additionalProperties": {"type": "string", "pattern": "^[0-9a-f]{10}$"},
            },
        },
    },
}
