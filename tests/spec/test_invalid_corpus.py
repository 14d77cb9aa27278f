"""The invalid-input corpus: every directory under tests/spec/invalid/ (except _base) holds one mistake.

Each case is added to the valid `_base` estate. Expected errors are written in the case files as markers
`#! field.path` at the end of the line the error must name, so the file, line and field of every error are
asserted exactly, and no other error may appear.
"""

from __future__ import annotations

import pytest

from .helpers import ERROR_LINE, INVALID, assemble, expected_markers, run_cli

CASES = sorted(p for p in INVALID.iterdir() if p.is_dir() and not p.name.startswith("_"))


def test_corpus_is_large_enough():
    assert len(CASES) >= 45


@pytest.mark.parametrize("case_dir", CASES, ids=[c.name for c in CASES])
def test_invalid_case(case_dir, tmp_path, capsys, monkeypatch):
    desired = assemble(case_dir, tmp_path)
    monkeypatch.chdir(tmp_path)
    code, out, err = run_cli(["validate", "--desired", "desired"], capsys)
    assert code == 1
    assert "Traceback" not in out + err
    lines = err.strip().splitlines()
    assert lines[-1].endswith("in desired state desired")
    found = set()
    for line in lines[:-1]:
        match = ERROR_LINE.match(line)
        assert match, f"not in file:line:col: field: message form: {line!r}"
        file = match.group("file")
        assert file.startswith("desired/"), line
        found.add((file.removeprefix("desired/"), int(match.group("line")), match.group("field")))
    assert found == expected_markers(case_dir), err
    assert desired.exists()
