"""planner/patches.py writes two kinds of JSON patch without jsonpatch's general machinery. Each must give what
`jsonpatch.make_patch` gives (as a set of operations: the callers sort them), or None to leave it to jsonpatch."""

from __future__ import annotations

import jsonpatch
from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler.planner.patches import members_patch, regions_patch

KEYS = st.sampled_from(["a", "b", "c", "x/y", "t~1", "name", "tags"])
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 3),
    st.sampled_from([0.0, -0.0, 1.0, 2.5]),
    st.text("ab", max_size=2),
)
JSON = st.recursive(
    SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(KEYS, inner, max_size=3)),
    max_leaves=8,
)
DOCS = st.dictionaries(KEYS, JSON, max_size=4)


def _ops(patch):
    return sorted(
        (op["op"], op["path"], jsonpatch.json.dumps(op.get("value"), sort_keys=True)) for op in patch
    )


def _project(before, after, draw):
    """`before` reduced to members `after` has, at every depth, lists made equal: the projection diff.py makes."""
    out = {}
    for key, value in before.items():
        if key not in after:
            continue
        if isinstance(value, dict) and isinstance(after[key], dict):
            out[key] = _project(value, after[key], draw)
        elif isinstance(value, list) or isinstance(after[key], list):
            out[key] = after[key] if draw(st.booleans()) else value
        else:
            out[key] = value
    return out


@settings(max_examples=400, deadline=None)
@given(st.data(), DOCS, DOCS)
def test_members_patch_is_jsonpatchs_patch_whenever_it_answers(data, before, after):
    before = _project(before, after, data.draw) if data.draw(st.booleans()) else before
    patch = members_patch(before, after)
    if patch is None:
        return
    assert _ops(patch) == _ops(jsonpatch.make_patch(before, after).patch)
    assert jsonpatch.apply_patch(before, patch) == after


@settings(max_examples=100, deadline=None)
@given(DOCS)
def test_members_patch_answers_for_a_projection_that_only_lacks_members_or_values(after):
    before = {k: v for i, (k, v) in enumerate(after.items()) if i % 2 == 0 and not isinstance(v, list)}
    assert members_patch(before, after) is not None


REGION = st.fixed_dictionaries(
    {
        "regionalReplicaCount": st.integers(1, 3),
        "storageAccountType": st.sampled_from(["Standard_LRS", "Standard_ZRS"]),
        "excludeFromLatest": st.booleans(),
    }
)
PATH = "/properties/publishingProfile/targetRegions"


def _doc(regions):
    return {"properties": {"publishingProfile": {"targetRegions": regions}}}


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.sampled_from(["eastus", "westeurope", "northeurope", "uksouth"]), unique=True, min_size=1),
    st.data(),
)
def test_regions_patch_is_jsonpatchs_patch_for_the_same_regions(names, data):
    before = [{"name": n, **data.draw(REGION)} for n in names]
    after = [{"name": n, **data.draw(REGION)} for n in names]
    patch = regions_patch(before, after, PATH)
    assert patch is not None
    assert _ops(patch) == _ops(jsonpatch.make_patch(_doc(before), _doc(after)).patch)
    assert jsonpatch.apply_patch(_doc(before), [{**op, "path": op["path"]} for op in patch]) == _doc(after)


def test_regions_patch_leaves_other_region_lists_to_jsonpatch():
    one = [{"name": "eastus", "regionalReplicaCount": 1}]
    two = [*one, {"name": "westeurope", "regionalReplicaCount": 1}]
    assert regions_patch(one, two, PATH) is None  # a region added
    assert regions_patch(two, list(reversed(two)), PATH) is None  # another order
