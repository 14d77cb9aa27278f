"""The resolved API the planner uses: ARM ids, origins, version ordering, pins, rings, windows."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from reconciler.spec import load_desired

from .helpers import SHIPPED

SUB1 = "11111111-1111-4111-8111-111111111111"
SUB2 = "22222222-2222-4222-8222-222222222222"


@pytest.fixture(scope="module")
def state():
    return load_desired(SHIPPED)


def test_arm_ids(state):
    definition = state.image_definition("win11-24h2-m365-clinical")
    version = state.versions_of(definition)[-1]
    assert version.arm_id == (
        f"/subscriptions/{SUB1}/resourceGroups/rg-avd-images-weu/providers/Microsoft.Compute/galleries/"
        "gal_avd_healthcare/images/win11-24h2-m365-clinical/versions/1.5.0"
    )
    assert state.image_build("corp-win11-monthly").arm_id.endswith(
        "/resourceGroups/rg-avd-images-weu/providers/Microsoft.VirtualMachineImages/imageTemplates/corp-win11-monthly"
    )
    pool = state.host_pool("hp-corp-validation")
    assert pool.arm_id == (
        f"/subscriptions/{SUB2}/resourceGroups/rg-avd-hostpools-dev/providers/"
        "Microsoft.DesktopVirtualization/hostPools/hp-corp-validation"
    )


def _line_of(path, text, nth=1):
    lines = [i for i, line in enumerate(path.read_text().splitlines(), start=1) if text in line]
    return lines[nth - 1]


def test_origin_names_file_and_line(state):
    pool = state.host_pool("hp-clinical-weu")
    pools = SHIPPED / "pools" / "clinical.yaml"
    assert pool.origin("spec.rollout.batchSize") == f"{pools}:{_line_of(pools, 'batchSize: 25%')}"
    assert (
        pool.origin("spec.rollout.maintenanceWindows[1].cron") == f"{pools}:{_line_of(pools, 'cron:', nth=2)}"
    )
    # a defaulted field falls back to the closest written ancestor
    assert pool.origin("spec.rollout.strategy") == pool.origin("spec.rollout")
    settings = SHIPPED / "settings.yaml"
    assert (
        state.settings.origin("spec.defaults.location")
        == f"{settings}:{_line_of(settings, 'location: West')}"
    )


def test_versions_sort_semantically_and_latest_skips_excluded(state):
    corp = state.image_definition("gal_avd_corporate/win11-24h2-corp")
    assert [v.name for v in state.versions_of(corp)] == ["2026.9.1", "2026.10.1", "2026.11.1"]
    assert state.latest_version(corp).name == "2026.11.1"
    assert [v.name for v in state.retained_versions(corp)] == ["2026.11.1", "2026.10.1", "2026.9.1"]


def test_pins_resolve(state):
    assert state.resolve_pin(state.host_pool("hp-corp-general")).name == "2026.10.1"
    assert state.resolve_pin(state.host_pool("hp-corp-validation")).name == "2026.11.1"
    assert state.resolve_pin(state.host_pool("hp-clinical-neu")).name == "1.5.0"


def test_effective_values(state):
    neu = state.host_pool("hp-clinical-neu")
    assert (neu.location, neu.resource_group, neu.subscription_id) == (
        "northeurope",
        "rg-avd-hostpools-neu",
        SUB1,
    )
    assert neu.tags["avd-reconciler-owner"] == "euc-platform" and neu.tags["costCenter"] == "CC-4711"
    version = state.versions_of(state.image_definition("win11-24h2-m365-clinical"))[0]
    assert [(t.name, t.replica_count, t.storage_account_type) for t in version.target_regions] == [
        ("westeurope", 2, "Standard_ZRS"),
        ("northeurope", 1, "Standard_ZRS"),
    ]
    assert version.build is state.image_build("clinical-win11-m365")


def test_ring_order_puts_gated_pools_after_their_gate(state):
    order = [p.name for p in state.ring_order()]
    assert (
        order.index("hp-clinical-validation")
        < order.index("hp-clinical-weu")
        < order.index("hp-clinical-neu")
    )
    assert order.index("hp-corp-validation") < order.index("hp-corp-general")
    rings = [[p.name for p in ring] for ring in state.rings()]
    assert rings == [
        ["hp-clinical-validation", "hp-corp-validation"],
        ["hp-clinical-weu", "hp-corp-general"],
        ["hp-clinical-neu"],
    ]
    assert [p.name for p in state.gated_by(state.host_pool("hp-clinical-weu"))] == ["hp-clinical-neu"]


@pytest.mark.parametrize(
    ("size", "pool_size", "hosts"), [(1, 10, 1), ("25%", 24, 6), ("20%", 3, 1), ("100%", 7, 7)]
)
def test_batch_hosts(size, pool_size, hosts):
    from reconciler.spec.models.host_pool import Rollout

    assert Rollout(batchSize=size).batch_hosts(pool_size) == hosts


@pytest.mark.parametrize(
    ("now", "open_"),
    [
        (datetime(2026, 11, 24, 21, 30, tzinfo=UTC), True),  # Tue 22:30 Amsterdam
        (datetime(2026, 11, 25, 3, 59, tzinfo=UTC), True),  # Wed 04:59 Amsterdam, still inside 7h
        (datetime(2026, 11, 25, 4, 0, tzinfo=UTC), False),  # 05:00: closed
        (datetime(2026, 11, 24, 20, 59, tzinfo=UTC), False),  # 21:59: not yet
        (datetime(2026, 11, 22, 21, 30, tzinfo=UTC), False),  # Sunday night is not a weeknight window
    ],
)
def test_maintenance_window_is_open(state, now, open_):
    window = state.host_pool("hp-clinical-weu").spec.rollout.maintenance_windows[0]
    assert window.is_open(now) is open_


def test_resolved_objects_are_read_only(state):
    pool = state.host_pool("hp-clinical-weu")
    with pytest.raises(Exception):  # noqa: B017 - dataclass FrozenInstanceError / pydantic ValidationError
        pool.name = "x"
    with pytest.raises(Exception):  # noqa: B017
        pool.spec.rollout.capacity_floor = 1
