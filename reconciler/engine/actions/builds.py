"""`build`: an Image Builder template named by its content hash, run once, its output version checked.

Each call looks at Azure and takes the next step:
- the version exists and Succeeded → check the run output names it → done;
- the version exists Failed though the run that made it succeeded (only our PATCH after it failed) → send that
  PATCH again (Azure's advice for a resource a failed update left Failed): a good build is never thrown away;
- the version exists half-made (Failed by its distribution or replication) → delete it (a failed build leaves
  nothing behind), then report;
- no template → create it; template Failed to provision → delete it and fail with Image Builder's error;
- template ready, not run in this apply → run it; its last run failed where none of ours saw it end (a
  controller's earlier cycle) → count that run first (once: by its end time), run again only if the count allows;
- running → wait; the run failed in this apply → clean up, then fail with Image Builder's message;
- a run found running (started by an apply that died) is waited on, then judged like ours;
- a gallery source version that is not Succeeded → wait (being made) or fail (Failed): never built from.
The run ends only after the version replicated to every target region (Azure's behaviour), so the pins and
rollouts that depend on this change start from a complete version.
"""

from __future__ import annotations

import contextlib
import copy

from reconciler.azure.writes import HttpResponseError
from reconciler.azure.writes_lro import LroState
from reconciler.engine.actions import register
from reconciler.engine.actions.build_diagnostics import counted_failure, described, explain, record_failure
from reconciler.engine.actions.env import ActionEnv
from reconciler.engine.actions.steps import http_failure, is_wait, lro_step, unsettled
from reconciler.engine.outcome import Done, Failed, Outcome, WaitUntil


def _source_not_ready(change, env: ActionEnv, mem: dict, what: str) -> Outcome | None:
    """Never build from a gallery version that is not Succeeded (being made, or left Failed by a failed
    write): wait while Azure is still making it, fail while it is Failed (the next plan repairs it first)."""
    source = ((change.after or {}).get("properties") or {}).get("source") or {}
    if source.get("type") != "SharedImageVersion" or not source.get("imageVersionId"):
        return None
    version = env.reader.version(source["imageVersionId"])
    state = version.provisioning_state if version is not None else "absent"
    if state == "Succeeded":
        return None
    if state in ("Creating", "Updating"):
        return env.wait(mem.setdefault("since", env.clock()), f"the source version is {state.lower()}")
    return Failed(f"{what}: the source version is {state.lower()}", error_code="SourceVersionNotReady")


def _run_output_name(change) -> str:
    distribute = ((change.after or {}).get("properties") or {}).get("distribute") or [{}]
    return distribute[0].get("runOutputName") or "output"


@register("image-build", "build")
def build(change, env: ActionEnv, ctx) -> Outcome:
    mem = env.memory(change.key)
    version_id = str(change.details.get("produces", ""))
    template_id = change.resource_id
    what = f"build {change.details.get('template', change.name)} → {version_id.rsplit('/', 1)[-1]}"
    try:
        # 1. A run we started: check its operation (its failure carries Image Builder's error).
        if mem.get("running"):
            status = lro_step(env, change.key, "run", template_id, None, "building")
            if is_wait(status):
                template = env.reader.template(template_id)
                phase = (template.last_run_sub_state if template else None) or "running"
                return WaitUntil(status.at, f"building ({phase})")
            mem["running"] = False
            mem["built"] = status.state is LroState.SUCCEEDED
            if status.state is not LroState.SUCCEEDED:
                template = env.reader.template(template_id)
                detail = (template.last_run_message if template else "") or status.message
                azure_says = f"Image Builder: {status.error_code}: {detail}"
                diagnosis = explain(env, change, detail, status.message)
                if template is not None:
                    record_failure(env, template, diagnosis)
                mem["failure"] = (described(what, azure_says, diagnosis), status.error_code)
        version = env.reader.version(version_id)
        env.record_replication(version)
        # 2. A Failed version: repaired when the run made it and only our PATCH after it failed; else it is
        # half-made (failed distribution or replication) and removed before anything else.
        if version is not None and version.provisioning_state == "Failed":
            if _built_then_patch_failed(change, env, mem, version, version_id):
                return _finish_built(change, env, mem, what, version_id)
            status = lro_step(env, change.key, "delete", version_id, None, "removing the half-made version")
            if is_wait(status):
                return status
            mem.setdefault("failure", (f"{what}: the build left a failed version; removed it", "BuildFailed"))
            version = None
        if "failure" in mem:
            why, code = mem["failure"]
            return Failed(why, error_code=code or "BuildFailed")
        if version is not None and (version.provisioning_state == "Succeeded" or "patch_body" in mem):
            # Updating under our own PATCH: _finish_built checks that operation, not the version.
            return _finish_built(change, env, mem, what, version_id)
        if version is not None:  # Creating / Updating: Image Builder is distributing it
            return env.wait(mem.get("since"), f"distributing ({_regions(version)})")
        # 3. The template.
        template = env.reader.template(template_id)
        if template is None and not mem.get("creating"):
            not_ready = _source_not_ready(change, env, mem, what)
            if not_ready is not None:
                return not_ready
        if template is None or mem.get("creating"):
            body = copy.deepcopy(change.after or {})
            body["tags"] = env.tags_for_write(body.get("tags"))
            mem["creating"] = True
            status = lro_step(env, change.key, "put", template_id, body, "creating the image template")
            if is_wait(status):
                return status
            mem["creating"] = False
            template = env.reader.template(template_id)
            if (
                status.state is not LroState.SUCCEEDED
                or template is None
                or template.provisioning_state == "Failed"
            ):
                return _template_failed(env, change, what, template, status.message)
        if template.provisioning_state == "Failed":
            return _template_failed(env, change, what, template, "")
        if template.provisioning_state != "Succeeded":
            return env.wait(mem.get("since"), f"image template {template.provisioning_state}")
        if template.is_running:
            # A run this apply did not start (an apply that died, another replica): wait for it, and judge
            # how it ended, rather than run it again or call the version absent.
            mem["watching"] = True
            mem.setdefault("since", env.clock())
            return env.wait(mem.get("since"), f"building ({template.last_run_sub_state or 'running'})")
        if template.last_run_failed:
            judged = _judge_ended_run(change, env, mem, what, template)
            if judged is not None:
                return judged
        # 4. Run it (again, if an earlier apply's run failed: the planner asked for this build) — when queued,
        # only once a slot is free now (the plan counted the runs of its observation).
        limit = change.details.get("queued")
        if limit:
            sub = template_id.split("/")[2]
            running = env.reader.builds_running(sub)
            if running >= limit:
                mem.setdefault("since", env.clock())
                return env.wait(
                    mem["since"], f"queued: {running} builds run in subscription {sub} (at most {limit})"
                )
        mem["running"], mem["since"] = True, env.clock()
        status = lro_step(env, change.key, "run", template_id, None, "building")
        return status if is_wait(status) else env.wait(None, "building")
    except HttpResponseError as exc:
        return http_failure(what, exc)


