"""Where desired state comes from: a git repository (cloned with the git CLI) or a folder (git-sync).

``GitSource`` keeps a shallow clone of ``--git-url`` at ``--git-ref`` in a work folder: ``git init`` once,
then each ``sync()`` runs ``git fetch --depth 1 origin REF`` and ``git checkout --force FETCH_HEAD``, and
answers the commit id and the folder ``--git-path`` inside the checkout.

Credentials never appear on a command line or in a log:
- HTTPS token: ``--git-token-file FILE`` (a mounted secret) or ``$RECONCILE_GIT_TOKEN``. It is handed to
  git through ``GIT_CONFIG_*`` environment variables as an ``http.extraHeader`` (Basic, user
  ``x-access-token``, what GitHub, GitLab and Azure DevOps accept), so not in argv (``ps``) nor in
  ``.git/config``;
- SSH key: ``--git-ssh-key-file FILE`` (and optionally ``--git-known-hosts FILE``) via ``GIT_SSH_COMMAND``;
- git's own messages are scrubbed of the token before they are raised, and URLs lose any ``user:pass@``.

``DirSource`` reads ``--desired DIR`` as it is (a git-sync sidecar swaps a symlink atomically). Its
"commit" is the git commit when DIR lies in a git checkout, else a content hash of the YAML files.

Both can ``push`` a write-back commit (``reconcile run --release --push``, controller/release.py).
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

_CREDENTIALS_IN_URL = re.compile(r"(://)[^/@\s]+@")


class SourceError(RuntimeError):
    """Fetching or reading the desired state failed (network, auth, missing ref or path)."""


@dataclass(frozen=True)
class Revision:
    commit: str
    path: Path


def redact_url(url: str) -> str:
    return _CREDENTIALS_IN_URL.sub(r"\1***@", url)


def read_secret(file: str | None, env: str) -> str | None:
    if file:
        try:
            return Path(file).read_text(encoding="utf-8").strip() or None
        except OSError as exc:
            raise SourceError(f"cannot read secret file {file}: {exc.strerror}") from None
    return os.environ.get(env) or None


class GitSource:
    def __init__(
        self,
        url: str,
        *,
        ref: str = "main",
        path: str = "desired",
        workdir: str | Path,
        token: str | None = None,
        ssh_key_file: str | None = None,
        known_hosts_file: str | None = None,
        timeout: float = 120.0,
    ) -> None:
        self.url, self.ref, self.subpath = url, ref, path
        self.workdir = Path(workdir)
        self._token = token
        self._ssh_key, self._known_hosts = ssh_key_file, known_hosts_file
        self._timeout = timeout

    def describe(self) -> str:
        return f"{redact_url(self.url)}@{self.ref}:{self.subpath}"

    def _env(self) -> dict[str, str]:
        env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "GIT_ASKPASS": "/bin/true", "LC_ALL": "C"}
        if self._token:
            basic = base64.b64encode(f"x-access-token:{self._token}".encode()).decode()
            env.update(
                {
                    "GIT_CONFIG_COUNT": "1",
                    "GIT_CONFIG_KEY_0": "http.extraHeader",
                    "GIT_CONFIG_VALUE_0": f"Authorization: Basic {basic}",
                }
            )
        if self._ssh_key:
            hosts = (
                f"-o UserKnownHostsFile={self._known_hosts} -o StrictHostKeyChecking=yes"
                if self._known_hosts
                else "-o StrictHostKeyChecking=accept-new"
            )
            env["GIT_SSH_COMMAND"] = f"ssh -i {self._ssh_key} -o IdentitiesOnly=yes -o BatchMode=yes {hosts}"
        return env

    def _git(self, *args: str) -> str:
        try:
            done = subprocess.run(
                ["git", "-C", str(self.workdir), *args],
                env=self._env(),
                capture_output=True,
                text=True,
                timeout=self._timeout,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise SourceError(
                f"git {args[0]} timed out after {self._timeout:g} s ({self.describe()})"
            ) from None
        if done.returncode != 0:
            raise SourceError(f"git {args[0]} failed ({self.describe()}): {self._scrub(done.stderr)}")
        return done.stdout.strip()

    def _scrub(self, text: str) -> str:
        text = redact_url(text.strip())
        if self._token:
            text = text.replace(self._token, "***")
        lines = [line for line in text.splitlines() if line.strip()]
        return (lines[-1] if lines else "no message")[:400]

    def push(self, branch: str | None = None) -> str:
        """Push the checkout's HEAD (a write-back commit on top of the fetched ref) to ``branch`` (default: the
        tracked ref, fast-forward only) with the same credentials as the fetch. A branch of its own (a pull
        request's) is the controller's to overwrite. Returns the branch pushed to."""
        target = branch or self.ref
        force = ["--force"] if branch and branch != self.ref else []
        self._git("push", "--quiet", *force, "origin", f"HEAD:refs/heads/{target}")
        return target

    def sync(self) -> Revision:
        """Fetch ``ref`` and check it out; the answer is the commit and the desired folder inside it."""
        if not (self.workdir / ".git").is_dir():
            self.workdir.mkdir(parents=True, exist_ok=True)
            self._git("init", "--quiet")
            self._git("remote", "add", "origin", self.url)
        self._git("fetch", "--quiet", "--depth", "1", "--no-tags", "origin", self.ref)
        self._git("checkout", "--quiet", "--force", "--detach", "FETCH_HEAD")
        commit = self._git("rev-parse", "HEAD")
        path = self.workdir / self.subpath
        if not path.exists():
            raise SourceError(f"commit {commit[:12]} has no {self.subpath!r} ({self.describe()})")
        return Revision(commit, path)


class DirSource:
    def push(self, branch: str | None = None) -> str:
        """Push the folder's repository to its upstream (or ``branch`` on origin)."""
        args = ["push", "--quiet"] + (["origin", f"HEAD:refs/heads/{branch}"] if branch else [])
        done = subprocess.run(
            ["git", "-C", str(self.path), *args], capture_output=True, text=True, check=False, timeout=120
        )
        if done.returncode != 0:
            raise SourceError(f"git push failed: {redact_url(done.stderr.strip())[-300:]}")
        return branch or "upstream"

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    def describe(self) -> str:
        return str(self.path)

    def sync(self) -> Revision:
        if not self.path.exists():
            raise SourceError(f"desired-state folder {self.path} does not exist")
        resolved = self.path.resolve()  # git-sync: the symlink's target names the commit's worktree
        return Revision(_git_commit(resolved) or content_hash(resolved), self.path)


def _git_commit(path: Path) -> str | None:
    folder = path if path.is_dir() else path.parent
    try:
        done = subprocess.run(
            ["git", "-C", str(folder), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    if done.returncode != 0:
        return None
    status = subprocess.run(
        ["git", "-C", str(folder), "status", "--porcelain", "--", "."],
        capture_output=True,
        text=True,
        timeout=10,
        check=False,
    )
    # Uncommitted edits: the commit id alone would hide them, so add a content hash.
    return done.stdout.strip() + ("+" + content_hash(path)[:12] if status.stdout.strip() else "")


def content_hash(path: Path) -> str:
    digest = hashlib.sha256()
    files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.suffix in (".yaml", ".yml"))
    for file in files:
        digest.update(str(file.relative_to(path) if file != path else file.name).encode())
        digest.update(file.read_bytes())
    return "sha256:" + digest.hexdigest()
