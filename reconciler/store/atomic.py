"""Crash-safe file writes: whole-file replacement for documents, single-write appends for the history.

A reader never sees half a document: we write a temporary file in the same directory, fsync it, and
``os.replace`` it over the target (atomic on POSIX), then fsync the directory so the rename survives a power
cut. An append is one ``write`` of one complete line on an ``O_APPEND`` descriptor; a crash can at worst
leave a torn line, which the next append terminates and :func:`read_jsonl` skips.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from reconciler.store.protocol import StoreError

log = logging.getLogger(__name__)


def encode_document(doc: Mapping[str, Any]) -> bytes:
    """Stable, diff-friendly JSON. Raises TypeError for values JSON cannot hold -- before any file is touched."""
    return (json.dumps(doc, sort_keys=True, indent=2, ensure_ascii=False) + "\n").encode()


def write_atomic(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` so that readers see the old or the new content, never a mix."""
    path.parent.mkdir(parents=True, exist_ok=True)
    # mkstemp creates the file with mode 0600, which the rename keeps: documents may hold LRO continuation
    # tokens (an operation's initial response), so they stay readable by their owner only.
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    fsync_dir(path.parent)


def write_json_atomic(path: Path, doc: Mapping[str, Any]) -> None:
    write_atomic(path, encode_document(doc))


def read_json(path: Path) -> dict[str, Any] | None:
    """The document at ``path``, or None when there is none. A corrupt file is an error naming the file."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise StoreError(f"{path}:{exc.lineno}:{exc.colno}: not valid JSON ({exc.msg})") from None
    if not isinstance(value, dict):
        raise StoreError(f"{path}: expected a JSON object, found {type(value).__name__}")
    return value


def append_jsonl(path: Path, record: Mapping[str, Any]) -> None:
    """Append ``record`` as one line. The line is encoded first, so a bad record writes nothing."""
    line = (json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False) + "\n").encode()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        size = os.fstat(fd).st_size
        if size and os.pread(fd, 1, size - 1) != b"\n":
            line = b"\n" + line  # end a torn line left by a crash, so this record stays on its own line
        written = os.write(fd, line)
        if written != len(line):  # regular files do not write short unless the disk is full
            raise StoreError(f"{path}: short write ({written} of {len(line)} bytes); is the disk full?")
        os.fsync(fd)
    finally:
        os.close(fd)


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    """All records of a JSON-lines file, oldest first.

    A line that does not parse is the trace of a crash mid-append (the append never completed, so the record
    never happened): it is skipped with a warning naming file:line rather than making the history unreadable.
    """
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return []
    records: list[dict[str, Any]] = []
    for number, raw in enumerate(data.split(b"\n"), start=1):
        if not raw.strip():
            continue
        try:
            record = json.loads(raw)
        except (json.JSONDecodeError, UnicodeDecodeError):
            log.warning("%s:%d: skipping a torn or corrupt history line", path, number)
            continue
        if isinstance(record, dict):
            records.append(record)
        else:
            log.warning("%s:%d: skipping a history line that is not a JSON object", path, number)
    return records


def fsync_dir(directory: Path) -> None:
    """Make a rename or create in ``directory`` durable (a no-op where directories cannot be opened)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
