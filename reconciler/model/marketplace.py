"""Marketplace (platform) image versions, as observed: what `version: latest` resolves to for a build.

One entry per distinct location/publisher/offer/sku that a build with a `latest` platform source names. Azure
lists the versions with no publish date and sorts `$orderby=name` as strings, so versions are sorted here
numerically per dot-separated part, and the publish date is read from the Windows `<build>.<UBR>.<YYMMDD>`
suffix (the image's build date, the closest date Azure gives).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date


def version_order(version: str) -> tuple[int, ...]:
    """`26100.2605.241207` → (26100, 2605, 241207): compared as numbers, never as strings."""
    return tuple(int(p) if p.isdigit() else -1 for p in version.split("."))


def published_on(version: str) -> date | None:
    """The YYMMDD date suffix of a Windows marketplace version, or None when it has none."""
    tail = version.rsplit(".", 1)[-1]
    if len(tail) != 6 or not tail.isdigit():
        return None
    try:
        return date(2000 + int(tail[:2]), int(tail[2:4]), int(tail[4:]))
    except ValueError:
        return None


@dataclass(frozen=True)
class MarketplaceSku:
    """What to list: one SKU in one region (read through `subscription_id`, any that can read it)."""

    subscription_id: str
    location: str
    publisher: str
    offer: str
    sku: str

    @property
    def key(self) -> str:
        return sku_key(self.location, self.publisher, self.offer, self.sku)

    @property
    def label(self) -> str:
        return f"{self.publisher}/{self.offer}/{self.sku}"


def sku_key(location: str, publisher: str, offer: str, sku: str) -> str:
    return "/".join(p.lower().replace(" ", "") for p in (location, publisher, offer, sku))


@dataclass(frozen=True)
class MarketplaceVersions:
    """The versions of one SKU in one region, oldest first."""

    sku: MarketplaceSku
    versions: tuple[str, ...] = ()

    @property
    def key(self) -> str:
        return self.sku.key

    @property
    def newest(self) -> str | None:
        return self.versions[-1] if self.versions else None

    @classmethod
    def of(cls, sku: MarketplaceSku, names) -> MarketplaceVersions:
        return cls(sku, tuple(sorted(set(names), key=version_order)))
