"""bench/observe_naive.py is plan_bench's counterfactual (one GET per item): it must read the same estate as
observe(), or the benchmark's ratios compare different work."""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

from observe_support import of_type

from reconciler.azure.observe import observe
from reconciler.model.observed import ObserveScope

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

from observe_naive import observe_naive  # noqa: E402 - bench/ is not a package; the benchmark imports it so too

VERSION = "Microsoft.Compute/galleries/images/versions"
HOST = "Microsoft.DesktopVirtualization/hostpools/sessionhosts"


def test_naive_reader_sees_the_same_estate_with_many_more_calls(sb, estate, conn):
    scope = ObserveScope.of(sb.subscription_ids)
    listed = observe(scope, conn)
    naive = observe_naive(scope, conn)

    for kind in ("galleries", "image_definitions", "image_versions", "host_pools"):
        assert dict(getattr(naive, kind)) == dict(getattr(listed, kind)), kind

    def still(hosts):
        return {k: replace(h, last_heartbeat=None) for k, h in hosts.items()}

    assert still(naive.session_hosts) == still(listed.session_hosts)
    assert naive.calls.gets == len(of_type(estate, VERSION)) + 2 * len(of_type(estate, HOST))
    # the same collection lists, except that VMs are read one by one instead of listed (and the naive reader
    # does not list resource groups)
    vm_pages = listed.calls.by_operation["list Microsoft.Compute/virtualMachines"]
    group_pages = listed.calls.by_operation["list resourcegroups"]
    assert naive.calls.pages == listed.calls.pages - vm_pages - group_pages
