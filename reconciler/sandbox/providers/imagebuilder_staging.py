"""Image Builder's staging for a run (only with a Blob service): the staging resource group and storage account,
when a failing run ends, and the failed run's `packerlogs/<run guid>/customization.log` (text from packer_log.py).

The staging group is `IT_<rg>_<template>_<guid>` (or `stagingResourceGroup`), reported as
`exactStagingResourceGroup`; the log's https URL goes into `lastRunStatus.message` and its ARM path into the
operation's error.
"""

from __future__ import annotations

import sys
import uuid
from typing import Any

from ..store import private
from .packer_log import failure_log, status_messages
from .storage import BlobWriter, create_account


def stage(app: Any, res: dict[str, Any], run: dict[str, Any]) -> None:
    """Image Builder's staging group and its storage account, made on the first run; a run guid names the
    run's log folder."""
    props, mine = res["properties"], private(res)
    if not props.get("exactStagingResourceGroup"):
        group = props.get("stagingResourceGroup")
        if not group:
            sub, rg = res["id"].split("/")[2], res["id"].split("/")[4]
            guid = uuid.UUID(int=app.rng.getrandbits(128), version=4)
            group = f"/subscriptions/{sub}/resourceGroups/IT_{rg}_{res['name']}_{guid}"
            mine["created_staging"] = group
        app.types["microsoft.resources/resourcegroups"].ensure(group, None, res["location"])
        props["exactStagingResourceGroup"] = group
    if not mine.get("staging_account") or app.store.get(mine["staging_account"]) is None:
        account = create_account(app, props["exactStagingResourceGroup"], res["location"])
        mine["staging_account"] = account["id"]
    run["guid"] = str(uuid.UUID(int=app.rng.getrandbits(128), version=4))


def failure_seconds(app: Any, res: dict[str, Any], cause: str) -> float:
    """When a run failing of `cause` ends: at the build VM's deployment, at buildTimeoutInMinutes
    (0 = Image Builder's 240), or while customizing."""
    build = app.config.build_seconds
    if cause in ("quota", "sku-not-available", "allocation-failed", "internal-error"):
        return 0.1 * build
    if cause == "build-timeout":
        return float(res["properties"].get("buildTimeoutInMinutes") or 240) * 60
    return 0.7 * build


def failure_messages(res: dict[str, Any], run: dict[str, Any], op_id: str) -> tuple[str, dict]:
    account_id = private(res)["staging_account"]
    account = account_id.rsplit("/", 1)[1]
    blob = f"packerlogs/{run['guid']}/customization.log"
    url = f"https://{account}.blob.core.windows.net/{blob}"
    arm_path = f"{account_id}/blobServices/default/containers/{blob}"
    text, error = failure_log(res, run["cause"], op_id, run["start"], run["start"] + 1)
    run["log_error"] = error
    return status_messages(run["cause"]["cause"], error, url, arm_path, op_id)


def write_log(app: Any, res: dict[str, Any], run: dict[str, Any], op_id: str, at: float) -> None:
    """The failed run's customization.log into the staging account (best effort: a Blob service that is
    down leaves no log, which a reader must tolerate anyway)."""
    text, _ = failure_log(res, run["cause"], op_id, run["start"], at)
    try:
        BlobWriter(app.config.blob_connection_string).put_text(
            "packerlogs", f"{run['guid']}/customization.log", text
        )
    except (OSError, ValueError) as exc:
        print(f"sandbox: could not write the build log: {exc}", file=sys.stderr)
