"""Which image versions are in use, and by whom: the guard that keeps retention from deleting them.

A version is in use when any of these reference it: a desired pin (resolved), the pin currently recorded on a
host pool in Azure, a VM or session host created from it, or an Image Builder template building it right now.
"""

from __future__ import annotations

from reconciler.model.observed import norm_id
from reconciler.model.tags import PIN_TAG
from reconciler.planner.context import Context, leaf


def versions_in_use(ctx: Context) -> dict[str, str]:
    """Lower-cased version id → why it is in use (up to three reasons, sorted, so the text is deterministic)."""
    reasons: dict[str, list[str]] = {}

    def use(version_id: str | None, why: str) -> None:
        if version_id:
            reasons.setdefault(norm_id(version_id), []).append(why)

    for pool in ctx.desired.host_pools:
        target = ctx.desired.resolve_pin(pool)
        if target is not None:
            use(target.arm_id, f"pinned by host pool {pool.name} ({pool.origin('spec.image')})")
    for pool in ctx.observed.host_pools.values():
        use((pool.tags or {}).get(PIN_TAG), f"pinned by host pool {pool.name} in Azure")
    for host in ctx.observed.session_hosts.values():
        use(host.image_version_id, f"session host {host.name} runs it")
    for vm in ctx.observed.vms.values():
        use(vm.image_version_id, f"VM {vm.name} was created from it")
    for template in ctx.observed.image_templates.values():
        if template.is_running:
            use(template.target_version_id, f"Image Builder template {template.name} is building it")
    out = {}
    for vid, whys in sorted(reasons.items()):
        unique = sorted(set(whys))
        out[vid] = "; ".join(unique[:3]) + (f" (+{len(unique) - 3} more)" if len(unique) > 3 else "")
    return out


def version_name(version_id: str | None) -> str | None:
    return leaf(version_id) if version_id else None
