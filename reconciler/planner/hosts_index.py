"""One pool's session hosts grouped the way `decide()` reads them, so a decision costs what is in motion.

Most hosts of a pool are *quiet*: established, Available and accepting, not retiring, failed or deleting.
decide() emits no step and no wait for a quiet host; it reads one only through its version (outdated or
not), its name, its session count (the replacement order) and the hosts that replace it. So the index keeps
quiet hosts grouped by version, each group sorted in replacement order, and every other host ("busy") in
pool order; decide() walks the busy few and only the parts of the groups it needs.

`HostIndex.of(hosts)` builds it in one pass (apply: one decision per cycle). The rollout simulation
(planner/timeline.py) keeps one index and updates it host by host (`put`, `drop`): a simulated cycle changes
one or two hosts of fifty, and the simulation runs hundreds of cycles per pool.

Hosts are ordered by a key: their position in `hosts` (`of`), or their name (the simulation, whose pool
order is by name). Quiet hosts have unique names, case-insensitively (`of` keeps any host whose name is
shared as busy), so every order decide() sorts by is the one it would get from the whole host list.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Iterator
from typing import Any

from reconciler.planner.host_inputs import HostView


def is_quiet(h: HostView) -> bool:
    return h.accepting_available and h.established and not h.retiring and not h.failed and not h.deleting


def quiet_order(h: HostView) -> tuple[int, str]:
    """decide's replacement order (`hosts_batch.replacement_order`) for a quiet host: its first term is 1."""
    return (len(h.sessions), h.name)


