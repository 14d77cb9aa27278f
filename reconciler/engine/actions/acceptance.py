"""Acceptance of an image version carried out on a session host: the `accept` and `record-acceptance` steps.

A rollout cycle (engine/rollout.py) calls `advance` for an ACCEPT step. It never blocks on a test: each call
reads the version's tags and the VM's run commands once (two GETs), moves the suite as far as it can, and
returns; the planner asks for the step again next cycle while the suite runs. What survives a kill -9 is
only what is on Azure, so the order of writes is what makes a resumed apply right:
- ACCEPTANCE_TAG `running` is written before the first run command is created;
- a test whose Outcome `passed` is on the version is skipped, its run command (if a kill left it) deleted;
- a run command of the test's name that already exists is adopted and polled, never created again, unless
  the version has no acceptance tag at all: then it is from before a rerun, and is deleted first;
- a finished test's Outcome is tagged BEFORE its run command is deleted (a kill in between: the next cycle
  sees the Outcome and only deletes);
- a failed or timed-out test is run again (PUT over the same run command, which makes Azure run it again)
  while its attempts, counted in the run command's own tag, are within `retries`;
- the first final failure tags the Outcome, ACCEPTANCE_TAG `failed` (reason: the excerpt's head) and
  ACCEPTANCE_FAILURE_TAG in one PATCH, and the suite stops; after the last test, ACCEPTANCE_TAG `passed`.
A run is timed out when its instance view says TimedOut or when it has run longer than its timeout plus
`TIMEOUT_SLACK` without Azure saying so (a VM agent that stopped reporting must not hold the rollout).
Output is untrusted: sanitised, with every secret value the test was given masked, before it is tagged,
returned or shown. Secret values live only in this call's locals and the run command PUT.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from reconciler.azure.image_version_tags import VersionTags
from reconciler.azure.run_commands import RunCommandResult, RunCommands, RunCommandSpec
from reconciler.model.acceptance import (
    ACCEPTANCE_FAILURE_TAG,
    ACCEPTANCE_TAG,
    Acceptance,
    AcceptanceState,
    AcceptTest,
    Outcome,
    Verdict,
    acceptance_of,
    failure_excerpt,
    outcome_tag,
    outcomes_of,
    run_command_name,
)
from reconciler.planner.host_steps import AcceptanceVerdictData, AcceptData

ATTEMPT_TAG = "avd-reconciler-attempt"  # on the run command: which run of the test this is (1 = first)
STARTED_TAG = "avd-reconciler-started"  # on the run command: server time of its PUT (when Azure gives none)
TIMEOUT_SLACK = timedelta(minutes=2)
FINAL = (AcceptanceState.PASSED, AcceptanceState.FAILED, AcceptanceState.FORCED)

SecretResolver = Callable[[str], str]


@dataclass(frozen=True)
class TestEvent:
    """What happened to one test in one cycle, for the recap and the apply's progress lines."""

    test: str
    what: str  # started | retried | passed | failed | timed-out | skipped
    host: str
    exit_code: int | None = None
    excerpt: str | None = None  # sanitised, for a failure


@dataclass
class AcceptProgress:
    writes: int = 0
    events: list[TestEvent] = field(default_factory=list)
    verdict: AcceptanceState | None = None  # the suite's, once it has one


def verdict_of(run: RunCommandResult, test: AcceptTest, now: datetime) -> Verdict | None:
    """The test's verdict from its run command, or None while it runs (and is within its time)."""
    if run.execution_state == "TimedOut":
        return Verdict.TIMED_OUT
    if not run.finished:
        started = run.start_time or _stamp(run)
        if started is not None and now - started > timedelta(seconds=test.timeout_seconds) + TIMEOUT_SLACK:
            return Verdict.TIMED_OUT
        return None
    if run.execution_state in ("Succeeded", "Failed") and run.exit_code == test.expect_exit_code:
        return Verdict.PASSED
    return Verdict.FAILED


def _stamp(run: RunCommandResult) -> datetime | None:
    try:
        return datetime.fromisoformat(run.tags.get(STARTED_TAG, ""))
    except ValueError:
        return None


