"""Synthetic estates for the sandbox: deterministic, REST-shaped, parents before children.

``generate("small" | "large", subscription_ids, now)`` yields resource dicts exactly as ARM GET returns them,
ready for ``Sandbox.seed`` / ``--estate``. ``converged=True`` (or the estate names ``small-converged`` /
``large-converged``) gives the same layout at rest: every VM runs its pool's newest version and every resource
carries the ownership tag, so a desired/ tree that mirrors it plans nothing (the idle-cycle benchmark). The same name, subscriptions and ``now`` always give the same
resources (a seeded ``random.Random``; no wall clock, no ``uuid4``).

Layout (why it looks like this):
- Galleries are spread round-robin over the subscriptions, each in a home region and replicating to its home
  plus the next two regions, so the A4 per-subscription gallery limits are respected in the large estate.
- A host pool sits in one of its image definition's three regions, and its VMs are built from the newest
  version of that definition (a share from the one before: a rollout in progress), so every VM's image is
  replicated in the VM's region, the invariant Azure enforces at VM creation.
- About 5 % of taggable resources lack the ownership tag ``managed-by: avd-reconciler`` (things someone made
  by hand). Session hosts and user sessions are ARM proxy resources: they have no tags and no location.
"""

from __future__ import annotations

import random
import uuid
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from reconciler.sandbox import estate_resources as build
from reconciler.sandbox import landing_zone

DEFAULT_SUBSCRIPTION_IDS = ("11111111-1111-4111-8111-111111111111", "22222222-2222-4222-8222-222222222222")
REGIONS = tuple(build.REGION_DISPLAY)
UNOWNED_SHARE = 0.05
# Weights for 0..4 user sessions on a host: mean about 1.5, like a pool in the afternoon.
SESSION_WEIGHTS = (25, 30, 25, 12, 8)
PREVIOUS_VERSION_SHARE = 0.2
_SUBSCRIPTION_NAMESPACE = uuid.UUID("6f1b7c2e-3d4a-4f5b-9c8d-7e6f5a4b3c2d")


@dataclass(frozen=True)
class EstateShape:
    subscriptions: int
    galleries: int
    definitions: int
    versions: int
    host_pools: int
    session_hosts: int


SHAPES = {
    "small": EstateShape(
        subscriptions=2, galleries=3, definitions=10, versions=40, host_pools=6, session_hosts=60
    ),
    "large": EstateShape(
        subscriptions=20, galleries=100, definitions=1000, versions=10000, host_pools=300, session_hosts=15000
    ),
}
CONVERGED_SUFFIX = "-converged"
ESTATE_NAMES = tuple(sorted([*SHAPES, *(f"{n}{CONVERGED_SUFFIX}" for n in SHAPES)]))


def estate_subscription_ids(name: str, subscription_ids: list[str] | None = None) -> list[str]:
    """The subscriptions an estate spans: the given ids first (default: the two sandbox defaults), then
    deterministic GUIDs until the shape's count is reached. The sandbox must list all of them."""
    shape = _shape(name)
    ids = list(subscription_ids or DEFAULT_SUBSCRIPTION_IDS)[: shape.subscriptions]
    n = 0
    while len(ids) < shape.subscriptions:
        candidate = str(uuid.uuid5(_SUBSCRIPTION_NAMESPACE, f"estate-subscription-{n}"))
        n += 1
        if candidate not in ids:
            ids.append(candidate)
    return ids


