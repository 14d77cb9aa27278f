"""What a read-modify-write needs of a resource as it is now: its tags and the etag they were read at."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class CurrentTags:
    tags: dict[str, str] = field(default_factory=dict)
    # Sent back as If-Match where the type has one (host pools, VMs): a tag written by someone else between our
    # read and our write then fails the write with 412 instead of being silently overwritten.
    etag: str | None = None
