"""Acceptance of a version on a validation pool, as the session-host decision sees it — pure.

The suite (ImageDefinition.spec.acceptance) runs on the first `hosts` hosts a validation pool builds from a
version that has no verdict yet: once they are Ready, their AVD health checks are judged (the planner's own
verdict: RECORD_ACCEPTANCE), then the tests run on the first of them (ACCEPT, the engine's run commands).
Until a verdict is on the version the rest of the pool's rollout is held; pools gated on it stay closed
(pool_inputs.gate_of). The verdict and the per-test outcomes are tags on the version (model.acceptance).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from reconciler.model.acceptance import (
    Acceptance,
    AcceptanceState,
    AcceptTest,
    Outcome,
    Verdict,
    acceptance_of,
    outcomes_of,
)
from reconciler.model.acceptance_vm import AcceptVmRecord, accept_vm_record
from reconciler.planner.acceptance_vm import on_test_vm
from reconciler.planner.host_steps import POLL, AcceptanceVerdictData, AcceptData, Decision, Step, StepOp

if TYPE_CHECKING:
    from reconciler.planner.host_inputs import HostView, PoolInputs

# A host that is Ready but has not reported the required health checks this long after it registered fails
# acceptance: the AVD agent reports them within minutes (pipeline.md §3), so silence means a broken agent.
REPORT_BOUND = timedelta(minutes=20)
# The simulated timeline's time for a test VM to be created and boot before its first test runs.
TEST_VM_READY = timedelta(minutes=10)


@dataclass(frozen=True)
class AcceptancePlan:
    """The suite as the plan carries it (secrets as Key Vault secret URIs only)."""

    tests: tuple[AcceptTest, ...] = ()
    checks: tuple[str, ...] = ()  # healthCheckName values that must have succeeded
    min_agent_version: str | None = None
    hosts: int = 1
    test_vm: tuple[str, str] | None = (
        None  # where: testVm: (subnet id, VM size); None: the pool's first hosts
    )

    @property
    def expected(self) -> timedelta:
        """How long the tests are assumed to take in the simulated timeline: each one's timeout (the bound
        the engine gives it; a real run is usually shorter, so the preview is pessimistic), no retries."""
        tests = timedelta(seconds=sum(t.timeout_seconds for t in self.tests))
        return tests + TEST_VM_READY if self.test_vm else tests

    def to_json(self) -> dict:
        return {
            "tests": [_test_json(t) for t in self.tests],
            "checks": list(self.checks),
            "min_agent_version": self.min_agent_version,
            "hosts": self.hosts,
            "test_vm": list(self.test_vm) if self.test_vm else None,
        }

    @classmethod
    def from_json(cls, data: dict) -> AcceptancePlan:
        tests = tuple(
            AcceptTest(
                **{
                    k: v
                    for k, v in t.items()
                    if k not in ("run_as_password_uri", "parameters", "secret_parameters")
                },
                run_as_password=t.get("run_as_password_uri"),
                parameters=tuple(tuple(p) for p in t.get("parameters", ())),
                secret_parameters=tuple(tuple(p) for p in t.get("secret_parameters", ())),
            )
            for t in data.get("tests", ())
        )
        test_vm = data.get("test_vm")
        return cls(
            tests,
            tuple(data.get("checks", ())),
            data.get("min_agent_version"),
            data.get("hosts", 1),
            tuple(test_vm) if test_vm else None,
        )


def _test_json(t: AcceptTest) -> dict:
    return {
        "name": t.name,
        "inline": t.inline,
        "script_uri": t.script_uri,
        "sha256": t.sha256,
        "parameters": [list(p) for p in t.parameters],
        "secret_parameters": [list(p) for p in t.secret_parameters],
        "timeout_seconds": t.timeout_seconds,
        "expect_exit_code": t.expect_exit_code,
        "run_as_user": t.run_as_user,
        # not "...password": renderers redact such keys, and this is a Key Vault URI, not the secret
        "run_as_password_uri": t.run_as_password,
        "retries": t.retries,
    }


def secret_uri(ref) -> str:
    """The Key Vault secret URI of a spec SecretRef (the engine resolves it at run time)."""
    secret = ref.key_vault_secret
    vault = secret.vault_name or secret.vault_id.rstrip("/").rsplit("/", 1)[-1]
    uri = f"https://{vault}.vault.azure.net/secrets/{secret.secret_name}"
    return f"{uri}/{secret.version}" if secret.version else uri


def plan_of(spec, vm_size: str | None = None) -> AcceptancePlan:
    """The AcceptancePlan of an ImageDefinition.spec.acceptance (`vm_size`: the test VM's when it gives
    none, the validation pool's session host size)."""
    tests = []
    for t in spec.tests:
        plain = tuple((n, v.value) for n, v in t.parameters.items() if not v.secret)
        secret = tuple(
            (n, secret_uri(v)) for n, v in t.parameters.items() if v.secret
        )  # v is a ParameterValue; it has key_vault_secret like a SecretRef
        tests.append(
            AcceptTest(
                name=t.name,
                inline=t.script,
                script_uri=t.script_uri,
                sha256=t.sha256_checksum.lower() if t.sha256_checksum else None,
                parameters=plain,
                secret_parameters=secret,
                timeout_seconds=int(t.timeout.total_seconds()),
                expect_exit_code=t.expect_exit_code,
                run_as_user=t.run_as.user if t.run_as else None,
                run_as_password=secret_uri(t.run_as.password) if t.run_as else None,
                retries=t.retries,
            )
        )
    checks = spec.agent_checks
    return AcceptancePlan(
        tests=tuple(tests),
        checks=tuple(checks.require) if checks else (),
        min_agent_version=checks.min_agent_version if checks else None,
        hosts=spec.hosts,
        test_vm=(spec.test_vm.subnet_id, spec.test_vm.vm_size or vm_size) if spec.test_vm else None,
    )


def acceptance_plan_of(pool, version) -> AcceptancePlan | None:
    """The suite `version` (a spec ImageVersion or None) of `pool`'s definition must pass, or None (no suite
    declared, or the version predates `requiredFrom`)."""
    spec = pool.definition.spec.acceptance if pool.definition is not None else None
    if spec is None or version is None or not spec.applies_to(version.name):
        return None
    return plan_of(spec, pool.spec.session_hosts.vm_size)


@dataclass(frozen=True)
class AcceptanceInputs:
    """What one pool's decision knows of its target version's acceptance.

    `runs_here`: this is the validation pool (it runs the suite); else only its ring gate reads the verdict.
    `assume_checks`: the simulated timeline's hosts report no health checks; they are assumed to pass.
    """

    plan: AcceptancePlan
    runs_here: bool
    verdict: Acceptance | None = None
    outcomes: dict[str, Outcome] = field(default_factory=dict)
    assume_checks: bool = False
    test_vm: AcceptVmRecord | None = None  # where: testVm: the version's record of its test VM

    @classmethod
    def of(cls, plan: AcceptancePlan, runs_here: bool, version_tags) -> AcceptanceInputs:
        return cls(
            plan,
            runs_here,
            acceptance_of(version_tags),
            outcomes_of(version_tags),
            test_vm=accept_vm_record(version_tags) if plan.test_vm else None,
        )

    @property
    def state(self) -> AcceptanceState | None:
        return self.verdict.state if self.verdict else None

    @property
    def failed(self) -> bool:
        return self.state is AcceptanceState.FAILED

    @property
    def settled(self) -> bool:
        return self.state in (AcceptanceState.PASSED, AcceptanceState.FORCED, AcceptanceState.FAILED)


def _version_tuple(text: str | None) -> tuple[int, ...] | None:
    try:
        return tuple(int(p) for p in (text or "").split(".")) if text else None
    except ValueError:
        return None


def check_problem(h: HostView, plan: AcceptancePlan) -> tuple[str | None, list[str]]:
    """(why the host fails the agent checks or None, the required checks it has not reported yet)."""
    by_name = {c.name: c for c in h.health_checks}
    pending = []
    for name in plan.checks:
        check = by_name.get(name)
        if check is None or check.result == "Unknown":
            pending.append(name)
        elif not check.succeeded:
            return f"{name}: {check.message or check.result}", []
    if plan.min_agent_version:
        have = _version_tuple(h.agent_version)
        if have is None:
            pending.append("agentVersion")
        elif have < _version_tuple(plan.min_agent_version):
            return f"AVD agent {h.agent_version} is older than the required {plan.min_agent_version}", []
    return None, pending


def _order(h: HostView) -> tuple[datetime | str, str]:
    created = h.created_at
    return (created.isoformat() if created else "", h.name)


def judge(p: PoolInputs, d: Decision) -> str | None:
    """Add the acceptance steps of a validation pool to `d`; return why the rest of its rollout waits.

    None: nothing to hold (no suite here, a verdict is in, or no host runs the version yet: the rollout
    builds the first ones)."""
    acc = p.acceptance
    if acc is None or not acc.runs_here or not p.target or acc.settled:
        return None
    if acc.plan.test_vm is not None:
        return on_test_vm(p, d)
    on_target = [h for h in p.hosts if h.version == p.target and not h.failed and not h.deleting]
    if len(on_target) < acc.plan.hosts:
        return None
    chosen = sorted(on_target, key=_order)[: acc.plan.hosts]
    version = p.target.rsplit("/", 1)[-1]
    names = ", ".join(h.name for h in chosen)
    # A host whose own health checks reported a failure of a required one is judged now: AVD marks it
    # FSLogixNotHealthy (or Unavailable), so it would never be Ready, and waiting would hold the ring forever.
    coming = [
        h
        for h in chosen
        if not (h.established and h.available)
        and (acc.assume_checks or check_problem(h, acc.plan)[0] is None)
    ]
    if coming:
        return f"acceptance of {version} waits for {', '.join(h.name for h in coming)} to be Ready"
    now = p.now
    if (acc.plan.checks or acc.plan.min_agent_version) and not acc.assume_checks:
        for h in chosen:
            problem, pending = check_problem(h, acc.plan)
            if problem is None and pending:
                since = h.registered_at or h.created_at or now
                if now < since + REPORT_BOUND:
                    why = f"{h.name}: health checks not reported yet"
                    if since + REPORT_BOUND <= now + POLL:
                        d.wait(since + REPORT_BOUND, why)  # judged unreported then
                    else:
                        d.poll(now + POLL, why)
                    return f"acceptance of {version} waits for the health checks of {h.name}"
                problem = f"health checks not reported: {', '.join(pending)}"
            if problem is not None:
                reason = f"{h.name}: {problem}"
                verdict = Acceptance(AcceptanceState.FAILED, now.isoformat(), h.name, reason[:200])
                d.steps.append(
                    Step(StepOp.RECORD_ACCEPTANCE, h.name, AcceptanceVerdictData(p.target, verdict, reason))
                )
                d.notes.append(f"version {version} failed acceptance: {reason}")
                return f"acceptance of {version} failed on {h.name}"
    host = chosen[0]
    remaining = tuple(
        t
        for t in acc.plan.tests
        if (o := acc.outcomes.get(t.name)) is None or o.verdict is not Verdict.PASSED
    )
    if not remaining:
        verdict = Acceptance(AcceptanceState.PASSED, now.isoformat(), host.name)
        d.steps.append(Step(StepOp.RECORD_ACCEPTANCE, host.name, AcceptanceVerdictData(p.target, verdict)))
        return f"acceptance of {version} passed on {names}"
    d.steps.append(Step(StepOp.ACCEPT, host.name, AcceptData(p.target, remaining, host.session_host)))
    d.poll(now + POLL, f"acceptance running on {host.name}")
    return f"acceptance running on {host.name} ({', '.join(t.name for t in remaining)})"
