"""Validated models are compacted (reconciler.spec.compact): equal frozen sub-models are one object, and
nothing a reader sees changes: the same dumps and field sets, each document its own positions, errors still
naming file, line and field."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from reconciler.spec import DesiredStateError, load_desired
from reconciler.spec.models import MODELS
from reconciler.spec.positions import parse_documents

from .helpers import BASE


def _models(state):
    yield state.settings.spec
    for kind in ("galleries", "image_definitions", "image_versions", "image_builds", "host_pools"):
        for obj in getattr(state, kind):
            yield obj.spec


def _walk(model):
    """Every pydantic model under `model`, itself included."""
    yield model
    for value in model.__dict__.values():
        for item in (
            value if isinstance(value, list) else value.values() if isinstance(value, dict) else [value]
        ):
            if hasattr(item, "__pydantic_fields_set__"):
                yield from _walk(item)


def test_compacted_models_dump_and_know_their_set_fields_as_freshly_validated_ones():
    state = load_desired(BASE)
    fresh = {}
    for doc in parse_documents((BASE / "base.yaml").read_text()):
        typed = MODELS[doc.data["kind"]].model_validate(doc.data)
        fresh[(typed.kind, typed.metadata.name)] = typed.spec
    compacted = list(_models(state))
    assert len(compacted) == len(fresh)
    for spec in compacted:
        twin = next(f for f in fresh.values() if type(f) is type(spec) and f == spec)
        assert spec.model_dump() == twin.model_dump()
        assert spec.model_dump(exclude_unset=True) == twin.model_dump(exclude_unset=True)
        assert [m.model_fields_set for m in _walk(spec)] == [m.model_fields_set for m in _walk(twin)]


def test_equal_sub_models_are_one_object_while_each_document_keeps_its_own_lines():
    state = load_desired(BASE)
    first, second = state.image_versions[:2]
    assert first.spec.target_regions[0] is second.spec.target_regions[0]
    assert first.spec.safety_profile is second.spec.safety_profile
    assert first.target_regions is second.target_regions  # the resolved ones too
    lines = [int(v.origin("spec.targetRegions[0].name").rsplit(":", 1)[1]) for v in (first, second)]
    text = (BASE / "base.yaml").read_text().splitlines()
    assert lines[0] != lines[1]
    assert all("targetRegions: [{name: westeurope}]" in text[line - 1] for line in lines)


def test_a_shared_model_stays_frozen_and_a_copy_of_it_has_its_own_field_set():
    state = load_desired(BASE)
    first, second = state.image_versions[:2]
    region = first.spec.target_regions[0]
    with pytest.raises(ValidationError):
        region.replica_count = 3
    copied = region.model_copy(update={"replica_count": 3})
    assert "replica_count" in copied.model_fields_set
    assert "replica_count" not in second.spec.target_regions[0].model_fields_set


def test_errors_found_after_validation_still_name_file_line_and_field(tmp_path):
    text = (BASE / "base.yaml").read_text()
    broken = text.replace(
        "metadata: {name: 1.1.0}\nspec:\n  definition: win11",
        "metadata: {name: 1.1.0}\nspec:\n  definition: win12",
    )
    assert broken != text
    (tmp_path / "base.yaml").write_text(broken)
    with pytest.raises(DesiredStateError) as info:
        load_desired(tmp_path)
    (error,) = info.value.errors
    line = broken.splitlines().index("  definition: win12") + 1
    assert (error.file, error.line, error.field) == (f"{tmp_path}/base.yaml", line, "spec.definition")
    assert "unknown ImageDefinition 'win12'" in error.message