class HostIndex:
    def __init__(self) -> None:
        self.quiet: dict[str | None, list[HostView]] = {}  # version -> quiet hosts in quiet_order
        # version -> the quiet_order of each host of its group, position for position: a host is found or
        # placed by a bisect on these tuples, not by calling quiet_order on the hosts it passes.
        self._quiet_keys: dict[str | None, list[tuple[int, str]]] = {}
        self.quiet_by_name: dict[str, HostView] = {}  # to tell, on removal, which side a host is on
        self.quiet_count = 0
        self._busy: dict[Any, HostView] = {}  # order key -> host
        self.by_lower: dict[str, dict[Any, HostView]] = {}  # lower-cased name -> key -> host
        self.replacers: dict[str, dict[Any, HostView]] = {}  # lower-cased replaced name -> key -> host
        self.replaced: set[str] = set()  # lower-cased names of hosts present that something replaces
        self.size = 0
        self._busy_list: list[HostView] | None = None  # busy(), until the next change
        # quiet_outdated()'s (target, groups) until the quiet side changes (a cycle seldom changes it).
        self._outdated: tuple[str | None, list[list[HostView]]] | None = None

    @classmethod
    def of(cls, hosts: Iterable[HostView]) -> HostIndex:
        hosts = list(hosts)
        seen: dict[str, int] = {}
        for h in hosts:
            seen[h.name.lower()] = seen.get(h.name.lower(), 0) + 1
        index = cls()
        for i, h in enumerate(hosts):
            index._add(i, h, quiet=False, sorted_later=seen[h.name.lower()] == 1 and is_quiet(h))
        index._sort_quiet()
        return index

    @classmethod
    def by_name(cls, hosts: Iterable[HostView]) -> HostIndex:
        """The simulation's index, keyed by name (the names are unique, case-insensitively)."""
        index = cls()
        for h in hosts:
            index._add(h.name, h, quiet=False, sorted_later=is_quiet(h))
        index._sort_quiet()
        return index

    # -- the simulation's updates (keyed by name) ---------------------------------------------------------
    def put(self, h: HostView, old: HostView | None = None) -> None:
        """`h` is new, or replaces `old` (the same name)."""
        if old is not None:
            replaces = old.replaces
            if h.tags is old.tags or h.replaces == replaces:  # (most changes are not to the tags)
                self._swap(h.name, old, h, replaces)
                return
            self._remove(h.name, old)
        self._add(h.name, h, quiet=is_quiet(h))

    def drop(self, h: HostView) -> None:
        self._remove(h.name, h)

    # -- reads ------------------------------------------------------------------------------------------
    def busy(self) -> list[HostView]:
        """The hosts that are not quiet, in pool order (one list until the next change: read it, never edit it)."""
        if self._busy_list is None:
            busy = self._busy
            self._busy_list = list(busy.values()) if len(busy) < 2 else [busy[k] for k in sorted(busy)]
        return self._busy_list

    def hosts_named(self, lower: str) -> list[HostView]:
        found = self.by_lower.get(lower)
        if not found:
            return []
        return [found[k] for k in sorted(found)] if len(found) > 1 else list(found.values())

    def replacers_of(self, lower: str) -> list[HostView]:
        found = self.replacers.get(lower)
        if not found:
            return []
        return [found[k] for k in sorted(found)] if len(found) > 1 else list(found.values())

    def quiet_outdated(self, target: str | None) -> list[list[HostView]]:
        """The quiet groups on another version than `target` (read them, never edit them)."""
        cached = self._outdated
        if cached is not None and cached[0] == target:
            return cached[1]
        groups = [g for v, g in self.quiet.items() if v != target]
        self._outdated = (target, groups)
        return groups

    def quiet_hosts(self) -> Iterator[HostView]:
        for group in self.quiet.values():
            yield from group

    # -- upkeep -----------------------------------------------------------------------------------------
    def _add(self, key: Any, h: HostView, *, quiet: bool, sorted_later: bool = False) -> None:
        """`sorted_later`: a quiet host appended to its group, which `_sort_quiet` sorts."""
        self.size += 1
        self._busy_list = None
        lower = h.name.lower()
        self.by_lower.setdefault(lower, {})[key] = h
        if self.replacers.get(lower):
            self.replaced.add(lower)
        if h.replaces:
            replaced = h.replaces.lower()
            self.replacers.setdefault(replaced, {})[key] = h
            if replaced in self.by_lower:
                self.replaced.add(replaced)
        if sorted_later:
            self.quiet.setdefault(h.version, []).append(h)
            self.quiet_by_name[h.name] = h
            self.quiet_count += 1
        elif quiet:
            self._quiet_in(h)
        else:
            self._busy[key] = h

    def _swap(self, key: Any, old: HostView, h: HostView, replaces: str | None) -> None:
        """`_remove(old)` then `_add(h)` for a host whose name and replaced host stay: the name maps keep
        their entries (reads sort them by key, so where an entry sits does not matter), and only its side,
        quiet or busy, is redone. Most simulated changes are a tag or a state on one host."""
        self._busy_list = None
        self.by_lower[h.name.lower()][key] = h
        if replaces:
            self.replacers[replaces.lower()][key] = h
        was_quiet = self.quiet_by_name.get(old.name) is old
        quiet = is_quiet(h)
        if not was_quiet and not quiet:
            self._busy[key] = h  # busy stays busy (most changes): its entry is replaced where it is
            return
        if was_quiet:
            self._quiet_out(old)
        else:
            del self._busy[key]
        if quiet:
            self._quiet_in(h)
        else:
            self._busy[key] = h

    def _remove(self, key: Any, h: HostView) -> None:
        self.size -= 1
        self._busy_list = None
        lower = h.name.lower()
        named = self.by_lower[lower]
        del named[key]
        if not named:
            del self.by_lower[lower]
            self.replaced.discard(lower)
        if h.replaces:
            replaced = h.replaces.lower()
            found = self.replacers[replaced]
            del found[key]
            if not found:
                del self.replacers[replaced]
                self.replaced.discard(replaced)
        if self.quiet_by_name.get(h.name) is h:
            self._quiet_out(h)
        else:
            del self._busy[key]

    def _sort_quiet(self) -> None:
        """After `_add(..., sorted_later=True)` for every quiet host: each group sorted once."""
        for version, group in self.quiet.items():
            group.sort(key=quiet_order)
            self._quiet_keys[version] = [quiet_order(h) for h in group]

    def _quiet_in(self, h: HostView) -> None:
        self._outdated = None
        version = h.version
        order = quiet_order(h)
        keys = self._quiet_keys.get(version)
        if keys is None:
            self.quiet[version], self._quiet_keys[version] = [h], [order]
        else:
            at = bisect_right(keys, order)  # where insort would put it
            keys.insert(at, order)
            self.quiet[version].insert(at, h)
        self.quiet_by_name[h.name] = h
        self.quiet_count += 1

    def _quiet_out(self, h: HostView) -> None:
        self._outdated = None
        version = h.version
        keys, group = self._quiet_keys[version], self.quiet[version]
        at = bisect_left(keys, quiet_order(h))
        del keys[at], group[at]
        if not group:  # decide() reads the versions quiet hosts run: only those with hosts
            del self.quiet[version], self._quiet_keys[version]
        del self.quiet_by_name[h.name]
        self.quiet_count -= 1
