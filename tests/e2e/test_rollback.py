"""`reconcile rollback` (real CLI, real SDK, sandbox): after a bad promotion, one command writes the previous
good pin into desired/ (the one line, comments kept), commits it, and prints the rollout the next apply will
run; that apply rolls the pool back within its capacity floor. Nothing is written to Azure by the command."""

from __future__ import annotations

import contextlib
import io
import subprocess

from support.cli import drive
from support.estate import seed_estate
from support.rollout import min_available_after, pool_doc, pool_id, versions_running, write_desired
from support.sandbox import sandbox_environ

from reconciler.cli import main
from reconciler.spec import load_desired

VERSIONS = {"1.0.0": ["westeurope"], "2.0.0": ["westeurope"]}
ROLLOUT = {"strategy": "surge", "batchSize": 1, "capacityFloor": 50}


def git(root, *args) -> str:
    return subprocess.run(["git", *args], cwd=root, check=True, capture_output=True, text=True).stdout


def rollback(sb, root, *args) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with sandbox_environ(sb), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["rollback", "hp-r", "--desired", str(root), *args])
    return code, out.getvalue(), err.getvalue()


def writes(sb) -> int:
    return sum(1 for e in sb.audit()["entries"] if e["method"] in ("PUT", "PATCH", "DELETE", "POST"))


def test_rollback_after_a_bad_promotion_repins_commits_and_rolls_back_within_the_floor(frozen, tmp_path):
    repo = tmp_path / "repo"
    root = write_desired(repo / "desired", VERSIONS, [pool_doc("hp-r", count=2, rollout=ROLLOUT)])
    seed_estate(frozen, load_desired(root))
    drive(frozen, root)
    write_desired(root, VERSIONS, [pool_doc("hp-r", count=2, version="2.0.0", rollout=ROLLOUT)])
    (root / "estate.yaml").write_text(
        "# the estate, reviewed in pull requests\n" + (root / "estate.yaml").read_text()
    )
    drive(frozen, root)
    assert versions_running(frozen, "hp-r") == {"2.0.0": 2}  # the bad promotion, complete
    git(repo, "init", "-q")
    git(repo, "add", ".")
    git(repo, "-c", "user.name=t", "-c", "user.email=t@x", "commit", "-qm", "estate")

    before = writes(frozen)
    code, out, err = rollback(frozen, root, "--commit", "--author", "Ops <ops@example.com>")
    assert code == 0, err
    assert writes(frozen) == before  # a git change only
    assert "hp-r: pin 2.0.0 → 1.0.0" in out and "hp-r" in out.split("\n", 1)[1], out
    text = (root / "estate.yaml").read_text()
    assert text.startswith("# the estate, reviewed in pull requests\n")  # the rest of the file kept
    assert "version: 1.0.0}  # reconcile: rolled back from 2.0.0" in text
    assert load_desired(root).host_pool("hp-r").pinned == "1.0.0"
    log = git(repo, "log", "-1", "--format=%an <%ae>|%s")
    assert log.strip() == "Ops <ops@example.com>|rollback hp-r: 2.0.0 → 1.0.0"
    assert git(repo, "status", "--porcelain") == ""

    since = frozen.now().isoformat()
    _, last = drive(frozen, root, max_hosts={pool_id("hp-r"): 3})
    assert last.pool("hp-r").done
    assert versions_running(frozen, "hp-r") == {"1.0.0": 2}
    assert min_available_after(frozen, "hp-r", since) >= 1  # 50 % of 2


def test_rollback_refuses_what_it_cannot_do_and_edits_nothing(frozen, tmp_path):
    root = write_desired(tmp_path / "d", VERSIONS, [pool_doc("hp-r", count=0, rollout=ROLLOUT)])
    seed_estate(frozen, load_desired(root))
    drive(frozen, root)
    text = (root / "estate.yaml").read_text()
    for args, why in (
        ((), "no published version of"),  # on 1.0.0, the oldest: nothing before it
        (("--to", "9.9.9"), "9.9.9 is not a declared ImageVersion"),
        (("--to", "1.0.0"), "already pinned to 1.0.0"),
    ):
        code, _, err = rollback(frozen, root, *args)
        assert code == 1 and why in err, (args, err)
        assert (root / "estate.yaml").read_text() == text
