"""The controller's Prometheus metrics (one registry per controller, so tests can run several).

Names follow Prometheus conventions (``_total`` counters, ``_seconds`` units); README.md lists them.
"""

from __future__ import annotations

from collections.abc import Mapping

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

CYCLE_BUCKETS = (0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800)


class ControllerMetrics:
    def __init__(self) -> None:
        r = self.registry = CollectorRegistry()
        self.cycle_duration = Histogram("reconcile_cycle_duration_seconds", "Duration of reconcile cycles",
                                        ["result"], buckets=CYCLE_BUCKETS, registry=r)  # fmt: skip
        self.cycles = Counter("reconcile_cycles_total", "Reconcile cycles by result", ["result"], registry=r)
        self.last_success = Gauge(
            "reconcile_last_success_timestamp_seconds", "Unix time of the last successful cycle", registry=r
        )
        self.drift = Gauge(
            "reconcile_drift", "Changes the last plan found, by resource kind", ["kind"], registry=r
        )
        self.actions = Counter("reconcile_actions_total", "Executed actions by kind and result",
                               ["kind", "result"], registry=r)  # fmt: skip
        self.arm_requests = Counter("reconcile_arm_requests_total", "ARM requests by method and status",
                                    ["method", "status"], registry=r)  # fmt: skip
        self.throttled = Counter("reconcile_arm_throttled_total", "ARM requests answered 429", registry=r)
        self.hosts = Gauge("reconcile_session_hosts", "Session hosts by pool and image version",
                           ["pool", "version"], registry=r)  # fmt: skip
        self.rollout_batches = Gauge("reconcile_rollout_batches", "Rollout batches still to run, by pool (last plan)",
                                     ["pool"], registry=r)  # fmt: skip
        self.quarantined = Gauge("reconcile_quarantined_versions", "Image versions in quarantine", registry=r)
        self.leader = Gauge("reconcile_leader", "1 while this replica holds the leader lease", registry=r)
        self.desired_invalid = Gauge(
            "reconcile_desired_invalid",
            "1 while the newest commit is invalid (the last good one is applied)",
            registry=r,
        )
        self.source_errors = Counter(
            "reconcile_source_errors_total", "Failed git fetches / reads", registry=r
        )
        self.suspended = Gauge("reconcile_suspended", "1 while writes are suspended by Settings", registry=r)
        self.applied_commit = Gauge("reconcile_applied_commit_info", "The commit the last cycle applied",
                                    ["commit"], registry=r)  # fmt: skip

    def set_labelled(self, gauge: Gauge, values: Mapping[tuple[str, ...] | str, float]) -> None:
        """Replace every series of ``gauge`` with ``values`` (series that disappeared must not linger)."""
        gauge.clear()
        for labels, value in values.items():
            gauge.labels(*((labels,) if isinstance(labels, str) else labels)).set(value)

    def exposition(self) -> bytes:
        return generate_latest(self.registry)
