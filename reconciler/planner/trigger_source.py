"""A build's source as the triggers see it: the version a release would pin, and when it was published.

A marketplace image reaches regions one after another. A release pins one source version for the build and
its replicas, so for a platform image on `latest` it takes the newest version listed in the build's region
*and* in every target region of the release (each listed by the observation, `marketplace_skus`); a newer one
that some region lacks yet is named (`ahead`, `lagging`) so that plan can say what the release waits for.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from reconciler.model.marketplace import MarketplaceSku, published_on, sku_key, version_order
from reconciler.spec.desired import DesiredState
from reconciler.spec.regions import normalise_region


@dataclass(frozen=True)
class Source:
    label: str  # publisher/offer/sku, or the definition key, or the version id
    newest: str | None  # resolved version (None: unknown)
    published: date | None
    floating: bool  # on `latest`: what the release must pin
    ahead: str | None = None  # a newer marketplace version some target region does not list yet
    lagging: tuple[str, ...] = ()  # those regions


def release_regions(build) -> list[str]:
    """The build's region first, then the release's target regions (each once)."""
    regions = [build.location]
    for region in build.spec.release.target_regions if build.spec.release else ():
        name = normalise_region(region.name)
        if name not in regions:
            regions.append(name)
    return regions


def marketplace_skus(desired: DesiredState) -> list[MarketplaceSku]:
    """The SKUs to list: each triggered build's platform source on `latest`, in the build's region and in each
    of its release's target regions."""
    out = []
    for build in desired.image_builds:
        p = build.spec.source.platform_image
        if build.spec.effective_triggers is None or p is None or p.version != "latest":
            continue
        for region in release_regions(build):
            out.append(MarketplaceSku(build.subscription_id, region, p.publisher, p.offer, p.sku))
    return out


def tagged_source_version(tag: str | None, label: str) -> str | None:
    """The version out of a SOURCE_TAG value, when it names the same source (a changed source is a recipe
    change, not a source update)."""
    if not tag or "/" not in tag:
        return None
    head, _, version = tag.rpartition("/")
    return version if head.lower() == label.lower() else None


def resolve_source(desired, observed, build, definition) -> Source:
    src = build.spec.source
    if src.platform_image is not None:
        return _platform(observed, build)
    if src.image_version_id is not None:
        head, _, version = src.image_version_id.rstrip("/").rpartition("/versions/")
        return Source(head, version, None, False)
    ref = src.image_version
    # As version_build.build_source resolves it: the same gallery as the definition the versions go into.
    name = ref.definition.split("/")[-1]
    definition_id = f"{definition.gallery.arm_id}/images/{name}"
    label = f"{definition.gallery.name}/{name}"
    if ref.version != "latest":
        return Source(label, ref.version, None, False)
    usable = [
        v
        for v in observed.versions_of(definition_id)
        if v.provisioning_state == "Succeeded" and not v.exclude_from_latest
    ]
    if not usable:
        return Source(label, None, None, True)
    best = max(usable, key=lambda v: version_order(v.name))
    published = best.published_date.date() if best.published_date else None
    return Source(label, best.name, published, True)


def _platform(observed, build) -> Source:
    p = build.spec.source.platform_image
    label = f"{p.publisher}/{p.offer}/{p.sku}"
    if p.version != "latest":
        return Source(label, p.version, published_on(p.version), False)
    regions = release_regions(build)
    lists = {}
    for region in regions:
        found = observed.marketplace.get(sku_key(region, p.publisher, p.offer, p.sku))
        if found is not None:  # a region not observed (an older observation) does not hold the release back
            lists[region] = set(found.versions)
    here = sorted(lists.get(build.location, ()), key=version_order)
    if not here:
        return Source(label, None, None, True)
    everywhere = [v for v in here if all(v in listed for listed in lists.values())]
    newest = everywhere[-1] if everywhere else None
    ahead, lagging = None, ()
    if here[-1] != newest:
        ahead = here[-1]
        lagging = tuple(r for r in regions if r in lists and ahead not in lists[r])
    return Source(label, newest, published_on(newest) if newest else None, True, ahead, lagging)