def generate(
    name: str, subscription_ids: list[str] | None, now: datetime, converged: bool = False
) -> Iterator[dict]:
    """Yield the estate's resources, every parent before its children. A converged estate draws the same
    random numbers as the plain one (same ids, sessions, names); it only ignores the draws that would put a VM
    on the previous version or leave a resource untagged."""
    shape = _shape(name)
    converged = converged or name.endswith(CONVERGED_SUFFIX)
    subs = estate_subscription_ids(name, subscription_ids)
    rng = random.Random(zlib.crc32(f"estate:{_base(name)}".encode()))
    owned = _owned_always if converged else _owned
    clock = _Clock(now)
    galleries = _layout_galleries(shape, subs)
    pools = _layout_pools(shape, subs, galleries)
    for sub, rg, location in _resource_groups(galleries, pools):
        yield build.resource_group(sub, rg, location, owned(rng))
    # The landing zone: the subnets the hosts' NICs use (Azure refuses a VM whose subnet does not exist) and the
    # vault of the hosts' local admin secret. No random draws, so the rest of the estate is unchanged.
    vault = f"/subscriptions/{subs[0]}/resourceGroups/rg-security/providers/Microsoft.KeyVault/vaults/kv-avd-estate"
    yield from landing_zone.build(
        subnets=sorted({(_subnet_of(p[0], p[3]), p[3]) for p in pools}),
        secrets=[(vault, "westeurope", "local-admin")],
    )
    versions_by_definition: dict[int, list[str]] = {}
    for resource in _gallery_trees(shape, galleries, rng, clock, versions_by_definition, owned):
        if converged and resource["type"] == "Microsoft.Compute/galleries":
            resource["properties"]["softDeletePolicy"] = {
                "isSoftDeleteEnabled": True
            }  # the reconciler's default
        yield resource
    previous_share = 0.0 if converged else PREVIOUS_VERSION_SHARE
    for p_index, pool in enumerate(pools):
        for resource in _pool_tree(
            shape, p_index, pool, versions_by_definition[pool[4]], rng, clock, owned, previous_share
        ):
            if converged and resource["type"] == "Microsoft.DesktopVirtualization/hostPools":
                resource["tags"].update(_rollout_done_tags(versions_by_definition[pool[4]][-1], clock))
            yield resource


def _rollout_done_tags(version_id: str, clock: _Clock) -> dict[str, str]:
    """The tags the reconciler leaves on a pool whose rollout finished (reconciler.model.tags, not imported:
    the sandbox depends on nothing of ours): the pinned version and when every host reached it."""
    return {
        "avd-reconciler-image-version": version_id.lower(),
        "avd-reconciler-rolled-out": f"{version_id.lower()}|{clock.days_ago(7)}",
    }


def _owned(rng: random.Random) -> bool:
    return rng.random() >= UNOWNED_SHARE


def _owned_always(rng: random.Random) -> bool:
    rng.random()  # the same draw as _owned, so the rest of the estate comes out identical
    return True


def _gallery_trees(
    shape: EstateShape,
    galleries: list,
    rng: random.Random,
    clock: _Clock,
    versions_out: dict[int, list[str]],
    owned: Callable[[random.Random], bool],
) -> Iterator[dict]:
    """Galleries, their definitions and versions; records each definition's version ids, oldest first."""
    for g_index, (sub, rg, gname, home, regions) in enumerate(galleries):
        gal = build.gallery(sub, rg, gname, home, owned(rng))
        yield gal
        for d_index in range(
            g_index, shape.definitions, shape.galleries
        ):  # definition d lives in gallery d % G
            dname = f"win11-avd-{d_index:04d}"
            definition = build.image_definition(
                gal["id"], dname, home, f"win11-24h2-{d_index:04d}", owned(rng)
            )
            yield definition
            count = shape.versions // shape.definitions + (d_index < shape.versions % shape.definitions)
            ids = versions_out.setdefault(d_index, [])
            for v in range(count):
                # The build's staging image, long gone (as after an Image Builder run).
                source = (
                    f"/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Compute/images/{dname}-{v}"
                )
                published = clock.days_ago(14 * (count - v))  # one version a fortnight
                version = build.image_version(
                    definition["id"], f"1.0.{v}", home, regions, source, published, False, owned(rng)
                )
                ids.append(version["id"])
                yield version


def _subnet_of(sub: str, region: str) -> str:
    return (
        f"/subscriptions/{sub}/resourceGroups/rg-network-{region}/providers/Microsoft.Network"
        f"/virtualNetworks/vnet-avd-{region}/subnets/snet-hosts"
    )


