"""Under injected faults (10 % 429/5xx answers, 5 % failed long-running operations) repeated applies converge,
nothing is created twice, and a version in use is never deleted."""

from __future__ import annotations

import pytest
from support.image_estate import DEF_ID, RG, SUB, version, write_desired

from reconciler.cli import main

ARM = r"^/subscriptions/"


@pytest.fixture
def env(cli_env):
    sb = cli_env
    sb.seed([{"id": RG, "location": "westeurope"}])
    sb.inject_fault(method="*", path=ARM, status=429, code="TooManyRequests", probability=0.04)
    sb.inject_fault(method="*", path=ARM, status=503, code="ServiceUnavailable", probability=0.03)
    sb.inject_fault(method="*", path=ARM, status=500, code="InternalServerError", probability=0.03)
    for method in ("PUT", "PATCH", "DELETE", "POST"):
        sb.inject_fault(method=method, path=ARM, kind="lro", code="InternalOperationError", probability=0.05)
    # At this estate's size 5 % may not fire at all; make sure a version create and a build run fail once.
    sb.inject_fault(method="PUT", path="versions/1.2.0$", kind="lro", code="InternalOperationError", count=1)
    sb.inject_fault(
        method="POST", path="imageTemplates/.*/run$", kind="lro", code="InternalOperationError", count=1
    )
    return sb


def converge(capsys, desired, rounds: int = 8) -> int:
    """Apply until an apply succeeds and a plan shows no changes; the number of applies it took."""
    for n in range(1, rounds + 1):
        code = main(["apply", "--auto-approve", "--desired", str(desired)])
        capsys.readouterr()
        if code == 0 and main(["plan", "--desired", str(desired), "--detailed-exitcode"]) == 0:
            capsys.readouterr()
            return n
        capsys.readouterr()
    raise AssertionError(f"not converged after {rounds} applies")


def creates_without_delete_between(entries: list[dict]) -> list[str]:
    """Ids created (PUT 201) twice with no DELETE of that id in between: a duplicate create."""
    created: set[str] = set()
    dupes = []
    for e in entries:
        rid = e["id"].lower()
        if e["method"] == "DELETE" and e["status"] < 300:
            created.discard(rid)
        elif e["method"] == "PUT" and e["status"] == 201:
            if rid in created:
                dupes.append(rid)
            created.add(rid)
    return dupes


def test_repeated_apply_converges_under_faults(env, tmp_path, capsys, clients):
    versions = [version("1.0.0"), version("1.1.0", build=True), version("1.2.0")]
    d = write_desired(tmp_path / "d", versions, pin="1.2.0", keep=3)
    first = converge(capsys, d)
    # A VM runs 1.0.0; then retention keeps only the newest version: 1.1.0 goes, 1.0.0 must stay.
    v100 = f"{DEF_ID}/versions/1.0.0"
    env.seed(
        [
            {
                "id": f"/subscriptions/{SUB}/resourceGroups/rg-img/providers/Microsoft.Compute/virtualMachines/vm1",
                "location": "westeurope",
                "properties": {
                    "storageProfile": {"imageReference": {"id": v100}},
                    "provisioningState": "Succeeded",
                    "hardwareProfile": {"vmSize": "Standard_D4s_v5"},
                },
            }
        ]
    )
    write_desired(d, versions, pin="1.2.0", keep=1)
    second = converge(capsys, d)
    names = {
        v.name
        for v in clients.compute.gallery_image_versions.list_by_gallery_image("rg-img", "gal1", "win11")
    }
    assert names == {"1.0.0", "1.2.0"}
    audit = env.audit()
    assert creates_without_delete_between(audit["entries"]) == []
    assert audit["deleted_in_use"] == [] and env.invariants()["versions_deleted_in_use"] == []
    hits = {f["kind"]: 0 for f in env._app().faults.rules}
    for f in env._app().faults.rules:
        hits[f["kind"]] += f["hits"]
    assert hits["response"] > 0 and hits["lro"] > 0, f"the faults must actually have fired: {hits}"
    print(f"applies: {first} + {second}; fault hits: {hits}")
