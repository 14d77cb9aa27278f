"""YAML → plain Python data, remembering where every key and value came from.

PyYAML's composer gives nodes with start marks; we convert nodes ourselves (instead of `yaml.safe_load`) so
that each mapping key and each value keeps its `(line, col)` (1-based). Paths are tuples of mapping keys and
list indexes, e.g. `("spec", "targetRegions", 1, "name")`.

We also reject duplicate mapping keys, which PyYAML silently lets the last one win: in a desired state that
almost always hides a mistake.
"""

from __future__ import annotations

import re
import sys
from array import array
from dataclasses import dataclass
from typing import Any

import yaml

Path = tuple[str | int, ...]
Mark = tuple[int, int]


# Documents of one shape (most of them, in a large estate) share one `path -> slot` index, so a document
# keeps only its marks: ~8 bytes per positioned value instead of ~250 for dicts of tuples. Bounded so that
# a long-running controller re-reading edited files cannot grow it forever (clearing is safe: every
# Positions holds its own reference to its index).
_LAYOUTS: dict[tuple[Path, ...], dict[Path, int]] = {}
_MAX_LAYOUTS = 10_000
_NO_KEY = 0  # lines are 1-based, so 0 marks "no key" (the document root, list items)


class Positions:
    """Where each path of one document sits in its file: the `(line, col)` of its value and of its key."""

    __slots__ = ("_slots", "_marks")

    def __init__(self, slots: dict[Path, int] | None = None, marks: array | None = None):
        self._slots = {} if slots is None else slots
        self._marks = array("I") if marks is None else marks  # value line, value col, key line, key col

    @classmethod
    def from_recorded(cls, recorded: dict[Path, list[int]]) -> Positions:
        """`recorded`: path -> [value line, value col, key line, key col] (0, 0 when there is no key)."""
        layout = tuple(recorded)
        slots = _LAYOUTS.get(layout)
        if slots is None:
            if len(_LAYOUTS) >= _MAX_LAYOUTS:
                _LAYOUTS.clear()
            slots = _LAYOUTS[layout] = {path: i for i, path in enumerate(layout)}
        flat = [mark for four in recorded.values() for mark in four]
        # Two bytes a mark unless a line or column needs more (a document past line 65,535 of its file).
        return cls(slots, array("H" if max(flat, default=0) < 1 << 16 else "I", flat))

    def __contains__(self, path: Path) -> bool:
        return path in self._slots

    def value(self, path: Path) -> Mark | None:
        slot = self._slots.get(path)
        if slot is None:
            return None
        return self._marks[4 * slot], self._marks[4 * slot + 1]

    def key(self, path: Path) -> Mark | None:
        slot = self._slots.get(path)
        if slot is None or self._marks[4 * slot + 2] == _NO_KEY:
            return None
        return self._marks[4 * slot + 2], self._marks[4 * slot + 3]

    @property
    def values(self) -> dict[Path, Mark]:
        """Every value mark, as a new dict (for inspection; lookups should use `value`/`in`)."""
        return {path: self.value(path) for path in self._slots}  # type: ignore[misc]

    @property
    def keys(self) -> dict[Path, Mark]:
        """Every key mark, as a new dict."""
        return {path: mark for path in self._slots if (mark := self.key(path)) is not None}

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Positions):
            return NotImplemented
        return (self.values, self.keys) == (other.values, other.keys)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Positions({len(self._slots)} paths)"

    def nearest(self, path: Path) -> tuple[Path, Mark]:
        """The deepest recorded prefix of `path` and its value mark (the document root always exists)."""
        for cut in range(len(path), -1, -1):
            prefix = path[:cut]
            slot = self._slots.get(prefix)
            if slot is not None:
                return prefix, (self._marks[4 * slot], self._marks[4 * slot + 1])
        return (), (1, 1)


@dataclass
class DuplicateKey:
    path: Path
    mark: Mark
    first: Mark


def _mark(node: yaml.Node) -> Mark:
    return node.start_mark.line + 1, node.start_mark.column + 1


# Aliases are expanded while converting; a hostile "billion laughs" file or a self-referencing alias must end
# in an error, not in memory exhaustion or a RecursionError traceback.
MAX_NODES = 200_000
MAX_DEPTH = 100
_SHARED_MAX = 64  # longest value string worth sharing between documents
_PLAIN_TAGS = ("tag:yaml.org,2002:map", "tag:yaml.org,2002:seq")


class _MarksMayDiffer(Exception):
    """libyaml placed a node where PyYAML's marks may differ: parse this text with PyYAML instead."""


