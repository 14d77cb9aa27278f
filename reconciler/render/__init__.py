"""Plan renderers: text (terminal), JSON (the versioned schema) and Markdown (pull-request comments)."""

from reconciler.render.json_render import plan_to_json_dict, render_json
from reconciler.render.markdown import render_markdown
from reconciler.render.text import render_text

FORMATS = ("text", "json", "markdown")


def render(plan, fmt: str, *, colour: bool = False) -> str:
    if fmt == "json":
        return render_json(plan)
    if fmt == "markdown":
        return render_markdown(plan)
    return render_text(plan, colour=colour)


__all__ = ["FORMATS", "plan_to_json_dict", "render", "render_json", "render_markdown", "render_text"]
