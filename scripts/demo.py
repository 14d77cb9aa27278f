"""`make demo`: the whole loop against the embedded sandbox, on its simulated clock.

1. validate desired/ and export its JSON Schema;
2. start the sandbox seeded with a brownfield estate (demo/brownfield.json: some resources right, some drifted,
   some missing, one stale version still in use) and point `reconcile` at it through the same environment
   variables production uses (docs: README "Pointing reconcile at an endpoint");
3. `reconcile plan` against it (text, then the Markdown a pull request would get, shortened);
4. when `reconcile apply` is available: apply, then plan again and expect no changes.

Nothing outside the sandbox is touched; the sandbox lives in memory and stops with the demo.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from reconciler.cli import build_parser  # noqa: E402
from reconciler.sandbox import Sandbox  # noqa: E402

RECONCILE = [sys.executable, "-m", "reconciler"]


def banner(text: str) -> None:
    print(f"\n\033[1m==> {text}\033[0m" if sys.stdout.isatty() else f"\n==> {text}", flush=True)


def reconcile(*args: str, env: dict[str, str] | None = None, ok: tuple[int, ...] = (0,)) -> int:
    print("$ reconcile " + " ".join(args), flush=True)
    rc = subprocess.run([*RECONCILE, *args], cwd=ROOT, env=env).returncode
    if rc not in ok:
        raise SystemExit(f"reconcile {' '.join(args)} exited {rc}")
    return rc


def has_command(name: str) -> bool:
    return name in build_parser()._subparsers._group_actions[0].choices  # noqa: SLF001


def main() -> int:
    banner("Validate desired/ (no Azure involved)")
    reconcile("validate", "--desired", "desired")
    with tempfile.TemporaryDirectory() as tmp:
        schema = Path(tmp) / "desired-state.schema.json"
        reconcile("schema", "-o", str(schema))
        print(f"JSON Schema for editors: {schema.stat().st_size} bytes")

        banner("Start the sandbox with a brownfield estate (demo/brownfield.json)")
        with Sandbox(time_scale=600, seed=str(ROOT / "demo" / "brownfield.json")) as sb:
            env = {**os.environ, **sb.env}
            print(f"sandbox: {sb.endpoint}  clock: {sb.now():%Y-%m-%d %H:%M} (600x real time)")

            banner("Plan: what would change, and why")
            reconcile("plan", "--desired", "desired", "--detailed-exitcode", env=env, ok=(2,))

            banner("The same plan as a pull-request comment (Markdown, first lines)")
            md = subprocess.run(
                [*RECONCILE, "plan", "-o", "markdown"], cwd=ROOT, env=env, capture_output=True, text=True
            )
            print("\n".join(md.stdout.splitlines()[:14]) + "\n…")

            if has_command("apply"):
                banner("Apply it")
                reconcile("apply", "--desired", "desired", "--auto-approve", "--state", tmp, env=env)
                banner("Plan again: nothing left to do")
                reconcile("plan", "--desired", "desired", "--detailed-exitcode", env=env, ok=(0,))
    banner("Done")
    return 0


if __name__ == "__main__":
    sys.exit(main())