class Acceptor:
    """Carries out acceptance steps for one pool's VMs (`rg_id`: the pool's resource group id)."""

    def __init__(
        self,
        run_commands: RunCommands,
        version_tags: VersionTags,
        rg_id: str,
        location: str,
        resolve: SecretResolver | None = None,
    ):
        self.runs, self.tags, self.rg_id, self.location = run_commands, version_tags, rg_id, location
        self.resolve = resolve

    def vm_id(self, vm: str) -> str:
        return f"{self.rg_id}/providers/Microsoft.Compute/virtualMachines/{vm}"

    def record(self, data: AcceptanceVerdictData) -> int:
        """record-acceptance: the planner's own verdict (agent checks) onto the version."""
        values = {ACCEPTANCE_TAG: data.verdict.to_tag()}
        if data.failure:
            values[ACCEPTANCE_FAILURE_TAG] = data.failure[:240]
        self.tags.merge(data.version, values)
        return 1

    def advance(self, vm: str, data: AcceptData, now: datetime) -> AcceptProgress:
        """One cycle's worth of the suite (see the module docstring). A secret that cannot be read or a
        version that is gone stops the cycle's work with a `blocked` event, never a verdict: neither says
        anything about the image."""
        progress = AcceptProgress()
        try:
            self._advance(vm, data, now, progress)
        except LookupError as exc:  # SecretUnavailable, VersionNotFound
            progress.events.append(TestEvent("-", "blocked", vm, excerpt=str(exc)[:240]))
        return progress

    def _advance(self, vm: str, data: AcceptData, now: datetime, progress: AcceptProgress) -> None:
        tags = self.tags.read(data.version)
        current = acceptance_of(tags)
        vm_id = self.vm_id(vm)
        runs = {r.name: r for r in self.runs.list(vm_id)}
        if current is not None and current.state in FINAL:
            progress.verdict = current.state
            self._clean_up(vm_id, data.tests, runs, progress)  # a kill after the verdict, before its deletes
            return
        if current is None and self._clear_stale(vm_id, data.tests, runs, progress):
            return  # they are gone next cycle, and the suite starts from its first test
        outcomes = outcomes_of(tags)
        stamp = now.isoformat()
        for test in data.tests:
            name = run_command_name(test.name)
            run = runs.get(name)
            done = outcomes.get(test.name)
            if done is not None and done.verdict is Verdict.PASSED:
                if run is not None:
                    self.runs.delete(vm_id, name)
                    progress.writes += 1
                progress.events.append(TestEvent(test.name, "skipped", done.host))
                continue
            if done is not None:  # a kill between the failed Outcome and the suite's verdict
                self._fail(data.version, vm, test, done.exit_code, "", done.verdict, stamp, progress, ())
                return
            if run is not None and run.provisioning_state == "Deleting":
                return  # a retry's delete still in flight: the same name can be created once it is gone
            if run is None:
                attempt = _retry_of(current, test.name, vm)
                if attempt == 1 and (
                    current is None or current.state is not AcceptanceState.RUNNING or current.host != vm
                ):
                    current = Acceptance(AcceptanceState.RUNNING, stamp, vm)
                    self.tags.merge(data.version, {ACCEPTANCE_TAG: current.to_tag()})
                    progress.writes += 1
                self._start(vm_id, test, attempt, stamp)
                progress.writes += 1
                progress.events.append(TestEvent(test.name, "started" if attempt == 1 else "retried", vm))
                return
            verdict = verdict_of(run, test, now)
            if verdict is None:
                return progress  # still running: look again next cycle
            secrets = self._secret_values(test)
            if verdict is not Verdict.PASSED and _attempt(run) <= test.retries:
                # A PUT repeating what ran runs nothing (ARM PUTs are idempotent): the command is deleted and
                # created again next cycle. The attempt is recorded on the version first, so a kill in
                # between neither loses the count nor starts an extra run.
                retry = Acceptance(
                    AcceptanceState.RUNNING, stamp, vm, f"{test.name} attempt {_attempt(run) + 1}"
                )
                self.tags.merge(data.version, {ACCEPTANCE_TAG: retry.to_tag()})
                self.runs.delete(vm_id, name)
                progress.writes += 2
                return
            code = run.exit_code if verdict is not Verdict.TIMED_OUT else None
            if verdict is not Verdict.PASSED:
                # the message only when the script said nothing: it is Azure's word on a script it could not run
                output = "\n".join(p for p in (run.output, run.error) if p) or (run.message or "")
                self._fail(data.version, vm, test, code, output, verdict, stamp, progress, secrets)
                self.runs.delete(vm_id, name)
                progress.writes += 1
                return
            values = {outcome_tag(test.name): Outcome(verdict, code, stamp, vm).to_tag()}
            last = test is data.tests[-1]
            if last:
                values[ACCEPTANCE_TAG] = Acceptance(AcceptanceState.PASSED, stamp, vm).to_tag()
                progress.verdict = AcceptanceState.PASSED
            self.tags.merge(data.version, values)
            outcomes[test.name] = Outcome(verdict, code, stamp, vm)
            self.runs.delete(vm_id, name)
            progress.writes += 2
            progress.events.append(TestEvent(test.name, "passed", vm, code))
            if last:
                return
        # every test passed earlier (a kill before the suite's verdict) or there are none
        self.tags.merge(
            data.version, {ACCEPTANCE_TAG: Acceptance(AcceptanceState.PASSED, stamp, vm).to_tag()}
        )
        progress.writes += 1
        progress.verdict = AcceptanceState.PASSED
        return

    def _fail(self, version, vm, test, code, output, verdict, stamp, progress, secrets) -> None:
        excerpt = failure_excerpt(test.name, code, output, secrets)
        if verdict is Verdict.TIMED_OUT and output == "":
            excerpt = failure_excerpt(test.name, None, f"no verdict within {test.timeout_seconds}s", secrets)
        head = excerpt.split(": ", 2)
        reason = ": ".join(head[:2])
        self.tags.merge(
            version,
            {
                outcome_tag(test.name): Outcome(verdict, code, stamp, vm).to_tag(),
                ACCEPTANCE_TAG: Acceptance(AcceptanceState.FAILED, stamp, vm, reason).to_tag(),
                ACCEPTANCE_FAILURE_TAG: excerpt,
            },
        )
        progress.writes += 1
        progress.verdict = AcceptanceState.FAILED
        what = "timed-out" if verdict is Verdict.TIMED_OUT else "failed"
        progress.events.append(TestEvent(test.name, what, vm, code, excerpt))

    def _clean_up(self, vm_id, tests, runs, progress) -> None:
        for test in tests:
            name = run_command_name(test.name)
            if name in runs:
                self.runs.delete(vm_id, name)
                progress.writes += 1

    def _clear_stale(self, vm_id, tests, runs, progress) -> bool:
        """Run commands of the suite on a version with no acceptance tag predate it: RUNNING is tagged before
        the first PUT, so they are a suite a person reran (`reconcile accept --rerun`) or a verdict since
        removed. Their results say nothing about this run, and adopting one would skip its test: delete them."""
        stale = False
        for test in tests:
            run = runs.get(run_command_name(test.name))
            if run is None:
                continue
            stale = True
            if run.provisioning_state != "Deleting":
                self.runs.delete(vm_id, run.name)
                progress.writes += 1
        return stale

    def _secret_values(self, test: AcceptTest) -> tuple[str, ...]:
        uris = [uri for _, uri in test.secret_parameters]
        if test.run_as_password:
            uris.append(test.run_as_password)
        if not uris or self.resolve is None:
            return ()
        return tuple(self.resolve(uri) for uri in uris)

    def _start(self, vm_id: str, test: AcceptTest, attempt: int, stamp: str) -> None:
        secret_params = tuple((n, self._resolve(uri)) for n, uri in test.secret_parameters)
        password = self._resolve(test.run_as_password) if test.run_as_user and test.run_as_password else None
        spec = RunCommandSpec(
            name=run_command_name(test.name),
            location=self.location,
            script=test.inline,
            script_uri=test.script_uri,
            parameters=test.parameters,
            secret_parameters=secret_params,
            run_as_user=test.run_as_user,
            run_as_password=password,
            timeout_seconds=test.timeout_seconds,
            tags=((ATTEMPT_TAG, str(attempt)), (STARTED_TAG, stamp)),
        )
        self.runs.create(vm_id, spec)

    def _resolve(self, uri: str) -> str:
        if self.resolve is None:
            raise LookupError(f"no Key Vault resolver to read {uri}")
        return self.resolve(uri)


def _retry_of(current: Acceptance | None, test: str, vm: str) -> int:
    """The attempt the version's running tag asks for `test` on `vm` (1 when it asks for none)."""
    if current is None or current.state is not AcceptanceState.RUNNING or current.host != vm:
        return 1
    head, _, n = (current.reason or "").rpartition(" attempt ")
    return int(n) if head == test and n.isdigit() else 1


def _attempt(run: RunCommandResult) -> int:
    try:
        return max(1, int(run.tags.get(ATTEMPT_TAG, "1")))
    except ValueError:
        return 1
