"""Sources: a shallow git clone over file://, a folder, and credentials that never leak."""

from __future__ import annotations

import pytest

from reconciler.controller.source import DirSource, GitSource, SourceError, redact_url

from .gitrepo import GitRepo


def test_git_source_follows_the_branch(tmp_path):
    repo = GitRepo(tmp_path / "origin")
    source = GitSource(repo.url, ref="main", path="desired", workdir=tmp_path / "work")
    first = source.sync()
    assert first.commit == repo.git("rev-parse", "HEAD")
    assert (first.path / "settings.yaml").is_file()
    repo.write("extra.yaml", "# nothing\n")
    second_commit = repo.commit("second")
    second = source.sync()
    assert second.commit == second_commit != first.commit
    assert (second.path / "extra.yaml").is_file()
    assert source.workdir.joinpath(".git", "shallow").is_file()  # a shallow clone, not the whole history


def test_a_missing_path_or_ref_is_a_source_error(tmp_path):
    repo = GitRepo(tmp_path / "origin")
    with pytest.raises(SourceError, match="has no 'nope'"):
        GitSource(repo.url, path="nope", workdir=tmp_path / "w1").sync()
    with pytest.raises(SourceError, match="git fetch failed"):
        GitSource(repo.url, ref="no-such-branch", workdir=tmp_path / "w2").sync()


def test_the_token_never_appears_in_errors_argv_or_config(tmp_path):
    token = "ghp_SuperSecretToken1234567890"
    source = GitSource("https://user:pw@127.0.0.1:9/org/repo.git", token=token, workdir=tmp_path / "w")
    with pytest.raises(SourceError) as caught:
        source.sync()
    message = str(caught.value)
    assert token not in message and "user:pw" not in message and "***@" in message
    assert token not in (tmp_path / "w" / ".git" / "config").read_text()


def test_redact_url():
    assert redact_url("https://x-access-token:abc@github.com/o/r") == "https://***@github.com/o/r"
    assert redact_url("file:///tmp/repo") == "file:///tmp/repo"


def test_dir_source_changes_commit_when_content_changes(tmp_path):
    folder = tmp_path / "desired"
    folder.mkdir()
    (folder / "a.yaml").write_text("a: 1\n")
    source = DirSource(folder)
    first = source.sync().commit
    assert first.startswith("sha256:") and source.sync().commit == first
    (folder / "a.yaml").write_text("a: 2\n")
    assert source.sync().commit != first
    with pytest.raises(SourceError, match="does not exist"):
        DirSource(tmp_path / "missing").sync()