def _judge_ended_run(change, env: ActionEnv, mem: dict, what: str, template) -> Outcome | None:
    """The template's last run failed, and no process of ours saw it end (a controller hands a run back each
    cycle; an apply died). Count it once, by its end time, before the recipe is run again, or the budget never
    fills. Failed: it was a run we watched (the plan said "wait for it"), or the count says not again. A wait:
    just counted (the count's PATCH holds the template, Updating, a moment). None: run it again."""
    counted = counted_failure(template)
    watched = bool(mem.get("watching"))
    if counted is not None and counted.runs_again and not watched:
        return None
    detail = template.last_run_message or template.last_run_state
    diagnosis = explain(env, change, detail)
    if counted is None:
        counted = record_failure(env, template, diagnosis)
        if counted is not None and counted.runs_again and not watched:
            return env.wait(mem.setdefault("since", env.clock()), "counted the failed run; running it again")
    if watched or (counted is not None and not counted.runs_again):
        return Failed(described(what, f"Image Builder: {detail}", diagnosis), error_code="ImageBuildFailed")
    return None


def _finish_built(change, env: ActionEnv, mem: dict, what: str, version_id: str) -> Outcome:
    """The version exists: check the run output names it, set the version-level fields Image Builder cannot
    (tags, safety profile, end of life), and delete the template we own (templates are single-use here: a
    new version is a new template, named by its content)."""
    template_id = change.resource_id
    if "checked" not in mem:
        output = env.reader.run_output(template_id, _run_output_name(change))
        if output is not None and output.lower() != version_id.lower():
            return Failed(f"{what}: the run output names {output}, not {version_id}", "RunOutputMismatch")
        mem["checked"] = mem["built"] = True
    patch = copy.deepcopy(change.details.get("version_patch") or {})
    if patch:
        if "patch_body" not in mem:
            current = env.reader.tags(version_id)
            patch["tags"] = env.tags_for_write(patch.get("tags"), current.tags if current else None)
            mem["patch_body"] = patch
        status = lro_step(env, change.key, "patch", version_id, mem["patch_body"], "setting version fields")
        # A failed PATCH leaves the version Failed: a Retry (the engine's retry budget bounds the tries) sends
        # it again; the template stays until the version is right, so the run's output can still be checked.
        pending = unsettled(f"{what}: setting version fields", status)
        if pending is not None:
            return pending
    if env.reader.exists(template_id) or env.ledger.lookup(template_id, "delete"):
        status = lro_step(env, change.key, "delete", template_id, None, "removing the finished template")
        if is_wait(status):
            return status
    return Done(bool(mem["wrote"]), f"built {version_id.rsplit('/', 1)[-1]}")


def _built_then_patch_failed(change, env: ActionEnv, mem: dict, version, version_id: str) -> bool:
    """A Failed version the run made whole: the run succeeded (this apply saw it, or the template says so and
    its run output names this version) and no region failed, so only a later write (our PATCH) failed."""
    if "failure" in mem or any(r.state == "Failed" for r in version.replication or ()):
        return False
    if mem.get("built"):
        return True
    template = env.reader.template(change.resource_id)
    if template is None or template.last_run_state != "Succeeded":
        return False
    output = env.reader.run_output(change.resource_id, _run_output_name(change))
    return output is not None and output.lower() == version_id.lower()


def _regions(version) -> str:
    return ", ".join(f"{r}={version.replication_state_in(r)}" for r in sorted(version.region_names))


def _template_failed(env: ActionEnv, change, what: str, template, message: str) -> Outcome:
    """Image Builder rejected the template. Azure wants a failed template deleted before it is resubmitted:
    start that delete (the next apply creates it again), and report the provisioning error."""
    error = (template.provisioning_error if template else None) or message or "provisioning failed"
    with contextlib.suppress(HttpResponseError):  # best effort: the next plan sees it and cleans up
        env.writer.start("delete", change.resource_id)
    return Failed(f"{what}: Image Builder rejected the template: {error}", error_code="TemplateFailed")
