"""'Did you mean …?': the closest known name to a mistyped one, for every "unknown X" message.

Typos are the usual cause of an unknown reference, so naming the nearest candidate saves a trip to the files.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable


def closest(word: str, candidates: Iterable[str], *, n: int = 1, cutoff: float = 0.6) -> list[str]:
    """Up to `n` candidates close to `word` (case-insensitive), best first; `word` itself never."""
    by_lower: dict[str, str] = {}
    for candidate in candidates:
        if candidate and candidate.lower() != word.lower():
            by_lower.setdefault(candidate.lower(), candidate)
    found = difflib.get_close_matches(word.lower(), list(by_lower), n=n, cutoff=cutoff)
    return [by_lower[f] for f in found]


def did_you_mean(word: str, candidates: Iterable[str], *, n: int = 1) -> str:
    """`"; did you mean 'x'?"` (or `'x' or 'y'` when n > 1), or "" when nothing is close."""
    found = closest(word, candidates, n=n)
    if not found:
        return ""
    return "; did you mean " + " or ".join(repr(f) for f in found) + "?"
