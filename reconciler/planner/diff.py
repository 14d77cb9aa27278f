"""Compare one desired REST body with the observed resource and decide create / update / replace / adopt.

Only the fields the desired body sets are compared (the observed JSON is projected onto them), so fields Azure
adds never read as drift, and tags someone added by hand are left alone. Immutable fields are checked first:
a change to one becomes a replacement (when that is safe) or an error diagnostic — never an update Azure
would refuse with `PropertyChangeNotAllowed`.
"""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from types import MappingProxyType
from typing import Any

import jsonpatch

from reconciler.model.observed import normalize_region
from reconciler.model.plan import Action, Change, ChangeReason, Diagnostic, Severity, change_key, coded
from reconciler.planner.patches import members_patch

_DATE_KEYS = ("endOfLifeDate",)
_REGION_KEYS = ("location",)


def _norm_date(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return value
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return parsed.astimezone(dt.UTC).isoformat()


_MAPPINGS = (dict, MappingProxyType, Mapping)  # exact types first: isinstance stops at the first match
# Values of these exact types under any other key are their own normal form (no call needed).
_PLAIN = frozenset({str, int, float, bool, type(None)})
_SPECIAL_KEYS = frozenset(_REGION_KEYS + _DATE_KEYS)


def normalise(value: Any, key: str = "") -> Any:
    """Canonical form for comparison: short region names, UTC dates, target regions sorted by name."""
    if isinstance(value, _MAPPINGS):
        return {
            k: v if type(v) in _PLAIN and k not in _SPECIAL_KEYS else normalise(v, k)
            for k, v in value.items()
        }
    if isinstance(value, list):
        items = [v if type(v) in _PLAIN else normalise(v) for v in value]
        if key == "targetRegions":
            for item in items:
                if isinstance(item, dict) and "name" in item:
                    item["name"] = normalize_region(item["name"])
            items.sort(key=lambda r: r.get("name", "") if isinstance(r, dict) else "")
        return items
    return _normalise_scalar(value, key)


def _normalise_scalar(value: Any, key: str) -> Any:
    if key in _REGION_KEYS and isinstance(value, str):
        return normalize_region(value)
    if key in _DATE_KEYS:
        return _norm_date(value)
    return value


def normalised_projection(observed: Any, template: Any, key: str = "") -> Any:
    """`project(normalise(observed, key), template)`, normalising only the parts the projection keeps (an
    observed resource carries much more than the desired body sets: status, replication, timestamps)."""
    if isinstance(template, _MAPPINGS):
        if not isinstance(observed, _MAPPINGS):
            return normalise(observed, key)
        return {
            k: normalised_projection(observed[k], v, k)
            if type(v) not in _PLAIN
            else project_leaf(observed[k], k)
            for k, v in template.items()
            if k in observed
        }
    return project(normalise(observed, key), template)


def project_leaf(observed: Any, key: str) -> Any:
    """`normalised_projection` onto a template value that is a plain scalar (the usual case)."""
    if type(observed) in _PLAIN and key not in _SPECIAL_KEYS:
        return observed
    return normalise(observed, key)


def project(observed: Any, template: Any) -> Any:
    """`observed` restricted to the keys `template` has (recursively through mappings; lists compare whole,
    except lists of mappings which are projected item by item onto the template's first item's keys)."""
    if isinstance(template, Mapping):
        if not isinstance(observed, Mapping):
            return observed
        return {k: project(observed[k], v) for k, v in template.items() if k in observed}
    if (
        isinstance(template, list)
        and isinstance(observed, list)
        and template
        and isinstance(template[0], Mapping)
    ):
        keys: dict[str, Any] = {}
        for item in template:
            keys.update(item)
        return [project(item, keys) for item in observed]
    return observed


def without(body: Mapping[str, Any], pointers: Iterable[str]) -> dict[str, Any]:
    """A deep copy of `body` minus the JSON pointers given (missing ones are ignored)."""
    return _drop(copy.deepcopy(dict(body)), pointers)


def _drop(body: dict[str, Any], pointers: Iterable[str]) -> dict[str, Any]:
    """`body` minus the JSON pointers given (missing ones are ignored), in place."""
    for pointer in pointers:
        parts = pointer.strip("/").split("/")
        node: Any = body
        for part in parts[:-1]:
            node = node.get(part) if isinstance(node, dict) else None
            if node is None:
                break
        if isinstance(node, dict):
            node.pop(parts[-1], None)
    return body


class Comparison:
    """`before`: the observed resource projected onto the desired body, `after`: that body, both normalised;
    `patch` turns one into the other. The sides are built on first use: when the raw values already agree,
    the patch is known to be empty without them, and such a resource's sides are rarely shown (an adoption
    or a repair does)."""

    def __init__(self, sides: Callable[[], tuple[dict[str, Any], dict[str, Any]]], patch: list) -> None:
        self._sides = sides
        self.patch: list[dict[str, Any]] = patch

    @cached_property
    def _built(self) -> tuple[dict[str, Any], dict[str, Any]]:
        return self._sides()

    @property
    def before(self) -> dict[str, Any]:
        return self._built[0]

    @property
    def after(self) -> dict[str, Any]:
        return self._built[1]

    @property
    def changed_paths(self) -> list[str]:
        return sorted({op["path"] for op in self.patch})

    def touches(self, pointers: Iterable[str]) -> list[str]:
        if not self.patch:  # the common case: nothing changed, so nothing immutable did
            return []
        return sorted({p for p in pointers for op in self.patch if op["path"].startswith(p)})


def compare(
    observed_raw: Mapping[str, Any], desired_body: Mapping[str, Any], ignore: Iterable[str] = ()
) -> Comparison:
    ignore = tuple(ignore)
    if _agrees(observed_raw, desired_body, _skip_tree(ignore)):  # most resources of a converged estate

        def sides() -> tuple[dict[str, Any], dict[str, Any]]:
            return _normalised_sides(observed_raw, desired_body, ignore)

        return Comparison(sides, [])
    before, after = _normalised_sides(observed_raw, desired_body, ignore)
    if before == after:
        return Comparison(lambda: (before, after), [])
    patch = members_patch(before, after)  # the usual case (the projection has no member `after` lacks)
    if patch is None:
        patch = jsonpatch.make_patch(before, after).patch
    return Comparison(lambda: (before, after), sorted(patch, key=lambda op: (op["path"], op["op"])))


def _normalised_sides(
    observed_raw: Mapping[str, Any], desired_body: Mapping[str, Any], ignore: tuple[str, ...]
) -> tuple[dict[str, Any], dict[str, Any]]:
    # normalise() builds new containers, so the ignored fields can be dropped from its result in place:
    # the same as normalise(without(...)) without a deep copy of every body.
    after = _drop(normalise(desired_body), ignore)
    return normalised_projection(observed_raw, after), after


_KEEP: Mapping[str, Any] = MappingProxyType({})  # under a key no ignored pointer goes through


def _skip_tree(pointers: tuple[str, ...]) -> dict[str, Any]:
    """The pointers `_drop` removes, as nested dicts: None drops the key, a dict goes on into its value."""
    tree: dict[str, Any] = {}
    for pointer in pointers:
        *path, last = pointer.strip("/").split("/")
        node: dict[str, Any] | None = tree
        for part in path:
            node = node.setdefault(part, {})
            if node is None:  # a shorter pointer drops the whole of it
                break
        if node is not None:
            node[last] = None
    return tree


def _agrees(observed: Any, desired: Mapping[str, Any], skip: Mapping[str, Any]) -> bool:
    """True when every field of `desired` (but those `skip` drops) equals the observed one as it is, so the
    normalised sides compare equal too (normalising equal values gives equal values). Lists are not looked
    into (their items are projected and sorted): False means "not sure", and compare() diffs in full."""
    if not isinstance(observed, _MAPPINGS):
        return False
    for k, v in desired.items():
        sub = skip.get(k, _KEEP)
        if sub is None:
            continue
        if k not in observed:
            return False
        if type(v) in _PLAIN:
            if observed[k] != v:
                return False
        elif isinstance(v, _MAPPINGS):
            if not _agrees(observed[k], v, sub):
                return False
        else:
            return False
    return True


@dataclass
class Outcome:
    """What one resource's diff contributed."""

    changes: list[Change] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    # Ids (lower-cased) of resources kept with no change, which the deletion planner must leave alone (a
    # failed build's template: the evidence of why it is not run again).
    kept: set[str] = field(default_factory=set)


def diff_resource(
    *,
    kind: str,
    resource_id: str,
    body: Mapping[str, Any],
    observed: Any | None,
    owner_tag: tuple[str, str],
    origin: str,
    label: str,
    parents: Iterable[str] = (),
    immutable: Iterable[str] = (),
    ignore: Iterable[str] = (),
    replace_blocked: str | None = None,
) -> Outcome:
    """Create, adopt, update or replace one resource.

    `parents` are resource ids whose create/replace must come first. `immutable` are JSON pointers that
    cannot change in place; `replace_blocked` (a reason) turns an immutable change into an error instead of a
    replacement (e.g. the definition still has versions in use).
    """
    out = Outcome()
    deps = tuple(change_key(a, p) for p in parents for a in (Action.CREATE, Action.REPLACE))
    if observed is None:
        out.changes.append(
            Change(
                Action.CREATE,
                kind,
                resource_id,
                f"{origin}: {label} is declared but does not exist",
                after=normalise(dict(body)),
                depends_on=deps,
                reason_code=ChangeReason.MISSING,
            )
        )
        return out
    comparison = compare(observed.raw, body, ignore)

    def existing(action: Action, reason: str, code: str, **extra: Any) -> Change:
        """A change to the observed resource; its fingerprint is only hashed when a change needs it."""
        return Change(
            action,
            kind,
            resource_id,
            reason,
            before=comparison.before,
            after=comparison.after,
            patch=comparison.patch,
            depends_on=deps,
            fingerprint=observed.fingerprint,
            reason_code=code,
            **extra,
        )

    frozen = comparison.touches(immutable)
    if frozen:
        fields = ", ".join(p.rsplit("/", 1)[-1] for p in frozen)
        if replace_blocked:
            out.diagnostics.append(
                Diagnostic(
                    Severity.ERROR,
                    resource_id,
                    f"{label}: {fields} cannot change in place and it cannot be replaced: {replace_blocked}",
                    origin,
                )
            )
            return out
        out.changes.append(
            existing(
                Action.REPLACE,
                f"{origin}: {label}: {fields} cannot change in place, so it is deleted and created again",
                coded(ChangeReason.IMMUTABLE, *frozen),
                details={"immutable": [p.rsplit("/", 1)[-1] for p in frozen]},
            )
        )
        return out
    tag_name, tag_value = owner_tag
    if (observed.tags or {}).get(tag_name) != tag_value:
        out.changes.append(
            existing(
                Action.ADOPT,
                f"{origin}: {label} exists without the ownership tag {tag_name}={tag_value}; adopt it"
                + (f" and update {', '.join(comparison.changed_paths)}" if comparison.patch else ""),
                ChangeReason.UNOWNED,
            )
        )
        return out
    if comparison.patch:
        out.changes.append(
            existing(
                Action.UPDATE,
                f"{origin}: {label}: {', '.join(comparison.changed_paths)} "
                f"{'differs' if len(comparison.changed_paths) == 1 else 'differ'} from desired",
                coded(ChangeReason.DRIFT, *comparison.changed_paths),
            )
        )
    return out
