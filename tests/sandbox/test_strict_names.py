"""Windows computer names on VM PUT, as Azure checks them (400 InvalidParameter, target computerName): at most 15
characters, not all digits, none of `` ` ~ ! @ # $ % ^ & * ( ) = + _ [ ] { } \\ | ; : . ' " , < > / ? ``. The VM
name is the computerName when the body names none, so a 16-character VM name is refused too (the sandbox used to
truncate it). Body quoted in tests/fixtures/strict_refusals.md."""

from __future__ import annotations

import pytest
from azure.core.exceptions import HttpResponseError

from reconciler.sandbox.providers.compute_vm import WINDOWS_COMPUTER_NAME_MESSAGE

from .helpers import make_source_image, vm_body


@pytest.fixture
def image_id(clients):
    return make_source_image(clients).id


def put_vm(clients, vm_name, body):
    return clients.compute.virtual_machines.begin_create_or_update(clients.rg, vm_name, body).result()


def with_computer_name(image_id, name):
    body = vm_body(image_id)
    if name is None:
        del body["properties"]["osProfile"]["computerName"]
    else:
        body["properties"]["osProfile"]["computerName"] = name
    return body


@pytest.mark.parametrize(
    "name", ["avdclinicalw1-13", "1234567", "avd_host-1", "avd.host-1", "avd host", "avd@1", "avd#1"]
)
def test_invalid_windows_computer_name_is_refused(sb, clients, image_id, name):
    with pytest.raises(HttpResponseError) as caught:
        put_vm(clients, "vm1", with_computer_name(image_id, name))
    err = caught.value
    assert (err.status_code, err.error.code, err.error.target) == (400, "InvalidParameter", "computerName")
    assert err.error.message == WINDOWS_COMPUTER_NAME_MESSAGE
    with pytest.raises(HttpResponseError):
        clients.compute.virtual_machines.get(clients.rg, "vm1")  # nothing was created


def test_fifteen_characters_with_hyphens_and_digits_are_fine(sb, clients, image_id):
    vm = put_vm(clients, "avdclinical-123", with_computer_name(image_id, "avdclinical-123"))
    assert vm.os_profile.computer_name == "avdclinical-123"


def test_the_vm_name_is_the_computer_name_when_none_is_given(sb, clients, image_id):
    with pytest.raises(HttpResponseError) as caught:
        put_vm(clients, "avdclinicalwe-10", with_computer_name(image_id, None))
    assert caught.value.error.target == "computerName"
    vm = put_vm(clients, "avdclinicalw-10", with_computer_name(image_id, None))
    assert vm.os_profile.computer_name == "avdclinicalw-10"


def test_linux_computer_names_are_not_held_to_the_windows_rule(sb, clients, image_id):
    body = with_computer_name(image_id, "a-linux-host-name-longer-than-15")
    body["properties"]["osProfile"]["linuxConfiguration"] = {"disablePasswordAuthentication": False}
    vm = put_vm(clients, "linux1", body)
    assert vm.os_profile.computer_name == "a-linux-host-name-longer-than-15"
