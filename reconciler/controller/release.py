"""`reconcile run --release`: the controller writes due versions back to git, so the next cycle applies them.

After a cycle whose plan noted builds due (`planner.triggers`, read back from the plan: the triggers are
evaluated once per cycle), the leader writes each version into the checkout
it applied (`gitops.writeback.release`, the call `reconcile release` makes), commits it as the configured author
and, with `--push`, pushes it: to the tracked branch (the next fetch brings the commit back and the next cycle
builds it), or to `--release-branch` for a pull-request flow (that branch is the controller's own; the same
release is pushed once, not every cycle). A push the remote refuses (someone pushed first) is logged and
dropped: the next fetch resets the checkout, and the next cycle decides again on the newer commit. Push
credentials are the source's own (token or SSH key), never logged.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from reconciler.controller.source import SourceError
from reconciler.gitops.writeback import WriteBackError, release
from reconciler.planner.trigger_version import release_folder

log = logging.getLogger("reconciler.controller")


@dataclass
class ReleaseSettings:
    push: bool = False
    branch: str | None = None  # push here instead of the tracked ref (a pull request's branch)
    author: str | None = None  # "Name <email>"; default $RECONCILE_GIT_AUTHOR, then git's, then reconcile's


class Publisher:
    def __init__(self, source, settings: ReleaseSettings) -> None:
        self.source, self.settings = source, settings
        # (base commit, versions) last sent to a branch, and the blocked releases already logged
        self._pushed: tuple[str, tuple[str, ...]] | None = None
        self._announced: set[tuple[str, str]] = set()

    def publish(self, path, base_commit: str, due) -> str | None:
        """Write, commit and (maybe) push `due` (the cycle's plan's due builds, made from the validated desired
        state at `base_commit`, loaded from `path`); the new commit id, or None when nothing was published."""
        names = tuple(sorted(f"{d.build}/{d.version}" for d in due))
        if self.settings.branch and self._pushed == (base_commit, names):
            return None  # this release is on its branch already, waiting for review
        try:
            done = release(
                path, due, release_folder, loaded=True, commit_them=True, author=self.settings.author
            )
        except WriteBackError as exc:
            log.error("release not written: %s", exc, extra={"event": "release_failed"})
            return None
        for build, why in done.blocked:
            if (build, why) not in self._announced:  # once per reason: it stays blocked until git changes
                self._announced.add((build, why))
                log.error("release of %s blocked: %s", build, why, extra={"event": "release_blocked"})
        if done.commit is None:
            return None
        where = "committed locally"
        if self.settings.push:
            try:
                where = f"pushed to {self.source.push(self.settings.branch)}"
            except SourceError as exc:
                log.warning("release not pushed: %s", exc, extra={"event": "release_push_failed"})
                return None
            self._pushed = (base_commit, names)
        log.info(
            "released %s (%s)",
            ", ".join(names),
            where,
            extra={"event": "released", "commit": done.commit},
        )
        return done.commit
