"""A recipe change replaces a failed template, and with a staging resource group the new template waits for the
old one's delete (real CLI, real SDK, sandbox): Image Builder refuses a template whose staging group is not
empty, and the old template holds it until it is gone. Without the order, the create and the delete ran side by
side and the build failed with 400 InvalidParameter "…is not empty", one apply (or controller cycle) per try."""

from __future__ import annotations

import json

import pytest
from support.image_estate import RG, SUB, version, write_desired

from reconciler.cli import main

RUN = r"imageTemplates/monthly-[0-9a-f]+/run"
STAGING = f"/subscriptions/{SUB}/resourceGroups/rg-aib-staging"
TEMPLATES = "Microsoft.VirtualMachineImages/imageTemplates"


@pytest.fixture
def env(cli_env):
    cli_env.seed([{"id": RG, "location": "westeurope"}, {"id": STAGING, "location": "westeurope"}])
    return cli_env


def plan(capsys, root) -> dict:
    assert main(["plan", "--desired", str(root), "-o", "json"]) == 0
    return json.loads(capsys.readouterr()[0])


def refused_template_puts(sb) -> list[dict]:
    return [
        e
        for e in sb.audit()["entries"]
        if e["method"] == "PUT" and TEMPLATES.lower() in e["id"].lower() and e["status"] >= 400
    ]


def test_the_new_template_is_created_after_the_old_one_is_deleted(env, tmp_path, capsys):
    versions = [version("1.0.0"), version("1.1.0", build=True)]
    root = write_desired(tmp_path / "d", versions, pin="1.0.0", staging=STAGING)
    env.inject_fault(kind="build", path=RUN, count=1, cause="exit-code", exit_code=1)
    assert main(["apply", "--auto-approve", "--desired", str(root)]) == 1
    capsys.readouterr()
    write_desired(tmp_path / "d", versions, pin="1.0.0", staging=STAGING, step="fixed")
    p = plan(capsys, root)
    [delete] = [c for c in p["changes"] if c["kind"] == "image-build" and c["action"] == "delete"]
    [build] = [c for c in p["changes"] if c["kind"] == "image-build" and c["action"] == "build"]
    assert delete["key"] in build["depends_on"], build
    assert main(["apply", "--auto-approve", "--desired", str(root)]) == 0
    capsys.readouterr()
    assert refused_template_puts(env) == []
    got = env.get(f"{RG}/providers/Microsoft.Compute/galleries/gal1/images/win11/versions/1.1.0")
    assert got["properties"]["provisioningState"] == "Succeeded"
    assert main(["plan", "--desired", str(root), "--detailed-exitcode"]) == 0
