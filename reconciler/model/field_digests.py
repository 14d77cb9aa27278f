"""A plan's fingerprints and field digests, for its many resources at once: each distinct value encoded and
hashed once (reconciler.model.fingerprint defines both; this computes exactly the same strings, faster).

Most field values repeat across a pool's hosts and VMs (location, size, tags, pool id), so a plan's digests are
mostly the same few strings: each distinct value's canonical JSON and digest are computed once and every
resource gets the same digest and label objects (computing them per resource held ~40 MB for the large
estate). The fingerprint is the hash of the fields' canonical JSON, which is `{"label":value,...}` with sorted
labels and no whitespace: it is put together from the same cached pieces instead of encoding the whole again.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from json.encoder import encode_basestring_ascii
from typing import Any

from reconciler.model.fingerprint import canonical_json, short_digest

# Floats are not among them: 0.0 == -0.0, yet their JSON differs.
_SCALARS = frozenset((int, bool))


class FieldDigests:
    """`fingerprint` and `field_digests` of many resources' fields, sharing the work between them."""

    def __init__(self) -> None:
        # A value's key: a str is itself; an int or bool (type, value), as True and 1 differ; a dict of
        # strings its items in order; anything else (object, its JSON). Keys of different kinds never compare
        # equal, so a string that reads like JSON is never taken for the object it spells.
        self._values: dict[Any, tuple[str, str]] = {}  # key -> (canonical JSON, digest)
        self._labels: dict[str, tuple[str, str]] = {}  # label -> (the shared label, its JSON and ":")

    def fingerprint_and_digests(self, fields: Mapping[str, Any]) -> tuple[str, dict[str, str]]:
        """(`fingerprint(fields)`, `field_digests(fields)`), exactly."""
        values, labels = self._values, self._labels
        out: dict[str, str] = {}
        parts: list[str] = []
        for label, value in sorted(fields.items()):
            cls = value.__class__
            if cls is str:  # most values: ids, names, tags
                key: Any = value
            elif cls in _SCALARS:
                key = (cls, value)
            elif cls is dict and all(v.__class__ is str for v in value.values()):
                # An imageReference: no encoder call to find it again (the same items give the same JSON).
                key = (dict, tuple(value.items()))
            else:
                key = (object, canonical_json(value))
            known = values.get(key)
            if known is None:
                text = encode_basestring_ascii(value) if cls is str else canonical_json(value)
                known = values[key] = (text, short_digest(text))
            named = labels.get(label)
            if named is None:
                named = labels[label] = (label, encode_basestring_ascii(label) + ":")
            out[named[0]] = known[1]
            parts.append(named[1] + known[0])
        whole = "{" + ",".join(parts) + "}"
        return "sha256:" + hashlib.sha256(whole.encode()).hexdigest(), out
