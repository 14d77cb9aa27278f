"""At most Settings `builds.maxConcurrent` Image Builder runs at once per subscription (real CLI, real SDK,
sandbox on a frozen clock): with a limit of 1 and two versions to build, the plan starts one and queues the
other (reason `queued`), apply never has two runs going at once, and the queued one starts once the first has
finished — in the same apply when it waits, or in a later one."""

from __future__ import annotations

import contextlib
import io
import json

from support.cli import apply_json
from support.image_estate import RG, version, write_desired
from support.sandbox import sandbox_environ, stored

from reconciler.cli import main


def plan(sb, root) -> dict:
    out = io.StringIO()
    with sandbox_environ(sb), contextlib.redirect_stdout(out):
        assert main(["plan", "--desired", str(root), "-o", "json"]) == 0
    return json.loads(out.getvalue())


def running(sb) -> int:
    templates = stored(sb, "Microsoft.VirtualMachineImages/imageTemplates")
    return sum(
        1 for t in templates if (t["properties"].get("lastRunStatus") or {}).get("runState") == "Running"
    )


def test_builds_beyond_the_limit_queue_and_start_when_a_slot_frees(frozen, tmp_path):
    sb = frozen
    sb.seed([{"id": RG, "location": "westeurope"}])
    sb.configure(build_seconds=600.0, replication_seconds=60.0)
    root = write_desired(
        tmp_path / "d",
        [version("1.0.0"), version("1.1.0", build=True), version("1.2.0", build=True)],
        pin="1.0.0",
    )
    estate = root / "estate.yaml"
    estate.write_text(
        estate.read_text().replace("  ownershipTag:", "  builds: {maxConcurrent: 1}\n  ownershipTag:", 1)
    )
    builds = [c for c in plan(sb, root)["changes"] if c["action"] == "build"]
    assert sorted(c["reason_code"] for c in builds) == ["missing", "queued"], builds
    queued = next(c for c in builds if c["reason_code"] == "queued")
    assert "queued: 1 build(s) running or starting first" in queued["reason"]  # the first takes the slot
    assert "at most 1 at once" in queued["reason"]

    state = tmp_path / "state"
    most_running = 0
    for _ in range(40):
        with sandbox_environ(sb):
            code, recap, err = apply_json(root, state, "--wait", "none")
        assert code == 0, err[-2000:]
        most_running = max(most_running, running(sb))
        if not recap.get("pending"):
            break
        sb.advance(120)
    assert most_running <= 1
    for name in ("1.1.0", "1.2.0"):
        got = sb.get(f"{RG}/providers/Microsoft.Compute/galleries/gal1/images/win11/versions/{name}")
        assert got["properties"]["provisioningState"] == "Succeeded", name
