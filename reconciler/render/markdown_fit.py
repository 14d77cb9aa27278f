"""Fitting the Markdown plan into a comment limit by leaving out whole pieces, never cutting one.

GitHub rejects a comment over 65,536 characters. The plan is built as a tree of pieces, each whole Markdown
on its own: a node's `open` and `close` are its tags or table header, its children the rows, bodies or
sections inside. Pieces are taken in order until the next one does not fit; from there on everything is left
out, so what is shown is a prefix of the full plan (no later section jumps ahead of an earlier cut one), every
`<details>` is closed and a table is cut at a row. A note then says what was left out and where the rest is.
"""

from __future__ import annotations

from dataclasses import dataclass, field

GITHUB_COMMENT_LIMIT = 65_536


@dataclass
class Node:
    open: str = ""
    children: list[Node] = field(default_factory=list)
    close: str = ""
    changes: int = 0  # the planned changes this piece lists (a table row counts 1)
    values: int = 0  # the changes whose values this piece shows (a body counts 1)

    def text(self) -> str:
        return self.open + "".join(c.text() for c in self.children) + self.close

    def count(self) -> int:
        return self.changes + sum(c.count() for c in self.children)

    def count_values(self) -> int:
        return self.values + sum(c.count_values() for c in self.children)


@dataclass
class _Budget:
    left: int
    stopped: bool = False
    shown: int = 0
    values: int = 0


def _take(node: Node, budget: _Budget) -> str | None:
    """`node` as far as it fits in `budget`, or None when not even its first piece fits."""
    if budget.stopped:
        return None
    frame = len(node.open) + len(node.close)
    if frame > budget.left:
        budget.stopped = True
        return None
    if not node.children:
        budget.left -= frame
        budget.shown += node.changes
        budget.values += node.values
        return node.open + node.close
    budget.left -= frame
    parts = [p for c in node.children if (p := _take(c, budget)) is not None]
    if not parts:  # a section with nothing in it says nothing: leave it out whole
        budget.left += frame
        return None
    budget.shown += node.changes
    budget.values += node.values
    return node.open + "".join(parts) + node.close


def note(limit: int, changes: tuple[int, int], values: int, sections: tuple[int, int], cut: int) -> str:
    left_out, total = changes
    dropped, all_sections = sections
    values_words = f", the values of {values} more" if values else ""
    cut_words = f", {cut} cut short" if cut else ""
    return (
        f"> :scissors: **This plan was cut to fit {limit:,} characters** (GitHub's comment limit): "
        f"{left_out} of {total} planned changes{values_words} and {dropped} of {all_sections} sections are "
        f"left out{cut_words}. "
        "The full plan is in the JSON artifact (`reconcile plan -o json`, or the plan file `--out` saved).\n\n"
    )


def fit(sections: list[Node], footer: str, limit: int = GITHUB_COMMENT_LIMIT) -> str:
    """The sections and footer, whole when they fit in `limit` characters, else the longest prefix of pieces
    that fits with the note."""
    full = "".join(s.text() for s in sections) + footer
    if len(full) <= limit:
        return full
    total = sum(s.count() for s in sections)
    values = sum(s.count_values() for s in sections)
    # The note's length with the largest numbers it can hold bounds the real one.
    most = (total, total), values, (len(sections), len(sections)), len(sections)
    reserve = len(note(limit, *most)) + len(footer)
    budget = _Budget(max(limit - reserve, 0))
    out: list[str] = []
    dropped = cut = 0
    for section in sections:
        text = _take(section, budget)
        if text is None:
            dropped += 1
        else:
            cut += text != section.text()
            out.append(text)
    # A change listed but without its values counts once, under values; one not listed at all, under changes.
    unlisted = total - budget.shown
    without_values = max(values - budget.values - unlisted, 0)
    summary = note(limit, (unlisted, total), without_values, (dropped, len(sections)), cut)
    return "".join(out) + summary + footer
