"""`reconcile run --release --push` against a bare git repository (real controller loop, real SDK, sandbox on a
frozen clock): over two simulated months of marketplace publishes, the controller releases each new version
into git itself, the next cycles build it and move the pool on `latest` to it — with no human commit. Each
release commit is traceable: its author is the release bot, its file names the trigger and source version."""

from __future__ import annotations

import subprocess
from datetime import timedelta
from pathlib import Path

import yaml
from support.image_estate import DEF_ID, DEFINITION, GALLERY, POOL_ID, RG, SETTINGS, pool
from support.sandbox import sandbox_environ

from e2e.test_release import BUILD, FIRST
from reconciler.controller.app import RunOptions, build_controller
from reconciler.controller.engine_cycle import EngineCycle
from reconciler.engine.actions.env import COMMIT_TAG
from reconciler.model.tags import PIN_TAG
from reconciler.planner.trigger_version import TRIGGER_TAG
from reconciler.sandbox.providers.compute_other import catalog_versions
from reconciler.store import LocalStore

BOT = "Release Bot <bot@example.com>"


def git(repo: Path, *args: str) -> str:
    env = {
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@x",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@x",
    }
    done = subprocess.run(
        ["git", *args],
        cwd=repo,
        check=True,
        capture_output=True,
        text=True,
        env={**env, "PATH": "/usr/bin:/bin"},
    )
    return done.stdout.strip()


def origin_with_estate(tmp_path: Path) -> Path:
    work = tmp_path / "work"
    (work / "desired").mkdir(parents=True)
    docs = [SETTINGS, GALLERY, DEFINITION.replace("KEEP", "3"), BUILD, FIRST, pool("latest")]
    (work / "desired" / "estate.yaml").write_text("\n---\n".join(docs))
    git(work, "init", "-q", "-b", "main")
    git(work, "add", ".")
    git(work, "commit", "-qm", "estate")
    bare = tmp_path / "origin.git"
    git(tmp_path, "clone", "-q", "--bare", str(work), str(bare))
    return bare


def pinned(sb) -> str:
    return ((sb.get(POOL_ID) or {}).get("tags") or {}).get(PIN_TAG, "").rsplit("/", 1)[-1]


def cycle_until(sb, controller, done, what: str, limit: int = 40) -> None:
    for _ in range(limit):
        controller.sync()
        controller.reconcile()
        if done():
            return
        sb.advance(600)
    raise AssertionError(f"{what}: not reached; last cycle {controller.last}")


def test_two_months_of_releases_with_no_human_commit(frozen, tmp_path):
    sb = frozen
    sb.seed([{"id": RG, "location": "westeurope"}])
    sb.configure(replication_seconds=120.0, build_seconds=300.0)
    bare = origin_with_estate(tmp_path)
    options = RunOptions(
        git_url=bare.as_uri(),
        workdir=str(tmp_path / "checkout"),
        state=f"local:{tmp_path / 'state'}",
        listen=None,
        interval=60.0,
        release=True,
        push=True,
        git_author=BOT,
    )
    with sandbox_environ(sb):
        # A short budget: on the frozen clock a wait never ends by itself; the test moves time between cycles.
        cycle = EngineCycle(LocalStore(tmp_path / "state"), timeout=timedelta(seconds=3), user_agent="test")
        controller, _ = build_controller(options, cycle)
        controller.elector.is_leader = lambda: True  # one replica: no lease needed for the loop itself
        cycle_until(sb, controller, lambda: pinned(sb) == "1.0.0", "1.0.0 built and pinned")
        released = []
        for month, expected in ((1, "1.1.0"), (2, "1.2.0")):
            published = catalog_versions(sb._app())[-1][1]
            sb.advance(published + 30 * 86400 + 3600 - sb.now().timestamp())  # past the next publish
            newest = catalog_versions(sb._app())[-1][0]
            cycle_until(sb, controller, lambda e=expected: pinned(sb) == e, f"month {month}: {expected}")
            released.append((expected, newest))

    log = git(bare, "log", "--format=%an <%ae>|%s", "main").splitlines()
    assert log == [f"{BOT}|release: monthly 1.2.0", f"{BOT}|release: monthly 1.1.0", "t <t@x>|estate"]
    for version, source in released:
        text = git(bare, "show", f"main:desired/versions/win11/{version}.yaml")
        assert "# Trigger: source" in text, text
        assert yaml.safe_load(text)["spec"]["source"] == {"build": "monthly", "sourceVersion": source}
    built = sb.get(f"{DEF_ID}/versions/1.2.0")
    assert built["properties"]["provisioningState"] == "Succeeded"
    # Traceable from Azure too: the version carries its trigger and the commit that declared it.
    release_commit = git(bare, "log", "-1", "--format=%H", "--grep", "release: monthly 1.2.0", "main")
    assert built["tags"][COMMIT_TAG] == release_commit, built["tags"]
    assert "source" in built["tags"][TRIGGER_TAG].lower(), built["tags"]
