"""Apply progress as `reconcile apply` prints it: a line per finished change; on a terminal, waits share one
status line that is rewritten, and cleared before the next line and at the end."""

from __future__ import annotations

import io
from datetime import UTC, datetime

from reconciler.engine.report import EventKind, ExecEvent
from reconciler.render.progress import Progress

AT = datetime(2026, 1, 5, 9, 30, 15, tzinfo=UTC)
GALLERY = "create /subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/galleries/gal1"
VERSION = "create /subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/galleries/gal1/images/w/versions/2.0.0"


def _event(kind: EventKind, node: str, why: str = "", resume_at=None) -> ExecEvent:
    return ExecEvent(kind=kind, node_id=node, node_kind="x", at=AT, why=why, resume_at=resume_at)


def test_not_a_terminal_prints_every_wait_and_result_on_its_own_line():
    out = io.StringIO()
    progress = Progress(out, tty=False)
    progress(_event(EventKind.STARTED, GALLERY))
    progress(_event(EventKind.WAITING, VERSION, "replicating to westeurope"))
    progress(_event(EventKind.DONE, GALLERY))
    progress(_event(EventKind.FAILED, VERSION, "quota exceeded"))
    progress.close()
    assert out.getvalue().splitlines() == [
        "09:30:15 … create 2.0.0: replicating to westeurope",
        "09:30:15 ✓ create gal1",
        "09:30:15 ✗ create 2.0.0: quota exceeded",
    ]


def test_a_terminal_rewrites_one_status_line_and_clears_it():
    out = io.StringIO()
    progress = Progress(out, tty=True)
    progress(_event(EventKind.WAITING, VERSION, "replicating"))
    assert out.getvalue() == "\r\033[K  waiting on 1: create 2.0.0: replicating"
    progress(_event(EventKind.HANDED_BACK, VERSION, "soak", resume_at=AT))
    assert out.getvalue().endswith(
        f"\r\033[K09:30:15 ⏸ create 2.0.0: pending: soak (resumes {AT.isoformat()})\n"
    )
    progress.close()
    assert not progress.status_shown
