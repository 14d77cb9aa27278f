"""Image Builder's staging storage and customization.log: a failed run leaves its log where Azure does, read the
way a caller with Contributor reads it (GET the account, POST listKeys, the Blob SDK against Azurite)."""

from __future__ import annotations

import re

import pytest
from azure.core.exceptions import HttpResponseError
from azure.core.rest import HttpRequest
from azure.storage.blob import BlobServiceClient

from .helpers import make_gallery
from .test_imagebuilder import template

STORAGE_API = "2023-05-01"


@pytest.fixture
def logs_sb(sb, module_azurite):
    sb.configure(blob_connection_string=module_azurite.connection_string)
    return sb


def steps():
    return [
        {"type": "PowerShell", "name": "install-apps", "inline": ["choco install notepadplusplus"]},
        {
            "type": "File",
            "name": "copy-config",
            "sourceUri": "https://example.blob.core.windows.net/cfg/app.json",
            "sha256Checksum": "ab" * 32,
            "destination": "C:\\app.json",
        },
        {"type": "WindowsUpdate", "name": "updates"},
        {"type": "WindowsRestart", "name": "reboot", "restartTimeout": "10m"},
    ]


def _arm(clients, method: str, path: str) -> dict:
    response = clients.aib.send_request(HttpRequest(method, path, params={"api-version": STORAGE_API}))
    assert response.status_code == 200, response.text()
    return response.json()


def _failed_run(sb, clients, name: str, **fault) -> tuple:
    make_gallery(clients)
    body = template(clients, regions=("westeurope",))
    body["properties"]["customize"] = steps()
    t = clients.aib.virtual_machine_image_templates
    t.begin_create_or_update(clients.rg, name, body).result()
    sb.set_time_scale(0)  # from here only the test moves the clock
    sb.inject_fault(kind="build", path=f"imageTemplates/{name}/run", count=1, **fault)
    poller = t.begin_run(clients.rg, name)
    sb.advance(5 * 3600)
    with pytest.raises(HttpResponseError) as err:
        poller.result()
    return t.get(clients.rg, name), err.value


def _read_log(clients, module_azurite, template_obj, message: str) -> str:
    account_name = re.search(r"https://([a-z0-9]+)\.blob\.core\.windows\.net/packerlogs/", message).group(1)
    guid = re.search(r"packerlogs/([0-9a-f-]{36})/customization\.log", message).group(1)
    group = template_obj.exact_staging_resource_group
    account = _arm(clients, "GET", f"{group}/providers/Microsoft.Storage/storageAccounts/{account_name}")
    keys = _arm(clients, "POST", f"{account['id']}/listKeys")["keys"]
    endpoint = account["properties"]["primaryEndpoints"]["blob"]
    assert endpoint.startswith(f"http://127.0.0.1:{module_azurite.port}/")
    service = BlobServiceClient(endpoint, credential=keys[0]["value"])
    return (
        service.get_blob_client("packerlogs", f"{guid}/customization.log").download_blob().readall().decode()
    )


def test_sysprep_appx_failure_leaves_its_log_in_the_staging_account(logs_sb, clients, module_azurite):
    tpl, err = _failed_run(logs_sb, clients, "tpl-appx", cause="sysprep-appx")
    status = tpl.last_run_status
    assert status.run_state == "Failed"
    assert "Image Build log location: https://" in status.message and "OperationId: " in status.message
    # The operation's error carries the newer form: the ARM path of the blob.
    assert "PackerBuildFailed" in str(err) and "/blobServices/default/containers/packerlogs/" in str(err)
    group = tpl.exact_staging_resource_group
    assert re.fullmatch(
        rf"/subscriptions/{clients.sub}/resourceGroups/IT_{clients.rg}_tpl-appx_[0-9a-f-]{{36}}", group
    )
    log = _read_log(clients, module_azurite, tpl, status.message)
    op_id = re.search(r"OperationId: ([0-9a-f]+)", status.message).group(1)
    assert all(line.startswith(f"[{op_id}] PACKER ") for line in log.splitlines())
    starts = re.findall(r"\(telemetry\) Starting provisioner (\S+)", log)
    assert starts == ["powershell", "file", "windows-update", "windows-restart", "powershell"]
    assert "c:\\DeprovisioningScript.ps1" in log
    assert "was installed for a user, but not provisioned for all users" in log
    assert log.rstrip().endswith("PACKER OUT")


