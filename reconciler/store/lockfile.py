"""An exclusive lock on a local file that a crashed holder cannot leave stuck.

The lock is *holding ``flock(LOCK_EX)`` on the inode currently at the lock path*. The kernel drops a flock
when its holder's descriptors close, including when the process dies, so a crash frees the lock by itself;
the file stays behind with the dead holder's record (owner, pid, host, times) and the next acquirer reports
that it took over from it. ``O_CREAT|O_EXCL`` creates the file when there is none. The record, not the
file's existence, is what we show to people: "held by pid 4242 on host ci-7 (reconcile apply) since …".

Races handled:
- two creators: only one ``O_EXCL`` create wins; the other opens the winner's file and contends on flock;
- release vs. acquire: the releaser unlinks the path while still holding the flock. An acquirer that had
  opened the old inode may then win the flock on a file no longer at the path, so after locking we check
  that our descriptor and the path are the same inode, and start over if not.

Limits: flock is per open-file description, so a child that inherits the descriptor through ``fork`` shares
the lock (we open with O_CLOEXEC, so ``exec`` does not). flock is unreliable on some network filesystems:
keep ``./state`` on a local disk, or use the Blob backend.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import secrets
import socket
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import psutil

from reconciler.store.atomic import encode_document, fsync_dir
from reconciler.store.protocol import Holder, Lease, LockHeld, LockLost, LockState, LockStatus

_ATTEMPTS = 5  # start-overs after losing an unlink race; each needs another process to win a whole cycle


@dataclass
class _Held:
    fd: int
    inode: tuple[int, int]
    lease: Lease


class FileLock:
    """Acquire/renew/release on ``path``; one instance may hold several leases (one per lock file)."""

    def __init__(self, clock: Callable[[], datetime]) -> None:
        self._clock = clock
        self._held: dict[str, _Held] = {}

    def acquire(self, name: str, path: Path, owner: str) -> Lease:
        path.parent.mkdir(parents=True, exist_ok=True)
        for _ in range(_ATTEMPTS):
            fd = _open_or_create(path)
            if fd is None:
                continue  # the file vanished between our create and open: a release; try again
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = _read_holder(fd)
                os.close(fd)
                raise LockHeld(name, holder, _dead_holder_note(holder)) from None
            if not _same_inode(fd, path):
                os.close(fd)  # we locked a file that a releaser has just unlinked; the real one is newer
                continue
            previous = _read_holder(fd)
            holder = _this_process(owner, self._clock())
            _write_record(fd, holder)
            fsync_dir(path.parent)
            lease = Lease(name=name, token=secrets.token_hex(16), holder=holder, took_over_from=previous)
            self._held[lease.token] = _Held(fd=fd, inode=_inode(fd), lease=lease)
            return lease
        raise LockHeld(name, None, "the lock file kept changing hands; try again")

    def renew(self, lease: Lease, path: Path) -> Lease:
        """Confirm we still hold the lock (the file is still ours at ``path``); local locks do not expire."""
        held = self._held.get(lease.token)
        if held is None:
            raise LockLost(f"the {lease.name!r} lock is not held by this store (released, or never acquired)")
        try:
            current = os.stat(path)
        except FileNotFoundError:
            current = None
        if current is None or (current.st_dev, current.st_ino) != held.inode:
            raise LockLost(f"the {lease.name!r} lock file {path} was removed or replaced behind our back")
        return held.lease

    def release(self, lease: Lease, path: Path) -> None:
        """Give the lock up. Unknown or already released leases are ignored, so cleanup paths may repeat."""
        held = self._held.pop(lease.token, None)
        if held is None:
            return
        try:
            # Unlink while still holding the flock, so nobody can lock this inode and then find it gone.
            if _same_inode(held.fd, path):
                os.unlink(path)
                fsync_dir(path.parent)
        finally:
            os.close(held.fd)  # closing drops the flock

    def inspect(self, name: str, path: Path) -> LockStatus:
        """Look without taking: free (no file), held (someone has the flock) or stale (a dead holder's record)."""
        try:
            fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        except FileNotFoundError:
            return LockStatus(name=name, state=LockState.FREE)
        try:
            holder = _read_holder(fd)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return LockStatus(name, LockState.HELD, holder, _holder_alive(holder))
            fcntl.flock(fd, fcntl.LOCK_UN)
            return LockStatus(name, LockState.STALE, holder, _holder_alive(holder))
        finally:
            os.close(fd)


def _open_or_create(path: Path) -> int | None:
    flags = os.O_RDWR | os.O_CLOEXEC
    try:
        return os.open(path, flags | os.O_CREAT | os.O_EXCL, 0o644)
    except FileExistsError:
        pass
    try:
        return os.open(path, flags)
    except FileNotFoundError:
        return None


def _inode(fd: int) -> tuple[int, int]:
    st = os.fstat(fd)
    return st.st_dev, st.st_ino


def _same_inode(fd: int, path: Path) -> bool:
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return False
    return (st.st_dev, st.st_ino) == _inode(fd)


def _this_process(owner: str, now: datetime) -> Holder:
    started = None
    with contextlib.suppress(psutil.Error):
        started = psutil.Process().create_time()
    return Holder(
        owner=owner, pid=os.getpid(), host=socket.gethostname(), acquired_at=now, process_started_at=started
    )


def _write_record(fd: int, holder: Holder) -> None:
    data = encode_document(holder.to_dict())
    os.ftruncate(fd, 0)
    os.pwrite(fd, data, 0)
    os.fsync(fd)


def _read_holder(fd: int) -> Holder | None:
    """The record in the lock file, or None while it is still empty (a holder between create and write)."""
    try:
        size = os.fstat(fd).st_size
        data = os.pread(fd, max(size, 1), 0)
        return Holder.from_dict(json.loads(data)) if data.strip() else None
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _holder_alive(holder: Holder | None) -> bool | None:
    """Whether the recorded process still runs; None when it is on another host (we cannot tell)."""
    if holder is None or holder.host != socket.gethostname():
        return None
    try:
        process = psutil.Process(holder.pid)
        if (
            holder.process_started_at is not None
            and abs(process.create_time() - holder.process_started_at) > 1
        ):
            return False  # the pid was reused by an unrelated process
        return process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False
    except psutil.Error:
        return None


def _dead_holder_note(holder: Holder | None) -> str:
    if _holder_alive(holder) is False:
        return (
            "its recorded process is gone, yet the file is still locked: a child it forked may hold the "
            "descriptor; stop that process"
        )
    return "wait for it to finish, or stop it"
