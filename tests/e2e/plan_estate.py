"""Moved to support.estate; tests/planner (another package's tests) still import it from here."""

from support.estate import PoolHosts, converged, session_host_pair  # noqa: F401
