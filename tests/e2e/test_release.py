"""`reconcile release` end to end on the sandbox clock: the marketplace publishes → release writes the next
version pinned to the resolved source and commits it → apply builds exactly that source → plan is converged →
release again finds nothing due. Real CLI, real SDK clients over HTTPS, a real git repository."""

from __future__ import annotations

import contextlib
import io
import subprocess
from datetime import datetime
from pathlib import Path

import yaml
from support.cli import apply_json
from support.image_estate import DEFINITION, GALLERY, MARKETPLACE, RG, SETTINGS, pool
from support.image_estate import RELEASE_BUILD as BUILD
from support.sandbox import sandbox_environ

from reconciler.cli import main
from reconciler.planner.triggers import SOURCE_TAG
from reconciler.sandbox.providers.compute_other import catalog_versions

MS = MARKETPLACE
FIRST = """
apiVersion: avd.reconciler.io/v1alpha1
kind: ImageVersion
metadata: {name: "1.0.0"}
spec:
  definition: win11
  source: {build: monthly}
  targetRegions: [{name: westeurope}]
"""


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(argv))
    return code, out.getvalue(), err.getvalue()


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, text=True).stdout.strip()


def converge(sb, desired: Path, state: Path) -> None:
    for _ in range(60):
        with sandbox_environ(sb):
            code, recap, err = apply_json(desired, state, "--wait", "none")
        assert code == 0, err[-2000:]
        waits = [
            datetime.fromisoformat(p["resumes_at"]) for p in recap.get("pending") or () if p.get("resumes_at")
        ]
        if not recap.get("pending"):
            with sandbox_environ(sb):
                if run("plan", "--desired", str(desired), "--detailed-exitcode")[0] == 0:
                    return
        sb.advance(max((min(waits) - sb.now()).total_seconds(), 30.0) if waits else 60.0)
    raise AssertionError(f"apply did not converge: {recap.get('pending')}")


def test_marketplace_publish_is_released_pinned_built_and_then_nothing_is_due(frozen, tmp_path, clients):
    sb = frozen
    sb.seed([{"id": RG, "location": "westeurope"}])
    sb.configure(replication_seconds=120.0, build_seconds=300.0)
    repo = tmp_path / "repo"
    desired = repo / "desired"
    desired.mkdir(parents=True)
    (desired / "estate.yaml").write_text(
        "\n---\n".join([SETTINGS, GALLERY, DEFINITION.replace("KEEP", "3"), BUILD, FIRST, pool("1.0.0")])
    )
    git(repo, "init", "-q", "-b", "main")
    git(repo, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qam", "x", "--allow-empty")
    git(repo, "add", ".")
    git(repo, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "estate")
    state = tmp_path / "state"
    converge(sb, desired, state)  # 1.0.0, hand-written, built from `latest` today
    with sandbox_environ(sb):
        assert run("release", "--desired", str(desired))[0] == 0, "nothing published since 1.0.0"

    # The sandbox catalog publishes every 30 days; jump just past the next publish.
    before = catalog_versions(sb._app())[-1]
    sb.advance(before[1] + 30 * 86400 + 3600 - sb.now().timestamp())
    newest = catalog_versions(sb._app())[-1][0]
    assert newest != before[0]
    with sandbox_environ(sb):
        code, out, err = run("plan", "--desired", str(desired), "--detailed-exitcode")
        assert code == 0, "a due release is no Azure change: " + out + err
        assert "Releases due (run `reconcile release`" in out and "next version 1.1.0" in out
        assert run("release", "--desired", str(desired), "--build", "nope")[0] == 1
        code, out, err = run(
            "release", "--desired", str(desired), "--commit", "--author", "Release Bot <bot@example.com>"
        )
        assert code == 2, err
    path = desired / "versions" / "win11" / "1.1.0.yaml"
    text = path.read_text()
    assert f"# Trigger: source {MS} has {newest}" in text and f"# Source: {MS}/{newest}" in text
    doc = yaml.safe_load(text)
    assert doc["spec"]["source"] == {"build": "monthly", "sourceVersion": newest}
    assert (
        git(repo, "log", "-1", "--format=%an <%ae>|%s")
        == "Release Bot <bot@example.com>|release: monthly 1.1.0"
    )
    assert git(repo, "status", "--porcelain") == "", "the commit holds the written file"

    converge(sb, desired, state)
    templates = list(clients.aib.virtual_machine_image_templates.list_by_resource_group("rg-img"))
    sources = {t.distribute[0].gallery_image_id.rsplit("/", 1)[-1]: t.source.version for t in templates}
    assert sources.get("1.1.0") == newest, sources
    sb.advance(3600)  # the post-build PATCH of the version's tags settles; the finished template goes
    converge(sb, desired, state)
    built = clients.compute.gallery_image_versions.get("rg-img", "gal1", "win11", "1.1.0")
    assert built.provisioning_state == "Succeeded" and built.tags[SOURCE_TAG] == f"{MS}/{newest}"
    with sandbox_environ(sb):
        code, out, err = run("plan", "--desired", str(desired), "--detailed-exitcode")
        assert code == 0, out + err
        assert run("release", "--desired", str(desired))[0] == 0, "released and built: nothing due"

    # The next month: the released version's tag is what "moved" compares with.
    sb.advance(30 * 86400)
    newer = catalog_versions(sb._app())[-1][0]
    with sandbox_environ(sb):
        code, out, err = run("release", "--desired", str(desired))
    assert code == 2, err
    assert f"source {MS} moved {newest} → {newer}" in out and "next version 1.2.0" in out


def test_one_marketplace_list_per_distinct_sku_and_region(frozen, conn, tmp_path):
    from reconciler.engine.reconcile import Reconciler, subscriptions_of_desired
    from reconciler.spec import load_desired

    second = BUILD.replace("name: monthly", "name: monthly-b")
    third = BUILD.replace("name: monthly", "name: monthly-neu").replace(
        "  customize:", "  location: northeurope\n  customize:"
    )
    untriggered = BUILD.replace("name: monthly", "name: plain").split("  triggers:")[0]
    desired_dir = tmp_path / "d"
    desired_dir.mkdir()
    docs = [SETTINGS, GALLERY, DEFINITION.replace("KEEP", "3"), BUILD, second, third, untriggered]
    (desired_dir / "estate.yaml").write_text("\n---\n".join(docs))
    desired = load_desired(desired_dir)
    observed = Reconciler(conn).observe(subscriptions_of_desired(desired), desired=desired)
    assert sorted(observed.marketplace) == [
        f"{region}/{MS.lower()}" for region in ("northeurope", "westeurope")
    ]
    newest = catalog_versions(frozen._app())[-1][0]
    assert {m.newest for m in observed.marketplace.values()} == {newest}
    lists = {
        k: v for k, v in observed.calls.by_operation.items() if "vmimage" in k.lower() or "skus" in k.lower()
    }
    assert sum(lists.values()) == 2, observed.calls.by_operation
