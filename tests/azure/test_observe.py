"""observe() against the sandbox with the real SDK clients: what was seeded is what is observed, with the
fewest calls possible (one per collection page), and the snapshot's clock is the server's."""

from __future__ import annotations

from observe_support import PAGE_SIZE, of_type
from support.image_sources import managed_image

from reconciler.azure.floor import list_call_floor
from reconciler.azure.observe import observe
from reconciler.model.observed import ObserveScope, norm_id, normalize_region

DEFINITION = "Microsoft.Compute/galleries/images"
VERSION = "Microsoft.Compute/galleries/images/versions"
HOST = "Microsoft.DesktopVirtualization/hostpools/sessionhosts"
POOL = "Microsoft.DesktopVirtualization/hostPools"
VM = "Microsoft.Compute/virtualMachines"
SESSION = "Microsoft.DesktopVirtualization/hostpools/sessionhosts/usersessions"

KINDS = {
    "galleries": "Microsoft.Compute/galleries",
    "image_definitions": DEFINITION,
    "image_versions": VERSION,
    "host_pools": POOL,
    "session_hosts": HOST,
    "vms": VM,
}


def test_observation_matches_the_seeded_estate(sb, estate, conn):
    roll = norm_id(of_type(estate, POOL)[0]["id"])
    observed = observe(ObserveScope.of(sb.subscription_ids, roll_pools=[roll]), conn)

    for kind, rtype in KINDS.items():
        seeded = {norm_id(r["id"]): r for r in of_type(estate, rtype)}
        assert set(getattr(observed, kind)) == set(seeded), kind
        for key, item in getattr(observed, kind).items():
            assert item.name == seeded[key]["id"].rsplit("/", 1)[-1]  # last path segment, original casing

    in_pool = [s for s in of_type(estate, SESSION) if norm_id(s["id"]).startswith(roll + "/")]
    assert in_pool and set(observed.user_sessions) == {norm_id(s["id"]) for s in in_pool}

    for raw in of_type(estate, VERSION):
        version = observed.image_versions[norm_id(raw["id"])]
        targets = raw["properties"]["publishingProfile"]["targetRegions"]
        regions = [normalize_region(t["name"]) for t in targets]
        assert [t.name for t in version.target_regions] == regions
        assert all(version.is_replicated_to(r) for r in regions)
        assert version.replication is None  # no per-item GET for Succeeded versions

    vms = {norm_id(v["id"]): v for v in of_type(estate, VM)}
    for host in observed.session_hosts.values():
        image = vms[host.vm_id]["properties"]["storageProfile"]["imageReference"]
        assert host.image_version_id == norm_id(image["id"])
        assert observed.vm_of(host).vm_uuid == vms[host.vm_id]["properties"]["vmId"]
    assert observed.versions_in_use and observed.versions_in_use <= set(observed.image_versions)


def test_call_count_is_exactly_one_per_collection_page(sb, estate, conn):
    pools = [p["id"] for p in of_type(estate, POOL)[:2]]
    observed = observe(ObserveScope.of(sb.subscription_ids, roll_pools=pools), conn)

    floor = list_call_floor(estate, sb.subscription_ids, PAGE_SIZE, roll_pools=pools)
    assert floor["versions per definition"] > len(of_type(estate, DEFINITION))  # paging is exercised
    calls = observed.calls
    assert calls.total == calls.pages == floor["total"]
    assert calls.gets == 0 and calls.throttled == 0
    assert (
        calls.by_operation["list Microsoft.Compute/galleries/images/versions"]
        == floor["versions per definition"]
    )
    assert (
        calls.by_operation["list Microsoft.DesktopVirtualization/hostPools/userSessions"]
        == floor["user sessions per rolling pool"]
    )


def test_a_replicating_version_costs_one_targeted_get_and_reports_regions(sb, estate, conn):
    definition = of_type(estate, DEFINITION)[0]
    sub, rg, gallery, image = (definition["id"].split("/")[i] for i in (2, 4, 8, 10))
    source = f"/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Compute/images/src"
    sb.seed([managed_image(source, definition["location"])])  # a version's source must exist
    body = {
        "location": definition["location"],
        "properties": {
            "publishingProfile": {"targetRegions": [{"name": "West Europe"}, {"name": "North Europe"}]},
            "storageProfile": {"source": {"id": source}},
        },
    }
    # Replication takes 30 sandbox minutes at real speed: it is still in progress when we look.
    ops = conn.compute(sub).gallery_image_versions
    ops.begin_create_or_update(rg, gallery, image, "9.9.9", body, polling=False)
    observed = observe(ObserveScope.of(sb.subscription_ids), conn)

    version = observed.image_versions[norm_id(definition["id"]) + "/versions/9.9.9"]
    assert version.provisioning_state != "Succeeded"
    assert {r.region for r in version.replication} == {"westeurope", "northeurope"}
    assert not version.is_replicated_to("northeurope")
    assert observed.calls.gets == 1
    assert observed.calls.by_operation["get Microsoft.Compute/galleries/images/versions"] == 1
    floor = list_call_floor(estate, sb.subscription_ids, PAGE_SIZE)["total"]
    assert floor + 1 <= observed.calls.total <= floor + 2  # the new version may add one page to its list


def test_observed_at_is_the_sandbox_clock_not_this_machine(sb, estate, conn):
    sb.advance(365 * 86400)  # a year ahead of the wall clock
    observed = observe(ObserveScope.of(sb.subscription_ids), conn)
    assert abs((observed.observed_at - sb.now()).total_seconds()) < 60


def test_a_narrowed_scope_reads_only_the_children_it_wants(sb, estate, conn):
    gallery = of_type(estate, "Microsoft.Compute/galleries")[0]["id"]
    full = observe(ObserveScope.of(sb.subscription_ids), conn)
    narrow = observe(ObserveScope.of(sb.subscription_ids, galleries=[gallery.upper()], host_pools=[]), conn)

    assert set(narrow.galleries) == {norm_id(gallery)}
    assert {d.gallery_id for d in narrow.image_definitions.values()} == {norm_id(gallery)}
    assert not narrow.host_pools and not narrow.session_hosts
    skipped = full.calls.by_operation["list Microsoft.DesktopVirtualization/hostPools/sessionHosts"]
    assert narrow.calls.total < full.calls.total - skipped
