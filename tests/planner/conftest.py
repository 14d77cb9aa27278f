"""Builders for planner table tests: desired state from small YAML strings, observed state from REST dicts.

Desired goes through the real loader (reconciler.spec.load_desired); observed through the real REST →
Observed conversion (reconciler.azure.observe.assemble), so the tests exercise the shapes production sees.
"""

from __future__ import annotations

import copy
from datetime import datetime
from pathlib import Path

import pytest

from reconciler.azure.observe import assemble
from reconciler.model.observed import ObserveScope
from reconciler.spec import load_desired

from .docs import DEF_ID, GALLERY_ID, NOW, POOL_ID, RG, SUB, base_docs, pool_doc, version_doc  # noqa: F401


@pytest.fixture
def load(tmp_path: Path):
    def _load(docs: list[str]):
        root = tmp_path / "desired"
        root.mkdir(exist_ok=True)
        (root / "estate.yaml").write_text("\n---\n".join(docs))
        return load_desired(root)

    return _load


def observed_from(resources: list[dict], now: datetime = NOW):
    raw: dict[str, list[dict]] = {
        k: []
        for k in (
            "galleries",
            "image_definitions",
            "image_versions",
            "image_templates",
            "host_pools",
            "session_hosts",
            "vms",
            "user_sessions",
        )
    }
    kinds = {
        "microsoft.compute/galleries": "galleries",
        "microsoft.compute/galleries/images": "image_definitions",
        "microsoft.compute/galleries/images/versions": "image_versions",
        "microsoft.virtualmachineimages/imagetemplates": "image_templates",
        "microsoft.desktopvirtualization/hostpools": "host_pools",
        "microsoft.desktopvirtualization/hostpools/sessionhosts": "session_hosts",
        "microsoft.compute/virtualmachines": "vms",
        "microsoft.desktopvirtualization/hostpools/sessionhosts/usersessions": "user_sessions",
    }
    for r in resources:
        raw[kinds[r["type"].lower()]].append(copy.deepcopy(r))
    return assemble(ObserveScope.of([SUB]), raw, now)


def find(resources: list[dict], suffix: str) -> dict:
    return next(r for r in resources if r["id"].lower().endswith(suffix.lower()))
