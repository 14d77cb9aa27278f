"""The controller's Prometheus metrics (one registry per controller, so tests can run several).

Names follow Prometheus conventions (``_total`` counters, ``_seconds`` units); README.md lists them.
"""

from __future__ import annotations

from collections.abc import Mapping

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from reconciler.model.conditions import ConditionSet, ConditionStatus

CYCLE_BUCKETS = (0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800)


class ControllerMetrics:
    def __init__(self) -> None:
        r = self.registry = CollectorRegistry()
        self.cycle_duration = Histogram(
            "reconcile_cycle_duration_seconds",
            "Duration of reconcile cycles",
            ["result"],
            buckets=CYCLE_BUCKETS,
            registry=r,
        )
        self.cycles = Counter("reconcile_cycles_total", "Reconcile cycles by result", ["result"], registry=r)
        self.last_success = Gauge(
            "reconcile_last_success_timestamp_seconds", "Unix time of the last successful cycle", registry=r
        )
        self.drift = Gauge(
            "reconcile_drift", "Changes the last plan found, by resource kind", ["kind"], registry=r
        )
        self.actions = Counter(
            "reconcile_actions_total", "Executed actions by kind and result", ["kind", "result"], registry=r
        )
        self.arm_requests = Counter(
            "reconcile_arm_requests_total",
            "ARM requests by method and status",
            ["method", "status"],
            registry=r,
        )
        self.throttled = Counter("reconcile_arm_throttled_total", "ARM requests answered 429", registry=r)
        self.hosts = Gauge(
            "reconcile_session_hosts",
            "Session hosts by pool and image version",
            ["pool", "version"],
            registry=r,
        )
        self.rollout_batches = Gauge(
            "reconcile_rollout_batches",
            "Rollout batches still to run, by pool (last plan)",
            ["pool"],
            registry=r,
        )
        self.quarantined = Gauge("reconcile_quarantined_versions", "Image versions in quarantine", registry=r)
        self.acceptance = Gauge(
            "reconcile_acceptance",
            "1 per image version with an acceptance verdict, labelled with it (running, passed, failed, forced)",
            ["definition", "version", "state"],
            registry=r,
        )
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
        self.release_blocked = Gauge(
            "reconcile_release_blocked",
            "1 per ImageBuild that is due for a new version which cannot be released (last plan)",
            ["build"],
            registry=r,
        )
        self.applied_commit = Gauge(
            "reconcile_applied_commit_info", "The commit the last cycle applied", ["commit"], registry=r
        )

        self.condition = Gauge(
            "reconcile_condition",
            "1 for the status each object's condition has (True, False or Unknown), with its reason code",
            ["kind", "name", "type", "status", "reason"],
            registry=r,
        )

    def set_conditions(self, conditions: ConditionSet) -> None:
        """One series per (object, condition, status), as kube-state-metrics does: the current one reads 1,
        the other two 0, so ``reconcile_condition{type="Stalled",status="True"} == 1`` alerts."""
        values = {}
        for obj in conditions:
            for c in obj.conditions:
                for status in ConditionStatus:
                    key = (obj.kind.value, obj.name, c.type.value, status.value, c.reason.value)
                    values[key] = 1 if status is c.status else 0
        self.set_labelled(self.condition, values)

    def set_acceptance(self, acceptance: Mapping[str, Mapping[str, str]]) -> None:
        """One series per version with a verdict (its current state): ``reconcile_acceptance{state="failed"}``
        alerts, and a version whose tags were cleared (``reconcile accept --rerun``) disappears."""
        self.set_labelled(
            self.acceptance, {(a["definition"], a["version"], a["state"]): 1 for a in acceptance.values()}
        )

    def set_labelled(self, gauge: Gauge, values: Mapping[tuple[str, ...] | str, float]) -> None:
        """Replace every series of ``gauge`` with ``values`` (series that disappeared must not linger)."""
        gauge.clear()
        for labels, value in values.items():
            gauge.labels(*((labels,) if isinstance(labels, str) else labels)).set(value)

    def exposition(self) -> bytes:
        return generate_latest(self.registry)
