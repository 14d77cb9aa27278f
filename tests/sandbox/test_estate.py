"""The synthetic estate: counts, referential integrity, determinism, and that the real SDK models read it."""

from __future__ import annotations

import json
import re
from collections import Counter
from datetime import UTC, datetime

import pytest
from azure.mgmt.compute import models as compute_models
from azure.mgmt.desktopvirtualization import models as avd_models

from reconciler.sandbox.estate import DEFAULT_SUBSCRIPTION_IDS, SHAPES, estate_subscription_ids, generate

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
OWNER = ("managed-by", "avd-reconciler")

RG = "Microsoft.Resources/resourceGroups"
GALLERY = "Microsoft.Compute/galleries"
DEFINITION = "Microsoft.Compute/galleries/images"
VERSION = "Microsoft.Compute/galleries/images/versions"
POOL = "Microsoft.DesktopVirtualization/hostPools"
VM = "Microsoft.Compute/virtualMachines"
HOST = "Microsoft.DesktopVirtualization/hostPools/sessionHosts"
SESSION = "Microsoft.DesktopVirtualization/hostPools/sessionHosts/userSessions"


@pytest.fixture(scope="module")
def small() -> list[dict]:
    return list(generate("small", None, NOW))


@pytest.fixture(scope="module")
def large() -> list[dict]:
    return list(generate("large", None, NOW))


def by_type(resources: list[dict]) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for r in resources:
        out.setdefault(r["type"], []).append(r)
    return out


def region_key(name: str) -> str:
    return name.replace(" ", "").lower()


@pytest.mark.parametrize("name", ["small", "large"])
def test_counts_match_the_shape(name, request):
    resources = request.getfixturevalue(name)
    shape = SHAPES[name]
    counts = Counter(r["type"] for r in resources)
    assert counts[GALLERY] == shape.galleries
    assert counts[DEFINITION] == shape.definitions
    assert counts[VERSION] == shape.versions
    assert counts[POOL] == shape.host_pools
    assert counts[HOST] == shape.session_hosts
    assert counts[VM] == shape.session_hosts
    # About 1.5 user sessions per host on average.
    assert 1.0 * shape.session_hosts < counts[SESSION] < 2.0 * shape.session_hosts
    subs = {r["id"].split("/")[2] for r in resources}
    assert len(subs) == shape.subscriptions


def test_large_estate_spans_twenty_subscriptions_starting_with_the_defaults(large):
    ids = estate_subscription_ids("large")
    assert len(ids) == 20 == len(set(ids))
    assert ids[:2] == list(DEFAULT_SUBSCRIPTION_IDS)
    assert {r["id"].split("/")[2] for r in large} == set(ids)
    # A4: at most 100 galleries, 1,000 definitions and 10,000 versions per subscription.
    per_sub = Counter((r["id"].split("/")[2], r["type"]) for r in large)
    assert max(n for (_, t), n in per_sub.items() if t == VERSION) <= 10_000


def test_given_subscriptions_come_first_and_are_topped_up_deterministically():
    given = ["33333333-3333-4333-8333-333333333333"]
    ids = estate_subscription_ids("small", given)
    assert ids[0] == given[0] and len(ids) == 2
    assert ids == estate_subscription_ids("small", given)
    subs = {r["id"].split("/")[2] for r in generate("small", given, NOW)}
    assert subs == set(ids)


def test_unknown_estate_is_a_clear_error():
    with pytest.raises(
        ValueError, match="unknown estate 'huge'; known: large, large-converged, small, small-converged"
    ):
        list(generate("huge", None, NOW))


@pytest.mark.parametrize("name", ["small", "large"])
def test_ids_are_unique_and_every_parent_comes_first(name, request):
    resources = request.getfixturevalue(name)
    seen: set[str] = set()
    for r in resources:
        key = r["id"].lower()
        assert key not in seen, r["id"]
        parts = r["id"].split("/")
        if r["type"] == RG:
            assert len(parts) == 5
        elif "/providers/" in r["id"]:
            rg_id = "/".join(parts[:5]).lower()
            assert rg_id in seen, f"{r['id']} before its resource group"
            depth = r["type"].count("/")
            if depth > 1:  # a child: its parent id is ours minus the last type/name pair
                parent = "/".join(parts[:-2]).lower()
                assert parent in seen, f"{r['id']} before its parent"
        seen.add(key)