class _Converter:
    def __init__(self, loader: Any, *, guard_empty: bool = False):
        self.loader = loader
        # libyaml and PyYAML disagree on where an empty node sits (e.g. `{name: }`), so with libyaml any
        # empty scalar other than an empty document sends the file to PyYAML (rare: usually a mistake).
        self.guard_empty = guard_empty
        self.recorded: dict[Path, list[int]] = {}  # path -> [value line, value col, key line, key col]
        self.duplicates: list[DuplicateKey] = []
        self.nodes = 0

    def convert(self, node: yaml.Node, path: Path) -> Any:
        self.nodes += 1
        if self.nodes > MAX_NODES or len(path) > MAX_DEPTH:
            raise yaml.MarkedYAMLError(
                problem="document too large or too deeply nested (recursive alias?)",
                problem_mark=node.start_mark,
            )
        empty = self.guard_empty and isinstance(node, yaml.ScalarNode) and node.value == ""
        if empty and (path or node.style):  # an empty document (`---` alone) is skipped anyway
            raise _MarksMayDiffer
        start = node.start_mark
        entry = self.recorded.get(path)
        if entry is None:
            self.recorded[path] = [start.line + 1, start.column + 1, _NO_KEY, _NO_KEY]
        else:  # the key was recorded just before its value
            entry[0], entry[1] = start.line + 1, start.column + 1
        if isinstance(node, yaml.MappingNode | yaml.SequenceNode) and node.tag not in _PLAIN_TAGS:
            # Scalars go through SafeLoader's constructor (which refuses unsafe tags); collections are built
            # here, so refuse their custom tags ourselves instead of silently ignoring them.
            raise yaml.MarkedYAMLError(
                problem=f"unsupported YAML tag {node.tag!r}", problem_mark=node.start_mark
            )
        if isinstance(node, yaml.MappingNode):
            self.loader.flatten_mapping(node)  # resolves `<<` merge keys like SafeLoader does
            result: dict[Any, Any] = {}
            for key_node, value_node in node.value:
                if self.guard_empty and isinstance(key_node, yaml.ScalarNode) and key_node.value == "":
                    raise _MarksMayDiffer
                key = self.loader.construct_object(key_node, deep=True)
                if not isinstance(key, str | int | bool | float) or key is None:
                    key = str(key)
                if type(key) is str:
                    key = sys.intern(key)  # the same few keys in every document: one string each
                child = (*path, key)
                key_mark = _mark(key_node)
                if key in result:
                    first = self.recorded[child]
                    self.duplicates.append(DuplicateKey(child, key_mark, (first[2], first[3])))
                self.recorded[child] = [_NO_KEY, _NO_KEY, *key_mark]
                result[key] = self.convert(value_node, child)
            return result
        if isinstance(node, yaml.SequenceNode):
            return [self.convert(item, (*path, i)) for i, item in enumerate(node.value)]
        value = self.loader.construct_object(node, deep=True)
        if type(value) is str and len(value) <= _SHARED_MAX:
            # Short values repeat across documents (regions, SKUs, enums) and the validated models keep the
            # very string objects: sharing them saves ~10% of a large estate's memory.
            value = sys.intern(value)
        return value


@dataclass
class ParsedDocument:
    index: int
    data: Any
    positions: Positions
    duplicates: list[DuplicateKey]
    start: Mark


# libyaml's parser (when PyYAML was built with it) is ~10x faster than the pure-Python one and gives the same
# nodes and marks for ordinary YAML. Its error messages are worded differently, so on any error the
# pure-Python parser runs again over the same text and its error (or result) is the one returned: messages
# and positions stay the same whichever is installed. Errors are rare; valid files pay for one parse.
_C_LOADER = getattr(yaml, "CSafeLoader", None)


if _C_LOADER is not None:

    class _FastLoader(_C_LOADER):  # type: ignore[valid-type,misc]
        """libyaml's parser with implicit tags memoised per file: resolving a plain scalar's tag (regexes in
        Python) is most of what is left of parsing, and a file repeats the same keys and values."""

        def __init__(self, stream: str):
            super().__init__(stream)
            self._tags: dict[tuple[str, tuple[bool, bool]], str] = {}

        def resolve(self, kind, value, implicit):
            if kind is not yaml.ScalarNode or self.yaml_path_resolvers:
                return super().resolve(kind, value, implicit)
            key = (value, implicit)
            tag = self._tags.get(key)
            if tag is None:
                tag = self._tags[key] = super().resolve(kind, value, implicit)
            return tag

    _FAST_LOADER: type | None = _FastLoader
else:  # PyYAML built without libyaml
    _FAST_LOADER = None
# Where the two parsers are known to disagree (found by differential fuzzing), only the pure-Python one is
# used: tabs (libyaml accepts some PyYAML rejects), explicit `?` keys (marks of empty nodes), a block scalar
# header running into `#`, and a byte-order mark anywhere but the very start.
_ONLY_PURE_PYTHON = re.compile(r"[\t?\ufeff]|[|>][-+0-9]*#")


def parse_documents(text: str) -> list[ParsedDocument]:
    """Parse every document of a YAML stream. Raises `yaml.YAMLError` (with a mark) on a syntax error."""
    if _FAST_LOADER is not None and not _ONLY_PURE_PYTHON.search(text, 1 if text.startswith("\ufeff") else 0):
        try:
            return _parse_with(_FAST_LOADER, text)
        except Exception:  # any failure at all: the pure-Python parser decides, exactly as before
            pass
    return _parse_with(yaml.SafeLoader, text)


def _parse_with(loader_class: type, text: str) -> list[ParsedDocument]:
    loader = loader_class(text)
    docs: list[ParsedDocument] = []
    try:
        index = 0
        while loader.check_node():
            node = loader.get_node()
            if node is None:
                continue
            conv = _Converter(loader, guard_empty=loader_class is not yaml.SafeLoader)
            data = conv.convert(node, ())
            positions = Positions.from_recorded(conv.recorded)
            docs.append(ParsedDocument(index, data, positions, conv.duplicates, _mark(node)))
            index += 1
    finally:
        loader.dispose()
    return docs
