"""What makes a Markdown plan whole: every `<details>` opened is closed in order, every code fence is
closed, and every table has its header, separator and rows of the same width."""

from __future__ import annotations

import re

_TAG = re.compile(r"</?details>")


def problems(md: str) -> list[str]:
    found: list[str] = []
    depth = 0
    for tag in _TAG.findall(_outside_code(md)):
        depth += 1 if tag == "<details>" else -1
        if depth < 0:
            found.append("</details> with no <details>")
            depth = 0
    if depth:
        found.append(f"{depth} <details> left open")
    if md.count("```") % 2:
        found.append("a code fence left open")
    found += _table_problems(_outside_code(md))
    return found


def _outside_code(md: str) -> str:
    return "\n".join(part for i, part in enumerate(md.split("```")) if i % 2 == 0)


def _cells(line: str) -> int:
    return len(re.findall(r"(?<!\\)\|", line)) - 1


def _table_problems(md: str) -> list[str]:
    found: list[str] = []
    block: list[str] = []
    for line in [*md.splitlines(), ""]:
        if line.startswith("|"):
            block.append(line)
            continue
        if block:
            if len(block) < 3 or not block[1].startswith("| ---") and not block[1].startswith("| ---:"):
                found.append(f"table without header, separator and a row: {block[:2]}")
            widths = {_cells(row) for row in block}
            if len(widths) != 1:
                found.append(f"table rows of different widths {sorted(widths)}: {block[0]}")
            block = []
    return found
