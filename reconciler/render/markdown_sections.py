"""The pieces of the Markdown plan, in the order a reviewer reads them: the summary (diagnostics, counts per
action and kind, one row per pool rollout), releases due, one collapsed section per resource kind with its
changes and their values, notes, then the rollout preview of each pool. Each piece is a `Node`
(markdown_fit), so a plan too long for a comment is cut between pieces, never inside one."""

from __future__ import annotations

from collections import Counter

from reconciler.model.plan import Action, Change, ChangeReason, Plan, Severity
from reconciler.render.common import SUMMARY_WORDS, SYMBOLS, display_name, summary_line
from reconciler.render.markdown_fit import Node
from reconciler.render.markdown_rollout import ROLLOUTS_HEADER, rollout_row, rollout_section
from reconciler.render.markdown_text import cell
from reconciler.render.markdown_values import change_values, compact_json

CHANGES_HEADER = "| Action | Kind | Name | Reason |\n| --- | --- | --- | --- |\n"


def summary(plan: Plan, source: str | None) -> Node:
    """Never collapsed: what a reviewer must see even when everything else is cut."""
    head = f"### Reconcile plan — {summary_line(plan)}\n\n"
    if source:
        head += f"Saved plan `{cell(source)}`, made {plan.generated_at}.\n\n"
    children = [Node(_diagnostic(d)) for d in plan.diagnostics if d.severity is Severity.ERROR]
    children += [Node(_diagnostic(d)) for d in plan.diagnostics if d.severity is Severity.WARNING]
    if children:
        children.append(Node("\n"))
    if plan.has_changes:
        children.append(_counts(plan))
    if plan.rollouts:
        rows = [Node(rollout_row(p)) for p in plan.rollouts]
        children.append(Node("**Rollouts**\n\n" + ROLLOUTS_HEADER, rows, "\n"))
    releases = [c for c in plan.changes if c.reason_code == ChangeReason.RELEASE_DUE]
    if releases:
        rows = [Node(f"- `{cell(display_name(c))}`: {cell(c.reason)}\n") for c in releases]
        opening = "**Releases due** (`reconcile release` writes them to `desired/`; not Azure changes):\n\n"
        children.append(Node(opening, rows, "\n"))
    return Node(head, children or [Node("")])


def _diagnostic(d) -> str:
    mark = ":x: **Error:**" if d.severity is Severity.ERROR else ":warning: **Warning:**"
    return f"> {mark} {cell(d.message)} (`{cell(d.resource_id)}`)\n"


def _counts(plan: Plan) -> Node:
    counts = plan.summary()
    by_kind: dict[Action, Counter] = {}
    for c in plan.actionable:
        by_kind.setdefault(c.action, Counter())[c.kind] += 1
    rows = []
    for action, words in SUMMARY_WORDS:
        if counts[action.value]:
            kinds = ", ".join(f"{kind} {n}" for kind, n in by_kind.get(action, Counter()).items())
            rows.append(
                Node(
                    f"| {words.removeprefix('to ')} `{SYMBOLS[action]}` | {counts[action.value]} | {kinds} |\n"
                )
            )
    return Node("| Action | Count | By kind |\n| --- | ---: | --- |\n", rows, "\n")


def kind_sections(plan: Plan) -> list[Node]:
    by_kind: dict[str, list[Change]] = {}
    for c in plan.actionable:
        by_kind.setdefault(c.kind, []).append(c)
    previewed = {p.pool_id.lower() for p in plan.rollouts}
    return [_kind(kind, changes, previewed) for kind, changes in by_kind.items()]


def _kind(kind: str, changes: list[Change], previewed: set[str]) -> Node:
    actions = Counter(c.action for c in changes)
    words = ", ".join(f"{actions[a]} {w}" for a, w in SUMMARY_WORDS if actions[a])
    rows = Node(CHANGES_HEADER, [Node(_row(c), changes=1) for c in changes], "\n")
    bodies = [_body(c, c.resource_id.lower() in previewed) for c in changes]
    opening = f"<details><summary><b>{kind}</b> ({len(changes)}): {words}</summary>\n\n"
    return Node(opening, [rows, *[b for b in bodies if b]], "</details>\n\n")


def _row(c: Change) -> str:
    code = f"`{c.reason_code}` " if c.reason_code else ""
    return f"| `{SYMBOLS[c.action]}` {c.action.value} | {c.kind} | `{cell(display_name(c))}` | {code}{cell(c.reason)} |\n"


def _body(c: Change, previewed: bool) -> Node | None:
    values = change_values(c, previewed=previewed)
    if not values:
        return None
    return Node(
        values=1,
        open=f"`{SYMBOLS[c.action]}` {c.action.value} `{cell(display_name(c))}`{_where(c.resource_id)}\n\n"
        f"```json\n{compact_json(values)}\n```\n\n",
    )


def _where(resource_id: str) -> str:
    """Resource group and subscription, so two resources of one name are told apart (the id is in JSON)."""
    parts = resource_id.strip("/").split("/")
    lowered = [p.lower() for p in parts]
    if "resourcegroups" not in lowered or "subscriptions" not in lowered:
        return ""
    group = parts[lowered.index("resourcegroups") + 1]
    subscription = parts[lowered.index("subscriptions") + 1]
    return f" in `{group}` ({subscription[:8]})"


def notes(plan: Plan) -> Node | None:
    items = [
        c for c in plan.changes if c.action is Action.NO_OP and c.reason_code != ChangeReason.RELEASE_DUE
    ]
    if not items:
        return None
    rows = [Node(f"- `{cell(display_name(c))}` ({c.kind}): {cell(c.reason)}\n") for c in items]
    return Node(f"<details><summary>Notes ({len(items)})</summary>\n\n", rows, "\n</details>\n\n")


def rollouts(plan: Plan) -> Node | None:
    if not plan.rollouts:
        return None
    return Node("### Rollout preview\n\n", [Node(rollout_section(p)) for p in plan.rollouts])
