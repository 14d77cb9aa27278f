"""Azure's read-after-replication lag through `reconcile apply` (real CLI, real SDK, frozen sandbox clock): with
`gallery_image_read_lag_seconds` set, a VM create naming a version whose region completed replication less than
that long ago answers 404 GalleryImageNotFound (sandbox/providers/compute_vm_image.py `still_lagging`). The apply that
creates a version and provisions a pool on it must wait that lag out and converge; the audit shows the refused
create, then the accepted one, and no more refused creates than the lag can explain."""

from __future__ import annotations

from datetime import datetime

from support.cli import drive
from support.estate import seed_estate
from support.rollout import hosts_of, pool_doc, versions_running, write_desired

from reconciler.spec import load_desired

LAG_SECONDS = 600.0
REPLICATION_SECONDS = 120.0  # short, so that the passes spent waiting on replication stay few


def vm_creates(sb) -> list[tuple[float, str, int]]:
    return [
        (datetime.fromisoformat(e["time"]).timestamp(), e["id"].rsplit("/", 1)[-1], e["status"])
        for e in sb.audit()["entries"]
        if e["method"] == "PUT" and "/providers/microsoft.compute/virtualmachines/" in e["id"].lower()
    ]


def test_provisioning_onto_a_freshly_replicated_version_waits_out_the_read_lag(frozen, tmp_path):
    frozen.configure(gallery_image_read_lag_seconds=LAG_SECONDS, replication_seconds=REPLICATION_SECONDS)
    old = write_desired(tmp_path / "old", {"1.0.0": ["westeurope"]}, [pool_doc("hp-a", count=2)])
    seed_estate(frozen, load_desired(old))
    root = write_desired(
        tmp_path / "d",
        {"1.0.0": ["westeurope"], "2.0.0": ["westeurope"]},
        [pool_doc("hp-a", count=2, version="2.0.0")],
    )

    lagged = []
    cycles, last = drive(
        frozen,
        root,
        on_cycle=lambda n, r: lagged.extend(
            p for p in r.pools if p.waiting and p.reason_code == "not-yet-visible"
        ),
    )

    assert all(p.done for p in last.pools), last.pools
    assert versions_running(frozen, "hp-a") == {"2.0.0": 2}
    assert all(h["properties"]["status"] == "Available" for h in hosts_of(frozen, "hp-a"))
    creates = vm_creates(frozen)
    statuses = [status for _, _, status in creates]
    assert 404 in statuses, f"no create met the lag: {creates}"
    first_refused = statuses.index(404)
    assert any(s in (200, 201) for s in statuses[first_refused:]), creates
    refused = [c for c in creates if c[2] == 404]
    # The apply reported the lag as a wait on visibility, naming Azure's code, never as a failure.
    assert lagged and all("GalleryImageNotFound" in p.why for p in lagged), lagged
    # Bounded: never a tight loop. The engine waits at least NOT_FOUND_MIN (15 s) between tries, so each VM meets
    # the 600 s lag at most 600 / 15 + 1 times (today it meets it exactly that often: the host path does not pass
    # how long the 404 has lasted, so the backoff does not grow; see the report of wp-b).
    per_vm = max(sum(1 for c in refused if c[1] == name) for name in {c[1] for c in refused})
    assert per_vm <= LAG_SECONDS / 15 + 1, refused
    span = max(at for at, _, _ in refused) - min(at for at, _, _ in refused)
    assert span <= LAG_SECONDS, refused
