"""Resolve typed documents into the `DesiredState` graph: Settings defaults, name references, duplicates.

Each step records an error instead of stopping, so one run reports everything. A reference to a document
that itself failed validation is not reported again (its own error already explains the problem).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from reconciler.spec.desired import DesiredState
from reconciler.spec.errors import SpecError
from reconciler.spec.loader import RawDocument, cyclic_gc_paused
from reconciler.spec.models.settings import SettingsSpec
from reconciler.spec.naming import GUID_PATTERN
from reconciler.spec.state import (
    EffectiveTargetRegion,
    Gallery,
    HostPool,
    ImageBuild,
    ImageDefinition,
    ImageVersion,
    Settings,
)
from reconciler.spec.suggest import did_you_mean
from reconciler.spec.validate import TypedDocument, Validated


@dataclass
class Resolver:
    validated: Validated
    errors: list[SpecError] = field(default_factory=list)

    def __post_init__(self) -> None:
        # Equal target regions (and tuples of them) are one object: 10,000 versions name a few dozen.
        self._region_of: dict[tuple, EffectiveTargetRegion] = {}
        self._regions: dict[tuple[int, ...], tuple[EffectiveTargetRegion, ...]] = {}
        self.by_kind: dict[str, list[TypedDocument]] = {}
        for doc in self.validated.documents:
            self.by_kind.setdefault(doc.kind, []).append(doc)

    def fail(self, raw: RawDocument, path: tuple, message: str, *, at_key: bool = False) -> None:
        self.errors.append(raw.error(path, message, at_key=at_key))

    def drop(self, kind: str, name: str) -> None:
        """Remember a document that could not be resolved, so references to it are not reported twice."""
        self.validated.broken_names.setdefault(kind, set()).add(name)

    def broken(self, kind: str, name: str) -> bool:
        return name in self.validated.broken_names.get(kind, set())

    # --- Settings ----------------------------------------------------------------------------------------
    def settings(self) -> Settings:
        docs = self.by_kind.get("Settings", [])
        for extra in docs[1:]:
            self.fail(
                extra.raw,
                ("kind",),
                f"only one Settings document is allowed (first: {docs[0].raw.origin(())})",
            )
        if not docs:
            return Settings(SettingsSpec())
        spec = docs[0].model.spec
        alias = spec.defaults.subscription
        if alias and not re.fullmatch(GUID_PATTERN, alias) and alias not in spec.subscriptions:
            known = ", ".join(sorted(spec.subscriptions)) or "none defined"
            self.fail(
                docs[0].raw,
                ("spec", "defaults", "subscription"),
                f"unknown subscription alias {alias!r}{did_you_mean(alias, spec.subscriptions)} (aliases: {known})",
            )
        return Settings(spec, docs[0].raw)

    def unique(self, kind: str, scope=lambda doc: "") -> list[TypedDocument]:
        """Documents of `kind`, dropping (and reporting) repeats of a name within its scope."""
        seen: dict[tuple[str, str], TypedDocument] = {}
        kept = []
        for doc in self.by_kind.get(kind, []):
            key = (scope(doc), doc.name)
            if key in seen:
                where = f" in {key[0]}" if key[0] else ""
                first = seen[key].raw.origin(("metadata", "name"))
                self.fail(
                    doc.raw, ("metadata", "name"), f"duplicate {kind} {doc.name!r}{where} (first: {first})"
                )
                continue
            seen[key] = doc
            kept.append(doc)
        return kept

    # --- placement: subscription, resource group, location -----------------------------------------------
    def placement(self, settings: Settings, doc: TypedDocument) -> tuple[str, str, str] | None:
        spec, defaults, ok = doc.model.spec, settings.spec.defaults, True
        sub = spec.subscription or defaults.subscription
        if sub is None:
            self.fail(
                doc.raw, ("spec", "subscription"), "no subscription: set it here or in Settings spec.defaults"
            )
            ok = False
        elif not re.fullmatch(GUID_PATTERN, sub):
            if sub not in settings.subscriptions:
                if spec.subscription:  # an unknown default alias is reported once, at Settings
                    known = ", ".join(sorted(settings.subscriptions)) or "none defined"
                    self.fail(
                        doc.raw,
                        ("spec", "subscription"),
                        f"unknown subscription alias {sub!r}{did_you_mean(sub, settings.subscriptions)} "
                        f"(Settings aliases: {known})",
                    )
                ok = False
            else:
                sub = settings.subscriptions[sub]
        rg = spec.resource_group or defaults.resource_group
        if rg is None:
            self.fail(
                doc.raw,
                ("spec", "resourceGroup"),
                "no resource group: set it here or in Settings spec.defaults",
            )
            ok = False
        location = spec.location or defaults.location
        if location is None:
            self.fail(doc.raw, ("spec", "location"), "no location: set it here or in Settings spec.defaults")
            ok = False
        return (sub, rg, location) if ok else None

    @staticmethod
    def tags(settings: Settings, own: dict[str, str]) -> dict[str, str]:
        name, value = settings.ownership_tag
        return {**settings.spec.defaults.tags, **own, name: value}

    # --- references --------------------------------------------------------------------------------------
    def definition(self, defs: list[ImageDefinition], doc: TypedDocument, path: tuple, ref: str):
        found = self._definition_index(defs).get(("/" in ref, ref), [])
        if len(found) == 1:
            return found[0]
        if len(found) > 1:
            keys = ", ".join(sorted(d.key for d in found))
            self.fail(
                doc.raw, path, f"ImageDefinition {ref!r} is ambiguous; write gallery/definition ({keys})"
            )
        elif not self.broken("ImageDefinition", ref.split("/")[-1]):
            names = [d.key if "/" in ref else d.name for d in defs]
            names += [d.name for d in self.by_kind.get("ImageDefinition", [])]
            self.fail(doc.raw, path, f"unknown ImageDefinition {ref!r}{did_you_mean(ref, names)}")
        return None

    def _definition_index(self, defs: list[ImageDefinition]) -> dict[tuple[bool, str], list[ImageDefinition]]:
        """(True, `gallery/definition`) and (False, bare name) -> definitions, in declaration order: one scan
        instead of one per reference (a large estate has 10,000s of references)."""
        cached = getattr(self, "_definitions_indexed", None)
        if cached is not None and cached[0] is defs and cached[1] == len(defs):
            return cached[2]
        index: dict[tuple[bool, str], list[ImageDefinition]] = {}
        for d in defs:
            index.setdefault((True, d.key), []).append(d)
            index.setdefault((False, d.name), []).append(d)
        self._definitions_indexed = (defs, len(defs), index)
        return index

    def _region(self, name: str, replicas: int, storage: str, exclude: bool) -> EffectiveTargetRegion:
        key = (name, type(replicas), replicas, storage, type(exclude), exclude)
        region = self._region_of.get(key)
        if region is None:
            region = self._region_of[key] = EffectiveTargetRegion(name, replicas, storage, exclude)
        return region

    # --- the whole graph ---------------------------------------------------------------------------------
    def resolve(self) -> DesiredState:
        with cyclic_gc_paused():  # builds 10,000s of objects in a large estate
            return self._resolve()

    def _resolve(self) -> DesiredState:
        settings = self.settings()
        galleries: dict[str, Gallery] = {}
        for doc in self.unique("Gallery"):
            placed = self.placement(settings, doc)
            if placed:
                galleries[doc.name] = Gallery(
                    doc.raw,
                    doc.name,
                    *placed,
                    tags=self.tags(settings, doc.model.spec.tags),
                    spec=doc.model.spec,
                )
        definitions: list[ImageDefinition] = []
        for doc in self.unique("ImageDefinition", scope=lambda d: d.model.spec.gallery):
            gallery = galleries.get(doc.model.spec.gallery)
            if gallery is None:
                if doc.model.spec.gallery not in {
                    d.name for d in self.by_kind.get("Gallery", [])
                } and not self.broken("Gallery", doc.model.spec.gallery):
                    wanted = doc.model.spec.gallery
                    hint = did_you_mean(wanted, [d.name for d in self.by_kind.get("Gallery", [])])
                    self.fail(doc.raw, ("spec", "gallery"), f"unknown Gallery {wanted!r}{hint}")
                self.drop("ImageDefinition", doc.name)
                continue
            tags = self.tags(settings, doc.model.spec.tags)
            definitions.append(ImageDefinition(doc.raw, doc.name, gallery, tags=tags, spec=doc.model.spec))
        builds: dict[str, ImageBuild] = {}
        for doc in self.unique("ImageBuild"):
            placed = self.placement(settings, doc)
            if placed:
                tags = self.tags(settings, doc.model.spec.tags)
                builds[doc.name] = ImageBuild(doc.raw, doc.name, *placed, tags=tags, spec=doc.model.spec)
        versions = self.versions(settings, definitions, builds)
        pools: list[HostPool] = []
        for doc in self.unique("HostPool"):
            placed = self.placement(settings, doc)
            definition = self.definition(
                definitions, doc, ("spec", "image", "definition"), doc.model.spec.image.definition
            )
            if placed and definition:
                tags = self.tags(settings, doc.model.spec.tags)
                pools.append(
                    HostPool(
                        doc.raw, doc.name, *placed, definition=definition, tags=tags, spec=doc.model.spec
                    )
                )
            else:
                self.drop("HostPool", doc.name)
        files = tuple(sorted({d.raw.file for d in self.validated.documents}))
        return DesiredState(
            settings,
            tuple(galleries.values()),
            tuple(definitions),
            tuple(versions),
            tuple(builds.values()),
            tuple(pools),
            files,
        )

    def versions(self, settings, definitions, builds) -> list[ImageVersion]:
        out: list[ImageVersion] = []
        seen: dict[str, ImageVersion] = {}
        known = {d.name for d in self.by_kind.get("ImageBuild", [])}
        for doc in self.by_kind.get("ImageVersion", []):
            spec = doc.model.spec
            definition = self.definition(definitions, doc, ("spec", "definition"), spec.definition)
            build = None
            if spec.source.build is not None:
                build = builds.get(spec.source.build)
                if (
                    build is None
                    and spec.source.build not in known
                    and not self.broken("ImageBuild", spec.source.build)
                ):
                    hint = did_you_mean(spec.source.build, known)
                    self.fail(
                        doc.raw,
                        ("spec", "source", "build"),
                        f"unknown ImageBuild {spec.source.build!r}{hint}",
                    )
            if definition is None:
                continue
            key = f"{definition.key}/{doc.name}"
            if key in seen:
                first = seen[key].origin("metadata.name")
                self.fail(
                    doc.raw,
                    ("metadata", "name"),
                    f"duplicate ImageVersion {doc.name!r} of {definition.key} (first: {first})",
                )
                continue
            regions = tuple(
                self._region(
                    t.name,
                    t.replica_count or spec.replica_count,
                    t.storage_account_type or spec.storage_account_type,
                    t.exclude_from_latest or spec.exclude_from_latest,
                )
                for t in spec.target_regions
            )
            regions = self._regions.setdefault(tuple(map(id, regions)), regions)
            tags = self.tags(settings, spec.tags)
            version = ImageVersion(doc.raw, doc.name, definition, build, regions, tags=tags, spec=spec)
            seen[key] = version
            out.append(version)
        return out
