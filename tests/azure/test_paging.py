"""observe() reads collections through the SDK clients' raw-request entry point (same pipeline, no models).
These tests hold that path to the SDK's typed pagers: same api-versions on the wire, same items, same data."""

from __future__ import annotations

import pytest
from azure.core.exceptions import ResourceNotFoundError

from reconciler.azure import convert, paging
from reconciler.azure.observe import POOLS, VMS


def test_raw_and_typed_pagers_read_the_same_items(sb, estate, conn):
    # The two reads must see the same moment: a session host's lastHeartBeat is "now" on every read, and
    # seeded user sessions end on the sandbox clock. Frozen, any difference is the reading path's own.
    sb.set_time_scale(0)  # the estate fixture restores the scale
    sub = sb.subscription_ids[0]
    compute, avd = conn.compute(sub), conn.desktop(sub)

    raw_vms = paging.list_all(compute, paging.subscription_collection(sub, VMS), paging.VM_API)
    typed_vms = [convert.rest_dict(m) for m in compute.virtual_machines.list_all()]
    assert [convert.vm(r) for r in raw_vms] == [convert.vm(r) for r in typed_vms]

    pools = paging.list_all(avd, paging.subscription_collection(sub, POOLS), paging.DESKTOP_API)
    assert [convert.host_pool(r) for r in pools] == [
        convert.host_pool(convert.rest_dict(m)) for m in avd.host_pools.list()
    ]
    rg, name = pools[0]["id"].split("/")[4], pools[0]["name"]
    raw_hosts = paging.list_all(avd, f"{pools[0]['id']}/sessionHosts", paging.DESKTOP_API)
    typed_hosts = [convert.rest_dict(m) for m in avd.session_hosts.list(rg, name)]
    assert len(raw_hosts) > 2  # paged (page size 2)

    assert list(map(_host, raw_hosts)) == list(map(_host, typed_hosts))  # heartbeats too, to the microsecond


def test_raw_reads_send_the_same_api_versions_as_the_sdk(sb, estate, conn):
    sub = sb.subscription_ids[0]
    compute, avd, aib = conn.compute(sub), conn.desktop(sub), conn.image_builder(sub)
    before = dict(sb.stats()["api_versions"])
    list(compute.galleries.list())
    list(compute.virtual_machines.list_all())
    list(avd.host_pools.list())
    list(aib.virtual_machine_image_templates.list())
    typed = _grown(before, sb.stats()["api_versions"])
    before = dict(sb.stats()["api_versions"])
    paging.list_all(
        compute, paging.subscription_collection(sub, "Microsoft.Compute/galleries"), paging.GALLERY_API
    )
    paging.list_all(compute, paging.subscription_collection(sub, VMS), paging.VM_API)
    paging.list_all(avd, paging.subscription_collection(sub, POOLS), paging.DESKTOP_API)
    paging.list_all(
        aib,
        paging.subscription_collection(sub, "Microsoft.VirtualMachineImages/imageTemplates"),
        paging.IMAGE_BUILDER_API,
    )
    assert _grown(before, sb.stats()["api_versions"]) == typed


def test_a_missing_collection_parent_raises_not_found(sb, estate, conn):
    sub = sb.subscription_ids[0]
    missing = f"/subscriptions/{sub}/resourceGroups/rg-test/providers/Microsoft.Compute/galleries/nope/images"
    with pytest.raises(ResourceNotFoundError):
        paging.list_all(conn.compute(sub), missing, paging.GALLERY_API)


def _host(raw):
    return convert.session_host(raw, {})


def _grown(before: dict, after: dict) -> dict:
    return {k: after[k] - before.get(k, 0) for k in after if after[k] != before.get(k, 0)}
