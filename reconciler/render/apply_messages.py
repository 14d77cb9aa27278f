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


def render_stopping(signal_name: str, grace_seconds: float) -> str:
    return (
        f"\n{signal_name}: starting nothing new; in-flight calls may take up to {grace_seconds:.0f}s to end "
        "(again to stop waiting); the history and the recap follow\n"
    )


def render_interrupted_again() -> str:
    return "\ninterrupted again: not waiting for in-flight calls\n"


def render_interrupted_before_apply() -> str:
    return "interrupted before anything was applied\n"


__all__ = [
    "render_interrupted_again",
    "render_interrupted_before_apply",
    "render_no_changes",
    "render_stale",
    "render_stopping",
    "render_timed_out",
]
