"""YAML → plain Python data, remembering where every key and value came from.

PyYAML's composer gives nodes with start marks; we convert nodes ourselves (instead of `yaml.safe_load`) so
that each mapping key and each value keeps its `(line, col)` (1-based). Paths are tuples of mapping keys and
list indexes, e.g. `("spec", "targetRegions", 1, "name")`.

We also reject duplicate mapping keys, which PyYAML silently lets the last one win: in a desired state that
almost always hides a mistake.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

Path = tuple[str | int, ...]
Mark = tuple[int, int]


@dataclass
class Positions:
    """Where each path of one document sits in its file."""

    values: dict[Path, Mark] = field(default_factory=dict)
    keys: dict[Path, Mark] = field(default_factory=dict)

    def value(self, path: Path) -> Mark | None:
        return self.values.get(path)

    def key(self, path: Path) -> Mark | None:
        return self.keys.get(path)

    def nearest(self, path: Path) -> tuple[Path, Mark]:
        """The deepest recorded prefix of `path` and its value mark (the document root always exists)."""
        for cut in range(len(path), -1, -1):
            prefix = path[:cut]
            if prefix in self.values:
                return prefix, self.values[prefix]
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
_PLAIN_TAGS = ("tag:yaml.org,2002:map", "tag:yaml.org,2002:seq")


class _Converter:
    def __init__(self, loader: yaml.SafeLoader):
        self.loader = loader
        self.positions = Positions()
        self.duplicates: list[DuplicateKey] = []
        self.nodes = 0

    def convert(self, node: yaml.Node, path: Path) -> Any:
        self.nodes += 1
        if self.nodes > MAX_NODES or len(path) > MAX_DEPTH:
            raise yaml.MarkedYAMLError(
                problem="document too large or too deeply nested (recursive alias?)",
                problem_mark=node.start_mark,
            )
        self.positions.values[path] = _mark(node)
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
                key = self.loader.construct_object(key_node, deep=True)
                if not isinstance(key, str | int | bool | float) or key is None:
                    key = str(key)
                child = (*path, key)
                if key in result:
                    self.duplicates.append(DuplicateKey(child, _mark(key_node), self.positions.keys[child]))
                self.positions.keys[child] = _mark(key_node)
                result[key] = self.convert(value_node, child)
            return result
        if isinstance(node, yaml.SequenceNode):
            return [self.convert(item, (*path, i)) for i, item in enumerate(node.value)]
        return self.loader.construct_object(node, deep=True)


@dataclass
class ParsedDocument:
    index: int
    data: Any
    positions: Positions
    duplicates: list[DuplicateKey]
    start: Mark


def parse_documents(text: str) -> list[ParsedDocument]:
    """Parse every document of a YAML stream. Raises `yaml.YAMLError` (with a mark) on a syntax error."""
    loader = yaml.SafeLoader(text)
    docs: list[ParsedDocument] = []
    try:
        index = 0
        while loader.check_node():
            node = loader.get_node()
            if node is None:
                continue
            conv = _Converter(loader)
            data = conv.convert(node, ())
            docs.append(ParsedDocument(index, data, conv.positions, conv.duplicates, _mark(node)))
            index += 1
    finally:
        loader.dispose()
    return docs