@pytest.mark.parametrize("name", ["small", "large"])
def test_every_vm_image_exists_and_is_replicated_in_the_vm_region(name, request):
    groups = by_type(request.getfixturevalue(name))
    versions = {v["id"].lower(): v for v in groups[VERSION]}
    for vm in groups[VM]:
        image = vm["properties"]["storageProfile"]["imageReference"]["id"]
        version = versions[image.lower()]
        regions = {region_key(t["name"]) for t in version["properties"]["publishingProfile"]["targetRegions"]}
        assert vm["location"] in regions, (vm["id"], regions)
        assert version["properties"]["provisioningState"] == "Succeeded"
        os_disk = vm["properties"]["storageProfile"]["osDisk"]
        assert os_disk["deleteOption"] == "Delete"
        nics = vm["properties"]["networkProfile"]["networkInterfaceConfigurations"]
        assert nics and all(n["properties"]["deleteOption"] == "Delete" for n in nics)
        created = vm["properties"]["networkProfile"]["networkInterfaces"]
        assert [n["id"].rsplit("/", 1)[-1] for n in created] == [f"{vm['name']}-{n['name']}" for n in nics]


@pytest.mark.parametrize("name", ["small", "large"])
def test_every_session_host_points_at_its_vm_and_counts_its_sessions(name, request):
    groups = by_type(request.getfixturevalue(name))
    vms = {vm["id"].lower(): vm for vm in groups[VM]}
    pools = {p["id"].lower(): p for p in groups[POOL]}
    sessions = Counter("/".join(s["id"].split("/")[:-2]).lower() for s in groups[SESSION])
    for host in groups[HOST]:
        vm = vms[host["properties"]["resourceId"].lower()]
        pool = pools["/".join(host["id"].split("/")[:-2]).lower()]
        assert vm["location"] == pool["location"]
        assert host["properties"]["virtualMachineId"] == vm["properties"]["vmId"]
        assert host["name"].split("/")[-1] == f"{vm['properties']['osProfile']['computerName']}.contoso.local"
        assert host["properties"]["sessions"] == sessions[host["id"].lower()]
        assert host["properties"]["status"] == "Available" and host["properties"]["allowNewSession"] is True
        assert "tags" not in host and "location" not in host  # proxy resources


def test_names_follow_the_azure_rules(large):
    groups = by_type(large)
    gallery_name = re.compile(r"^[^_\W][\w.]{0,79}(?<![-.])$")
    assert all(gallery_name.match(g["name"]) for g in groups[GALLERY])
    assert all(re.fullmatch(r"\d+\.\d+\.\d+", v["name"]) for v in groups[VERSION])
    assert all(len(vm["properties"]["osProfile"]["computerName"]) <= 15 for vm in groups[VM])
    assert all(3 <= len(h["name"].split("/")[-1]) <= 48 for h in groups[HOST])
    assert all(re.fullmatch(r"\d{1,24}", s["name"].split("/")[-1]) for s in groups[SESSION])


def test_most_taggable_resources_are_owned_but_not_all(large):
    taggable = [r for r in large if "tags" in r]
    owned = sum(1 for r in taggable if r["tags"].get(OWNER[0]) == OWNER[1])
    assert 0.9 < owned / len(taggable) < 0.99


def test_generation_is_deterministic_and_now_only_moves_timestamps(small):
    assert json.dumps(list(generate("small", None, NOW))) == json.dumps(small)
    later = list(generate("small", None, datetime(2027, 1, 1, tzinfo=UTC)))
    assert [r["id"] for r in later] == [r["id"] for r in small]
    assert later != small


def test_no_two_resources_share_a_mutable_sub_dict(small):
    # The sandbox mutates stored dicts in place; a shared tags/properties dict would leak one PATCH into many.
    seen: dict[int, str] = {}

    def walk(node, owner):
        if isinstance(node, dict | list):
            assert seen.setdefault(id(node), owner) == owner, f"shared between {seen[id(node)]} and {owner}"
            for child in node.values() if isinstance(node, dict) else node:
                walk(child, owner)

    for r in small:
        walk(r, r["id"])


def test_the_real_sdk_models_read_the_generated_resources(small):
    groups = by_type(small)
    version = compute_models.GalleryImageVersion(groups[VERSION][0])
    assert version.properties.publishing_profile.target_regions[0].regional_replica_count >= 1
    assert version.properties.provisioning_state == "Succeeded"
    definition = compute_models.GalleryImage(groups[DEFINITION][0])
    assert definition.properties.identifier.publisher == "contoso"
    vm = compute_models.VirtualMachine(groups[VM][0])
    assert vm.properties.storage_profile.image_reference.id in {v["id"] for v in groups[VERSION]}
    nic = vm.properties.network_profile.network_interface_configurations[0]
    assert nic.properties.delete_option == "Delete"
    pool = avd_models.HostPool.deserialize(groups[POOL][0])
    assert pool.host_pool_type == "Pooled" and pool.load_balancer_type == "BreadthFirst"
    host = avd_models.SessionHost.deserialize(groups[HOST][0])
    assert host.allow_new_session is True and host.status == "Available"
    assert host.resource_id == groups[VM][0]["id"]
    session = avd_models.UserSession.deserialize(groups[SESSION][0])
    assert session.session_state in ("Active", "Disconnected")
    assert session.user_principal_name.endswith("@contoso.com")


