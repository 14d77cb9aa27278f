"""A version Image Builder makes: the template that builds it (named by a hash of its content, since templates
are immutable), the `build` change that creates and runs it, and what apply PATCHes onto the version after.

A version produced by an ImageBuild is never PUT directly: the template distributes exactly that version.
"""

from __future__ import annotations

from dataclasses import replace

from reconciler.model.observed import norm_id
from reconciler.model.plan import Action, Change, ChangeReason, Diagnostic, Severity
from reconciler.model.tags import BUILD_FAILURES_TAG, BUILD_RETRY_BUDGET, BuildFailures, parse_build_failures
from reconciler.planner.bodies import content_hash, template_body, version_body
from reconciler.planner.context import Context, leaf
from reconciler.planner.diff import Outcome
from reconciler.planner.version_ready import version_deps


def template_for(version) -> tuple[str, dict]:
    """(template ARM id, body) of the Image Builder template that builds `version`."""
    build = version.build
    body = template_body(build, version, build_source(build, version))
    rg = f"/subscriptions/{build.subscription_id}/resourceGroups/{build.resource_group}"
    name = f"{build.name}-{content_hash(body)}"
    return f"{rg}/providers/Microsoft.VirtualMachineImages/imageTemplates/{name}", body


def build_source(build, version) -> dict:
    src = build.spec.source
    # A released version pins the source version its trigger resolved (never `latest`): reproducible builds.
    pinned = version.spec.source.source_version
    if src.platform_image is not None:
        p = src.platform_image
        return {
            "type": "PlatformImage",
            "publisher": p.publisher,
            "offer": p.offer,
            "sku": p.sku,
            "version": pinned or p.version,
        }
    if src.image_version_id is not None:
        return {"type": "SharedImageVersion", "imageVersionId": src.image_version_id}
    ref = src.image_version
    # Same gallery first, as the loader resolves references; the id is built, never looked up.
    gallery = version.definition.gallery
    name = ref.definition.split("/")[-1]
    return {
        "type": "SharedImageVersion",
        "imageVersionId": f"{gallery.arm_id}/images/{name}/versions/{pinned or ref.version}",
    }


def built_version_patch(version) -> dict:
    """What apply PATCHes onto a version once Image Builder made it: the version-level fields a template
    cannot carry (safety profile, end of life, the version's own tags), so the next plan finds it converged."""
    body = version_body(version, None)
    publishing = body["properties"]["publishingProfile"]
    profile = {
        k: v for k, v in publishing.items() if k in ("excludeFromLatest", "endOfLifeDate", "replicaCount")
    }
    # Image Builder's TargetRegion has no excludeFromLatest: a per-region exclusion is set here, with the
    # regions exactly as the template distributed them (same names, counts, storage types: no replication).
    if any(r["excludeFromLatest"] for r in publishing["targetRegions"]):
        profile["targetRegions"] = publishing["targetRegions"]
    return {
        "tags": body["tags"],
        "properties": {"publishingProfile": profile, "safetyProfile": body["properties"]["safetyProfile"]},
    }


def source_version_deps(version) -> tuple[str, ...]:
    """A version made from another gallery version (a copy, or an Image Builder source) waits until that
    one is usable: never built from a version that is not Succeeded."""
    source = version.spec.source
    ref = source.image_version_id
    if ref is None and version.build is not None:
        built = version.build.spec.source
        if built.image_version_id is not None:
            ref = built.image_version_id
        elif built.image_version is not None:
            ref = build_source(version.build, version)["imageVersionId"]
    return version_deps(ref) if ref else ()


def plan_build(ctx: Context, version, deps: tuple[str, ...], out: Outcome) -> None:
    template_id, body = template_for(version)
    template = ctx.find("image_templates", template_id)
    label = f"ImageVersion {version.key}"
    details = {
        "produces": version.arm_id,
        "template": leaf(template_id),
        "build": version.build.name,
        "version_patch": built_version_patch(version),
    }
    # Any running template that distributes this version (even one from an older recipe) is its build.
    running = [
        t
        for t in ctx.observed.templates_building(version.definition.arm_id)
        if t.is_running and t.target_version_id == norm_id(version.arm_id)
    ]
    if running:
        template_id, template = running[0].id, running[0]
        details = {**details, "template": leaf(template_id)}
    if template is not None and template.is_running:
        # A build change, not a no-op: apply waits on the run (it may have been started by an apply that
        # died), and the pins and hosts of this version depend on it ("build <version id>", graph.py), so
        # they wait for the build instead of finding the version absent.
        out.changes.append(
            Change(
                Action.BUILD,
                "image-build",
                template_id,
                f"{version.origin('spec.source.build')}: {label} is being built "
                f"({template.last_run_sub_state or 'running'}); wait for the run",
                after=body,
                depends_on=deps,
                details={**details, "running": True},
                fingerprint=template.fingerprint,
                reason_code=ChangeReason.BUILDING,
            )
        )
        return
    why = "is declared but does not exist"
    if template is not None and template.last_run_failed:
        failures = parse_build_failures(template.tags.get(BUILD_FAILURES_TAG))
        counted = failures is not None and failures.counts(template.last_run_end)
        if stopped_build(template) is not None:
            out.diagnostics.append(_not_run_again(version, template, label, failures))
            out.kept.add(norm_id(template.id))
            return
        why += (
            f"; the last build {template.last_run_state.lower()}: {template.last_run_message or ''}".rstrip(
                ": "
            )
        )
        if counted:
            why += (
                f" (failed run {failures.runs} of {BUILD_RETRY_BUDGET}, {failures.cause}: running it again)"
            )
        else:
            why += (
                f" (failed runs counted before it: {failures.runs if failures else 0} of {BUILD_RETRY_BUDGET};"
                " apply reads its log and counts it first, then runs it again only for a transient cause)"
            )
    out.changes.append(
        Change(
            Action.BUILD,
            "image-build",
            template_id,
            f"{version.origin('spec.source.build')}: {label} {why}; build it with ImageBuild {version.build.name}",
            after=body,
            depends_on=deps,
            details=details,
            fingerprint=template.fingerprint if template is not None else "",
            reason_code=ChangeReason.MISSING,
        )
    )


