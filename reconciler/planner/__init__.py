"""Pure planning: `plan(desired, observed, now) -> Plan`. No I/O, no clock, no Azure SDK."""

from reconciler.planner.core import plan

__all__ = ["plan"]
