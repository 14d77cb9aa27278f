"""JSON Schema (draft 2020-12) of every kind, discriminated by `kind`, for editors and CI.

Defaults from `defaults.py` appear as `default` values, so `reconcile schema` doubles as the reference of
defaults. yaml-language-server users add `# yaml-language-server: $schema=<file>` to their YAML files.
"""

from __future__ import annotations

from typing import Any

from pydantic import TypeAdapter

from reconciler.spec.defaults import API_VERSION
from reconciler.spec.models import AnyDocument

SCHEMA_ID = "https://avd.reconciler.io/schemas/v1alpha1/desired-state.json"


def _drop_titles(node: Any) -> Any:
    """Pydantic's generated titles ("Batchsize") add noise in editors; descriptions carry the meaning."""
    if isinstance(node, dict):
        return {k: _drop_titles(v) for k, v in node.items() if not (k == "title" and isinstance(v, str))}
    if isinstance(node, list):
        return [_drop_titles(v) for v in node]
    return node


def schema() -> dict[str, Any]:
    body = TypeAdapter(AnyDocument).json_schema(by_alias=True, mode="validation")
    body = _drop_titles(body)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": f"AVD image reconciler desired state ({API_VERSION})",
        "description": "One YAML document: apiVersion, kind, metadata, spec.",
        **body,
    }
