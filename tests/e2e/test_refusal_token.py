"""Bearer tokens through `reconcile apply` (real CLI, real SDK, the sandbox validating every token): an apply
that outlives many token lifetimes renews them and converges, and one that meets ARM's 401
ExpiredAuthenticationToken (with the WWW-Authenticate challenge azure-core answers by dropping its cached token;
tests/fixtures/api_versions.json) ends converged too, the next pass at the latest."""

from __future__ import annotations

import json

import pytest
from support.image_estate import DEF_ID, RG, version, write_desired
from support.sandbox import time_scale

from reconciler.cli import main

EXPIRED = {
    "status": 401,
    "code": "ExpiredAuthenticationToken",
    "message": "The access token expiry UTC time '12/3/2026 10:00:00 PM' is earlier than current UTC time "
    "'12/3/2026 10:05:00 PM'.",
    "headers": {
        "WWW-Authenticate": 'Bearer authorization_uri="https://login.microsoftonline.com/tenant", '
        'error="invalid_token", error_description="The access token has expired."'
    },
}


@pytest.fixture
def env(cli_env):
    sb = cli_env
    sb.seed([{"id": RG, "location": "westeurope"}])
    return sb


def apply(capsys, root) -> tuple[int, dict, str]:
    code = main(["apply", "--auto-approve", "--desired", str(root), "-o", "json"])
    out, err = capsys.readouterr()
    return code, json.loads(out)["recap"] if out.strip().startswith("{") else {}, err


def test_an_apply_that_outlives_its_tokens_renews_them_and_converges(env, tmp_path, capsys):
    # 10-minute tokens at 1000x: each lasts 0.6 real seconds, the two 30-minute replications 1.8 s each.
    env.configure(token_lifetime_seconds=600.0, token_min_real_seconds=0)
    root = write_desired(tmp_path / "d", [version("1.0.0"), version("1.1.0")], pin="1.1.0")
    issued = env.app.tokens.issued
    start = env.clock.now_ts()
    with time_scale(env, 1000):
        code, recap, err = apply(capsys, root)
    assert code == 0 and not recap.get("failures"), err[-2000:]
    assert env.clock.now_ts() - start > 3 * 600, "the apply did not outlive several tokens"
    assert env.app.tokens.issued - issued >= 3
    assert main(["plan", "--desired", str(root), "--detailed-exitcode"]) == 0


def test_an_apply_that_meets_an_expired_token_refusal_converges(env, tmp_path, capsys):
    root = write_desired(tmp_path / "d", [version("1.0.0")], pin="1.0.0")
    env.inject_fault(method="PUT", path=r"/versions/1\.0\.0$", count=1, **EXPIRED)
    passes = []
    for _ in range(3):
        code, recap, err = apply(capsys, root)
        passes.append((code, [f["why"] for f in recap.get("failures") or ()]))
        if code == 0:
            break
    assert code == 0, passes
    assert env.get(f"{DEF_ID}/versions/1.0.0")["properties"]["provisioningState"] == "Succeeded"
    assert main(["plan", "--desired", str(root), "--detailed-exitcode"]) == 0
