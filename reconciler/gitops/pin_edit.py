"""Change one scalar of a desired/ file in place, keeping every other byte (comments, order, style).

A YAML round trip through a parser would drop comments and reflow the file a person reviews; the loader already
knows the line a field is on, so the edit is made on that line only, and the result is re-validated by the
caller. Handles the block form (`version: latest`) and the flow form (`image: {definition: d, version: 1.0.0}`).
"""

from __future__ import annotations

import re
from pathlib import Path


class EditError(ValueError):
    pass


def _value_pattern(key: str) -> re.Pattern[str]:
    # key, colon, optional quote, the scalar, the same quote; stops at a comma, brace, comment or end.
    return re.compile(
        rf"(?P<head>(?:^|[\s{{,]){re.escape(key)}:\s*)(?P<q>[\"']?)(?P<value>[^\"'\s,}}#]+)(?P=q)"
    )


def replace_on_line(text: str, line: int, key: str, old: str, new: str, comment: str = "") -> str:
    """`text` with `key: old` on 1-based `line` replaced by `key: new` (quoted as it was), and `comment`
    appended to that line (replacing an earlier trailing comment of ours)."""
    lines = text.splitlines(keepends=True)
    if not 1 <= line <= len(lines):
        raise EditError(f"line {line} is outside the file ({len(lines)} lines)")
    body = lines[line - 1]
    ending = body[len(body.rstrip("\r\n")) :]
    body = body.rstrip("\r\n")
    matches = [m for m in _value_pattern(key).finditer(body) if m.group("value") == old]
    if len(matches) != 1:
        raise EditError(f"line {line} does not hold `{key}: {old}` once: {body.strip()!r}")
    m = matches[0]
    quote = m.group("q") or ('"' if re.fullmatch(r"[0-9.]+", new) and new.count(".") == 1 else "")
    body = body[: m.start("q")] + f"{quote}{new}{quote}" + body[m.end() :]
    if comment:
        body = re.sub(r"\s+# reconcile: .*$", "", body) + f"  # reconcile: {comment}"
    lines[line - 1] = body + ending
    return "".join(lines)


def edit_file(path: Path, line: int, key: str, old: str, new: str, comment: str = "") -> None:
    path.write_text(replace_on_line(path.read_text(encoding="utf-8"), line, key, old, new, comment), "utf-8")
