"""`make demo`: the whole loop against the embedded sandbox, on its simulated clock.

1. validate desired/ and export its JSON Schema (no Azure involved);
2. start the sandbox seeded with a brownfield estate (demo/brownfield.json: some resources right, some drifted,
   some missing, one stale version still in use) and point `reconcile` at it through the same environment
   variables production uses;
3. plan (text, then the Markdown a pull request gets), apply, and apply again as the simulated clock moves on,
   until a plan reports no changes — rollouts gated behind their validation pool's soak and maintenance
   windows included;
4. publish a new clinical image (1.6.0, built by Image Builder): the validation pool rolls first, the
   production pools follow after the soak, inside their maintenance windows.

Between applies the demo fast-forwards the sandbox clock to the next moment anything can happen (a soak ending,
a window opening), as a controller running on an interval would simply wait for it. Nothing outside the
sandbox is touched; the sandbox lives in memory and stops with the demo.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from reconciler.sandbox import Sandbox  # noqa: E402

RECONCILE = [sys.executable, "-m", "reconciler"]
TIME_SCALE = 1000  # sandbox seconds per real second: a 40-minute build takes 2.4 s
MAX_CYCLES = 8

NEW_VERSION = """
---
apiVersion: avd.reconciler.io/v1alpha1
kind: ImageVersion
metadata:
  name: 1.6.0
  annotations:
    change: "EHR client 2026.3, December cumulative update"
spec:
  definition: win11-24h2-m365-clinical
  source:
    build: clinical-win11-m365
  targetRegions:
    - name: westeurope
      replicaCount: 2
    - name: northeurope
  storageAccountType: Standard_ZRS
