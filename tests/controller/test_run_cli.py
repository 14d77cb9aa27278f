"""`reconcile run` refuses bad flags with one line and exit 1, never a traceback."""

from __future__ import annotations

import pytest

from reconciler.cli import main


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--desired", "d", "--git-url", "file:///x"], "not both"),
        (["--lease-ttl", "5"], "15-60"),
        (["--state", "nfs:/x", "--once", "--listen", "off"], "expected local:DIR or blob:"),
        (
            [
                "--state",
                "blob:AccountName=x;AccountKey=hush-hush-key;nonsense/c",
                "--once",
                "--listen",
                "off",
            ],
            "malformed",
        ),
    ],
)
def test_bad_options_exit_1_with_one_line(capsys, args, message):
    assert main(["run", *args]) == 1
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err and "hush-hush-key" not in err


def test_once_with_an_invalid_desired_state_exits_1(tmp_path, capsys):
    (tmp_path / "bad.yaml").write_text("apiVersion: nope\n")
    code = main(
        ["run", "--desired", str(tmp_path), "--once", "--listen", "off", "--state", f"local:{tmp_path / 's'}"]
    )
    assert code == 1
