"""The short texts `reconcile apply` prints besides the plan and the recap, so the CLI formats nothing."""

from __future__ import annotations

from collections.abc import Sequence

_STALE_SHOWN = 20  # enough to see what changed; the count says how many more


def render_no_changes() -> str:
    return "No changes. Azure matches the desired state.\n"


def render_stale(reasons: Sequence[str], planfile: str) -> str:
    lines = [f"  {reason}" for reason in reasons[:_STALE_SHOWN]]
    lines.append(
        f"error: the saved plan {planfile} is stale ({len(reasons)} resource(s) changed since it was made); "
        "run `reconcile plan` again"
    )
    return "\n".join(lines) + "\n"


def render_timed_out() -> str:
    return "error: --timeout reached with ready work not done; run apply again to resume\n"


__all__ = ["render_no_changes", "render_stale", "render_timed_out"]