def test_small_estate_seeds_into_the_sandbox_and_reads_back_through_the_sdk(sb, clients):
    """The sandbox accepts the estate as is, lists it with the real SDK, and agrees that the estate's VMs'
    images are replicated where they run: a new VM from the same version in the same region is accepted."""
    sb.configure(session_mean_seconds=0)  # keep the seeded users signed in (time runs 100,000x here)
    resources = list(generate("small", sb.subscription_ids, sb.now()))
    assert sb.seed(resources) == len(resources)
    mine = [r for r in resources if r["id"].split("/")[2] == clients.sub]
    groups = by_type(mine)
    compute, avd = clients.compute, clients.avd
    assert sorted(g.name for g in compute.galleries.list()) == sorted(g["name"] for g in groups[GALLERY])
    assert sorted(p.name for p in avd.host_pools.list()) == sorted(p["name"] for p in groups[POOL])
    assert len(list(compute.virtual_machines.list_all())) == len(groups[VM])
    pool = groups[POOL][0]
    hosts = list(avd.session_hosts.list(pool["id"].split("/")[4], pool["name"]))
    assert hosts and all(h.status == "Available" for h in hosts)
    expected = sum(
        1 for s in mine if s["type"] == SESSION and s["id"].lower().startswith(pool["id"].lower() + "/")
    )
    assert sum(h.sessions for h in hosts) == expected > 0
    vm = next(v for v in groups[VM] if v["location"] == pool["location"])
    body = {
        "location": vm["location"],
        "properties": {
            "hardwareProfile": vm["properties"]["hardwareProfile"],
            "storageProfile": {
                "imageReference": {"id": vm["properties"]["storageProfile"]["imageReference"]["id"]},
                "osDisk": {"createOption": "FromImage", "deleteOption": "Delete"},
            },
            "osProfile": {
                "computerName": "avdnew",
                "adminUsername": "avdadmin",
                "adminPassword": "S3cret!pass",
            },
            "networkProfile": {
                "networkApiVersion": "2022-11-01",
                "networkInterfaceConfigurations": vm["properties"]["networkProfile"][
                    "networkInterfaceConfigurations"
                ],
            },
        },
    }
    created = compute.virtual_machines.begin_create_or_update(vm["id"].split("/")[4], "avdnew", body).result()
    assert (
        created.properties.storage_profile.image_reference.exact_version
        == vm["properties"]["storageProfile"]["imageReference"]["exactVersion"]
    )


LANDING = re.compile(r"/resourceGroups/rg-(network-[a-z0-9]+|security)(/|$)", re.IGNORECASE)


@pytest.mark.parametrize("name", ["small", "large"])
def test_converged_estate_is_the_same_estate_at_rest(name, request):
    """Same ids and layout; every VM on its pool's newest version, everything owned, and the tags and gallery
    settings the reconciler leaves behind, so a mirroring desired/ tree plans nothing."""
    plain = request.getfixturevalue(name)
    converged = list(generate(f"{name}-converged", None, NOW))
    assert [r["id"] for r in converged] == [r["id"] for r in plain]
    assert converged == list(generate(name, None, NOW, converged=True))
    groups = by_type(converged)
    newest: dict[str, str] = {}
    for v in groups[VERSION]:
        definition = v["id"].rsplit("/", 2)[0].lower()
        if definition not in newest or int(v["name"].split(".")[-1]) > int(newest[definition].split(".")[-1]):
            newest[definition] = v["id"]
    vms = {vm["id"]: vm for vm in groups[VM]}
    previous_in_plain = 0
    plain_vms = {vm["id"]: vm for vm in by_type(plain)[VM]}
    for pool in groups[POOL]:
        pinned = pool["tags"]["avd-reconciler-image-version"]
        assert pinned in {v.lower() for v in newest.values()}
        assert pool["tags"]["avd-reconciler-rolled-out"].startswith(pinned + "|")
        for host in groups[HOST]:
            if host["id"].startswith(pool["id"] + "/"):
                vm_id = host["properties"]["resourceId"]
                assert vms[vm_id]["properties"]["storageProfile"]["imageReference"]["id"].lower() == pinned
                assert host["properties"]["status"] == "Available"
                image = plain_vms[vm_id]["properties"]["storageProfile"]["imageReference"]["id"].lower()
                previous_in_plain += image != pinned
    assert previous_in_plain > 0  # the plain estate is mid-rollout; the converged one is not
    # The landing zone (network, vault) is the platform team's, never tagged as ours.
    taggable = [r for r in converged if r["type"] not in (HOST, SESSION) and not LANDING.search(r["id"])]
    assert all(r["tags"].get(OWNER[0]) == OWNER[1] for r in taggable)
    assert all(g["properties"]["softDeletePolicy"] == {"isSoftDeleteEnabled": True} for g in groups[GALLERY])
