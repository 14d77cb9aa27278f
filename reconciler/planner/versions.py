"""Image versions of each desired definition: create or build, update, replicate, deprecate, delete.

Per definition: collect the declared and the existing versions, let retention decide which are kept,
deprecated or deleted (never one in use), then diff each kept desired version against Azure. A version
produced by an ImageBuild is not PUT directly: a `build` change creates an Image Builder template named by a
hash of its content (templates are immutable) and runs it; the template distributes exactly that version.
"""

from __future__ import annotations

from reconciler.model.observed import norm_id
from reconciler.model.plan import Action, Change, ChangeReason, Diagnostic, Severity, change_key, coded
from reconciler.planner.bodies import content_hash, template_body, version_body
from reconciler.planner.context import Context, leaf
from reconciler.planner.diff import Outcome, compare
from reconciler.planner.replication import plan_replication
from reconciler.planner.retention import Decision, RetentionPolicy, VersionFacts, decide_retention
from reconciler.planner.usage import versions_in_use
from reconciler.planner.version_ready import version_deps

# Fields Azure never lets change on a version: a new source means a new version number.
VERSION_IMMUTABLE = (
    "/properties/storageProfile",
    "/properties/publishingProfile/replicationMode",
    "/properties/publishingProfile/storageAccountType",
)
# Managed by retention once a version is superseded, so the declared defaults must not flip them back.
RETENTION_FIELDS = (
    "/properties/publishingProfile/excludeFromLatest",
    "/properties/publishingProfile/endOfLifeDate",
)


def template_for(version) -> tuple[str, dict]:
    """(template ARM id, body) of the Image Builder template that builds `version`."""
    build = version.build
    body = template_body(build, version, build_source(build, version))
    rg = f"/subscriptions/{build.subscription_id}/resourceGroups/{build.resource_group}"
    name = f"{build.name}-{content_hash(body)}"
    return f"{rg}/providers/Microsoft.VirtualMachineImages/imageTemplates/{name}", body


