"""failback_readiness_info with phase: after_reprotect, on an "after reprotect" scene built in the simulator.

Reprotect turns the protected on-premises VM off and attaches its disks, the very files its configuration
names, to the master target (a VirtualDisk whose backing fileName is the protected VM's vmdk, no
fileOperation: vCenter opens the existing file, and the simulator refuses a file that does not exist).
From there failback needs: the protected VM off, its disks still at those paths (a Storage vMotion of the
master target moves them, and failback cannot detach them), at most 60 disks on the master target, and
no snapshot on it. vCenter keeps a disk's uuid in the vmdk file; the simulator keeps the uuid the client
gives, so the scene gives each attached disk the protected disk's uuid, as vCenter would report it.
"""

from __future__ import annotations

from pyVmomi import vim, vmodl

from integration.test_failback_readiness_info import prepare_master_target, rows
from integration.test_readiness_identities import add_disks
from integration.test_readiness_role import INVENTORY, READINESS, module_result
from support.ansible import run_module, run_playbook
from support.vsphere import find_vm_object, vm_state, wait

MODULE = "failback_readiness_info"
AFTER = "after_reprotect"


def vm_disks(si, name):
    return [d for d in vm_state(si, name, ["config.hardware.device"])["config.hardware.device"] if isinstance(d, vim.vm.device.VirtualDisk)]


def power_off(si, name):
    if vm_state(si, name, ["runtime.powerState"])["runtime.powerState"] != "poweredOff":
        wait(find_vm_object(si, name).PowerOffVM_Task())


def attach(si, master_target, files):
    """Attach existing disk files to the master target, as reprotect does: [(fileName, uuid, capacityInKB)], on the free
    units of its first SCSI controller (units 0-15 but 7)."""
    devices = vm_state(si, master_target, ["config.hardware.device"])["config.hardware.device"]
    controller = min((d for d in devices if isinstance(d, vim.vm.device.VirtualSCSIController)), key=lambda d: d.busNumber)
    used = {d.unitNumber for d in devices if d.controllerKey == controller.key}
    units = [unit for unit in range(16) if unit != 7 and unit not in used]
    changes = []
    for index, (file_name, uuid, size_kb) in enumerate(files):
        backing = vim.vm.device.VirtualDisk.FlatVer2BackingInfo(fileName=file_name, uuid=uuid, diskMode="persistent")
        disk = vim.vm.device.VirtualDisk(key=-100 - index, controllerKey=controller.key, unitNumber=units[index], capacityInKB=size_kb,
                                         backing=backing)
        changes.append(vim.vm.device.VirtualDeviceSpec(operation="add", device=disk))  # no fileOperation: an existing file
    wait(find_vm_object(si, master_target).ReconfigVM_Task(spec=vim.vm.ConfigSpec(deviceChange=changes)))


def task_state(si, task):
    """A task's info.state, read alone: pyVmomi cannot read the whole info of a VirtualDiskManager task from the simulator,
    whose entity is the manager (not a ManagedEntity). The simulator ends such a task inside the call that starts it."""
    collector = vmodl.query.PropertyCollector
    spec = collector.FilterSpec(objectSet=[collector.ObjectSpec(obj=task)], propSet=[collector.PropertySpec(type=vim.Task, pathSet=["info.state"])])
    return str(si.RetrieveContent().propertyCollector.RetrieveContents([spec])[0].propSet[0].val)


def reprotect(si, protected, master_target):
    """What reprotect leaves in vCenter: the protected VM off, its disk files attached to the master target."""
    power_off(si, protected)
    attach(si, master_target, [(d.backing.fileName, d.backing.uuid, d.capacityInKB) for d in vm_disks(si, protected)])


def failing(result):
    return sorted((item["check"], item["objects"][0]) for item in result["checks"] if item["status"] == "fail")


