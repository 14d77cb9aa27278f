"""`DesiredState`: the whole resolved estate plus the lookups the planner needs (pure, no I/O)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from functools import cached_property

from reconciler.spec.state import Gallery, HostPool, ImageBuild, ImageDefinition, ImageVersion, Settings


def newest_first(versions: list[ImageVersion]) -> list[ImageVersion]:
    return sorted(versions, key=lambda v: v.sort_key, reverse=True)


def retained_versions(versions: list[ImageVersion], keep_newest: int) -> list[ImageVersion]:
    """The `keep_newest` highest versions (semver order) — the ones retention leaves untouched.

    Only what validation needs to reject a pin that retention would delete; the planner owns retention
    decisions (end-of-life stamps, deletions, in-use protection).
    """
    return newest_first(versions)[:keep_newest]


@dataclass(frozen=True)
class DesiredState:
    settings: Settings
    galleries: tuple[Gallery, ...]
    image_definitions: tuple[ImageDefinition, ...]
    image_versions: tuple[ImageVersion, ...]
    image_builds: tuple[ImageBuild, ...]
    host_pools: tuple[HostPool, ...]
    files: tuple[str, ...] = ()
    # Acceptance verdicts by lower-cased version id ("passed", "failed", ...), set by the planner from the
    # versions' tags (planner.acceptance_plan.with_verdicts). None: unknown (validation), `latest` ignores
    # acceptance; a dict: `latest` of a definition that declares acceptance skips what it must.
    verdicts: dict[str, str] | None = field(default=None, compare=False, hash=False)

    # --- lookups -----------------------------------------------------------------------------------------
    def gallery(self, name: str) -> Gallery | None:
        return next((g for g in self.galleries if g.name == name), None)

    def image_build(self, name: str) -> ImageBuild | None:
        return next((b for b in self.image_builds if b.name == name), None)

    def host_pool(self, name: str) -> HostPool | None:
        return self._pools_by_name.get(name)

    @cached_property
    def _pools_by_name(self) -> dict[str, HostPool]:
        """The first pool of each name, as the scan it replaces found (each pool's plan looks up its gate)."""
        pools: dict[str, HostPool] = {}
        for p in self.host_pools:
            pools.setdefault(p.name, p)
        return pools

    def find_definitions(self, ref: str) -> list[ImageDefinition]:
        """Definitions matching `ref`: `gallery/definition` (exact) or a bare definition name (maybe many)."""
        if "/" in ref:
            return [d for d in self.image_definitions if d.key == ref]
        return [d for d in self.image_definitions if d.name == ref]

    def image_definition(self, ref: str) -> ImageDefinition | None:
        found = self.find_definitions(ref)
        return found[0] if len(found) == 1 else None

    # --- versions ----------------------------------------------------------------------------------------
    def versions_of(self, definition: ImageDefinition) -> list[ImageVersion]:
        """Declared versions of `definition`, lowest first by semantic version."""
        return list(self._versions_by_definition.get(definition, ()))

    @cached_property
    def _versions_by_definition(self) -> dict[ImageDefinition, tuple[ImageVersion, ...]]:
        """Versions grouped by their definition (hashed by identity), each group sorted: one pass instead of a
        scan of every version per lookup (the planner looks up each of 1,000s of definitions)."""
        groups: dict[ImageDefinition, list[ImageVersion]] = {}
        for version in self.image_versions:
            groups.setdefault(version.definition, []).append(version)
        return {key: tuple(sorted(group, key=lambda v: v.sort_key)) for key, group in groups.items()}

    def latest_version(
        self, definition: ImageDefinition, region: str | None = None, *, validation: bool = False
    ) -> ImageVersion | None:
        """What `latest` means: the highest declared version not excluded from latest.

        With `region`, only versions replicated to that region and not excluded there count (what a VM
        created in that region from the definition id would get). With verdicts known and acceptance
        declared, a version that failed acceptance never counts, and one not accepted yet counts only for a
        validation pool (which must run it to test it)."""
        acceptance = definition.spec.acceptance if self.verdicts is not None else None
        for version in newest_first(self.versions_of(definition)):
            if version.spec.exclude_from_latest:
                continue
            if region and not any(
                t.name == region and not t.exclude_from_latest for t in version.target_regions
            ):
                continue
            if acceptance is not None and acceptance.applies_to(version.name):
                verdict = self.verdicts.get(version.arm_id.lower())
                if verdict == "failed" or (not validation and verdict not in ("passed", "forced")):
                    continue
            return version
        return None

    def resolve_pin(self, pool: HostPool) -> ImageVersion | None:
        """The version new hosts of `pool` are built from (`latest` resolved in the pool's region)."""
        if pool.pinned == "latest":
            return self.latest_version(pool.definition, pool.location, validation=self.is_validation(pool))
        return next((v for v in self.versions_of(pool.definition) if v.name == pool.pinned), None)

    def is_validation(self, pool: HostPool) -> bool:
        """A validation pool: another pool's ring gate names it and it has no gate of its own (the first
        ring). Acceptance runs on its hosts; pools behind it are held until the version passed."""
        return pool.gate_after is None and pool.name in self._gate_targets

    @cached_property
    def _gate_targets(self) -> frozenset[str]:
        return frozenset(p.gate_after for p in self.host_pools if p.gate_after)

    def retained_versions(self, definition: ImageDefinition) -> list[ImageVersion]:
        return retained_versions(self.versions_of(definition), definition.spec.retention.keep_newest)

    def versions_built_by(self, build: ImageBuild) -> list[ImageVersion]:
        return [v for v in self.image_versions if v.build is build]

    # --- rings -------------------------------------------------------------------------------------------
    def ring_order(self) -> list[HostPool]:
        """Host pools in rollout order: a pool comes after the pool its `rollout.gate.after` names.

        Stable (by name within a ring); validation guarantees there is no cycle."""
        placed: list[HostPool] = []
        done: set[str] = set()
        remaining = sorted(self.host_pools, key=lambda p: p.name)
        while remaining:
            ready = [p for p in remaining if p.gate_after is None or p.gate_after in done]
            if not ready:  # only reachable with a cycle; keep going rather than loop forever
                ready = remaining[:1]
            for pool in ready:
                placed.append(pool)
                done.add(pool.name)
            remaining = [p for p in remaining if p.name not in done]
        return placed

    def rings(self) -> list[list[HostPool]]:
        """Pools grouped by depth in the gate graph: ring 0 has no gate, ring 1 waits for ring 0, …"""
        depth: dict[str, int] = {}
        for pool in self.ring_order():
            depth[pool.name] = depth[pool.gate_after] + 1 if pool.gate_after in depth else 0
        out: list[list[HostPool]] = [[] for _ in range(max(depth.values(), default=-1) + 1)]
        for pool in self.ring_order():
            out[depth[pool.name]].append(pool)
        return out

    def gated_by(self, pool: HostPool) -> list[HostPool]:
        """Pools whose gate names `pool`."""
        return [p for p in self.host_pools if p.gate_after == pool.name]

    # --- reporting ---------------------------------------------------------------------------------------
    def counts(self) -> dict[str, int]:
        kinds = Counter(
            {
                "Gallery": len(self.galleries),
                "ImageDefinition": len(self.image_definitions),
                "ImageVersion": len(self.image_versions),
                "ImageBuild": len(self.image_builds),
                "HostPool": len(self.host_pools),
            }
        )
        return {"Settings": 1 if self.settings.raw else 0, **kinds}

    def summary(self) -> str:
        parts = ", ".join(f"{n} {k}" for k, n in self.counts().items())
        return f"desired state OK: {len(self.files)} file(s): {parts}"