def stopped_build(template) -> BuildFailures | None:
    """The failure count on a template the planner runs no more (its last failed run is counted, and its cause
    needs a change or the budget is spent), or None."""
    if template is None or not template.last_run_failed:
        return None
    failures = parse_build_failures(template.tags.get(BUILD_FAILURES_TAG))
    if failures is None or not failures.counts(template.last_run_end) or failures.runs_again:
        return None
    return failures


def version_build_stopped(ctx: Context, version) -> BuildFailures | None:
    """`stopped_build` for the template of `version`'s recipe (None for a version not built by Image Builder)."""
    if version.build is None:
        return None
    return stopped_build(ctx.find("image_templates", template_for(version)[0]))


def _not_run_again(version, template, label: str, failures: BuildFailures) -> Diagnostic:
    """The same recipe is not run again: its failure needs a change, or it failed transiently too often. The
    version stays absent (pools are not moved to it: pools.py) until the recipe changes (a new template) or
    someone deletes the failed template to ask for one more run."""
    return Diagnostic(
        Severity.WARNING,
        template.id,
        f"{version.origin('spec.source.build')}: {label} is not built: its recipe {failures.why_stopped}; change the "
        f"ImageBuild (a new template is built), or delete image template {leaf(template.id)} to run it once "
        "more (`reconcile logs build --diagnose` says why it failed)",
        version.origin("spec.source.build"),
    )


def queue_builds(ctx: Context, changes: list[Change]) -> list[Change]:
    """At most Settings `builds.maxConcurrent` Image Builder runs at once per subscription, the running ones
    (ours or not) counted: the first new builds, in plan order, take the free slots; each other one is queued
    (reason `queued`) behind the build `maxConcurrent` places before it in the plan, so the graph starts it
    when that one ends. Apply also counts the runs again before starting a queued build (someone else's may
    hold the slot), and waits while none is free."""
    limit = ctx.desired.settings.spec.builds.max_concurrent
    running: dict[str, int] = {}
    for template in ctx.observed.image_templates.values():
        if template.is_running:
            sub = _subscription(template.id)
            running[sub] = running.get(sub, 0) + 1
    starting: dict[str, list[str]] = {}  # subscription -> keys of the new builds, in plan order
    out = []
    for change in changes:
        if change.action is Action.BUILD and not change.details.get("running"):
            sub = _subscription(change.resource_id)
            order = starting.setdefault(sub, [])
            busy = running.get(sub, 0) + len(order)
            if busy >= limit:
                behind = order[len(order) - limit] if len(order) >= limit else None
                change = replace(
                    change,
                    reason=f"{change.reason} (queued: {busy} build(s) running or starting first in "
                    f"subscription {sub}, at most {limit} at once)",
                    details={**change.details, "queued": limit},
                    depends_on=change.depends_on + ((behind,) if behind else ()),
                    reason_code=ChangeReason.QUEUED,
                )
            order.append(change.key)
        out.append(change)
    return out


def _subscription(resource_id: str) -> str:
    parts = resource_id.split("/")
    return parts[2].lower() if len(parts) > 2 else ""


def failed_builds(desired, observed) -> list[dict]:
    """Each declared build version whose template's last run failed: the cause apply recorded on the template
    (BUILD_FAILURES_TAG), the failed runs, and whether the next plan runs it again (for `reconcile status`)."""
    out = []
    for version in desired.image_versions:
        if version.build is None or observed.get(version.arm_id) is not None:
            continue
        template_id, _ = template_for(version)
        template = observed.get(template_id)
        if template is None or not template.last_run_failed:
            continue
        failures = parse_build_failures(template.tags.get(BUILD_FAILURES_TAG)) or BuildFailures(1, "", True)
        runs, cause, again = failures.runs, failures.cause, failures.runs_again
        out.append(
            {
                "build": version.build.name,
                "version": version.key,
                "template": leaf(template_id),
                "cause": cause or None,
                "failed_runs": runs,
                "runs_again": again,
                "next": "the next apply runs it again" if again else "not run again until the recipe changes",
                "message": (template.last_run_message or "").split("\n", 1)[0][:300],
            }
        )
    return out
