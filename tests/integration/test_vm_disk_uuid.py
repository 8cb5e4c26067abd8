"""vm_disk_uuid against the simulator: change, idempotence, check mode, selection, bad input."""

from __future__ import annotations

import pytest

from support.ansible import run_module, run_playbook
from support.roles import VSPHERE_ROLE_PLAYBOOK
from support.vsphere import find_vm_object, set_extra_config, vm_state, wait

MODULE = "vm_disk_uuid"


CHANGED_KEY = "siterecovery.diskEnableUUID.changed"


def options(si, name):
    return {option.key: option.value for option in vm_state(si, name, ["config.extraConfig"]).get("config.extraConfig") or []}


def enable_uuid(si, name):
    return options(si, name).get("disk.EnableUUID")


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

    # The record of the change, in the same reconfiguration: what later runs compare with runtime.bootTime.
    assert options(si, "asr-mt-01")[CHANGED_KEY]

    # Not changed again, but still not in effect: the VM has not been power-cycled since.
    second = run_module(MODULE, dict(name="asr-mt-01"), env=env)
    assert not second["changed"], second.debug
    assert second["power_cycle_required"] is True

    # Powered off: it needs only its next power-on; powered on again: in effect.
    assert run_module("vm_power", dict(name="asr-mt-01", state="powered_off"), env=env)["changed"]
    assert run_module(MODULE, dict(name="asr-mt-01"), env=env)["power_cycle_required"] is False
    assert run_module("vm_power", dict(name="asr-mt-01", state="powered_on"), env=env)["changed"]
    third = run_module(MODULE, dict(name="asr-mt-01"), env=env)
    assert not third["changed"] and third["power_cycle_required"] is False, third.debug


def test_disable_on_powered_off_vm(vcsim, si):
    env = vcsim.env()
    result = run_module(MODULE, dict(name="asr-mt-02", enabled=False), env=env)
    assert result["changed"] and result["after"] == "FALSE", result.debug
    assert result["power_cycle_required"] is False  # asr-mt-02 is powered off
    assert enable_uuid(si, "asr-mt-02") == "FALSE"
    assert not run_module(MODULE, dict(name="asr-mt-02", enabled=False), env=env)["changed"]


def test_a_value_that_is_not_exactly_true_is_rewritten(vcsim, si):
    # ESXi is not known to read " True " as TRUE: the module, the plan and the readiness check all say so.
    set_extra_config(si, "asr-mt-02", {"disk.EnableUUID": " True "})
    env = vcsim.env()
    plan = run_module("vm_preparation_info", dict(name="asr-mt-02", snapshots=False, scsi_controllers=False, migration_exclusion=False), env=env)
    assert plan["to_change"] == ["disk_uuid"] and "' True '" in plan["steps"]["disk_uuid"]["reason"], plan.debug
    readiness = run_module("failback_readiness_info", dict(master_targets=["asr-mt-02"]), env=env)
    assert [row["status"] for row in readiness["checks"] if row["check"] == "master_target.disk_uuid"] == ["fail"], readiness.debug

    result = run_module(MODULE, dict(name="asr-mt-02"), env=env)
    assert result["changed"] and (result["before"], result["after"]) == (" True ", "TRUE"), result.debug
    assert enable_uuid(si, "asr-mt-02") == "TRUE"
    assert not run_module(MODULE, dict(name="asr-mt-02"), env=env)["changed"]