def _pool_tree(
    shape: EstateShape,
    p_index: int,
    layout: tuple,
    version_ids: list[str],
    rng: random.Random,
    clock: _Clock,
    owned: Callable[[random.Random], bool],
    previous_share: float,
) -> Iterator[dict]:
    """A host pool, its VMs and session hosts (newest version, some on the one before) and user sessions."""
    sub, rg, pname, region, _d_index = layout
    pool = build.host_pool(sub, rg, pname, region, version_ids[-1], _uuid(rng), owned(rng))
    yield pool
    subnet = _subnet_of(sub, region)
    hosts = shape.session_hosts // shape.host_pools + (p_index < shape.session_hosts % shape.host_pools)
    for h in range(hosts):
        use_previous = len(version_ids) > 1 and rng.random() < previous_share
        version_id = version_ids[-2] if use_previous else version_ids[-1]
        vm_name = f"avd{p_index:03d}-{h:03d}"
        vm = build.virtual_machine(
            sub, rg, vm_name, region, version_id, subnet, _uuid(rng), clock.days_ago(7 + h % 5), owned(rng)
        )
        yield vm
        sessions = rng.choices(range(len(SESSION_WEIGHTS)), SESSION_WEIGHTS)[0]
        heartbeat = clock.minutes_ago(rng.randrange(1, 5))
        host = build.session_host(pool["id"], pname, vm, sessions, _uuid(rng), heartbeat, clock.days_ago(7))
        yield host
        for number in range(1, sessions + 1):
            user = f"user{rng.randrange(100000):05d}"
            state = "Active" if rng.random() < 0.8 else "Disconnected"
            created = clock.minutes_ago(rng.randrange(5, 480))
            yield build.user_session(host, number, user, state, _uuid(rng), created)


def _base(name: str) -> str:
    return name.removesuffix(CONVERGED_SUFFIX)


def _shape(name: str) -> EstateShape:
    try:
        return SHAPES[_base(name)]
    except KeyError:
        raise ValueError(f"unknown estate {name!r}; known: {', '.join(ESTATE_NAMES)}") from None


def _layout_galleries(shape: EstateShape, subs: list[str]) -> list[tuple[str, str, str, str, list[str]]]:
    """(subscription, resource group, gallery name, home region, replication regions) per gallery."""
    layout = []
    for g in range(shape.galleries):
        home = REGIONS[g % len(REGIONS)]
        regions = [REGIONS[(g + k) % len(REGIONS)] for k in range(3)]
        layout.append((subs[g % len(subs)], f"rg-images-{home}", f"gal_{home}_{g:03d}", home, regions))
    return layout


def _layout_pools(
    shape: EstateShape, subs: list[str], galleries: list
) -> list[tuple[str, str, str, str, int]]:
    """(subscription, resource group, pool name, region, definition index) per host pool. Definition d lives
    in gallery d % galleries, so the pool's region is taken from that gallery's replication regions."""
    layout = []
    for p in range(shape.host_pools):
        d_index = (p * 7) % shape.definitions
        region = galleries[d_index % shape.galleries][4][p % 3]
        layout.append((subs[p % len(subs)], f"rg-avd-{region}", f"hp-{region}-{p:03d}", region, d_index))
    return layout


def _resource_groups(galleries: list, pools: list) -> list[tuple[str, str, str]]:
    seen: dict[tuple[str, str], str] = {}
    for sub, rg, _name, home, _regions in galleries:
        seen.setdefault((sub, rg), home)
    for sub, rg, _name, region, _d in pools:
        seen.setdefault((sub, rg), region)
    return [(sub, rg, location) for (sub, rg), location in seen.items()]


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


class _Clock:
    """ARM-style UTC timestamps relative to ``now``; cached because the large estate asks for few distinct
    values many thousand times."""

    def __init__(self, now: datetime) -> None:
        self._now = now.astimezone(UTC) if now.tzinfo else now.replace(tzinfo=UTC)
        self._cache: dict[tuple[str, int], str] = {}

    def _format(self, key: tuple[str, int], delta: timedelta) -> str:
        text = self._cache.get(key)
        if text is None:
            text = (self._now - delta).strftime("%Y-%m-%dT%H:%M:%SZ")
            self._cache[key] = text
        return text

    def days_ago(self, days: int) -> str:
        return self._format(("d", days), timedelta(days=days))

    def minutes_ago(self, minutes: int) -> str:
        return self._format(("m", minutes), timedelta(minutes=minutes))
