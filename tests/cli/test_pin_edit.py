"""The in-place pin edit `reconcile rollback` (and later write-backs) make: one scalar on one line, every
other byte of the file kept; a line that does not hold the value once is refused, never guessed."""

from __future__ import annotations

import pytest

from reconciler.gitops.pin_edit import EditError, replace_on_line

FILE = """\
# production pools
spec:
  image:
    definition: win11   # the corporate image
    version: "2.0.0"    # promoted 2026-11-12
  other: {image: {definition: d, version: latest}}
"""


def test_block_form_keeps_quotes_and_comments_and_replaces_only_our_own():
    out = replace_on_line(FILE, 5, "version", "2.0.0", "1.0.0", "rolled back from 2.0.0")
    # A person's comment is theirs to edit; ours follows it and is replaced by the next write-back.
    assert (
        out.splitlines()[4]
        == '    version: "1.0.0"    # promoted 2026-11-12  # reconcile: rolled back from 2.0.0'
    )
    again = replace_on_line(out, 5, "version", "1.0.0", "0.9.0", "rolled back from 1.0.0")
    assert (
        again.splitlines()[4]
        == '    version: "0.9.0"    # promoted 2026-11-12  # reconcile: rolled back from 1.0.0'
    )
    assert [a for a, b in zip(FILE.splitlines(), out.splitlines(), strict=True) if a != b] == [
        FILE.splitlines()[4]
    ]


def test_flow_form_and_a_value_that_would_read_as_a_number():
    out = replace_on_line(FILE, 6, "version", "latest", "1.5", "")
    assert out.splitlines()[5] == '  other: {image: {definition: d, version: "1.5"}}'


@pytest.mark.parametrize(("line", "old"), [(5, "9.9.9"), (4, "win11"), (99, "2.0.0")])
def test_a_line_without_the_value_is_refused(line, old):
    with pytest.raises(EditError):
        replace_on_line(FILE, line, "version", old, "1.0.0")
