"""Read a failed Image Builder run's customization.log from its staging storage account.

Where it is (reference/pipeline.md 1.3/1.4): the storage account Image Builder made in the template's
staging group (`exactStagingResourceGroup`, read rather than assumed), container `packerlogs`, blob
`<run guid>/customization.log`. The failed run names it, in `lastRunStatus.message` as an https URL
(`https://<acct>.blob.core.windows.net/packerlogs/<guid>/customization.log`) or in the operation's error as an
ARM path (`.../storageAccounts/<acct>/blobServices/default/containers/packerlogs/<guid>/customization.log`);
a message without either (a build timeout) leaves the newest log in the staging account.

How it is read: the way a caller with Contributor can, through ARM — GET the account (its blob endpoint),
POST `listKeys`, then azure-storage-blob with the key. The key lives only in this function's locals: it is
never logged, returned, or put in an error message. Anything missing (no staging group, account gone, keys
refused, blob absent, Blob service unreachable) is not an error: the answer carries no text and says why.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from azure.core.exceptions import AzureError, HttpResponseError, ResourceNotFoundError
from azure.core.rest import HttpRequest
from azure.storage.blob import BlobServiceClient

from reconciler.azure import paging
from reconciler.azure.connection import Connection
from reconciler.model.observed import id_parts

STORAGE_API = "2023-05-01"  # Microsoft.Storage storageAccounts (azure-mgmt-storage 21's default)
CONTAINER = "packerlogs"
_RUN = r"packerlogs/(?P<run>[0-9a-fA-F-]{36})/customization\.log"
_URL_FORM = re.compile(r"https?://(?P<account>[a-z0-9]{3,24})\.blob\.[a-z0-9.]+/" + _RUN)
_ARM_FORM = re.compile(
    r"(?P<group>/subscriptions/[^/\s]+/resourceGroups/[^/\s]+)/providers/Microsoft\.Storage/storageAccounts/"
    r"(?P<account>[a-z0-9]{3,24})/blobServices/default/containers/" + _RUN,
    re.IGNORECASE,
)
MAX_LOG_BYTES = 16 * 1024 * 1024  # a log is a few MB at most; never hold an unbounded blob


@dataclass(frozen=True)
class LogLocation:
    account: str
    run_id: str
    resource_group: str | None = None  # the ARM form names it; the URL form does not


@dataclass(frozen=True)
class BuildLog:
    text: str | None
    note: str | None = None  # why there is no text
    location: LogLocation | None = None
    runs: tuple[str, ...] = ()  # run ids whose logs the staging account holds (newest last)


def parse_location(*messages: str | None) -> LogLocation | None:
    """The log's place from a run message or an operation error, either form (the ARM form wins: it names
    the resource group)."""
    found: LogLocation | None = None
    for message in messages:
        for match in _ARM_FORM.finditer(message or ""):
            return LogLocation(match["account"].lower(), match["run"].lower(), match["group"])
        match = _URL_FORM.search(message or "")
        if match and found is None:
            found = LogLocation(match["account"].lower(), match["run"].lower())
    return found


class BuildLogReader:
    def __init__(self, connection: Connection):
        self.conn = connection

    def _arm(self, method: str, path: str, api_version: str) -> dict[str, Any]:
        sub = id_parts(path)["subscriptions"]
        request = HttpRequest(method, path, params={"api-version": api_version})
        response = paging._send(self.conn.image_builder(sub), request)
        if response.status_code == 404:
            raise ResourceNotFoundError(response=response)
        if response.status_code != 200:
            raise HttpResponseError(response=response)
        return response.json()

    def staging_group(self, template_id: str) -> str | None:
        template = paging.get_one(
            self.conn.image_builder(id_parts(template_id)["subscriptions"]),
            template_id,
            paging.IMAGE_BUILDER_API,
        )
        return (template.get("properties") or {}).get("exactStagingResourceGroup") or None

    def read(
        self,
        template_id: str,
        *messages: str | None,
        run_id: str | None = None,
        staging_group: str | None = None,
    ) -> BuildLog:
        """The log of the run the messages name (or of `run_id`, or the newest one), with a note instead of
        text when it cannot be read."""
        try:
            return self._read(template_id, messages, run_id, staging_group)
        except ResourceNotFoundError as exc:
            return BuildLog(None, f"not found: {_one_line(exc)}")
        except HttpResponseError as exc:
            return BuildLog(None, f"Azure refused: {_one_line(exc)}")
        except AzureError as exc:
            return BuildLog(None, f"could not reach it: {_one_line(exc)}")

    def _read(self, template_id, messages, run_id, staging_group) -> BuildLog:
        location = parse_location(*messages)
        group = (location.resource_group if location else None) or staging_group
        if group is None:
            try:
                group = self.staging_group(template_id)
            except ResourceNotFoundError:
                return BuildLog(
                    None, "the template no longer exists (deleting it removes its staging group and logs)"
                )
        if group is None:
            return BuildLog(None, "the template has no staging resource group (exactStagingResourceGroup)")
        if location is not None:
            account_id = f"{group}/providers/Microsoft.Storage/storageAccounts/{location.account}"
        else:
            listed = self._arm("GET", f"{group}/providers/Microsoft.Storage/storageAccounts", STORAGE_API)
            accounts = [a["id"] for a in listed.get("value") or []]
            if not accounts:
                return BuildLog(None, f"no storage account in the staging group {group.rsplit('/', 1)[1]}")
            account_id = accounts[0]
        try:
            account = self._arm("GET", account_id, STORAGE_API)
        except ResourceNotFoundError:
            name = account_id.rsplit("/", 1)[1]
            return BuildLog(
                None,
                f"the staging storage account {name} no longer exists (the template was "
                "deleted, or Image Builder cleaned up after a successful run)",
                location,
            )
        props = account.get("properties") or {}
        endpoint = (props.get("primaryEndpoints") or {}).get("blob")
        if not endpoint:
            return BuildLog(None, "the staging storage account has no blob endpoint", location)
        if props.get("allowSharedKeyAccess") is False:
            return BuildLog(
                None,
                "the staging account refuses shared-key access; read it with a "
                "Storage Blob Data Reader role instead",
                location,
            )
        try:
            keys = self._arm("POST", f"{account['id']}/listKeys", STORAGE_API).get("keys") or []
        except HttpResponseError as exc:
            code = getattr(exc.error, "code", None) or exc.status_code
            return BuildLog(
                None,
                f"listKeys on the staging account was refused ({code}): reading the log "
                "needs Microsoft.Storage/storageAccounts/listKeys/action (e.g. Contributor)",
                location,
            )
        if not keys:
            return BuildLog(None, "listKeys returned no key", location)
        # A few quick retries, not the Blob SDK's default 15 s first backoff: a log is worth a short wait only.
        container = BlobServiceClient(
            endpoint,
            credential=keys[0]["value"],
            retry_total=1,
            initial_backoff=0.5,
            increment_base=2,
            random_jitter_range=0,
            connection_timeout=10,
            read_timeout=30,
        ).get_container_client(CONTAINER)
        named = run_id or (location.run_id if location else None)
        runs = _runs(container) if named is None else ()
        chosen = named or (runs[-1] if runs else None)
        where = LogLocation(account_id.rsplit("/", 1)[1], chosen or "", group)
        if chosen is None:
            return BuildLog(None, "the staging account holds no customization.log", where, runs)
        blob = container.get_blob_client(f"{chosen}/customization.log")
        try:
            data = blob.download_blob(max_concurrency=1).readall()
        except ResourceNotFoundError:
            note = f"{CONTAINER}/{chosen}/customization.log does not exist"
            return BuildLog(None, note, where, _runs(container))
        except AzureError as exc:
            host = urlsplit(endpoint).netloc
            return BuildLog(
                None, f"the blob service at {host} could not be read: {_one_line(exc)}", where, runs
            )
        return BuildLog(data[-MAX_LOG_BYTES:].decode("utf-8", "replace"), None, where, runs)


def _runs(container) -> tuple[str, ...]:
    """Run ids with a customization.log, oldest first; () when the container cannot be listed."""
    try:
        blobs = [b for b in container.list_blobs() if b.name.endswith("/customization.log")]
    except ResourceNotFoundError:
        return ()
    except AzureError:
        return ()
    blobs.sort(key=lambda b: b.last_modified)
    return tuple(b.name.split("/", 1)[0] for b in blobs)


def _one_line(exc: Exception) -> str:
    """The exception's message, one line, first sentence: never the request (headers stay out of it)."""
    message = getattr(exc, "message", None) or str(exc)
    return " ".join(message.split()).split(" Content:", 1)[0][:300]


