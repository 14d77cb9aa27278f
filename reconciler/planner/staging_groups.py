"""A build's new template waits for the deletes of the same build's old templates.

Image Builder refuses a template whose `stagingResourceGroup` is not empty (400 InvalidParameter, "Specify an
empty resource group"), and a template holds its group until it is deleted. A recipe change replaces a version's
template (failed, or left by an apply that died) with a new one named by the new content: with a staging group,
the new one can only be created once the old one is gone, so its build depends on that delete in the same plan.
Templates are named `<ImageBuild name>-<content hash>` (version_build.template_for), which is how an old one is
known as the same build's. Different ImageBuilds sharing one staging group are not ordered here.
"""

from __future__ import annotations

import re
from dataclasses import replace

from reconciler.model.plan import Action, Change

_TEMPLATE = re.compile(r"^(?P<build>.+)-[0-9a-f]{10}$")


def after_old_templates(changes: list[Change]) -> list[Change]:
    deletes: dict[str, list[str]] = {}
    for change in changes:
        if change.kind == "image-build" and change.action is Action.DELETE:
            found = _TEMPLATE.match(change.name.lower())
            if found:
                deletes.setdefault(found["build"], []).append(change.key)
    if not deletes:
        return changes
    out = []
    for change in changes:
        found = _TEMPLATE.match(change.name.lower()) if change.action is Action.BUILD else None
        staging = ((change.after or {}).get("properties") or {}).get("stagingResourceGroup")
        if found and staging and found["build"] in deletes and not change.details.get("running"):
            change = replace(
                change, depends_on=tuple(dict.fromkeys((*change.depends_on, *deletes[found["build"]])))
            )
        out.append(change)
    return out