"""


def banner(text: str) -> None:
    print(f"\n\033[1m==> {text}\033[0m" if sys.stdout.isatty() else f"\n==> {text}", flush=True)


def reconcile(*args: str, env: dict[str, str] | None = None, ok: tuple[int, ...] = (0,), quiet=False) -> int:
    if not quiet:
        print("$ reconcile " + " ".join(args), flush=True)
    out = subprocess.DEVNULL if quiet else None
    rc = subprocess.run([*RECONCILE, *args], cwd=ROOT, env=env, stdout=out, stderr=out).returncode
    if rc not in ok:
        raise SystemExit(f"reconcile {' '.join(args)} exited {rc}")
    return rc


def pool_status(desired: Path, env: dict[str, str]) -> list[dict]:
    done = subprocess.run([*RECONCILE, "status", "-o", "json", "--desired", str(desired)], cwd=ROOT, env=env,
                          capture_output=True, text=True, check=True)  # fmt: skip
    return json.loads(done.stdout)["pools"]


def show(pools: list[dict]) -> None:
    for p in pools:
        running = ", ".join(f"{v}×{n}" for v, n in sorted(p["running"].items())) or "no hosts"
        why = (p.get("next_check") or {}).get("why") or ""
        if not p["window_open"] and p["state"] != "converged" and p.get("next_window"):
            why = why or f"maintenance window opens {p['next_window'][:16]}"
        print(f"   {p['pool']:24} {p['state']:10} pinned {p['pinned']:10} running {running:22} {why}"[:150])


def converge(sb: Sandbox, desired: Path, state: str, env: dict[str, str]) -> None:
    """Apply; when it stops with work waiting (a soak, a window), move the sandbox clock to the moment the
    waiting work said it resumes, as time would pass in production; repeat until a plan has nothing left."""
    for cycle in range(1, MAX_CYCLES + 1):
        print(f"-- apply #{cycle}, sandbox clock {sb.now():%a %Y-%m-%d %H:%M} UTC", flush=True)
        args = [
            "apply",
            "--desired",
            str(desired),
            "--auto-approve",
            "--state",
            state,
            "--timeout",
            "3h",
            "-o",
            "json",
        ]
        done = subprocess.run([*RECONCILE, *args], cwd=ROOT, env=env, capture_output=True, text=True)
        if "No changes" in done.stdout:
            print(f"   converged: nothing left to do (sandbox clock {sb.now():%a %Y-%m-%d %H:%M} UTC)")
            return
        recap = json.loads(done.stdout)["recap"]
        if recap["failures"]:
            raise SystemExit(f"apply failed: {recap['failures']}\n{done.stderr[-2000:]}")
        totals = recap["totals"]
        print(
            f"   changed={totals.get('changed', 0)} ok={totals.get('ok', 0)} waiting={totals.get('waiting', 0)}"
        )
        show(pool_status(desired, env))
        resume = [datetime.fromisoformat(u["resume_at"]) for u in recap["unfinished"] if u.get("resume_at")]
        if resume and min(resume) > sb.now():
            sb.advance((min(resume) - sb.now()).total_seconds() + 1)
    raise SystemExit(f"not converged after {MAX_CYCLES} applies")


def report_invariants(inv: dict) -> None:
    """What the sandbox saw, whatever the reconciler believes: capacity, logoffs, leftovers."""
    banner("What the sandbox recorded (GET /_sandbox/invariants)")
    for pool in inv["pools"].values():
        name = pool["id"].rsplit("/", 1)[-1]
        print(
            f"   {name:24} Available+accepting hosts: min {pool['min']}, max {pool['max']}; VMs at most {pool['max_hosts']}"
        )
    ends = inv["forced_session_ends"]
    print(f"   user sessions logged off by force: {len(ends)}")
    for end in ends:
        pool = end["id"].split("/hostPools/")[-1].split("/")[0]
        print(f"     {pool}: {(end.get('seconds_after_drain') or 0) / 60:.0f} min after its host was drained")
    for key in ("orphan_disks", "orphan_nics", "ghost_session_hosts", "versions_deleted_in_use"):
        print(f"   {key.replace('_', ' ')}: {len(inv[key])}")


def main() -> int:
    banner("Validate desired/ (no Azure involved)")
    reconcile("validate", "--desired", "desired")
    with tempfile.TemporaryDirectory() as tmp:
        schema = Path(tmp) / "desired-state.schema.json"
        reconcile("schema", "-o", str(schema))
        print(f"JSON Schema for editors written ({schema.stat().st_size} bytes)")
        desired = Path(tmp) / "desired"
        shutil.copytree(ROOT / "desired", desired)
        state = str(Path(tmp) / "state")

        banner("Start the sandbox with a brownfield estate (demo/brownfield.json)")
        with Sandbox(
            time_scale=TIME_SCALE, seed=str(ROOT / "demo" / "brownfield.json"), landing_zone=True
        ) as sb:
            env = {**os.environ, **sb.env}
            print(f"sandbox {sb.endpoint}, clock {sb.now():%Y-%m-%d %H:%M} UTC, {TIME_SCALE}x real time")

            banner("Plan: what would change, and why")
            reconcile("plan", "--desired", str(desired), "--detailed-exitcode", env=env, ok=(2,))

            banner("The same plan as a pull-request comment (Markdown, first lines)")
            md = subprocess.run([*RECONCILE, "plan", "-o", "markdown", "--desired", str(desired)], cwd=ROOT,
                                env=env, capture_output=True, text=True)  # fmt: skip
            print("\n".join(md.stdout.splitlines()[:14]) + "\n…")

            banner("Apply, cycle by cycle, until nothing is left (rings wait for soak and windows)")
            converge(sb, desired, state, env)
            banner("Plan again: no changes")
            reconcile("plan", "--desired", str(desired), "--detailed-exitcode", env=env, ok=(0,))

            banner("Publish clinical image 1.6.0: validation first, production after the soak")
            with (desired / "galleries" / "healthcare.yaml").open("a") as f:
                f.write(NEW_VERSION)
            reconcile("validate", "--desired", str(desired))
            converge(sb, desired, state, env)
            report_invariants(sb.invariants())
    banner("Done")
    return 0


if __name__ == "__main__":
    sys.exit(main())
