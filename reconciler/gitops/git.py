"""Commit desired/ edits with the git command line: the repository, its hooks and its signing stay the user's.

The author comes from `--author`/`RECONCILE_GIT_AUTHOR` ("Name <email>") or git's own configuration. Only
the paths this command wrote are staged, so unrelated work in the tree is never swept into the commit.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path


class GitError(RuntimeError):
    pass


def _git(cwd: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise GitError(f"git {args[0]} failed: {(done.stderr or done.stdout).strip().splitlines()[-1:]}")
    return done.stdout.strip()


def repo_root(path: Path) -> Path:
    start = path if path.is_dir() else path.parent
    return Path(_git(start, "rev-parse", "--show-toplevel"))


def commit(paths: list[Path], message: str, author: str | None = None) -> str:
    """Stage `paths` and commit them; returns the new commit's id. Without a git identity configured (a
    container), the committer is `reconcile <reconcile@localhost>`."""
    root = repo_root(paths[0])
    files = [str(p.resolve()) for p in paths]
    _git(root, "add", "--", *files)
    author = author or os.environ.get("RECONCILE_GIT_AUTHOR")
    identity = (
        [] if _has_identity(root) else ["-c", "user.name=reconcile", "-c", "user.email=reconcile@localhost"]
    )
    _git(
        root,
        *identity,
        "commit",
        "-q",
        "-m",
        message,
        *(["--author", author] if author else []),
        "--",
        *files,
    )
    return _git(root, "rev-parse", "HEAD")


def _has_identity(root: Path) -> bool:
    done = subprocess.run(["git", "config", "user.email"], cwd=root, capture_output=True, text=True)
    return done.returncode == 0 and bool(done.stdout.strip())
