"""A failed Image Builder run, explained: its customization.log read from the staging account
(azure/build_logs.py) and classified (planner/build_diagnosis.py), as the lines apply adds to the failure.

Reading the log is best effort: whatever goes wrong, the failure is still reported, with the classifier's
reading of the run message alone and a line saying why the log was not read.
"""

from __future__ import annotations

import contextlib

from reconciler.azure.build_logs import BuildLogReader
from reconciler.azure.writes import HttpResponseError
from reconciler.model.tags import (
    BUILD_FAILURES_TAG,
    BuildFailures,
    build_failures_value,
    parse_build_failures,
    run_end_text,
)
from reconciler.planner.build_diagnosis import Diagnosis, customizers_of, diagnose


def explain(env, change, run_message: str | None, operation_message: str | None = None) -> Diagnosis | None:
    conn = getattr(env.reader, "conn", None)
    if conn is None:  # a reader that does not talk to Azure (unit tests of the action)
        return None
    try:
        log = BuildLogReader(conn).read(change.resource_id, run_message, operation_message)
        text, note = log.text, log.note
    except Exception as exc:  # noqa: BLE001 - the failure itself must still be reported
        text, note = None, f"could not be read ({type(exc).__name__})"
    return diagnose(text, run_message or operation_message or "", customizers_of(change.after or {}), note)


def described(what: str, azure_says: str, diagnosis: Diagnosis | None) -> str:
    """`what: <cause>` first (a one-line reader, such as a notification cut at 400 characters, gets the cause),
    then Image Builder's own message, the hint and the excerpt, indented under it."""
    if diagnosis is None:
        return f"{what}: {azure_says}"
    first, *rest = diagnosis.lines()
    return f"{what}: {first}" + "".join(f"\n    {line}" for line in [azure_says, *rest])


def counted_failure(template) -> BuildFailures | None:
    """The count on the template, if it already includes its last run (which failed)."""
    seen = parse_build_failures(template.tags.get(BUILD_FAILURES_TAG))
    return seen if seen is not None and seen.counts(template.last_run_end) else None


def record_failure(env, template, diagnosis: Diagnosis | None) -> BuildFailures | None:
    """Count the template's last run, which failed, on the template (BUILD_FAILURES_TAG, with the run's end time
    so a run is counted once whichever cycle finds it ended), so the next plan knows whether running the same
    recipe again can help. The count, or None when there is no diagnosis to count. Best effort: without the mark
    the next plan runs the build again, as before."""
    if diagnosis is None:
        return None
    counted = counted_failure(template)
    if counted is not None:
        return counted
    seen = parse_build_failures(template.tags.get(BUILD_FAILURES_TAG))
    runs = (seen.runs if seen else 0) + 1
    failures = BuildFailures(
        runs, diagnosis.cause, _worth_retrying(diagnosis), run_end_text(template.last_run_end)
    )
    with contextlib.suppress(HttpResponseError):
        current = env.reader.tags(template.id)
        tags = dict(current.tags) if current else {}
        tags[BUILD_FAILURES_TAG] = build_failures_value(failures)
        env.writer.start("patch", template.id, {"tags": tags})
    return failures


def _worth_retrying(diagnosis: Diagnosis) -> bool:
    """A transient cause, or one not recognised (running again is how it is told apart); a known cause that
    needs a change (exit code, checksum, Sysprep, quota…) would fail the same way."""
    return diagnosis.transient or diagnosis.cause == "unknown"
