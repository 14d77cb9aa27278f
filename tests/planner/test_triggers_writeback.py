"""The write-back: one file per released version with its comment header, never overwritten; the git commit
holds exactly those files, with the author given."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml
from support.image_estate import version as version_doc
from support.image_estate import write_desired

from reconciler.gitops.writeback import WriteBackError, release, write_versions


@dataclass(frozen=True)
class _Definition:
    name: str = "win11"


@dataclass
class _Due:
    build: str = "monthly"
    version: str = "1.6.0"
    definition: _Definition = _Definition()
    reasons: tuple[str, ...] = ("source P/O/S moved 1.1.1 → 1.1.2",)
    source: str = "P/O/S/1.1.2"
    at: datetime = datetime(2026, 12, 9, 3, tzinfo=UTC)
    summary: str = "ImageBuild monthly: source P/O/S moved 1.1.1 → 1.1.2; next version 1.6.0"

    @property
    def document(self):
        return {
            "apiVersion": "avd.reconciler.io/v1alpha1",
            "kind": "ImageVersion",
            "metadata": {"name": self.version},
        }


def folder(definition) -> str:
    return f"versions/{definition.name}"


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, text=True).stdout.strip()


def test_file_has_the_why_as_comments_and_is_never_overwritten(tmp_path):
    [written] = write_versions(tmp_path, [_Due()], folder)
    assert written.path == tmp_path / "versions" / "win11" / "1.6.0.yaml"
    text = written.path.read_text()
    assert text.startswith(
        "# Released by `reconcile release` at 2026-12-09T03:00:00+00:00 from ImageBuild monthly."
    )
    assert "# Trigger: source P/O/S moved 1.1.1 → 1.1.2\n# Source: P/O/S/1.1.2" in text
    assert yaml.safe_load(text)["metadata"] == {"name": "1.6.0"}
    with pytest.raises(WriteBackError, match="exists already"):
        write_versions(tmp_path, [_Due()], folder)


def test_commit_holds_only_the_written_files_with_the_author(tmp_path):
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    (repo / "other.txt").write_text("staged by a person")
    git(repo, "add", "other.txt")
    done = release(
        repo / "desired",
        [_Due(), _Due(version="1.7.0", build="other")],
        folder,
        commit_them=True,
        author="Release Bot <bot@example.com>",
    )
    assert git(repo, "rev-parse", "HEAD") == done.commit
    assert git(repo, "log", "-1", "--format=%an <%ae>|%s") == (
        "Release Bot <bot@example.com>|release: 2 image versions (1.6.0, 1.7.0)"
    )
    assert git(repo, "log", "-1", "--format=%b").splitlines()[1:] == [
        f"- {_Due().summary}",
        f"- {_Due(version='1.7.0', build='other').summary}",
    ]
    assert sorted(git(repo, "show", "--name-only", "--format=", "HEAD").splitlines()) == [
        "desired/versions/win11/1.6.0.yaml",
        "desired/versions/win11/1.7.0.yaml",
    ]
    assert git(repo, "status", "--porcelain") == "A  other.txt", "what a person staged stays staged"


def test_git_refusal_is_one_line(tmp_path):
    with pytest.raises(WriteBackError, match="^git rev-parse failed"):
        release(tmp_path, [_Due()], folder, commit_them=True)


def test_without_commit_only_files_are_written(tmp_path):
    done = release(tmp_path, [_Due()], folder)
    assert done.commit is None and [w.version for w in done.written] == ["1.6.0"]


@dataclass
class _DueVersion(_Due):
    """A due build whose document is a whole ImageVersion of the image_estate definition."""

    @property
    def document(self):
        return {
            "apiVersion": "avd.reconciler.io/v1alpha1",
            "kind": "ImageVersion",
            "metadata": {"name": self.version},
            "spec": {
                "definition": "win11",
                "source": {"build": "monthly"},
                "targetRegions": [{"name": "westeurope"}],
            },
        }


def test_a_release_that_would_break_desired_state_is_taken_back_and_reported(tmp_path):
    """With keepNewest 1, a new version would push the version a pool pins explicitly out of retention, which
    validation refuses: the file is removed again, nothing is committed, and the reason names the rule."""
    root = write_desired(tmp_path / "d", [version_doc("1.0.0")], pin="1.0.0", keep=1)
    done = release(root, [_DueVersion(version="1.1.0")], folder, commit_them=True)
    assert done.written == () and done.commit is None
    [(build, why)] = done.blocked
    assert build == "monthly" and "1.0.0 would be deleted under this pin" in why, why
    assert not (root / "versions" / "win11" / "1.1.0.yaml").exists()


def test_existing_files_keep_their_comments_and_layout_and_the_new_one_loads(tmp_path):
    """The write-back adds files and edits none: a person's comments, blank lines and flow style stay as they
    were, byte for byte; the written file opens with its own comments and loads with the rest."""
    from reconciler.spec import load_desired

    root = write_desired(tmp_path / "d", [version_doc("1.0.0")], pin="1.0.0", keep=3)
    estate = root / "estate.yaml"
    estate.write_text("# Our estate. Reviewed by the image team.\n\n" + estate.read_text() + "\n# end\n")
    before = estate.read_bytes()
    done = release(root, [_DueVersion(version="1.1.0")], folder, loaded=True)
    [written] = done.written
    assert estate.read_bytes() == before
    text = written.path.read_text()
    assert text.splitlines()[0].startswith("# Released by `reconcile release`")
    assert [v.name for v in load_desired(root).image_versions] == ["1.0.0", "1.1.0"]


def test_a_tree_that_did_not_load_before_is_not_the_releases_doing(tmp_path):
    """`loaded=False` (the caller's tree was already invalid): nothing is taken back on its account."""
    root = write_desired(tmp_path / "d", [version_doc("1.0.0")], pin="9.9.9", keep=1)
    done = release(root, [_DueVersion(version="1.1.0")], folder, loaded=False)
    assert [w.version for w in done.written] == ["1.1.0"] and done.blocked == ()