def test_after_reprotect_the_prepared_scene_is_ready_and_runs_the_rows_of_its_phase(vcsim, si):
    prepare_master_target(si, "asr-mt-02")
    reprotect(si, "prod-db-01", "asr-mt-02")
    env = vcsim.env()
    args = dict(master_targets=["asr-mt-02"], protected_vms=["prod-db-01"], phase=AFTER)
    result = run_module(MODULE, args, env=env)
    assert result["ready"] is True and failing(result) == [], result.debug
    assert result["phase"] == AFTER and result["master_targets"][0]["disks"] == 4
    assert [item["status"] for item in rows(result, "protected_vm.powered_off")] == ["pass"]
    attached = rows(result, "protected_vm.disks_attached")
    assert [(item["status"], item["master_target"]) for item in attached] == [("pass", "asr-mt-02")], attached
    assert attached[0]["master_target_moid"] == result["master_targets"][0]["moid"]
    assert "asr-mt-02 holds the 2 disk(s) of prod-db-01 at the paths prod-db-01's configuration names" in attached[0]["message"]
    assert "[vmfs-prod-02] prod-db-01/prod-db-01_1.vmdk" in attached[0]["message"]
    limit = rows(result, "master_target.disk_limit")[0]
    assert limit["status"] == "pass" and "asr-mt-02 has 4 disks attached, 60 at most: 2 of its own" in limit["message"], limit
    # Rows that do not hold after reprotect are not run: the attached disks share prod-db-01's uuids by design.
    assert rows(result, "protected_vm.uuid_clash") == [] and rows(result, "protected_vm.snapshots") == []

    # The same scene judged as before reprotect: the uuid clash the phase leaves out.
    before = run_module(MODULE, dict(args, phase="before_reprotect"), env=env)
    assert before["phase"] == "before_reprotect" and ("protected_vm.uuid_clash", "prod-db-01") in failing(before), before.debug
    assert rows(before, "protected_vm.disks_attached") == [] and rows(before, "protected_vm.powered_off") == []

    # Someone starts the protected VM (vCenter lets it start only while no running master target holds its disks).
    power_off(si, "asr-mt-02")
    wait(find_vm_object(si, "prod-db-01").PowerOnVM_Task())
    started = run_module(MODULE, args, env=env)
    powered = rows(started, "protected_vm.powered_off")[0]
    assert started["ready"] is False and powered["status"] == "fail", started.debug
    assert "prod-db-01 is poweredOn after reprotect" in powered["message"] and "state: shutdown_guest" in powered["fix"]


def test_a_disk_that_a_storage_vmotion_of_the_master_target_moved_fails(vcsim, si):
    prepare_master_target(si, "asr-mt-02")
    power_off(si, "prod-db-01")
    first, second = vm_disks(si, "prod-db-01")
    # A Storage vMotion of the master target after reprotect: the attached file moves to the master target's folder, with
    # its uuid; prod-db-01's configuration still names the old path.
    moved = "[vmfs-mt-01] asr-mt-02/prod-db-01.vmdk"
    content = si.RetrieveContent()
    datacenter = content.rootFolder.childEntity[0]
    task = content.virtualDiskManager.MoveVirtualDisk_Task(sourceName=first.backing.fileName, sourceDatacenter=datacenter, destName=moved,
                                                           destDatacenter=datacenter)
    assert task_state(si, task) == "success"
    attach(si, "asr-mt-02", [(moved, first.backing.uuid, first.capacityInKB),
                             (second.backing.fileName, second.backing.uuid, second.capacityInKB)])

    result = run_module(MODULE, dict(master_targets=["asr-mt-02"], protected_vms=["prod-db-01"], phase=AFTER), env=vcsim.env())
    row = rows(result, "protected_vm.disks_attached")[0]
    assert result["ready"] is False and row["status"] == "fail" and row["master_target"] == "asr-mt-02", result.debug
    assert (f"Hard disk 1 of prod-db-01 (uuid {first.backing.uuid}) is attached to asr-mt-02 as Hard disk 3 at {moved}, "
            f"but prod-db-01's configuration names {first.backing.fileName}") in row["message"], row
    assert "Storage vMotion of the master target" in row["message"] and "Hard disk 2 of prod-db-01" not in row["message"]
    assert "vm_migration_exclusion" in row["fix"] and "Add existing hard disk" in row["fix"]
    # The moved disk is still attached: it counts.
    assert "asr-mt-02 has 4 disks attached, 60 at most: 2 of its own (or of VMs not listed) and 2 of prod-db-01 (2)" in \
        rows(result, "master_target.disk_limit")[0]["message"]


def test_a_snapshot_on_the_master_target_after_reprotect_fails(vcsim, si):
    prepare_master_target(si, "asr-mt-02")
    reprotect(si, "prod-db-01", "asr-mt-02")
    wait(find_vm_object(si, "asr-mt-02").CreateSnapshot_Task(name="backup-job", memory=False, quiesce=False))
    result = run_module(MODULE, dict(master_targets=["asr-mt-02"], protected_vms=["prod-db-01"], phase=AFTER), env=vcsim.env())
    assert failing(result) == [("master_target.snapshots", "asr-mt-02")], result.debug
    assert "backup-job" in rows(result, "master_target.snapshots")[0]["message"]


