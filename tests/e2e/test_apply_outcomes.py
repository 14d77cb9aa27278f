"""Every apply writes one history entry with its true outcome: a failure exits 1 and is recorded `failed`, an
apply cut short by `--timeout` is `timed-out` (exit 1, never "succeeded"), and the recap says so too."""

from __future__ import annotations

import pytest
from support.image_estate import RG, version, write_desired

from e2e.apply_rings import apply_json, history


@pytest.fixture
def env(cli_env):
    sb = cli_env
    sb.seed([{"id": RG, "location": "westeurope"}])
    return sb


def test_a_failure_exits_1_and_history_says_failed(env, tmp_path):
    d = write_desired(tmp_path / "d", [version("1.0.0"), version("1.1.0", build=True)], pin="1.0.0")
    env.configure(build_failure_share=1.0)
    state = tmp_path / "state"
    code, recap, err = apply_json(d, state)
    assert code == 1, err[-2000:]
    assert recap["outcome"] == "failed" and recap["succeeded"] is False
    [entry] = history(state)
    assert (entry["outcome"], entry["succeeded"]) == ("failed", False)
    assert entry["failures"][0]["kind"] == "image-build"
    assert entry["totals"]["failed"] == 1


def test_an_apply_cut_short_by_timeout_is_timed_out_not_succeeded(env, tmp_path):
    d = write_desired(tmp_path / "d", [version("1.0.0")], pin="1.0.0")
    state = tmp_path / "state"
    # One second of sandbox time (10 µs of ours at 100000x): the deadline passes before the chain is done.
    code, recap, err = apply_json(d, state, "--timeout", "1s")
    assert code == 1, err[-2000:]
    assert recap["outcome"] == "timed-out" and recap["succeeded"] is False
    assert "--timeout reached" in err
    assert recap["pending"], "what was left is listed"
    assert "re-run `reconcile apply`" in recap["resume"]
    [entry] = history(state)
    assert (entry["outcome"], entry["succeeded"], entry["complete"]) == ("timed-out", False, False)
    # The next apply resumes and finishes.
    code, recap, err = apply_json(d, state)
    assert (code, recap["outcome"]) == (0, "succeeded"), err[-2000:]
    assert [e["outcome"] for e in history(state)] == ["timed-out", "succeeded"]
