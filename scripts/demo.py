"""`make demo`: the whole loop against the embedded sandbox, on its simulated clock.

1. validate desired/ and export its JSON Schema (no Azure involved);
2. start the sandbox seeded with a brownfield estate (demo/brownfield.json: some resources right, some drifted,
   some missing, one stale version still in use) and point `reconcile` at it through the same environment
   variables production uses;
3. plan (text, then the Markdown a pull request gets), apply, and apply again as the simulated clock moves on,
   until a plan reports no changes — rollouts gated behind their validation pool's soak and maintenance
   windows included;
4. a month later the marketplace image moves: the build triggers fire, `reconcile release` writes the new
   versions into desired/ (pinned to the new source), Image Builder builds them, the validation pool rolls
   first, the production pools follow after the soak, inside their maintenance windows;
5. but the new clinical version fails its acceptance test on the validation pool (the EHR client cannot
   reach its license server: a sandbox run command rule makes the test exit 1): it is quarantined and the
   production pools stay where they are; the fixed version that follows passes, soaks and is promoted.

Between applies the demo fast-forwards the sandbox clock to the next moment anything can happen (a soak ending,
a window opening), as a controller running on an interval would simply wait for it. Nothing outside the
sandbox is touched; the sandbox lives in memory and stops with the demo.
"""

from __future__ import annotations

