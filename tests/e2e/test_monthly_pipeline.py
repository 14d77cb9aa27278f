"""One month of the hands-off pipeline on the sandbox clock, for a shipped-like estate (a validation pool and a
production pool on `latest`, gated on it with a soak, an acceptance suite on the definition, retention that
deletes after end of life), with the real CLI and SDK clients:
the marketplace publishes → nothing is due until the next scheduled slot → `reconcile release --commit` writes
1.1.0 pinned to the published source → apply builds exactly that source → the validation pool rolls → acceptance
passes on it → the soak → production rolls → the old version (1.0.0) is deprecated at once, and deleted only once no VM
runs it. Each step is asserted from the sandbox audit and Azure state; the version is traced to its trigger by
its tags and the commit. `test_release_controller.py` covers the same chain through `reconcile run --release
--push`; this one covers the ring, acceptance and retention it leaves out."""

from __future__ import annotations

import math
import re
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import yaml
from support.acceptance import SUITE, TESTS, pools, run_command_puts, version_id
from support.cli import drive
from support.estate import seed_estate
from support.image_estate import IDENTITY, MARKETPLACE, PATCH_TUESDAY
from support.rollout import versions_running, write_desired
from support.sandbox import sandbox_environ

from e2e.test_release import run
from reconciler.model.acceptance import AcceptanceState, acceptance_of
from reconciler.planner.triggers import SOURCE_TAG, TRIGGER_TAG
from reconciler.sandbox.providers.compute_other import catalog_versions
from reconciler.spec import load_desired
from reconciler.spec.cron import next_fire

CRON, ZONE = "@patch-tuesday+1d 04:00", "Europe/Amsterdam"
BOT = "Release Bot <bot@example.com>"
RETENTION = "  retention: {keepNewest: 1, endOfLifeAfter: 0s, deleteAfterEndOfLife: true}\n"
# The shipped clinical build's schedule (the day after Patch Tuesday) without its sourceImageUpdate, so a publish
# waits for the next slot; the source is `latest`, resolved and pinned at release.
BUILD = f"""---
apiVersion: avd.reconciler.io/v1alpha1
kind: ImageBuild
metadata: {{name: monthly}}
spec:
  identity: {IDENTITY}
  source: {{platformImage: {{publisher: MicrosoftWindowsDesktop, offer: office-365, sku: win11-24h2-avd-m365}}}}
  customize:
    - {{type: PowerShell, name: hello, inline: ["Write-Output hello"]}}
  triggers: {{schedule: {PATCH_TUESDAY}, recipeChange: false}}
  release: {{definition: win11, targetRegions: [{{name: westeurope}}]}}
"""


def next_publish(sb, after: datetime) -> datetime:
    """When the sandbox marketplace publishes next after `after` (it publishes every 30 days)."""
    last = catalog_versions(sb._app())[-1][1]
    days = sb._app().config.platform_release_days
    k = max(1, math.ceil((after.timestamp() - last) / (days * 86400)))
    return datetime.fromtimestamp(last + k * days * 86400, UTC)


def git(repo: Path, *args: str) -> str:
    env = {"PATH": "/usr/bin:/bin", "HOME": str(repo)}
    ident = ["-c", "user.name=Platform", "-c", "user.email=platform@example.com"]
    return subprocess.run(
        ["git", *ident, *args], cwd=repo, check=True, capture_output=True, text=True, env=env
    ).stdout.strip()


def estate(root: Path) -> Path:
    """1.0.0 (built from the build, as the shipped 1.5.0 is), both pools on `latest`; the suite applies to
    the released versions."""
    write_desired(root, {"1.0.0": ["westeurope"]}, pools("latest"))
    path = root / "estate.yaml"
    text = path.read_text(encoding="utf-8")
    anchor = "  features: [{name: SecurityType, value: TrustedLaunchSupported}]\n"
    suite = SUITE.replace("requiredFrom: 2.0.0", "requiredFrom: 1.1.0")
    text = re.sub(r"source: \{managedImageId: [^}]*\}", "source: {build: monthly}", text, count=1)
    path.write_text(text.replace(anchor, anchor + RETENTION + suite, 1) + BUILD, encoding="utf-8")
    return root


def audit(sb, method: str, version: str) -> list[dict]:
    key = version_id(version).lower()
    return [e for e in sb.audit()["entries"] if e["method"] == method and e["id"].lower() == key]


