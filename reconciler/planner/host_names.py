"""Names of new session-host VMs: the smallest free index, never a name still in use.

The name is the Windows computerName (≤ 15 characters in Azure): `reconcile validate` refuses a prefix whose
names could outgrow it anywhere in the range this generator can reach (spec/host_name_range.py).
"""

from __future__ import annotations


def next_name(prefix: str, used: set[str]) -> str:
    """`<prefix>-<n>` with the smallest n whose name is not in use (names in use are never reused)."""
    n, lower = 0, prefix.lower()  # digits and "-" have no case: the lower-cased name is lower-prefix-n
    while f"{lower}-{n}" in used:
        n += 1
    return f"{prefix}-{n}"
