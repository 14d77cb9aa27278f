"""Write released ImageVersion documents into desired/ and, when asked, commit them.

One file per version: `desired/versions/<definition>/<version>.yaml` (the loader reads desired/ recursively).
Each file opens with comments saying which trigger released it, from which source version and when, so a
reviewer reads the why in the pull request; the same facts are in metadata.annotations and, for Azure, in
the version's tags. An existing file is never overwritten: a number already in git is a decision already made.

The commit is `reconciler.gitops.git.commit` (the one rollback uses): exactly the written files, the author
from `--author` / `RECONCILE_GIT_AUTHOR` or git's own configuration.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from reconciler.gitops import git


class WriteBackError(RuntimeError):
    """A file could not be written or git refused; the message is one line for the CLI."""


@dataclass(frozen=True)
class Written:
    path: Path
    build: str
    version: str
    summary: str


def document_text(due) -> str:
    """The YAML of one released version, with the comment header."""
    lines = [
        f"# Released by `reconcile release` at {due.at.isoformat()} from ImageBuild {due.build}.",
        *(f"# Trigger: {reason}" for reason in due.reasons),
        f"# Source: {due.source} (pinned: the build never starts from `latest`).",
        "# Review and merge like any other change; apply builds it.",
    ]
    body = yaml.safe_dump(due.document, sort_keys=False, allow_unicode=True, width=120)
    return "\n".join(lines) + "\n" + body


def write_versions(desired_dir: Path, due_builds, folder_of) -> list[Written]:
    """Write each due build's document; `folder_of(definition)` is the folder under desired/."""
    paths = [Path(desired_dir) / folder_of(due.definition) / f"{due.version}.yaml" for due in due_builds]
    for due, path in zip(due_builds, paths, strict=True):  # all checked before any is written: none or all
        if path.exists():
            raise WriteBackError(f"{path} exists already: version {due.version} is in git; not overwritten")
    written = []
    for due, path in zip(due_builds, paths, strict=True):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(document_text(due), encoding="utf-8")
        written.append(Written(path, due.build, due.version, due.summary))
    return written


def commit_message(written: list[Written]) -> str:
    if len(written) == 1:
        w = written[0]
        subject = f"release: {w.build} {w.version}"
    else:
        subject = f"release: {len(written)} image versions ({', '.join(w.version for w in written)})"
    body = "\n".join(f"- {w.summary}" for w in written)
    return f"{subject}\n\nWritten by `reconcile release`:\n{body}\n"


@dataclass(frozen=True)
class Released:
    written: tuple[Written, ...]
    commit: str | None = None  # the sha, when committed
    blocked: tuple[tuple[str, str], ...] = ()  # (build, why): its version would make desired/ invalid


def release(
    desired_dir: Path,
    due_builds,
    folder_of,
    *,
    loaded: bool | None = None,
    commit_them: bool = False,
    author: str | None = None,
):
    """The one write-back call `reconcile release` and the controller's `run --release` make: write each due
    build's version, keep only those with which desired/ still validates, then commit them together when
    asked (the push is the caller's). A release never leaves git with a tree that does not load: a version
    that would is taken back out and reported (the planner blocks the known case, a version that pushes a
    pool's explicit pin out of retention, before this; this is the net under it).

    `loaded`: whether desired/ loaded before the write. Both callers hold the desired state they loaded from
    it and pass True, so the tree is loaded once here (after writing); None loads it first to find out."""
    if loaded is None:
        loaded = not _problems(desired_dir)  # a tree that did not load is not the release's doing
    written = write_versions(desired_dir, due_builds, folder_of)
    blocked: list[tuple[str, str]] = []
    if written and loaded and _problems(desired_dir):
        for w in written:  # which of them: try each alone
            w.path.unlink()
        kept = []
        for due, w in zip(due_builds, written, strict=True):
            w.path.write_text(document_text(due), encoding="utf-8")
            problems = _problems(desired_dir)
            if problems:
                w.path.unlink()
                blocked.append((w.build, f"with {w.version}, desired/ would not load: {problems[0]}"))
            else:
                kept.append(w)
        written = kept
    if not commit_them or not written:
        return Released(tuple(written), None, tuple(blocked))
    try:
        sha = git.commit([w.path for w in written], commit_message(written), author)
    except git.GitError as exc:
        raise WriteBackError(str(exc)) from exc
    return Released(tuple(written), sha, tuple(blocked))


def _problems(desired_dir: Path) -> list[str]:
    from reconciler.spec import DesiredStateError, load_desired

    try:
        load_desired(desired_dir)
    except DesiredStateError as exc:
        return [str(e) for e in exc.errors]
    return []
