"""The build-log reader's edges, against the sandbox and Azurite: both location forms, the newest log when the
message names none, and every way the log can be missing (account gone, listKeys refused, Blob service down)
answered with a reason, never an exception, and never the key."""

from __future__ import annotations

import pytest
from controller.azurite import DEV_KEY, free_port
from sandbox.helpers import make_gallery
from sandbox.test_imagebuilder import template
from support.sandbox import connect

from reconciler.azure.build_logs import BuildLogReader, parse_location

GUID = "6c1d0b7e-2f4a-4e1b-9d3c-8a7f6e5d4c3b"


def test_parse_location_reads_both_forms():
    url = f"… Image Build log location: https://abcdefghijkl0123.blob.core.windows.net/packerlogs/{GUID}/customization.log. OperationId: x."
    arm = (
        "During the image build a failure has occurred. Packer build logs are at location /subscriptions/s1/"
        "resourceGroups/IT_rg_t_1/providers/Microsoft.Storage/storageAccounts/abcdefghijkl0123/blobServices/"
        f"default/containers/packerlogs/{GUID}/customization.log. Use this operationId …"
    )
    assert parse_location(url) == parse_location(url, None)
    loc = parse_location(url)
    assert (loc.account, loc.run_id, loc.resource_group) == ("abcdefghijkl0123", GUID, None)
    loc = parse_location(url, arm)
    assert (loc.account, loc.run_id, loc.resource_group) == (
        "abcdefghijkl0123",
        GUID,
        "/subscriptions/s1/resourceGroups/IT_rg_t_1",
    )
    assert parse_location("Failed while waiting for packerizer: Timeout", None) is None


@pytest.fixture
def failed(sb, clients, module_azurite):
    """A template whose run failed (exit code) with its log in the staging account: (sandbox, template id,
    lastRunStatus.message)."""
    sb.configure(blob_connection_string=module_azurite.connection_string)
    make_gallery(clients)
    t = clients.aib.virtual_machine_image_templates
    body = template(clients, regions=("westeurope",))
    t.begin_create_or_update(clients.rg, "tpl-r", body).result()
    sb.set_time_scale(0)
    sb.inject_fault(kind="build", path="imageTemplates/tpl-r/run", count=1, cause="exit-code", exit_code=7)
    t.begin_run(clients.rg, "tpl-r")
    sb.advance(3 * 3600)
    got = t.get(clients.rg, "tpl-r")
    return sb, got.id, got.last_run_status.message


def read(sb, *args, **kwargs):
    with connect(sb) as conn:
        return BuildLogReader(conn).read(*args, **kwargs)


def test_reads_the_named_run_and_the_newest_when_none_is_named(failed):
    sb, tid, message = failed
    named = read(sb, tid, message)
    assert named.note is None and "exit status: 7" in named.text
    newest = read(sb, tid, "Failed while waiting for packerizer: Timeout waiting for microservice")
    assert newest.text == named.text and newest.location.run_id == named.location.run_id


def test_missing_pieces_are_reasons_not_errors(failed, module_azurite):
    sb, tid, message = failed
    sb.inject_fault(
        method="POST", path="/listKeys", status=403, code="AuthorizationFailed", message="no", count=1
    )
    refused = read(sb, tid, message)
    assert refused.text is None and "listKeys" in refused.note and "AuthorizationFailed" in refused.note
    assert "Contributor" in refused.note
    # The Blob service goes away: the reader says so, quickly, without the key.
    dead = f"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey={DEV_KEY};BlobEndpoint=http://127.0.0.1:{free_port()}/devstoreaccount1;"
    sb.configure(blob_connection_string=dead)
    down = read(sb, tid, message)
    assert down.text is None and "could not be read" in down.note and DEV_KEY not in down.note
    sb.configure(blob_connection_string=module_azurite.connection_string)
    unknown = read(sb, tid, message, run_id="00000000-0000-4000-8000-000000000000")
    assert "does not exist" in unknown.note


def test_a_deleted_template_leaves_no_log(failed, clients):
    sb, tid, message = failed
    poller = clients.aib.virtual_machine_image_templates.begin_delete(clients.rg, "tpl-r")
    sb.advance(60)
    poller.result()
    gone = read(sb, tid, message)
    assert gone.text is None and "no longer exists" in gone.note
