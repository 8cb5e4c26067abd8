"""The vsphere role against the simulator: the scene's asr-mt-01 has every problem the role fixes.

Check mode changes nothing; a real run fixes the VM (verified with pyvmomi); a second run changes
nothing; a ParaVirtual controller without permission to convert stops the role with a clear message.
"""

from __future__ import annotations

from support.ansible import run_playbook
from support.roles import ASR_MT_01_VARS, VSPHERE_ROLE_PLAYBOOK
from support.statedump import assert_unchanged, dump
from support.vsphere import find_vm_object, set_extra_config, vm_state, wait

PATHS = ["config.extraConfig", "config.hardware.device", "snapshot", "runtime.powerState"]


def master_target(si):
    state = vm_state(si, "asr-mt-01", PATHS)
    devices = state["config.hardware.device"]
    return dict(
        enable_uuid={o.key: o.value for o in state.get("config.extraConfig") or []}.get("disk.EnableUUID"),
        controllers=sorted(type(d).__name__.rsplit(".", 1)[-1] for d in devices if hasattr(d, "sharedBus")),
        disks=sum(1 for d in devices if type(d).__name__.endswith(".VirtualDisk")),
        snapshots=state.get("snapshot") is not None,
        power=state["runtime.powerState"],
    )


def total_changed(result):
    return sum(stat["changed"] for stat in result["stats"].values())


def test_check_mode_then_prepare_then_idempotent(vcsim, si):
    env = vcsim.env()
    before = master_target(si)
    assert before == dict(enable_uuid=None, controllers=["ParaVirtualSCSIController"], disks=2, snapshots=True, power="poweredOn")

    check = run_playbook(VSPHERE_ROLE_PLAYBOOK, env=env, extra_vars=ASR_MT_01_VARS, check=True, diff=True)
    assert not check.failed_hosts, check.debug
    assert total_changed(check) > 0, check.debug
    assert master_target(si) == before, "check mode changed the VM"

    first = run_playbook(VSPHERE_ROLE_PLAYBOOK, env=env, extra_vars=ASR_MT_01_VARS)
    assert not first.failed_hosts, first.debug
    assert master_target(si) == dict(
        enable_uuid="TRUE", controllers=["VirtualLsiLogicSASController"], disks=3, snapshots=False, power="poweredOn")

    second = run_playbook(VSPHERE_ROLE_PLAYBOOK, env=env, extra_vars=ASR_MT_01_VARS)
    assert not second.failed_hosts, second.debug
    assert total_changed(second) == 0, second.debug


def test_paravirtual_controller_without_conversion_stops_the_role(vcsim, si):
    before = master_target(si)
    result = run_playbook(VSPHERE_ROLE_PLAYBOOK, env=vcsim.env(), extra_vars=dict(ASR_MT_01_VARS, vsphere_scsi_convert=False))
    assert result.failed_hosts == ["localhost"], result.debug
    assert "vsphere_scsi_convert" in result.stdout and "ParaVirtual" in result.stdout, result.debug
    assert master_target(si) == before, "the role changed the VM before stopping"


def controllers_and_units(si):
    """[(controller type, bus, [(unit, device label)])]: where every device of asr-mt-01 sits."""
    devices = vm_state(si, "asr-mt-01", ["config.hardware.device"])["config.hardware.device"]
    return sorted(
        (type(c).__name__.rsplit(".", 1)[-1], c.busNumber, sorted((d.unitNumber, d.deviceInfo.label) for d in devices if d.controllerKey == c.key))
        for c in devices
        if hasattr(c, "sharedBus")
    )


def test_a_guest_not_known_to_be_ready_stops_the_role_before_anything_changes(vcsim, si):
    before = dump(si)
    for check in (True, False):
        result = run_playbook(VSPHERE_ROLE_PLAYBOOK, env=vcsim.env(), extra_vars=dict(ASR_MT_01_VARS, vsphere_scsi_guest_ready=False), check=check)
        assert result.failed_hosts == ["localhost"], result.debug
        assert "may not load at boot" in result.stdout and "lsi_driver" in result.stdout, result.debug
    assert_unchanged(before, dump(si))


