"""Polling follows the service: while a version replicates, `reconcile apply` checks its operation at the
`Retry-After` the operation-status answer gives (clamped to [5 s, 30 min] of server time), one read per check,
and reads the version's per-region replication only once the operation ends (or at the slow progress cadence).

One version replicating to 2 regions for 30 sandbox minutes costs at most 12 reads. Before, each check read
both the operation and the version (`$expand=ReplicationStatus`), every eighth of the elapsed time from 5 s to
1 min: 72 reads here. The count is in sandbox time, so a loaded machine only means fewer checks, never more.
"""

from __future__ import annotations

from collections import Counter

from support.cli import apply_json
from support.image_estate import DEFINITION, GALLERY, RG, SETTINGS, SOURCE, version
from support.sandbox import time_scale

REPLICATION_SECONDS = 1800.0
SCALE = 1000  # 30 sandbox minutes are 1.8 s of wall time; the 5 s floor is 5 ms, so extra checks would show
REGIONS = ("westeurope", "northeurope")


def _gets(before: dict, after: dict) -> Counter:
    """Single-resource GETs between two stats snapshots (observation's list pages are not per version)."""
    got = Counter()
    for key, n in after["requests"].items():
        if key.startswith("GET ") and not key.endswith(" list") and key != "GET subscriptions":
            got[key] = n - before["requests"].get(key, 0)
    return +got


def test_one_version_replicating_30_minutes_to_2_regions_costs_at_most_12_reads(cli_env, tmp_path):
    sb = cli_env
    sb.seed([{"id": RG, "location": "westeurope"}, {"id": f"{SOURCE}1-0-0", "location": "westeurope"}])
    sb.configure(replication_seconds=REPLICATION_SECONDS)
    root, state = tmp_path / "d", tmp_path / "state"
    root.mkdir()
    estate = [SETTINGS, GALLERY, DEFINITION.replace("KEEP", "3")]
    with time_scale(sb, SCALE):
        (root / "estate.yaml").write_text("\n---\n".join(estate))
        code, _, err = apply_json(root, state)
        assert code == 0, err[-2000:]  # the gallery and definition first: the next apply is the version alone
        (root / "estate.yaml").write_text("\n---\n".join([*estate, version("1.0.0", regions=REGIONS)]))
        before, started = sb.stats(), sb.now()
        code, recap, err = apply_json(root, state)
        after, ended = sb.stats(), sb.now()
    assert code == 0 and recap["outcome"] == "succeeded", err[-2000:]
    [(vid, regions)] = recap["replication"].items()
    assert vid.endswith("/versions/1.0.0") and regions == dict.fromkeys(sorted(REGIONS), "Completed")
    assert (ended - started).total_seconds() >= REPLICATION_SECONDS, "it did wait for the replication"
    reads = _gets(before, after)
    assert set(reads) <= {"GET operations", "GET galleries/images/versions"}, reads
    assert sum(reads.values()) <= 12, reads
    # The version itself: the SDK's final GET, the replication read once done, at most one progress look.
    assert reads["GET galleries/images/versions"] <= 3, reads
