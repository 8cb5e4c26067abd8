"""vm_preparation against the simulator: the scene's asr-mt-01 (two snapshots, a ParaVirtual controller, no
disk.EnableUUID, no retention disk, powered on) is prepared with one power-off, one reconfiguration while it is off,
one power-on and one reconfiguration after the boot (it records the boot and the new disk's UUID). Counted in
vCenter's own task list, not in what the module says it did."""

from __future__ import annotations

from support.ansible import run_module
from support.statedump import assert_unchanged, dump
from support.vsphere import find_vm_object, set_extra_config, vcenter_tasks, vm_state

VM = dict(name="asr-mt-01", folder="asr")
ARGS = dict(VM, scsi_convert=True, scsi_type="lsilogicsas", scsi_guest_ready=True, retention_disk_size_gb=10,
            retention_disk_datastore="vmfs-mt-01", power_cycle=True)
PATHS = ["config.extraConfig", "config.hardware.device", "snapshot", "runtime.powerState"]


def vm_tasks(si, moid):
    """The kinds of the tasks vCenter ran on the VM, oldest first."""
    return [task["kind"] for task in vcenter_tasks(si) if task["entity"] == moid]


def summary(si):
    state = vm_state(si, "asr-mt-01", PATHS)
    devices = state["config.hardware.device"]
    options = {o.key: o.value for o in state.get("config.extraConfig") or []}
    return dict(
        enable_uuid=options.get("disk.EnableUUID"),
        controllers=sorted(type(d).__name__.rsplit(".", 1)[-1] for d in devices if hasattr(d, "sharedBus")),
        disks=sum(1 for d in devices if type(d).__name__.endswith(".VirtualDisk")),
        snapshots=state.get("snapshot") is not None,
        power=state["runtime.powerState"],
        conversion=options.get("siterecovery.scsiConversion"),
        pending_slot=options.get("siterecovery.retentionDisk.pending"),
    )


def test_one_power_cycle_and_one_reconfiguration_while_off_then_idempotent(vcsim, si):
    env = vcsim.env()
    moid = find_vm_object(si, "asr-mt-01")._moId
    before = dump(si)
    check = run_module("vm_preparation", ARGS, env=env, check=True, diff=True)
    assert check["changed"] and not check.get("failed"), check.debug
    assert check["steps"]["scsi_controllers"]["converted"] == [{"bus": 0, "from": "paravirtual", "to": "lsilogicsas"}]
    assert check["steps"]["retention_disk"]["operation"] == "added" and check["tasks"] == []
    assert check["diff"]["after"]["disk.EnableUUID"] == "TRUE" and check["diff"]["before"]["snapshots"]
    assert_unchanged(before, dump(si))

    earlier = len(vm_tasks(si, moid))
    first = run_module("vm_preparation", ARGS, env=env)
    assert first["changed"] and not first.get("failed"), first.debug
    kinds = [kind.lower() for kind in vm_tasks(si, moid)[earlier:]]
    # vcsim's own tasks keep its descriptionIds (VirtualMachine.reconfigVm, ...; tests/vcsim/README.md, tasks.go).
    reconfigures = [index for index, kind in enumerate(kinds) if kind.startswith("virtualmachine.reconfig")]
    power_ons = [index for index, kind in enumerate(kinds) if kind.startswith("virtualmachine.poweron")]
    # One power-on (the power-off is a guest shutdown, not a task), one reconfiguration before it (everything that needs
    # the VM off), one after it (the boot confirmed and the disk's UUID recorded).
    assert len(power_ons) == 1 and len(reconfigures) == 2, kinds
    assert reconfigures[0] < power_ons[0] < reconfigures[1], kinds
    assert not any(kind.startswith("virtualmachine.poweroff") for kind in kinds), kinds
    assert first["tasks"] == ["RemoveAllSnapshots_Task", "ShutdownGuest", "ReconfigVM_Task", "PowerOnVM_Task", "ReconfigVM_Task"]
    assert first["power"]["cycled"] and first["steps"]["scsi_controllers"]["boot"] == "confirmed"
    assert summary(si) == dict(enable_uuid="TRUE", controllers=["VirtualLsiLogicSASController"], disks=3, snapshots=False, power="poweredOn",
                               conversion=None, pending_slot=None)
    disk = first["state"]["retention_disk"]
    assert disk["size_gb"] == 10 and disk["datastore"] == "vmfs-mt-01" and disk["uuid"]
    assert first["state"]["power_cycle_required"] is False and first["state"]["disk_uuid"] == "TRUE"

    again = run_module("vm_preparation", ARGS, env=env)
    assert again["changed"] is False and again["tasks"] == [], again.debug


def test_a_run_cut_after_the_reconfiguration_is_finished_by_the_next(vcsim, si):
    """What a run cut between the reconfiguration and the power-on leaves: the VM off, the conversion pending."""
    env = vcsim.env()
    first = run_module("vm_preparation", dict(ARGS, power_on=False), env=env)
    assert first["changed"] and first["steps"]["scsi_controllers"]["boot"] == "pending", first.debug
    assert summary(si)["power"] == "poweredOff" and summary(si)["conversion"].startswith("pending")
    second = run_module("vm_preparation", ARGS, env=env)
    assert second["changed"] and second["tasks"] == ["PowerOnVM_Task", "ReconfigVM_Task"], second.debug
    assert summary(si)["conversion"] is None and summary(si)["power"] == "poweredOn"


def test_refusals_change_nothing(vcsim, si):
    env = vcsim.env()
    before = dump(si)
    without_conversion = run_module("vm_preparation", dict(ARGS, scsi_convert=False), env=env)
    assert without_conversion["failed"] and "ParaVirtual" in without_conversion["msg"] and "scsi_convert" in without_conversion["msg"]
    without_power = run_module("vm_preparation", dict(ARGS, power_cycle=False), env=env)
    assert without_power["failed"] and "power_cycle: true" in without_power["msg"], without_power.debug
    no_datastore = run_module("vm_preparation", dict(ARGS, retention_disk_datastore="vmfs-missing"), env=env)
    assert no_datastore["failed"] and "vmfs-missing" in no_datastore["msg"], no_datastore.debug
    assert_unchanged(before, dump(si))


def test_a_failed_reconfiguration_powers_the_vm_on_again(vcsim, si):
    env = vcsim.env()
    set_extra_config(si, "asr-mt-01", {"harness.reconfigureFault": "devices:The datastore refused the new disk"})
    result = run_module("vm_preparation", ARGS, env=env)
    assert result["failed"], result.debug
    assert vm_state(si, "asr-mt-01", ["runtime.powerState"])["runtime.powerState"] == "poweredOn"
    assert "The datastore refused the new disk" in result["msg"] and "powered on again" in result["msg"], result.debug
    after = summary(si)
    assert after["controllers"] == ["ParaVirtualSCSIController"] and after["enable_uuid"] is None and after["disks"] == 2, after
