"""Names and counts Azure would refuse stop `reconcile apply` at validate, before anything is sent: a host-name
prefix whose generated names can pass Windows' 15-character computerName limit (Azure: 400 InvalidParameter,
target computerName), a version part past 32 bits (400 InvalidParameter, galleryImageVersionName), a target
region given twice and a replica count of 0 (400 InvalidParameter; tests/fixtures/refusals.json). Each exits 1
with the desired file, line and field, and the sandbox audit shows no write at all; the corrected desired state
then applies and `reconcile plan --detailed-exitcode` exits 0."""

from __future__ import annotations

import pytest
from support.image_estate import RG, version, write_desired

from reconciler.cli import main

REGIONS = "targetRegions: [{name: westeurope}]"
# case -> (edit of estate.yaml, the text on the line the error must name, the field it must name)
CASES = {
    "computer-name-range": (
        lambda t: t.replace("count: 0", "count: 20").replace("namePrefix: ha", "namePrefix: avdclinicalwe"),
        "namePrefix: avdclinicalwe",
        "spec.sessionHosts.namePrefix",
    ),
    "version-part-past-int32": (
        lambda t: t.replace('metadata: {name: "1.0.0"}', 'metadata: {name: "2147483648.0.0"}'),
        "2147483648.0.0",
        "metadata.name",
    ),
    "duplicate-region": (
        lambda t: t.replace(REGIONS, "targetRegions: [{name: westeurope}, {name: West Europe}]", 1),
        "{name: West Europe}",
        "spec.targetRegions[1].name",
    ),
    "replica-count-zero": (
        lambda t: t.replace(REGIONS, "targetRegions: [{name: westeurope, replicaCount: 0}]", 1),
        "replicaCount: 0",
        "spec.targetRegions[0].replicaCount",
    ),
}


@pytest.fixture
def env(cli_env):
    sb = cli_env
    sb.seed([{"id": RG, "location": "westeurope"}])
    return sb


def writes(sb) -> list[dict]:
    return [e for e in sb.audit()["entries"] if e["method"] in ("PUT", "PATCH", "DELETE", "POST")]


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_name_azure_would_refuse_stops_apply_at_validate_with_file_line_and_field(
    env, tmp_path, capsys, case
):
    edit, needle, field = CASES[case]
    root = write_desired(tmp_path / "d", [version("1.0.0")], pin="1.0.0")
    path = root / "estate.yaml"
    path.write_text(edit(path.read_text()))
    line = next(i for i, text in enumerate(path.read_text().splitlines(), 1) if needle in text)
    capsys.readouterr()
    assert main(["apply", "--auto-approve", "--desired", str(root)]) == 1
    err = capsys.readouterr().err
    assert f"estate.yaml:{line}:" in err and f" {field}: " in err, err
    assert "Traceback" not in err
    assert writes(env) == []

    write_desired(root, [version("1.0.0")], pin="1.0.0")  # the same estate, corrected
    assert main(["apply", "--auto-approve", "--desired", str(root)]) == 0
    assert main(["plan", "--desired", str(root), "--detailed-exitcode"]) == 0
