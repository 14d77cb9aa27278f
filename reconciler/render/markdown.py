"""The plan as Markdown for a pull-request comment: summary first, details collapsed, within a size limit.

GitHub renders `<details>` blocks collapsed, so a reviewer sees the counts and the rollout impact at a glance
and expands a resource kind's changes and values only when needed. Warnings and errors are never collapsed.
A plan longer than `max_chars` (GitHub's comment limit by default) is cut between whole sections with a note
(markdown_fit); the JSON plan always has everything.
"""

from __future__ import annotations

from reconciler.model.plan import Plan
from reconciler.render.markdown_fit import GITHUB_COMMENT_LIMIT, fit
from reconciler.render.markdown_sections import kind_sections, notes, rollouts, summary


def render_markdown(plan: Plan, *, source: str | None = None, max_chars: int = GITHUB_COMMENT_LIMIT) -> str:
    sections = [summary(plan, source), *kind_sections(plan)]
    sections += [s for s in (notes(plan), rollouts(plan)) if s is not None]
    footer = f"<sub>plan format {plan.format_version}, generated {plan.generated_at}</sub>\n"
    return fit(sections, footer, max_chars)
