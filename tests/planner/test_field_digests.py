"""reconciler/model/field_digests.py puts a plan's fingerprints and field digests together from cached pieces.
They must be exactly what reconciler.model.fingerprint computes (apply checks a saved plan with that), for any
fields, and stay so when one cache serves many resources whose values repeat or merely look alike."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler.model.field_digests import FieldDigests
from reconciler.model.fingerprint import field_digests, fingerprint

LABELS = st.sampled_from(["location", "tags.owner", "vm.zones", "imageReference", "é", 'a"b', "vm"])
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-2, 2),
    st.sampled_from([0.0, 1.0, -0.0, 2.5, float("inf")]),
    st.text('a1{}":é\u2028', max_size=4),
    st.sampled_from(['{"id":"x"}', "1", "true", "null", '["a"]']),  # strings that spell other values' JSON
)
JSON = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.sampled_from(["id", "b", "é"]), inner, max_size=3)
    ),
    max_leaves=6,
)
FIELDS = st.dictionaries(LABELS, JSON, max_size=5)


@settings(max_examples=400, deadline=None)
@given(st.lists(FIELDS, min_size=1, max_size=6))
def test_fingerprints_and_digests_are_the_reference_ones_through_one_shared_cache(resources):
    shared = FieldDigests()
    for fields in resources:
        assert shared.fingerprint_and_digests(fields) == (fingerprint(fields), field_digests(fields))


def test_a_string_that_spells_a_dict_is_not_taken_for_it():
    shared = FieldDigests()
    as_dict = {"imageReference": {"id": "x"}}
    as_text = {"imageReference": '{"id":"x"}'}
    assert shared.fingerprint_and_digests(as_dict) == (fingerprint(as_dict), field_digests(as_dict))
    assert shared.fingerprint_and_digests(as_text) == (fingerprint(as_text), field_digests(as_text))
    assert fingerprint(as_dict) != fingerprint(as_text)
    one, true = {"n": 1}, {"n": True}
    assert shared.fingerprint_and_digests(one)[0] != shared.fingerprint_and_digests(true)[0]
    zero = {
        "location": 0.0,
        "tags.owner": -0.0,
    }  # equal as numbers, not as JSON (the old cache mixed them up)
    assert shared.fingerprint_and_digests(zero) == (fingerprint(zero), field_digests(zero))
