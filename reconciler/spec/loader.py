"""Find and parse every YAML file under the desired-state directory.

Output is a list of `RawDocument` (plain data + positions) and a list of `SpecError` for files that could not
be read or parsed. Nothing here knows about kinds; that is `validate.py`'s job.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import yaml

from reconciler.spec.errors import SpecError
from reconciler.spec.positions import Path as DataPath
from reconciler.spec.positions import Positions, parse_documents

YAML_SUFFIXES = (".yaml", ".yml")


@dataclass(slots=True)  # one per document: 11,000 in a large estate
class RawDocument:
    """One YAML document: where it came from, its data, and where each of its values sits."""

    file: str
    index: int  # position within a multi-document file, from 0
    data: object  # None once the document validated (its model then holds the data)
    positions: Positions

    def error(self, path: DataPath, message: str, *, at_key: bool = False) -> SpecError:
        """An error at `path` (the deepest part of it that exists in the file)."""
        found, mark = self.positions.nearest(path)
        key = self.positions.key(found)
        # Point at the key when asked to, or when the value is a block that starts on a later line (a list or
        # mapping under `key:`): the key line is where a person looks.
        if key and (at_key or mark[0] > key[0]):
            mark = key
        return SpecError(self.file, mark[0], mark[1], format_path(path), message)

    def origin(self, path: DataPath) -> str:
        """`file:line` of the deepest existing part of `path`."""
        _, (line, _) = self.positions.nearest(path)
        return f"{self.file}:{line}"


def format_path(path: DataPath) -> str:
    """`("spec", "targetRegions", 1, "name")` → `spec.targetRegions[1].name`."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(document)"


def find_files(root: Path) -> list[Path]:
    """Every *.yaml / *.yml under `root`, recursively, in a stable order; hidden directories are skipped."""
    files = [
        p
        for p in root.rglob("*")
        if p.suffix.lower() in YAML_SUFFIXES
        and p.is_file()
        and not any(part.startswith(".") for part in p.relative_to(root).parts)
    ]
    return sorted(files)


def display_name(root: Path, file: Path, root_label: str) -> str:
    """The file as the user would write it: the directory they passed plus the relative path."""
    rel = file.relative_to(root).as_posix()
    return rel if root_label in ("", ".") else f"{root_label.rstrip('/')}/{rel}"


def load_file(path: Path, label: str) -> tuple[list[RawDocument], list[SpecError]]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return [], [SpecError(label, 1, 1, "(file)", f"cannot read file: {exc}")]
    try:
        parsed = parse_documents(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        if exc.context_mark and "end of stream" in (exc.problem or ""):
            mark = exc.context_mark  # e.g. an unclosed quote: where it opened, not the end of the file
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        problem = exc.problem or exc.context or "invalid YAML"
        if exc.context and exc.problem:
            problem = f"{exc.context}: {exc.problem}"
        return [], [SpecError(label, line, col, "(yaml)", f"YAML syntax error: {problem}")]
    except yaml.YAMLError as exc:
        return [], [SpecError(label, 1, 1, "(yaml)", f"YAML error: {exc}")]
    docs: list[RawDocument] = []
    errors: list[SpecError] = []
    for p in parsed:
        doc = RawDocument(label, p.index, p.data, p.positions)
        for dup in p.duplicates:
            errors.append(
                SpecError(
                    label,
                    dup.mark[0],
                    dup.mark[1],
                    format_path(dup.path),
                    f"duplicate key (first set at line {dup.first[0]})",
                )
            )
        if p.data is None:
            continue  # an empty document, e.g. a trailing `---`
        docs.append(doc)
    return docs, errors


@contextmanager
def cyclic_gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while building large acyclic structures.

    Loading a large estate allocates millions of small objects, which triggers full collections over the
    whole heap (in `plan` or the controller, that includes the observed snapshot): seconds spent finding
    nothing. Reference counting still frees everything; the collector runs again afterwards."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def load_tree(root: Path, root_label: str | None = None) -> tuple[list[RawDocument], list[SpecError]]:
    """Parse every YAML file under `root`. `root_label` is how file names start in messages."""
    with cyclic_gc_paused():
        return _load_tree(root, root_label)


def _load_tree(root: Path, root_label: str | None) -> tuple[list[RawDocument], list[SpecError]]:
    label = str(root) if root_label is None else root_label
    if not root.exists():
        return [], [SpecError(label, 1, 1, "(directory)", "desired-state directory does not exist")]
    if root.is_file():
        return load_file(root, label)
    files = find_files(root)
    if not files:
        return [], [SpecError(label, 1, 1, "(directory)", "no *.yaml or *.yml files found")]
    docs: list[RawDocument] = []
    errors: list[SpecError] = []
    for file in files:
        d, e = load_file(file, display_name(root, file, label))
        docs += d
        errors += e
    return docs, errors
