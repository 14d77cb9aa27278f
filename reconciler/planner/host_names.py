"""Names of new session-host VMs: the smallest free index, never a name still in use."""

from __future__ import annotations


def next_name(prefix: str, used: set[str]) -> str:
    """`<prefix>-<n>` with the smallest n whose name is not in use (names in use are never reused)."""
    n = 0
    while f"{prefix}-{n}".lower() in used:
        n += 1
    return f"{prefix}-{n}"