@dataclass(frozen=True)
class TemplateRun:
    """An ImageBuild's template and its last run, as `reconcile logs build` lists them."""

    id: str
    name: str
    run_state: str | None
    run_message: str | None
    started: str | None
    staging_group: str | None
    body: dict[str, Any]


def build_templates(connection: Connection, subscription_id: str, resource_group: str, build: str):
    """The templates of ImageBuild `build` (named `<build>-<content hash>`) in its resource group, the most
    recently run last."""
    path = (
        f"/subscriptions/{subscription_id}/resourceGroups/{resource_group}/providers/"
        "Microsoft.VirtualMachineImages/imageTemplates"
    )
    items = paging.list_all(connection.image_builder(subscription_id), path, paging.IMAGE_BUILDER_API)
    pattern = re.compile(re.escape(build) + r"-[0-9a-f]{6,64}", re.IGNORECASE)
    runs = []
    for item in items:
        if not pattern.fullmatch(item.get("name") or ""):
            continue
        props = item.get("properties") or {}
        status = props.get("lastRunStatus") or {}
        runs.append(
            TemplateRun(
                item["id"],
                item["name"],
                status.get("runState"),
                status.get("message"),
                status.get("startTime"),
                props.get("exactStagingResourceGroup"),
                item,
            )
        )
    return sorted(runs, key=lambda r: r.started or "")
