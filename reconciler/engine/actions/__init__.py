"""Actions: what apply does for each planned change, as a registry (change kind, action) -> handler.

A handler is `handler(change, env, ctx) -> Outcome`: it may be called many times for one change (after each
WaitUntil or Retry), so it decides its next step from what Azure holds now plus the operations recorded in
the ledger, never from a private script of steps. Modules register themselves on import; other work
(session hosts: `hosts*.py`, `rollout*.py`) appends its handlers with `register` the same way.
"""

from __future__ import annotations

from collections.abc import Callable

from reconciler.engine.actions.env import ActionEnv
from reconciler.engine.executor import RunContext
from reconciler.engine.outcome import Failed, Outcome
from reconciler.model.plan import Action, Change

Handler = Callable[[Change, ActionEnv, RunContext], Outcome]

REGISTRY: dict[tuple[str, Action], Handler] = {}


def register(kind: str, *actions: Action) -> Callable[[Handler], Handler]:
    """Decorator: `@register("image-version", Action.CREATE)`. A second handler for the same pair is a bug."""

    def add(handler: Handler) -> Handler:
        for action in actions:
            key = (kind, Action(action))
            if key in REGISTRY and REGISTRY[key] is not handler:
                raise ValueError(
                    f"two handlers for {kind} {action}: {REGISTRY[key].__name__}, {handler.__name__}"
                )
            REGISTRY[key] = handler
        return handler

    return add


def handler_for(change: Change) -> Handler | None:
    load_builtin()
    return REGISTRY.get((change.kind, change.action))


def dispatch(change: Change, env: ActionEnv, ctx: RunContext) -> Outcome:
    handler = handler_for(change)
    if handler is None:
        return Failed(f"apply cannot {change.action.value} a {change.kind} yet", error_code="NotImplemented")
    return handler(change, env, ctx)


_LOADED = False


def load_builtin() -> None:
    """Import the action modules (each registers its handlers). Optional ones may be absent."""
    global _LOADED
    if _LOADED:
        return
    _LOADED = True
    import importlib
    import pkgutil

    for info in sorted(pkgutil.iter_modules(__path__), key=lambda i: i.name):
        if info.name not in ("env", "steps"):
            importlib.import_module(f"{__name__}.{info.name}")


__all__ = ["REGISTRY", "ActionEnv", "Handler", "dispatch", "handler_for", "load_builtin", "register"]
