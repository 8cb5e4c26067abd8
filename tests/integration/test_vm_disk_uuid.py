"""vm_disk_uuid against the simulator: change, idempotence, check mode, selection, bad input."""

from __future__ import annotations

import pytest

from support.ansible import run_module
from support.vsphere import vm_state

MODULE = "vm_disk_uuid"


def enable_uuid(si, name):
    options = vm_state(si, name, ["config.extraConfig"]).get("config.extraConfig") or []
    return {option.key: option.value for option in options}.get("disk.EnableUUID")


def test_check_mode_then_change_then_idempotent(vcsim, si):
    env = vcsim.env()
    assert enable_uuid(si, "asr-mt-01") is None

    check = run_module(MODULE, dict(name="asr-mt-01"), env=env, check=True, diff=True)
    assert check["changed"] and not check.get("failed"), check.debug
    assert check["diff"] == dict(before={"disk.EnableUUID": None}, after={"disk.EnableUUID": "TRUE"})
    assert enable_uuid(si, "asr-mt-01") is None, "check mode changed the VM"

    first = run_module(MODULE, dict(name="asr-mt-01"), env=env)
    assert first["changed"], first.debug
    assert (first["before"], first["after"]) == (None, "TRUE")
    assert first["power_cycle_required"] is True  # asr-mt-01 is powered on
    assert first["vm"]["path"] == "/DC0/vm/asr/asr-mt-01"
    assert enable_uuid(si, "asr-mt-01") == "TRUE"

    second = run_module(MODULE, dict(name="asr-mt-01"), env=env)
    assert not second["changed"], second.debug
    assert second["power_cycle_required"] is False


def test_disable_on_powered_off_vm(vcsim, si):
    env = vcsim.env()
    result = run_module(MODULE, dict(name="asr-mt-02", enabled=False), env=env)
    assert result["changed"] and result["after"] == "FALSE", result.debug
    assert result["power_cycle_required"] is False  # asr-mt-02 is powered off
    assert enable_uuid(si, "asr-mt-02") == "FALSE"
    assert not run_module(MODULE, dict(name="asr-mt-02", enabled=False), env=env)["changed"]


def test_select_by_uuid_and_moid(vcsim, si):
    env = vcsim.env()
    props = vm_state(si, "asr-mt-02", ["config.instanceUuid"])
    by_instance = run_module(MODULE, dict(uuid=props["config.instanceUuid"], use_instance_uuid=True), env=env)
    assert not by_instance.get("failed") and by_instance["vm"]["name"] == "asr-mt-02", by_instance.debug
    by_moid = run_module(MODULE, dict(moid=by_instance["vm"]["moid"]), env=env)
    assert not by_moid.get("failed") and by_moid["vm"]["name"] == "asr-mt-02", by_moid.debug


def test_shared_bios_uuid_of_template_clone_is_refused(vcsim, si):
    bios_uuid = vm_state(si, "asr-mt-01", ["config.uuid"])["config.uuid"]
    result = run_module(MODULE, dict(uuid=bios_uuid), env=vcsim.env())
    assert result["failed"] and "share the BIOS UUID" in result["msg"], result.debug
    assert enable_uuid(si, "asr-mt-01") is None


def test_duplicate_name_needs_folder(vcsim, si):
    env = vcsim.env()
    result = run_module(MODULE, dict(name="dup-vm"), env=env)
    assert result["failed"], result.debug
    assert "/DC0/vm/teamA/dup-vm" in result["msg"] and "/DC0/vm/teamB/dup-vm" in result["msg"]
    assert "folder" in result["msg"]
    chosen = run_module(MODULE, dict(name="dup-vm", folder="teamB"), env=env)
    assert chosen["changed"] and chosen["vm"]["path"] == "/DC0/vm/teamB/dup-vm", chosen.debug


def test_unknown_vm(vcsim):
    result = run_module(MODULE, dict(name="no-such-vm"), env=vcsim.env())
    assert result["failed"] and "No virtual machine named 'no-such-vm'" in result["msg"], result.debug


def test_unknown_moid(vcsim):
    result = run_module(MODULE, dict(moid="vm-999999"), env=vcsim.env())
    assert result["failed"] and "No virtual machine with moid 'vm-999999'" in result["msg"], result.debug


def test_wrong_password_is_one_clear_message_without_the_password(vcsim):
    env = dict(vcsim.env(), VMWARE_PASSWORD="Wr0ng-Secret-42")
    result = run_module(MODULE, dict(name="asr-mt-01"), env=env, verbosity=4)
    assert result["failed"], result.debug
    assert "user name or password is wrong" in result["msg"]
    assert vcsim.username in result["msg"]
    assert "Wr0ng-Secret-42" not in result.stdout + result.stderr


def test_untrusted_certificate_fails_unless_validation_is_off(vcsim):
    env = dict(vcsim.env())
    env.pop("VMWARE_VALIDATE_CERTS")  # the default: validate
    result = run_module(MODULE, dict(name="asr-mt-02"), env=env)
    assert result["failed"] and "certificate" in result["msg"] and "validate_certs" in result["msg"], result.debug
    # AWX's credential injects the string "False".
    accepted = run_module(MODULE, dict(name="asr-mt-02"), env=dict(env, VMWARE_VALIDATE_CERTS="False"))
    assert not accepted.get("failed"), accepted.debug


@pytest.mark.parametrize(
    "override, expected",
    [
        (dict(VMWARE_HOST="no-such-host.invalid"), "Cannot resolve the vCenter host name 'no-such-host.invalid'"),
        (dict(VMWARE_PORT="1"), "was refused"),
    ],
)
def test_unreachable_vcenter(vcsim, override, expected):
    result = run_module(MODULE, dict(name="asr-mt-01"), env=dict(vcsim.env(), **override))
    assert result["failed"] and expected in result["msg"], result.debug


def test_missing_hostname_names_the_environment_variable(vcsim):
    env = dict(vcsim.env())
    env.pop("VMWARE_HOST")
    result = run_module(MODULE, dict(name="asr-mt-01"), env=dict(env, VMWARE_HOST=""))
    assert result["failed"] and "VMWARE_HOST" in result["msg"], result.debug