@pytest.mark.parametrize(
    "fault, expect",
    [
        (
            {"cause": "exit-code", "exit_code": 5},
            "Script exited with non-zero exit status: 5. Allowed exit codes are: [0]",
        ),
        ({"cause": "checksum"}, "sha256 mismatch: expected " + "ab" * 32),
        ({"cause": "windows-update-timeout"}, "Waiting for the Windows Modules Installer to exit"),
        ({"cause": "restart-timeout"}, "Timeout waiting for machine to restart."),
        (
            {"cause": "quota"},
            "ERROR: -> OperationNotAllowed : Operation could not be completed as it results in exceeding approved",
        ),
        ({"cause": "sku-not-available"}, "ERROR: -> SkuNotAvailable : "),
        ({"cause": "allocation-failed"}, "ERROR: -> AllocationFailed : "),
    ],
)
def test_each_cause_writes_its_own_failure(logs_sb, clients, module_azurite, fault, expect):
    tpl, _ = _failed_run(logs_sb, clients, "tpl-" + fault["cause"], **fault)
    log = _read_log(clients, module_azurite, tpl, tpl.last_run_status.message)
    assert expect in log
    assert "Builds finished but no artifacts were created." in log


def test_build_timeout_ends_the_run_at_the_template_timeout(logs_sb, clients, module_azurite):
    make_gallery(clients)
    body = template(clients, regions=("westeurope",))
    body["properties"]["buildTimeoutInMinutes"] = 90
    t = clients.aib.virtual_machine_image_templates
    t.begin_create_or_update(clients.rg, "tpl-slow", body).result()
    logs_sb.set_time_scale(0)
    logs_sb.inject_fault(kind="build", path="imageTemplates/tpl-slow/run", cause="build-timeout")
    poller = t.begin_run(clients.rg, "tpl-slow")
    logs_sb.advance(89 * 60)
    assert t.get(clients.rg, "tpl-slow").last_run_status.run_state == "Running"
    logs_sb.advance(61)
    status = t.get(clients.rg, "tpl-slow").last_run_status
    assert status.run_state == "Failed"
    assert "Timeout waiting for microservice to complete: 'context deadline exceeded'" in status.message
    with pytest.raises(HttpResponseError):
        poller.result()


def test_deleting_the_template_removes_its_staging_group(logs_sb, clients, module_azurite):
    tpl, _ = _failed_run(logs_sb, clients, "tpl-gone", cause="exit-code")
    group = tpl.exact_staging_resource_group
    assert logs_sb.get(group) is not None
    poller = clients.aib.virtual_machine_image_templates.begin_delete(clients.rg, "tpl-gone")
    logs_sb.advance(60)
    poller.result()
    assert logs_sb.get(group) is None


def test_without_a_blob_service_a_build_fault_fails_the_run_as_before(sb, clients):
    make_gallery(clients)
    t = clients.aib.virtual_machine_image_templates
    t.begin_create_or_update(clients.rg, "tpl-plain", template(clients)).result()
    sb.set_time_scale(0)
    sb.inject_fault(kind="build", path="imageTemplates/tpl-plain/run", cause="exit-code")
    poller = t.begin_run(clients.rg, "tpl-plain")
    sb.advance(3 * 3600)
    with pytest.raises(HttpResponseError):
        poller.result()
    got = t.get(clients.rg, "tpl-plain")
    assert got.last_run_status.run_state == "Failed" and got.exact_staging_resource_group is None
