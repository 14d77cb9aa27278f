"""The production entry point driven in process: `reconcile apply -o json` (`reconciler.cli.main`), one pass or
pass after pass on a frozen sandbox clock, and what each pass reports per host pool.

`drive` is how the rollout tests run a rollout: one `reconcile apply --wait none` per cycle (it does the work
that is ready and hands every wait back), then the frozen clock jumps to the earliest `resumes_at` it named.
After every pass the sandbox invariants are checked, so a rule broken for a moment is caught.
"""

from __future__ import annotations

import contextlib
import io
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from reconciler.cli import main
from reconciler.spec import load_desired
from support.rollout import check_invariants
from support.sandbox import sandbox_environ


def apply_json(desired: Path, state: Path, *extra: str, capsys=None) -> tuple[int, dict, str]:
    """Run `reconcile apply -o json` in process; (exit code, recap, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    argv = ["apply", "--auto-approve", "--desired", str(desired), "--state", str(state), "-o", "json", *extra]
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    text = out.getvalue()
    recap = json.loads(text)["recap"] if text.strip().startswith("{") else {}
    return code, recap, err.getvalue()


def plan_json(sb, desired: Path) -> dict:
    """`reconcile plan -o json` in process against `sb`: the plan as the JSON schema has it."""
    out, err = io.StringIO(), io.StringIO()
    with sandbox_environ(sb), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["plan", "--desired", str(desired), "-o", "json"])
    assert code == 0, f"exit {code}: {err.getvalue()[-3000:]}"
    return json.loads(out.getvalue())


def history(state: Path) -> list[dict]:
    path = state / "history.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


@dataclass(frozen=True)
class PoolOutcome:
    """Where one host pool's change ended in one apply: done, waiting (handed back, with when and why) or
    failed (with the error code)."""

    pool: str
    state: str  # "done" | "waiting" | "failed"
    why: str = ""
    reason_code: str | None = None  # the outcome's code: "rollback", "replication", "halted", ...
    at: datetime | None = None
    error_code: str | None = None  # a failure's Azure-style code ("RolloutHalted")

    @property
    def done(self) -> bool:
        return self.state == "done"

    @property
    def waiting(self) -> bool:
        return self.state == "waiting"

    @property
    def failed(self) -> bool:
        return self.state == "failed"


@dataclass(frozen=True)
class ApplyPass:
    code: int
    recap: dict
    stderr: str
    pools: list[PoolOutcome]  # in the desired state's order

    def pool(self, name: str) -> PoolOutcome:
        return next(p for p in self.pools if p.pool == name)


def _is_pool(resource: str, name: str) -> bool:
    """The pool's own change (a roll) or its session hosts' (a create, update or delete)."""
    resource = resource.lower().removesuffix("/sessionhosts")
    return resource.endswith(f"/hostpools/{name}".lower())


def _pool_outcome(recap: dict, name: str) -> PoolOutcome:
    for item in recap.get("failures") or ():
        if _is_pool(item["id"], name):
            return PoolOutcome(
                name, "failed", item["why"], item.get("reason_code"), error_code=item.get("error_code")
            )
    for item in recap.get("pending") or ():  # soonest first
        if _is_pool(item["resource"], name):
            at = datetime.fromisoformat(item["resumes_at"]) if item.get("resumes_at") else None
            return PoolOutcome(name, "waiting", item["why"], item.get("reason_code"), at)
    codes = [r.get("reason_code") for r in recap.get("results") or () if _is_pool(r["id"], name)]
    return PoolOutcome(name, "done", reason_code=next((c for c in codes if c), None))


def apply_pass(sb, desired_dir: Path, state: Path | None = None) -> ApplyPass:
    """One `reconcile apply --wait none` against `sb` (its environment set as production reads it)."""
    state = state or desired_dir.parent / "state"
    with sandbox_environ(sb):
        code, recap, err = apply_json(desired_dir, state, "--wait", "none")
    # Exit 0 without a recap is "No changes": nothing to execute, every pool converged.
    assert (code == 0 and not recap) or recap.get("outcome") in ("succeeded", "pending", "failed"), (
        f"exit {code}: {err[-3000:]}"
    )
    names = [p.name for p in load_desired(desired_dir).host_pools]
    return ApplyPass(code, recap, err, [_pool_outcome(recap, n) for n in names])


def advance_to_earliest_wait(sb, result: ApplyPass) -> None:
    """Move the frozen clock to the earliest time the apply said it resumes (at least one second)."""
    waits = [p.at for p in result.pools if p.waiting and p.at is not None]
    delta = (min(waits) - sb.now()).total_seconds() if waits else 1.0
    sb.advance(max(delta, 1.0))


def drive(
    sb,
    desired_dir: Path,
    *,
    max_cycles: int = 200,
    on_cycle=None,
    max_hosts: dict[str, int] | None = None,
    stop_on_failed: bool = True,
    settled: Callable[[ApplyPass], bool] | None = None,
) -> tuple[int, ApplyPass]:
    """Apply passes until every pool is done (or, with `stop_on_failed`, every pool is done or failed and one
    failed; or `settled(pass)` says the test has seen enough), moving the frozen sandbox clock between them.
    `on_cycle(n, pass)` runs after each pass's invariant check. Returns (passes, the last pass)."""
    result = None
    for cycle in range(1, max_cycles + 1):
        result = apply_pass(sb, desired_dir)
        check_invariants(sb, max_hosts=max_hosts)
        if on_cycle:
            on_cycle(cycle, result)
        if all(p.done for p in result.pools) or (settled is not None and settled(result)):
            return cycle, result
        if (
            stop_on_failed
            and any(p.failed for p in result.pools)
            and not any(p.waiting for p in result.pools)
        ):
            return cycle, result
        advance_to_earliest_wait(sb, result)
    raise AssertionError(f"not converged after {max_cycles} passes: {result and result.pools}")
