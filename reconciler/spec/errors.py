"""Error values of the desired-state language.

Every problem found while loading desired state becomes one `SpecError` that names the file, the line and
column, and the dotted field path, so a person can jump straight to it. Errors are collected, never raised one
at a time: `load_desired` raises a single `DesiredStateError` carrying all of them, sorted.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class SpecError:
    """One problem in the desired state. `str()` gives `file:LINE:COL: field.path: message`."""

    file: str
    line: int
    col: int
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}: {self.field}: {self.message}"


class DesiredStateError(Exception):
    """The desired state is invalid. `.errors` holds every problem found, sorted by file, line, column."""

    def __init__(self, errors: list[SpecError]):
        self.errors = sorted(set(errors))
        super().__init__(f"{len(self.errors)} error(s) in desired state")

    def __str__(self) -> str:
        return "\n".join(str(e) for e in self.errors)