import json
import math
import os
import re
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
MAX_CYCLES = 12


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
    done = subprocess.run(
        [*RECONCILE, "status", "-o", "json", "--desired", str(desired)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout)["pools"]


class Tally:
    """What every apply of the demo did, added up for the closing summary."""

    def __init__(self) -> None:
        self.applies = 0
        self.changes: dict[str, int] = {}
        self.hosts: dict[str, int] = {}

    def add(self, recap: dict) -> None:
        self.applies += 1
        for key, n in recap["totals"].items():
            self.changes[key] = self.changes.get(key, 0) + n
        for key, n in recap["hosts"]["totals"].items():
            self.hosts[key] = self.hosts.get(key, 0) + n


def _one_line(recap: dict) -> str:
    t, h = recap["totals"], recap["hosts"]["totals"]
    hosts = ", ".join(f"{k.replace('_', ' ')} {h[k]}" for k in HOST_WORDS if h.get(k))
    line = f"changed {t.get('changed', 0)}, ok {t.get('ok', 0)}" + (f"; hosts {hosts}" if hosts else "")
    if recap["pending"]:
        first = recap["pending"][0]
        when = (first.get("resumes_at") or "")[5:16].replace("T", " ")
        why = re.sub(r"/subscriptions/\S+/(\S+)", r"\1", first["why"].split(": ", 1)[-1])  # ids → names
        line += f"; next at {when}: {why}"
    return line


HOST_WORDS = ("created", "replaced", "deleted", "drained", "messaged", "logged_off")


def converge(sb: Sandbox, desired: Path, state: str, env: dict[str, str], tally: Tally, watch=None) -> None:
    """Apply; when it hands back a long wait (a soak, a window), move the sandbox clock to the moment that wait
    ends, as time would pass in production; repeat until a plan has nothing left. One line per apply."""
    for cycle in range(1, MAX_CYCLES + 1):
        clock = f"{sb.now():%a %Y-%m-%d %H:%M}"
        args = ["apply", "--desired", str(desired), "--auto-approve", "--state", state, "-o", "json"]
        done = subprocess.run([*RECONCILE, *args], cwd=ROOT, env=env, capture_output=True, text=True)
        if "No changes" in done.stdout:
            print(f"   apply #{cycle} {clock}: nothing left to do")
            return
        try:
            recap = json.loads(done.stdout)["recap"]
        except (ValueError, KeyError):
            raise SystemExit(f"apply exited {done.returncode}: {done.stderr.strip()[-2000:]}") from None
        # A rollout halted because its version failed acceptance is the gate doing its job, not a failure
        # of the demo: that version is held back (act 5); anything else that fails stops the demo.
        failures = [f for f in recap["failures"] if "failed acceptance" not in f["why"]]
        if failures or (done.returncode != 0 and len(failures) == len(recap["failures"])):
            why = "; ".join(f"{f['id']}: {f['why']}" for f in failures) or recap["outcome"]
            raise SystemExit(f"apply #{cycle} {recap['outcome']}: {why}")
        tally.add(recap)
        print(f"   apply #{cycle} {clock}: {_one_line(recap)}"[:160], flush=True)
        for line in acceptance_lines(recap):
            print(line[:200], flush=True)
        for f in recap["failures"]:
            print(f"     held back: {f['why'].split(': ', 1)[-1]}"[:200], flush=True)
        if watch is not None:
            watch(sb)
        resume = [datetime.fromisoformat(u["resumes_at"]) for u in recap["pending"] if u.get("resumes_at")]
        if resume and min(resume) > sb.now():
            sb.advance((min(resume) - sb.now()).total_seconds() + 1)
    raise SystemExit(f"not converged after {MAX_CYCLES} applies")


def acceptance_lines(recap: dict) -> list[str]:
    """The acceptance events of one apply, as `reconcile apply` prints them under ACCEPTANCE."""
    lines = []
    for t in recap.get("acceptance") or ():
        code = f" (exit {t['exit_code']})" if t.get("exit_code") is not None else ""
        why = f": {t['excerpt']}" if t.get("excerpt") else ""
        lines.append(f"     acceptance {t['pool']}: {t['test']} {t['what']} on {t['host']}{code}{why}")
    return lines


def _floors(desired: Path) -> dict[str, tuple[int, int]]:
    """Pool name -> (count, capacity floor in hosts), as the desired state says."""
    from reconciler.spec import load_desired

    floors = {}
    for pool in load_desired(desired).host_pools:
        count = pool.spec.session_hosts.count
        floors[pool.name] = (count, math.ceil(count * pool.spec.rollout.capacity_floor / 100))
    return floors


def lowest_after_floor(timeline: list, floor: int) -> int | None:
    """The lowest Available count after the pool first reached its floor (None: it never did)."""
    reached = False
    lowest = None
    for _, available in timeline:
        reached = reached or available >= floor
        if reached:
            lowest = available if lowest is None else min(lowest, available)
    return lowest


def summary(tally: Tally, inv: dict, desired: Path, started: datetime, ended: datetime) -> bool:
    """What changed, whether capacity held, who was logged off; from the recaps and from what the sandbox saw."""
    banner("Summary")
    ch, h = tally.changes, tally.hosts
    print(
        f"   {tally.applies} applies over {(ended - started).total_seconds() / 86400:.1f} sandbox days: "
        f"{ch.get('changed', 0)} changes, {ch.get('failed', 0)} failed"
    )
    print("   hosts: " + ", ".join(f"{h.get(k, 0)} {k.replace('_', ' ')}" for k in HOST_WORDS))
    ok = True
    floors = _floors(desired)
    for pool in sorted(inv["pools"].values(), key=lambda p: p["id"].lower()):
        name = pool["id"].rsplit("/", 1)[-1]
        count, floor = floors.get(name, (0, 0))
        lowest = lowest_after_floor(pool["timeline"], floor)
        held = lowest is None or lowest >= floor
        ok = ok and held
        print(
            f"   {name:24} capacity {'held' if held else 'BROKE'}: lowest Available {lowest} once at its floor "
            f"of {floor} ({count} hosts wanted)"
        )
    ends = inv["forced_session_ends"]
    print(f"   users logged off by force: {len(ends)}")
    for end in ends:
        host = end["id"].lower().split("/sessionhosts/")[-1].split("/")[0]
        print(
            f"     {end['time'][:16]} on {host}: {(end.get('seconds_after_drain') or 0) / 60:.0f} min after "
            "its host was drained and the users were told"
        )
    leftovers = {
        k.replace("_", " "): len(inv[k])
        for k in ("orphan_disks", "orphan_nics", "ghost_session_hosts", "versions_deleted_in_use")
    }
    print("   left behind: " + ", ".join(f"{k} {n}" for k, n in leftovers.items()))
    return ok and not any(leftovers.values())


SYMBOLS = {
    "create": "+",
    "update": "~",
    "replace": "-/+",
    "delete": "-",
    "adopt": "=",
    "pin": ">",
    "roll": "↻",
    "build": "*",
    "replicate": "⇉",
    "deprecate": "↓",
}


def release_month(sb: Sandbox, desired: Path, env: dict[str, str]) -> None:
    """Move the sandbox clock past the next marketplace publish and Patch Tuesday, then let the build
    triggers decide: `reconcile release` writes each due version (pinned to the source it resolved)."""
    from reconciler.sandbox.providers.compute_other import catalog_versions

    published = catalog_versions(sb._app())[-1][1]
    sb.advance(published + 30 * 86400 + 3 * 86400 - sb.now().timestamp())
    print(
        f"   clock {sb.now():%a %Y-%m-%d %H:%M} UTC; newest marketplace image {catalog_versions(sb._app())[-1][0]}"
    )
    done = subprocess.run(
        [*RECONCILE, "release", "--desired", str(desired)], cwd=ROOT, env=env, capture_output=True, text=True
    )
    if done.returncode != 2:
        raise SystemExit(f"reconcile release exited {done.returncode}: {done.stdout}{done.stderr}"[-2000:])
    for line in done.stdout.splitlines():
        if line.startswith("released "):
            path, _, why = line.removeprefix("released ").partition(": ")
            print(f"   + {Path(path).relative_to(desired.parent)}: {why}"[:160])


CLINICAL = "win11-24h2-m365-clinical"
PRODUCTION = ("hp-clinical-weu", "hp-clinical-neu")
# What the EHR client's self-test prints when the image's license-server setting is wrong: the sandbox's run
# command rule (kind "run_command", matched by the run command's name) makes the acceptance test exit 1 with it.
EHR_FAILURE = {
    "kind": "run_command",
    "name": "avd-accept-ehr-client-starts",
    "exit_code": 1,
    "output": "EHR client self-test\nEhrClient.exe: cannot reach license server lic01.corp.contoso-health.example:27000\n",
}


def clinical_pools(desired: Path, env: dict[str, str]) -> dict[str, dict]:
    """`reconcile status -o json` for the clinical pools, by name."""
    return {p["pool"]: p for p in pool_status(desired, env) if p["pool"].startswith("hp-clinical")}


def show_clinical(desired: Path, env: dict[str, str]) -> dict[str, dict]:
    """One line per clinical pool, as `reconcile status` reports it: what runs, the gate, any quarantine."""
    pools = clinical_pools(desired, env)
    for name, p in pools.items():
        running = ", ".join(f"{v}×{n}" for v, n in (p.get("running") or {}).items()) or "no hosts"
        extra = f"; QUARANTINED {p['quarantined'].rsplit('/', 1)[-1]}" if p.get("quarantined") else ""
        gate = (p.get("gate") or {}).get("why")
        print(
            f"   status {name:23} running {running}{extra}" + (f"; ring gate: {gate}" if gate else "")[:220]
        )
    return pools


def show_held_back(desired: Path, env: dict[str, str]) -> list[str]:
    """What plan says about a version that failed acceptance: the test, its exit code, the last lines of its
    output and what to do about it (the hint)."""
    done = subprocess.run(
        [*RECONCILE, "plan", "--desired", str(desired), "-o", "json"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    messages = [
        d["message"]
        for d in json.loads(done.stdout).get("diagnostics") or ()
        if "failed acceptance" in d.get("message", "")
    ]
    for message in messages:
        print(f"   plan: {message}")
    return messages


def production_versions(pools: dict[str, dict]) -> set[str]:
    return {v for name in PRODUCTION for v in (pools.get(name, {}).get("running") or {})}


class ProductionWatch:
    """Every clinical version a production pool's VMs were created from, looked up in the sandbox after each
    apply: "1.6.0 never reached production" is checked across the whole act, not only at its end."""

    def __init__(self, desired: Path) -> None:
        from reconciler.spec import load_desired

        self.prefixes = tuple(
            p.spec.session_hosts.name_prefix.lower()
            for p in load_desired(desired).host_pools
            if p.name in PRODUCTION
        )
        self.seen: set[str] = set()

    def __call__(self, sb: Sandbox) -> None:
        app = sb._app()
        with app.lock:
            for res in app.store.all():
                if str(res.get("type", "")).lower() != "microsoft.compute/virtualmachines":
                    continue
                if not str(res.get("name", "")).lower().startswith(self.prefixes):
                    continue
                ref = ((res.get("properties") or {}).get("storageProfile") or {}).get("imageReference") or {}
                image = str(ref.get("id", "")).lower()
                if f"/images/{CLINICAL}/versions/" in image:
                    self.seen.add(image.rsplit("/", 1)[-1])


def acceptance_act(
    sb: Sandbox, desired: Path, state: str, env: dict[str, str], tally: Tally, watch: ProductionWatch
) -> None:
    """1.6.0 fails its EHR test on the validation pool and is held back; 1.6.1, the fix, is promoted."""
    pools = show_clinical(desired, env)
    if "1.6.0" in production_versions(pools) | watch.seen:
        raise SystemExit("1.6.0 failed acceptance yet runs on a production pool")
    if not show_held_back(desired, env):
        raise SystemExit("plan does not show 1.6.0's acceptance failure")

    banner("The fix: 1.6.1 (EHR client license server setting corrected) passes acceptance, soaks, promotes")
    with sb._app().lock:
        sb._app().faults.clear()  # the fixed image's EHR client reaches its license server
    folder = desired / "versions" / CLINICAL
    text = (folder / "1.6.0.yaml").read_text()
    fixed = re.sub(r"(?m)^(\s*name:\s*)1\.6\.0\s*$", r"\g<1>1.6.1", text, count=1)
    (folder / "1.6.1.yaml").write_text(fixed)
    print(f"   + {(folder / '1.6.1.yaml').relative_to(desired.parent)}: 1.6.0 with the EHR client fixed")
    reconcile("validate", "--desired", str(desired), quiet=True)
    converge(sb, desired, state, env, tally, watch)
    pools = show_clinical(desired, env)
    if "1.6.0" in production_versions(pools) | watch.seen:
        raise SystemExit("1.6.0 reached a production pool")
    if "1.6.1" not in watch.seen:
        raise SystemExit("the production watch saw no VM from 1.6.1: it is looking in the wrong place")
    if not all(set(pools[name]["running"]) == {"1.6.1"} for name in PRODUCTION if name in pools):
        raise SystemExit("1.6.1 was not promoted to the production pools")
    print(
        f"   1.6.0 never ran on a production pool (their VMs, after every apply, came from "
        f"{', '.join(sorted(watch.seen))}); 1.6.1 runs on " + ", ".join(PRODUCTION)
    )


def show_plan(desired: Path, env: dict[str, str], out: Path) -> None:
    """One line per change (the full plan is saved; `reconcile show` prints it whole)."""
    reconcile("plan", "--desired", str(desired), "--out", str(out), "-o", "json", env=env, quiet=True)
    plan = json.loads(out.read_text())
    changes = [c for c in plan["changes"] if c["action"] != "no-op"]
    for c in changes:
        reason = c["reason"].split(": ", 1)[-1]
        name = c["name"] if c["kind"] != "session-hosts" else c["resource_id"].split("/")[-2]
        print(f"   {SYMBOLS.get(c['action'], '?'):3} {c['action']:9} {c['kind']:15} {name:26} {reason}"[:150])
    counts = ", ".join(f"{n} {a}" for a, n in plan["summary"].items() if n and a != "no-op")
    print(f"   {len(changes)} changes ({counts}); the whole plan: reconcile show {out.name}")


def main() -> int:
    banner("Validate desired/ (no Azure involved)")
    reconcile("validate", "--desired", "desired", quiet=False)
    with tempfile.TemporaryDirectory() as tmp:
        desired = Path(tmp) / "desired"
        shutil.copytree(ROOT / "desired", desired)
        state = str(Path(tmp) / "state")
        tally = Tally()

        banner("Start the sandbox: the shipped landing zone plus a brownfield estate (demo/brownfield.json)")
        # landing_zone: the network, identity and vaults the shipped desired/ references, as `sandbox serve` has.
        with Sandbox(
            time_scale=TIME_SCALE, seed=str(ROOT / "demo" / "brownfield.json"), landing_zone=True
        ) as sb:
            env = {**os.environ, **sb.env}
            started = sb.now()
            print(f"   sandbox {sb.endpoint}, clock {started:%Y-%m-%d %H:%M} UTC, {TIME_SCALE}x real time")

            banner("Plan: what would change, and why")
            show_plan(desired, env, Path(tmp) / "plan.json")

            banner("Apply until nothing is left (soaks and windows are handed back; the clock moves on)")
            converge(sb, desired, state, env, tally)
            reconcile("plan", "--desired", str(desired), "--detailed-exitcode", env=env, ok=(0,), quiet=True)
            print("   plan --detailed-exitcode: 0 (no changes)")

            banner(
                "A month later: the marketplace moved; `reconcile release` writes the new versions into git"
            )
            # Its EHR self-test will fail on the validation pool (the sandbox's run command rule): see act 5.
            sb.inject_fault(**EHR_FAILURE)
            release_month(sb, desired, env)
            reconcile("validate", "--desired", str(desired), quiet=True)
            watch = ProductionWatch(desired)
            converge(sb, desired, state, env, tally, watch)

            banner("1.6.0 failed acceptance on the validation pool: quarantined, production held back")
            acceptance_act(sb, desired, state, env, tally, watch)
            ok = summary(tally, sb.invariants(), desired, started, sb.now())
    if not ok:
        raise SystemExit("the sandbox saw a broken invariant (see the summary)")
    banner("Done")
    return 0


if __name__ == "__main__":
    sys.exit(main())