def test_a_guest_that_does_not_boot_after_the_conversion_is_rolled_back_and_then_refused(vcsim, si):
    env = vcsim.env()
    set_extra_config(si, "asr-mt-01", {"harness.bootsOn": "paravirtual"})  # the guest has no LSI driver
    check = run_playbook(VSPHERE_ROLE_PLAYBOOK, env=env, extra_vars=ASR_MT_01_VARS, check=True)
    assert not check.failed_hosts and "would wait up to 600 s for the guest to boot" in check.stdout, check.debug

    where_before = controllers_and_units(si)
    vars_ = dict(ASR_MT_01_VARS, vsphere_scsi_boot_timeout=3)
    first = run_playbook(VSPHERE_ROLE_PLAYBOOK, env=env, extra_vars=vars_)
    assert first.failed_hosts == ["localhost"], first.debug
    assert "did not boot within 3 s" in first.stdout and "put back as they were" in first.stdout, first.debug
    # The controller is ParaVirtual again with every disk at its unit; the retention disk the run
    # added stays, at its unit on that controller; the VM runs.
    after = controllers_and_units(si)
    assert [(kind, bus) for kind, bus, _units in after] == [(kind, bus) for kind, bus, _units in where_before]
    assert set(where_before[0][2]) < set(after[0][2])
    assert vm_state(si, "asr-mt-01", ["runtime.powerState"])["runtime.powerState"] == "poweredOn"

    # Refused from now on, in check mode too and before anything changes, until a guest role
    # verifies the driver: vsphere_scsi_guest_ready has been proven wrong.
    before = dump(si)
    for check_mode in (True, False):
        again = run_playbook(VSPHERE_ROLE_PLAYBOOK, env=env, extra_vars=vars_, check=check_mode)
        assert again.failed_hosts == ["localhost"] and "rolled back" in again.stdout, again.debug
    assert_unchanged(before, dump(si))

    # The driver verified in the guest (the fact the linux role's lsi_driver step sets) lets it run.
    set_extra_config(si, "asr-mt-01", {"harness.bootsOn": "paravirtual,lsilogicsas"})
    fixed = run_playbook(VSPHERE_ROLE_PLAYBOOK, env=env,
                         extra_vars=dict(vars_, vsphere_scsi_guest_ready=False, linux_lsi_driver=dict(type="lsilogicsas", ready=True)))
    assert not fixed.failed_hosts, fixed.debug
    assert [kind for kind, _bus, _units in controllers_and_units(si)] == ["VirtualLsiLogicSASController"]


def test_a_run_cut_after_the_rollback_powers_the_vm_on_and_stops(vcsim, si):
    # What a run cut between the rollback's reconfiguration and its power-on leaves behind.
    set_extra_config(si, "asr-mt-01", {"siterecovery.scsiConversion": "rolledBack 0:paravirtual>lsilogicsas"})
    wait(find_vm_object(si, "asr-mt-01").PowerOffVM_Task())
    result = run_playbook(VSPHERE_ROLE_PLAYBOOK, env=vcsim.env(), extra_vars=ASR_MT_01_VARS)
    assert result.failed_hosts == ["localhost"] and "rolled back" in result.stdout, result.debug
    assert vm_state(si, "asr-mt-01", ["runtime.powerState"])["runtime.powerState"] == "poweredOn"
    assert [kind for kind, _bus, _units in controllers_and_units(si)] == ["ParaVirtualSCSIController"]


def test_one_plan_call_for_the_play_and_a_missing_vm_fails_only_its_host(vcsim, tmp_path):
    """Two master targets in one play: the plan is one vm_preparation_info call for both (run_once); the one that
    is not in vCenter fails with the lookup's message, the other goes on (check mode: nothing changes)."""
    import sys

    import yaml

    inventory = tmp_path / "inventory.yml"
    common = {k: v for k, v in ASR_MT_01_VARS.items() if k != "vsphere_vm_name"}
    inventory.write_text(yaml.safe_dump({"all": {"hosts": {"asr-mt-01": {}, "asr-mt-99": {}}, "vars": dict(
        common, ansible_connection="local", ansible_python_interpreter=sys.executable)}}))
    playbook = VSPHERE_ROLE_PLAYBOOK.replace("hosts: localhost", "hosts: all")
    result = run_playbook(playbook, env=vcsim.env(), inventory=inventory, check=True)
    assert result.failed_hosts == ["asr-mt-99"], result.debug
    assert "No virtual machine named 'asr-mt-99'" in result.stdout, result.debug
    plan_calls = [task for task in result["tasks"] if task["action"] == "siterecovery.master_target.vm_preparation_info"
                  and not task["result"].get("skipped")]
    assert len(plan_calls) == 1 and [plan["id"] for plan in plan_calls[0]["result"]["vms"]] == ["asr-mt-01", "asr-mt-99"], result.debug
    assert result["stats"]["asr-mt-01"]["changed"] > 0 and result["stats"]["asr-mt-01"]["failures"] == 0, result.debug