def test_more_than_60_disks_on_the_master_target_after_reprotect_fail(vcsim, si):
    prepare_master_target(si, "asr-mt-02")
    reprotect(si, "prod-db-01", "asr-mt-02")
    add_disks(si, "asr-mt-02", 57, datastore="vmfs-mt-01")  # 2 own + 2 attached + 57 = 61
    result = run_module(MODULE, dict(master_targets=["asr-mt-02"], protected_vms=["prod-db-01"], phase=AFTER), env=vcsim.env())
    limit = rows(result, "master_target.disk_limit")[0]
    assert failing(result) == [("master_target.disk_limit", "asr-mt-02")], result.debug
    assert "asr-mt-02 has 61 disks attached, 60 at most: 59 of its own (or of VMs not listed) and 2 of prod-db-01 (2): 1 too many" \
        in limit["message"], limit
    assert "another master target" in limit["fix"]


def test_with_two_master_targets_each_vm_is_judged_on_the_one_holding_its_disks(vcsim, si):
    prepare_master_target(si, "asr-mt-02")
    reprotect(si, "prod-db-01", "asr-mt-02")
    power_off(si, "prod-web-01")  # off, but never reprotected
    env = vcsim.env()
    args = dict(master_targets=["asr-mt-01", "asr-mt-02"], protected_vms=["prod-db-01", "prod-web-01"], phase=AFTER)
    result = run_module(MODULE, args, env=env)
    attached = {item["objects"][0]: item for item in rows(result, "protected_vm.disks_attached")}
    assert attached["prod-db-01"]["status"] == "pass" and attached["prod-db-01"]["master_target"] == "asr-mt-02", result.debug
    assert attached["prod-web-01"]["status"] == "fail" and attached["prod-web-01"]["master_target"] is None
    assert "None of the 1 disk(s) of prod-web-01 is attached to a master target listed" in attached["prod-web-01"]["message"]
    # prod-db-01's datastores are judged from the host of asr-mt-02 only, the master target holding its disks.
    assert [item["master_target"] for item in rows(result, "protected_vm.datastore") if item["objects"][0] == "prod-db-01"] == ["asr-mt-02"]
    assert [mt["ready"] for mt in result["master_targets"]] == [False, True]

    # One of its disks attached to a second master target as well: each VM's disks go to exactly one.
    disk = vm_disks(si, "prod-db-01")[1]
    attach(si, "asr-mt-01", [(disk.backing.fileName, disk.backing.uuid, disk.capacityInKB)])
    twice = rows(run_module(MODULE, args, env=env), "protected_vm.disks_attached")[0]
    assert twice["status"] == "fail" and "the disks of prod-db-01 are attached to 2 master targets (asr-mt-01, asr-mt-02)" in twice["message"], twice


def test_the_playbook_checks_the_phase_it_is_given_and_passes_the_replication_groups(vcsim, si, tmp_path):
    prepare_master_target(si, "asr-mt-02")
    reprotect(si, "prod-db-01", "asr-mt-02")
    run = run_playbook(READINESS, inventory=INVENTORY, env=vcsim.env(), extra_vars=dict(
        readiness_master_targets=["asr-mt-02"], readiness_protected_vms=["prod-db-01"], readiness_phase=AFTER,
        readiness_replication_groups=[["prod-db-01"]], readiness_report_dir=str(tmp_path), readiness_retention_disk_min_gb=0))
    assert not run.failed_hosts, run.debug
    result = module_result(run)
    assert result["ready"] is True and result["phase"] == AFTER, result["checks"]
    assert [item["status"] for item in rows(result, "protected_vm.disks_attached")] == ["pass"]
    html = (tmp_path / "failback-readiness.html").read_text()
    assert "Phase: after reprotect (will failback work?)" in html and "Ready for failback: no check fails." in html
    summary = next(task["result"]["msg"] for task in run["tasks"] if task["task"].endswith("Summarise the verdict"))
    assert summary[0].startswith("Failback readiness (after reprotect): READY"), summary

    # A replication group naming a VM that is not among the protected VMs: the module's message, before connecting.
    wrong = run_playbook(READINESS, inventory=INVENTORY, env=vcsim.env(), extra_vars=dict(
        readiness_master_targets=["asr-mt-02"], readiness_protected_vms=["prod-db-01"], readiness_replication_groups=[["prod-web-01"]],
        readiness_report_dir=""))
    assert wrong.failed_hosts == ["asr-mt-01"], wrong.debug
    assert "group 1 names 'prod-web-01', which is not in protected_vms" in wrong.debug
