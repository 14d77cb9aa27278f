"""Escaping for Markdown table cells and inline text."""

from __future__ import annotations


def cell(text: object) -> str:
    """`text` safe inside a table cell: a pipe would start a new column, a newline end the row."""
    return str(text).replace("|", "\\|").replace("\n", " ")
