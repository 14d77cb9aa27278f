"""Host names can never outgrow the Windows computerName (15 characters): validate checks the prefix against the
whole index range the generator can reach (count + batch + failure budget), not a 2×count rule of thumb."""

from __future__ import annotations

import pytest

from reconciler.planner.host_names import next_name
from reconciler.spec import DesiredStateError, load_desired
from reconciler.spec.host_name_range import WINDOWS_COMPUTER_NAME_MAX, highest_reachable_index

from .helpers import BASE

POOL = """apiVersion: avd.reconciler.io/v1alpha1
kind: HostPool
metadata: {{name: hp-case}}
spec:
  image: {{definition: win11, version: latest}}
  sessionHosts:
    count: {count}
    vmSize: Standard_D4s_v5
    namePrefix: {prefix}
    subnetId: /subscriptions/11111111-1111-4111-8111-111111111111/resourceGroups/rg-net/providers/Microsoft.Network/virtualNetworks/vnet/subnets/avd
    localAdmin: {{password: {{keyVaultSecret: {{vaultName: kv-base, secretName: local-admin}}}}}}
    join: {{type: entra}}
  rollout: {{batchSize: {batch}, failureBudget: {budget}}}
"""


def load(tmp_path, **kw):
    root = tmp_path / "desired"
    root.mkdir(exist_ok=True)
    (root / "base.yaml").write_text(BASE.joinpath("base.yaml").read_text())
    (root / "case.yaml").write_text(POOL.format(**kw))
    return load_desired(root)


def name_errors(tmp_path, **kw) -> list[str]:
    try:
        load(tmp_path, **kw)
    except DesiredStateError as exc:
        return [str(e) for e in exc.errors if "namePrefix" in str(e)]
    return []


def test_prefix_that_fits_twice_count_but_not_batch_and_budget_is_refused_with_file_line_and_field(tmp_path):
    # count 5: the old 2×count rule allowed a 13-character prefix ("<13>-9" is 15). With batch 5 and 3 failed
    # hosts kept, the generator reaches index 13: "avdclinicalw1-13" is 16 characters, which Azure refuses.
    errors = name_errors(tmp_path, count=5, prefix="avdclinicalw1", batch=5, budget=3)
    assert len(errors) == 1
    where, field, message = errors[0].split(": ", 2)
    assert where.endswith("case.yaml:9:17")
    assert field == "spec.sessionHosts.namePrefix"
    assert "'avdclinicalw1-13' (16 characters)" in message
    assert "at most 12 for the prefix" in message


def test_same_prefix_is_accepted_when_the_reachable_range_stays_single_digit(tmp_path):
    assert name_errors(tmp_path, count=5, prefix="avdclinicalw1", batch=1, budget=0) == []


def test_percent_batch_counts_in_hosts(tmp_path):
    # 90 hosts, 20 % batch = 18 hosts, so the range reaches 108: three digits leave 11 for the prefix.
    assert name_errors(tmp_path, count=90, prefix="avdclinical", batch="20%", budget=0) == []
    refused = name_errors(tmp_path, count=90, prefix="avdclinical1", batch="20%", budget=0)
    assert refused and "'avdclinical1-108'" in refused[0]


@pytest.mark.parametrize(
    ("count", "batch", "budget"), [(1, 1, 0), (5, 5, 3), (9, 1, 0), (40, 10, 5), (90, 18, 0), (500, 50, 20)]
)
def test_generator_never_passes_the_highest_reachable_index(count, batch, budget):
    """Fill every name the policy can hold at once (count + surge + failed hosts kept): the next free name is at
    the bound, so a prefix validated against the bound can never produce a longer name."""
    highest = highest_reachable_index(count, batch, budget)
    prefix = "p" * (WINDOWS_COMPUTER_NAME_MAX - 1 - len(str(highest)))
    used: set[str] = set()
    for _ in range(count + batch + budget):
        used.add(next_name(prefix, used).lower())
    worst = next_name(prefix, used)
    assert worst == f"{prefix}-{highest}"
    assert len(worst) == WINDOWS_COMPUTER_NAME_MAX
    # Holes left by deleted hosts are refilled first, so churn never pushes the index higher.
    used.discard(f"{prefix}-0")
    assert next_name(prefix, used) == f"{prefix}-0"
