"""Apply progress on a stream: one line per finished change; on a terminal, one status line rewritten while
changes wait (builds, replication), so a long wait shows what it waits for."""

from __future__ import annotations

from datetime import datetime

_MARKS = {"done": "✓", "failed": "✗", "skipped": "-"}
_STATUS_WIDTH = 120  # one terminal line: a wrapped status line could not be rewritten in place


class Progress:
    """An executor ``on_event`` callback; ``close()`` clears the status line."""

    def __init__(self, stream, tty: bool):
        self.stream, self.tty = stream, tty
        self.waiting: dict[str, str] = {}
        self.status_shown = False

    def __call__(self, event) -> None:
        kind = event.kind.value
        name = change_label(event.node_id)
        if kind == "started":
            return
        if kind == "handed-back":
            self.waiting.pop(event.node_id, None)
            when = f" (resumes {event.resume_at.isoformat()})" if event.resume_at else ""
            self._line(f"{clock_label(event.at)} ⏸ {name}: pending: {event.why}{when}")
        elif kind in ("waiting", "retrying"):
            self.waiting[event.node_id] = f"{name}: {event.why}"
            if not self.tty:
                self._line(f"{clock_label(event.at)} … {name}: {event.why}")
        else:
            self.waiting.pop(event.node_id, None)
            mark = _MARKS.get(kind, "·")
            self._line(f"{clock_label(event.at)} {mark} {name}" + (f": {event.why}" if event.why else ""))
        if self.tty and self.waiting:
            first = next(iter(sorted(self.waiting.values())))
            text = f"  waiting on {len(self.waiting)}: {first}"[:_STATUS_WIDTH]
            self.stream.write("\r\033[K" + text)
            self.stream.flush()
            self.status_shown = True

    def _line(self, text: str) -> None:
        if self.tty and self.status_shown:
            self.stream.write("\r\033[K")
            self.status_shown = False
        self.stream.write(text + "\n")
        self.stream.flush()

    def close(self) -> None:
        if self.tty and self.status_shown:
            self.stream.write("\r\033[K")
            self.stream.flush()


def change_label(node_id: str) -> str:
    """``"create /subscriptions/.../galleries/g1"`` → ``"create g1"``: the action and the resource's name."""
    action, _, rid = node_id.partition(" ")
    return f"{action} {rid.rstrip('/').rsplit('/', 1)[-1]}"


def clock_label(at: datetime) -> str:
    return at.strftime("%H:%M:%S")


__all__ = ["Progress", "change_label", "clock_label"]
