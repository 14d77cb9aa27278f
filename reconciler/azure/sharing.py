"""One object per distinct value of what many observed resources repeat (hash-consing of REST JSON).

A large estate's snapshot repeats the same few values thousands of times: a pool's 50 VMs have equal tags,
size and image reference, a definition's versions equal target regions and safety profile, and every resource
names one of a few regions and states. Each page's JSON holds its own copies, and the snapshot keeps them
(reconciler.azure.convert_kept.essentials), so the large estate held ~40 MB of equal strings and dicts. Sharing them
is invisible to readers: the snapshot is read-only (its `raw` and `tags` are behind MappingProxyType, and
nothing writes into the dicts beneath), and every shared value equals the one it replaces, type included
(`1`, `1.0` and `true` are never merged: the fingerprint's JSON tells them apart).
"""

from __future__ import annotations

import dataclasses
from threading import Lock
from types import MappingProxyType
from typing import Any


class Sharing:
    """A bounded table of canonical values. Thread-safe enough: observe() converts pages in its workers, and
    the worst a race can do is keep two equal copies. Cleared when full (and by observe() when it is done),
    so a long-running controller never holds more than `limit` values beyond its snapshot."""

    def __init__(self, limit: int = 50_000):
        self.limit = limit
        self._canonical: dict[Any, Any] = {}
        self._lock = Lock()

    def __call__(self, value: Any) -> Any:
        """The canonical object equal to `value` (JSON: dicts, lists, strings, numbers, booleans, null);
        `value` itself when it is new or holds anything else."""
        return self._share(value)[0]

    def proxy(self, mapping: dict[str, Any]) -> MappingProxyType:
        """A read-only view of a shared dict, itself shared (the tags of a pool's 50 VMs: one view). The view
        keeps its dict alive, so the dict's id stays its own while the key exists."""
        return self._remember(("proxy", id(mapping)), lambda: MappingProxyType(mapping))

    def clear(self) -> None:
        with self._lock:
            self._canonical.clear()

    def __len__(self) -> int:
        return len(self._canonical)

    def _share(self, value: Any) -> tuple[Any, bool]:
        """(canonical value, whether it could be shared). A key names children by the id of their canonical
        object, which the table keeps alive (inside the canonical parent) for as long as the key exists."""
        kind = type(value)
        if kind is str:
            return self._remember(value, lambda: value), True
        if value is None or kind is bool:
            return value, True  # singletons already
        if kind is int:
            return self._remember((int, value), lambda: value), True
        if kind is float:  # by repr: -0.0 == 0.0, but the JSON differs
            return self._remember((float, repr(value)), lambda: value), True
        if kind is dict:
            items = [(k, *self._share(v)) for k, v in value.items()]
            if not all(ok and type(k) is str for k, _, ok in items):
                return value, False
            key = ("{", *(part for k, v, _ in items for part in (k, id(v))))
            return self._remember(key, lambda: _rebuilt_dict(value, items)), True
        if kind is list or kind is tuple:
            items = [self._share(v) for v in value]
            if not all(ok for _, ok in items):
                return value, False
            key = ("[" if kind is list else "(", *(id(v) for v, _ in items))
            return self._remember(key, lambda: _rebuilt_sequence(value, items)), True
        names = _frozen_fields(kind)
        if names:  # a frozen dataclass of shareable values (ObservedTargetRegion): equal by its fields
            items = [self._share(getattr(value, n)) for n in names]
            if not all(ok for _, ok in items):
                return value, False
            return self._remember((kind, *(id(v) for v, _ in items)), lambda: value), True
        return value, False

    def _remember(self, key: Any, make) -> Any:
        found = self._canonical.get(key)
        if found is not None:
            return found
        value = make()
        with self._lock:
            if len(self._canonical) >= self.limit:
                self._canonical.clear()
            return self._canonical.setdefault(key, value)


def _rebuilt_dict(value: dict, items: list) -> dict:
    """`value` itself when its children are already the canonical ones, else an equal dict of those (the
    input is never changed: it may be an SDK model's storage)."""
    if all(v is value[k] for k, v, _ in items):
        return value
    return {k: v for k, v, _ in items}


def _rebuilt_sequence(value: list | tuple, items: list) -> list | tuple:
    if all(v is old for (v, _), old in zip(items, value, strict=True)):
        return value
    return type(value)(v for v, _ in items)


_FIELDS: dict[type, tuple[str, ...]] = {}


def _frozen_fields(kind: type) -> tuple[str, ...]:
    """The field names of a frozen dataclass that compares by all of them (else ()), looked up once."""
    names = _FIELDS.get(kind)
    if names is None:
        params = getattr(kind, "__dataclass_params__", None)
        fields = dataclasses.fields(kind) if params is not None else ()
        ok = params is not None and params.frozen and all(f.compare and f.init for f in fields)
        names = _FIELDS[kind] = tuple(f.name for f in fields) if ok else ()
    return names
