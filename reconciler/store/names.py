"""The names both state backends accept: plan and lock names, and document keys.

One rule for both, so a plan name or a document key that works with the local folder works with Blob Storage
too, and both lay documents out under the same file names.
"""

from __future__ import annotations

import hashlib
import re

from reconciler.store.protocol import StoreError

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
_MAX_KEY = 2048


def is_name(name: str) -> bool:
    """Whether a stored item's stem is a name we could have written (listings skip anything else)."""
    return _NAME.match(name) is not None


def check_name(what: str, name: str) -> str:
    """Plan and lock names become file and blob names: keep them to a safe alphabet (no paths, no dot-files)."""
    if not isinstance(name, str) or not _NAME.match(name) or name.endswith((".json", ".lock")):
        raise StoreError(
            f"invalid {what} name {name!r}: use 1-128 letters, digits, '.', '_' or '-', starting with a "
            "letter or digit, without a .json/.lock suffix"
        )
    return name


def document_file(key: str) -> str:
    """The file name of a document: keys are arbitrary strings (ARM ids have slashes and can exceed a file
    name's length), so the file is named by the key's SHA-256 and carries the key inside."""
    if not isinstance(key, str) or not key or len(key) > _MAX_KEY:
        raise StoreError(f"invalid document key {key!r}: a non-empty string of at most {_MAX_KEY} chars")
    return f"{hashlib.sha256(key.encode()).hexdigest()}.json"
