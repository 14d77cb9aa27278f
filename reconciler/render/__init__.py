"""Plan renderers: text (terminal), JSON (the versioned schema) and Markdown (pull-request comments)."""

from reconciler.render.json_render import plan_to_json_dict, render_json
from reconciler.render.markdown import render_markdown
from reconciler.render.text import render_text

FORMATS = ("text", "json", "markdown")


def render(plan, fmt: str, *, colour: bool = False, source: str | None = None) -> str:
    """`plan` in `fmt`. `source`: the file a saved plan was read from (`reconcile show`), named in the
    text and Markdown headers; the JSON form is the saved data itself, unchanged."""
    if fmt == "json":
        return render_json(plan)
    if fmt == "markdown":
        return render_markdown(plan, source=source)
    return render_text(plan, colour=colour, source=source)


__all__ = ["FORMATS", "plan_to_json_dict", "render", "render_json", "render_markdown", "render_text"]