def test_a_month_publish_to_production_with_no_human_commit(frozen, tmp_path, clients):
    sb = frozen
    sb.configure(replication_seconds=120.0, build_seconds=300.0)
    # Start just after a slot of the schedule, in a month whose marketplace publish comes before the next slot.
    slot = next_fire(CRON, ZONE, sb.now())
    while (published := next_publish(sb, slot)) >= (following := next_fire(CRON, ZONE, slot)):
        slot = following
    sb.advance((slot - sb.now()).total_seconds() + 60)
    repo = tmp_path / "repo"
    root = estate(repo / "desired")
    seed_estate(sb, load_desired(root))
    drive(sb, root)
    assert versions_running(sb, "hp-val") == {"1.0.0": 1} and versions_running(sb, "hp-prod") == {"1.0.0": 2}
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "the estate")
    assert sb.now() < published, "the estate converged before the publish"

    # The marketplace publishes; the release waits for the next slot of the schedule.
    slot = following
    sb.advance((published - sb.now()).total_seconds() + 600)
    newest = catalog_versions(sb._app())[-1][0]
    with sandbox_environ(sb):
        code, out, err = run("release", "--desired", str(root))
        assert code == 0, "published, but the slot has not come: " + out + err
    sb.advance((slot - sb.now()).total_seconds() + 60)
    with sandbox_environ(sb):
        code, out, err = run("release", "--desired", str(root), "--commit", "--author", BOT)
    assert code == 2, out + err
    text = (root / "versions" / "win11" / "1.1.0.yaml").read_text()
    assert "# Trigger: schedule" in text, text
    doc = yaml.safe_load(text)
    assert doc["spec"]["source"] == {"build": "monthly", "sourceVersion": newest}
    subject, body = git(repo, "log", "-1", "--format=%an <%ae>|%s"), git(repo, "log", "-1", "--format=%b")
    assert subject == f"{BOT}|release: monthly 1.1.0" and "schedule" in body, body
    commits = git(repo, "log", "--format=%an", "main").splitlines()
    assert commits == ["Release Bot", "Platform"], "one commit by the bot, none by a person"

    # Apply, pass after pass on the clock: build, ring, acceptance, soak, production, retention.
    seen: dict[str, datetime] = {}
    template_sources: dict[str, str] = {}  # the finished template is deleted: read it while it exists

    def watch(_n, _result):
        if "1.1.0" not in template_sources:
            for t in clients.aib.virtual_machine_image_templates.list_by_resource_group("rg-img"):
                template_sources[t.distribute[0].gallery_image_id.rsplit("/", 1)[-1]] = t.source.version
        for pool, count in (("hp-val", 1), ("hp-prod", 2)):
            if versions_running(sb, pool) == {"1.1.0": count}:
                seen.setdefault(pool, sb.now())
        for pool in ("hp-val", "hp-prod"):
            if "1.1.0" in versions_running(sb, pool):
                seen.setdefault(f"{pool}-started", sb.now())

    drive(sb, root, on_cycle=watch, max_cycles=300)
    for _ in range(20):  # retention's deletion may come passes after the rollout ended
        if not sb.get(version_id("1.0.0")):
            break
        drive(sb, root, on_cycle=watch)
        sb.advance(3600)

    assert template_sources.get("1.1.0") == newest, "the template pins the released source, not `latest`"
    assert sb.get(version_id("1.1.0"))["properties"]["provisioningState"] == "Succeeded"
    tags = sb.get(version_id("1.1.0"))["tags"]
    assert tags[SOURCE_TAG] == f"{MARKETPLACE}/{newest}" and "schedule" in tags[TRIGGER_TAG].lower(), tags

    verdict = acceptance_of(tags)
    assert verdict.state is AcceptanceState.PASSED and verdict.host.startswith("val"), verdict
    assert run_command_puts(sb) == dict.fromkeys(TESTS, 1)
    assert seen["hp-val-started"] <= datetime.fromisoformat(verdict.at) < seen["hp-prod-started"]
    assert seen["hp-prod-started"] >= datetime.fromisoformat(verdict.at) + timedelta(hours=6), "the soak"
    assert versions_running(sb, "hp-val") == {"1.1.0": 1} and versions_running(sb, "hp-prod") == {"1.1.0": 2}

    # Retention: 1.0.0 is deprecated once 1.1.0 is published, deleted only after production left it.
    [deleted] = audit(sb, "DELETE", "1.0.0")
    patches = [e for e in audit(sb, "PATCH", "1.0.0") if e["time"] < deleted["time"]]
    assert patches, "deprecated (excluded from latest, end of life) before it was deleted"
    assert datetime.fromisoformat(deleted["time"]) >= seen["hp-prod"], "never while production ran it"
    assert sb.audit()["deleted_in_use"] == [] and sb.get(version_id("1.0.0")) is None
    assert audit(sb, "DELETE", "1.1.0") == []
    with sandbox_environ(sb):
        code, out, err = run("plan", "--desired", str(root), "--detailed-exitcode")
        assert code == 0, out + err
        assert run("release", "--desired", str(root))[0] == 0, "released, built and rolled: nothing due"