def test_keys_differing_only_in_case_are_all_fixed(vcsim, si):
    # Not only the first key: disk.EnableUUID is set, the stray disk.enableuuid removed, in one reconfiguration.
    set_extra_config(si, "asr-mt-02", {"disk.EnableUUID": "FALSE", "disk.enableuuid": "TRUE"})
    env = vcsim.env()
    plan = run_module("vm_preparation_info", dict(name="asr-mt-02", snapshots=False, scsi_controllers=False, migration_exclusion=False), env=env)
    step = plan["steps"]["disk_uuid"]
    assert step["needed"] and step["stray_keys"] == ["disk.enableuuid"], plan.debug
    readiness = run_module("failback_readiness_info", dict(master_targets=["asr-mt-02"]), env=env)
    row = [row for row in readiness["checks"] if row["check"] == "master_target.disk_uuid"][0]
    assert row["status"] == "fail" and "FALSE (disk.EnableUUID), TRUE (disk.enableuuid)" in row["message"], readiness.debug

    check = run_module(MODULE, dict(name="asr-mt-02"), env=env, check=True, diff=True)
    assert check["changed"] and check["removed_keys"] == ["disk.enableuuid"], check.debug
    assert check["diff"] == dict(before={"disk.EnableUUID": "FALSE", "disk.enableuuid": "TRUE"},
                                 after={"disk.EnableUUID": "TRUE", "disk.enableuuid": None})
    assert options(si, "asr-mt-02").get("disk.enableuuid") == "TRUE", "check mode changed the VM"

    result = run_module(MODULE, dict(name="asr-mt-02"), env=env)
    assert result["changed"] and result["removed_keys"] == ["disk.enableuuid"], result.debug
    assert {key: value for key, value in options(si, "asr-mt-02").items() if key.lower() == "disk.enableuuid"} == {"disk.EnableUUID": "TRUE"}
    again = run_module(MODULE, dict(name="asr-mt-02"), env=env)
    assert not again["changed"] and again["removed_keys"] == [], again.debug
    assert not run_module("vm_preparation_info", dict(name="asr-mt-02", snapshots=False, scsi_controllers=False, migration_exclusion=False),
                          env=env)["to_change"]


ROLE_VARS = dict(vsphere_vm_name="asr-mt-02", vsphere_vm_folder="asr", vsphere_retention_disk=False, vsphere_migration_exclusion=False,
                 vsphere_power_off_allowed=False, vsphere_tools_timeout=30)


def published(result):
    """The last vsphere_master_target the role published (a set_fact of the host, or of a run_once loop over the hosts)."""
    facts = []
    for task in result["tasks"]:
        if task["action"] != "ansible.builtin.set_fact":
            continue
        for item in task["result"].get("results") or [task["result"]]:
            if "vsphere_master_target" in item.get("ansible_facts", {}):
                facts.append(item["ansible_facts"]["vsphere_master_target"])
    # The role publishes the VM as found, and again after changes: the last one stands.
    assert facts, result.debug
    return facts[-1]


def test_the_vsphere_role_publishes_a_pending_power_cycle_on_every_run(vcsim, si):
    wait(find_vm_object(si, "asr-mt-02").PowerOnVM_Task())
    set_extra_config(si, "asr-mt-02", {"disk.EnableUUID": "FALSE"})
    env = vcsim.env()
    # Not allowed to power the VM off: the role sets disk.EnableUUID and says a power cycle is needed...
    first = run_playbook(VSPHERE_ROLE_PLAYBOOK, env=env, extra_vars=ROLE_VARS)
    assert not first.failed_hosts, first.debug
    assert enable_uuid(si, "asr-mt-02") == "TRUE" and published(first)["power_cycle_required"] is True
    # ... and says it again on the next run, which changes nothing, as long as the VM was not power-cycled.
    second = run_playbook(VSPHERE_ROLE_PLAYBOOK, env=env, extra_vars=ROLE_VARS)
    assert not second.failed_hosts and sum(stat["changed"] for stat in second["stats"].values()) == 0, second.debug
    assert published(second)["power_cycle_required"] is True
    wait(find_vm_object(si, "asr-mt-02").PowerOffVM_Task())
    wait(find_vm_object(si, "asr-mt-02").PowerOnVM_Task())
    third = run_playbook(VSPHERE_ROLE_PLAYBOOK, env=env, extra_vars=ROLE_VARS)
    assert not third.failed_hosts and published(third)["power_cycle_required"] is False, third.debug


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