def build_source(build, version) -> dict:
    src = build.spec.source
    if src.platform_image is not None:
        p = src.platform_image
        return {
            "type": "PlatformImage",
            "publisher": p.publisher,
            "offer": p.offer,
            "sku": p.sku,
            "version": p.version,
        }
    if src.image_version_id is not None:
        return {"type": "SharedImageVersion", "imageVersionId": src.image_version_id}
    ref = src.image_version
    # Same gallery first, as the loader resolves references; the id is built, never looked up.
    gallery = version.definition.gallery
    name = ref.definition.split("/")[-1]
    return {
        "type": "SharedImageVersion",
        "imageVersionId": f"{gallery.arm_id}/images/{name}/versions/{ref.version}",
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


def source_id(version) -> str | None:
    s = version.spec.source
    return s.managed_image_id or s.virtual_machine_id or s.snapshot_id or s.image_version_id


def plan_versions(ctx: Context) -> Outcome:
    out = Outcome()
    in_use = _under_each_prefix(versions_in_use(ctx))
    for definition in sorted(ctx.desired.image_definitions, key=lambda d: d.arm_id.lower()):
        _plan_definition(ctx, definition, in_use, out)
    return out


def _under_each_prefix(in_use: dict[str, str]) -> dict[str, dict[str, str]]:
    """Lower-cased id prefix -> {leaf name: why} of the in-use ids below it (in `in_use` order), so each
    definition finds its own in one lookup instead of a scan of every in-use id."""
    out: dict[str, dict[str, str]] = {}
    for vid, why in in_use.items():
        key = norm_id(vid)
        name = leaf(vid)
        cut = key.find("/", 1)
        while cut != -1:
            out.setdefault(key[:cut], {})[name] = why
            cut = key.find("/", cut + 1)
    return out


def _plan_definition(ctx: Context, definition, in_use: dict[str, dict[str, str]], out: Outcome) -> None:
    desired = {v.name: v for v in ctx.desired.versions_of(definition)}
    observed = {leaf(v.id): v for v in ctx.observed.versions_of(definition.arm_id)}
    r = definition.spec.retention
    policy = RetentionPolicy(
        keep=r.keep_newest,
        exclude_from_latest=r.exclude_older_from_latest,
        eol_after_days=int(r.end_of_life_after.total_seconds() // 86400),
        delete_after_eol=r.delete_after_end_of_life,
    )
    facts = []
    for name in sorted(set(desired) | set(observed)):
        o = observed.get(name)
        published = None
        if o is not None and o.provisioning_state == "Succeeded":
            published = o.published_date or ctx.now
        facts.append(
            VersionFacts(
                name,
                o is not None,
                published,
                bool(o and o.exclude_from_latest),
                o.end_of_life_date if o else None,
                bool(o and ctx.owned(o)),
            )
        )
    usage = in_use.get(norm_id(definition.arm_id), {})
    origin = definition.origin("spec.retention")
    for decision in decide_retention(facts, policy, usage, ctx.now):
        version_id = f"{definition.arm_id}/versions/{decision.name}"
        o = observed.get(decision.name)
        reason = f"{origin}: retention of {definition.key}: {decision.reason}"
        if decision.decision is Decision.DELETE:
            out.changes.append(
                Change(
                    Action.DELETE,
                    "image-version",
                    version_id,
                    reason,
                    before=_brief(o),
                    fingerprint=o.fingerprint,
                    reason_code=ChangeReason.RETENTION,
                )
            )
        elif decision.decision is Decision.DEPRECATE:
            after = {}
            if decision.exclude_from_latest is not None:
                after["excludeFromLatest"] = decision.exclude_from_latest
            if decision.end_of_life is not None:
                after["endOfLifeDate"] = decision.end_of_life.isoformat()
            before = {"excludeFromLatest": o.exclude_from_latest, "endOfLifeDate": None}
            patch = [
                {"op": "add", "path": f"/properties/publishingProfile/{k}", "value": v}
                for k, v in after.items()
            ]
            out.changes.append(
                Change(
                    Action.DEPRECATE,
                    "image-version",
                    version_id,
                    reason,
                    before=before,
                    after=after,
                    patch=patch,
                    fingerprint=o.fingerprint,
                    reason_code=ChangeReason.RETENTION,
                )
            )
        elif decision.decision in (Decision.PROTECT, Decision.SKIP_CREATE):
            code = (
                ChangeReason.PROTECTED if decision.decision is Decision.PROTECT else ChangeReason.SKIP_CREATE
            )
            out.changes.append(Change(Action.NO_OP, "image-version", version_id, reason, reason_code=code))
        if decision.name in desired and decision.decision is not Decision.SKIP_CREATE:
            _plan_declared(ctx, desired[decision.name], o, decision.superseded, out)


def _brief(o) -> dict:
    return {
        "excludeFromLatest": o.exclude_from_latest,
        "endOfLifeDate": o.end_of_life_date and o.end_of_life_date.isoformat(),
    }


def _plan_declared(ctx: Context, version, observed, superseded: bool, out: Outcome) -> None:
    label = f"ImageVersion {version.key}"
    body = version_body(version, source_id(version))
    if observed is None:
        parents = (version.definition.arm_id, version.definition.gallery.arm_id)
        deps = tuple(change_key(a, p) for p in parents for a in (Action.CREATE, Action.REPLACE))
        deps += _source_version_deps(version)
        if version.build is None:
            out.changes.append(
                Change(
                    Action.CREATE,
                    "image-version",
                    version.arm_id,
                    f"{version.origin('spec')}: {label} is declared but does not exist",
                    after=body,
                    depends_on=deps,
                    reason_code=ChangeReason.MISSING,
                )
            )
        else:
            _plan_build(ctx, version, deps, out)
        return
    ignore = ["/properties/publishingProfile/targetRegions"]
    if superseded:
        ignore += RETENTION_FIELDS
    if version.build is not None:
        ignore.append("/properties/storageProfile")
        if "replicationMode" not in ((observed.raw.get("properties") or {}).get("publishingProfile") or {}):
            ignore.append("/properties/publishingProfile/replicationMode")  # Image Builder set it from ours
    comparison = compare(observed.raw, body, ignore)
    frozen = comparison.touches(VERSION_IMMUTABLE)
    if frozen:
        fields = ", ".join(p.rsplit("/", 1)[-1] for p in frozen)
        out.diagnostics.append(
            Diagnostic(
                Severity.ERROR,
                version.arm_id,
                f"{label}: {fields} cannot change on an existing version; "
                "publish a new version number instead",
                version.origin("spec.source"),
            )
        )
    elif _left_failed(observed) and not _deleted_in(out, version.arm_id):
        out.changes.append(_repair(ctx, version, observed, comparison, label))
    else:
        action = Action.UPDATE if ctx.owned(observed) else Action.ADOPT
        if comparison.patch or action is Action.ADOPT:
            what = ", ".join(comparison.changed_paths) or "ownership tag"
            differ = "differ" if len(comparison.changed_paths) > 1 else "differs"
            code = (
                coded(ChangeReason.DRIFT, *comparison.changed_paths)
                if action is Action.UPDATE
                else ChangeReason.UNOWNED
            )
            out.changes.append(
                Change(
                    action,
                    "image-version",
                    version.arm_id,
                    f"{version.origin('spec')}: {label}: {what} {differ} from desired",
                    before=comparison.before,
                    after=comparison.after,
                    patch=comparison.patch,
                    fingerprint=observed.fingerprint,
                    reason_code=code,
                )
            )
    replication = plan_replication(version, observed)
    out.changes.extend(replication.changes)
    out.diagnostics.extend(replication.diagnostics)


def _left_failed(observed) -> bool:
    """A version a failed write (a PATCH of its fields or tags) left `Failed`. A failed region is not this:
    the replicate change removes and re-adds it (replication.py)."""
    if observed.provisioning_state != "Failed":
        return False
    return not any(r.state == "Failed" for r in observed.replication or ())


def _deleted_in(out: Outcome, version_id: str) -> bool:
    """Retention deletes it in this plan: a Failed version is deleted as it is (a failed DELETE is sent
    again by the next plan), never repaired first."""
    key = change_key(Action.DELETE, version_id)
    return any(c.key == key for c in out.changes)


def _repair(ctx: Context, version, observed, comparison, label: str) -> Change:
    """Send the desired (mutable) body again: Azure keeps a Failed version Failed until a write succeeds on
    it, and nothing may pin to or build from it meanwhile (version_ready.py makes them wait for this)."""
    action = Action.UPDATE if ctx.owned(observed) else Action.ADOPT
    return Change(
        action,
        "image-version",
        version.arm_id,
        f"{version.origin('spec')}: {label} was left Failed by a failed operation; send its desired "
        "fields again before anything uses it",
        before=comparison.before,
        after=comparison.after,
        patch=comparison.patch,
        fingerprint=observed.fingerprint,
        reason_code=ChangeReason.REPAIR,
    )


def _source_version_deps(version) -> tuple[str, ...]:
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


def _plan_build(ctx: Context, version, deps: tuple[str, ...], out: Outcome) -> None:
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
    if template is not None and template.last_run_state in ("Failed", "Canceled", "PartiallySucceeded"):
        why += (
            f"; the last build {template.last_run_state.lower()}: {template.last_run_message or ''}".rstrip(
                ": "
            )
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
