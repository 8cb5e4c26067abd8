"""failback_readiness_info keys every object by its moid: master targets and protected VMs that share a
name, a VM given twice, the disk plan of reprotect (a VM whole on one master target, a replication
group on one master target of its OS family) and VM names holding a '/' (stored by vCenter as %2f)."""

from __future__ import annotations

from pyVmomi import vim
from integration.test_failback_readiness_info import prepare_master_target, rows

from support.ansible import run_module
from support.vcsim import read_props, read_props_list
from support.vsphere import find_vm_object, vm_state, wait

MODULE = "failback_readiness_info"
LSI_UNITS = [unit for unit in range(16) if unit != 7]  # an LSI Logic controller's units: 0-15 but its own, 7


def vm_folder(si):
    return read_props(si, vim.Datacenter, ["vmFolder"], names=["DC0"])["DC0"]["vmFolder"]


def subfolder(si, folder):
    return next((child for child in vm_folder(si).childEntity if isinstance(child, vim.Folder) and child.name == folder), None)


def vm_in_folder(si, folder, name):
    """The VM `name` in the folder `folder` of DC0's VM folder."""
    return next(entry["obj"] for entry in read_props_list(si, vim.VirtualMachine, ["name"], container=subfolder(si, folder)) if entry["name"] == name)


def move_and_rename(si, name, folder, new_name):
    """Move VM `name` into the folder `folder` of DC0's VM folder (created when missing) and rename it."""
    target = subfolder(si, folder) or vm_folder(si).CreateFolder(folder)
    vm = find_vm_object(si, name)
    wait(target.MoveIntoFolder_Task(list=[vm]))
    wait(vm.Rename_Task(newName=new_name))
    return vm._moId  # pylint: disable=protected-access


def add_disks(si, name, count, datastore="vmfs-prod-01"):
    """Give VM `name` `count` more 1 GB disks, laid out as vSphere allows: the free units of its SCSI controllers
    (0-15 but 7), new LSI Logic SAS controllers on the free buses (4 SCSI controllers at most), then a SATA
    controller (units 0-29) for the rest."""
    vm = find_vm_object(si, name)
    devices = vm_state(si, name, ["config.hardware.device"])["config.hardware.device"]
    buses = {d.busNumber for d in devices if isinstance(d, vim.vm.device.VirtualSCSIController)}
    controllers = [vim.vm.device.VirtualDeviceSpec(operation="add", device=vim.vm.device.VirtualLsiLogicSASController(
        key=-100 - bus, busNumber=bus, sharedBus="noSharing")) for bus in range(4) if bus not in buses]
    controllers.append(vim.vm.device.VirtualDeviceSpec(operation="add", device=vim.vm.device.VirtualAHCIController(key=-200, busNumber=0)))
    wait(vm.ReconfigVM_Task(spec=vim.vm.ConfigSpec(deviceChange=controllers)))
    devices = vm_state(si, name, ["config.hardware.device"])["config.hardware.device"]
    used = {(d.controllerKey, d.unitNumber) for d in devices if d.controllerKey is not None}
    scsi = sorted((d for d in devices if isinstance(d, vim.vm.device.VirtualSCSIController)), key=lambda d: d.busNumber)
    slots = [(c.key, unit) for c in scsi for unit in LSI_UNITS if (c.key, unit) not in used]
    slots += [(c.key, unit) for c in devices if isinstance(c, vim.vm.device.VirtualAHCIController) for unit in range(30)]
    assert len(slots) >= count, f"no room for {count} more disks on {name}"
    changes = []
    for index, (key, unit) in enumerate(slots[:count]):
        backing = vim.vm.device.VirtualDisk.FlatVer2BackingInfo(fileName=f"[{datastore}]", diskMode="persistent", thinProvisioned=True)
        disk = vim.vm.device.VirtualDisk(key=-1000 - index, controllerKey=key, unitNumber=unit, capacityInKB=1024 * 1024, backing=backing)
        changes.append(vim.vm.device.VirtualDeviceSpec(operation="add", fileOperation="create", device=disk))
    wait(vm.ReconfigVM_Task(spec=vim.vm.ConfigSpec(deviceChange=changes)))


def disk_count(si, name):
    return sum(isinstance(d, vim.vm.device.VirtualDisk) for d in vm_state(si, name, ["config.hardware.device"])["config.hardware.device"])


def test_two_master_targets_sharing_a_name_are_judged_each_on_its_own(vcsim, si):
    prepare_master_target(si, "asr-mt-02")  # ready, as test_failback_readiness_info proves
    prepared = move_and_rename(si, "asr-mt-02", "a", "mt")
    unprepared = move_and_rename(si, "asr-mt-01", "b", "mt")
    result = run_module(MODULE, dict(master_targets=["/DC0/vm/a/mt", "/DC0/vm/b/mt"], protected_vms=["prod-db-01"]), env=vcsim.env())
    assert not result.get("failed"), result.debug

    assert [(mt["name"], mt["path"], mt["moid"], mt["ready"]) for mt in result["master_targets"]] == [
        ("mt", "/DC0/vm/a/mt", prepared, True), ("mt", "/DC0/vm/b/mt", unprepared, False)]
    assert result["ready"] is False
    mine = rows(result, master_target="/DC0/vm/a/mt")
    assert {item["status"] for item in mine} == {"pass"}, [item["message"] for item in mine if item["status"] != "pass"]
    assert {item["master_target_moid"] for item in mine} == {prepared}
    theirs = rows(result, master_target="/DC0/vm/b/mt")
    assert {item["master_target_moid"] for item in theirs} == {unprepared}
    assert {item["check"] for item in theirs if item["status"] == "fail"} >= {"master_target.snapshots", "master_target.scsi_controller"}
    # Every master target row of each is its own: one row per check, naming it by its path.
    for path in ("/DC0/vm/a/mt", "/DC0/vm/b/mt"):
        limit = rows(result, "master_target.disk_limit", master_target=path)
        assert len(limit) == 1 and limit[0]["message"].startswith(f"{path}: 2 own disks + "), limit
    snapshots = rows(result, "master_target.snapshots", master_target="/DC0/vm/b/mt")[0]
    assert "/DC0/vm/b/mt has 2 snapshot(s)" in snapshots["message"] and "name: mt, folder: /DC0/vm/b" in snapshots["fix"]


def test_protected_vms_sharing_a_name_in_two_folders_are_two_vms(vcsim, si):
    wait(vm_in_folder(si, "teamB", "dup-vm").CreateSnapshot_Task(name="only-one", memory=False, quiesce=False))
    result = run_module(MODULE, dict(master_targets=["asr-mt-02"], protected_vms=["teamA/dup-vm", "teamB/dup-vm"]), env=vcsim.env())
    assert not result.get("failed"), result.debug
    assert [vm["path"] for vm in result["protected_vms"]] == ["/DC0/vm/teamA/dup-vm", "/DC0/vm/teamB/dup-vm"]
    assert len({vm["moid"] for vm in result["protected_vms"]}) == 2 and {vm["name"] for vm in result["protected_vms"]} == {"dup-vm"}
    snapshot_rows = {item["objects"][0]: item["status"] for item in rows(result, "protected_vm.snapshots")}
    assert snapshot_rows == {"/DC0/vm/teamB/dup-vm": "info", "/DC0/vm/teamA/dup-vm": "pass"}
    for check in ("protected_vm.datastore", "protected_vm.uuid_clash", "protected_vm.os_family"):
        assert sorted(item["objects"][0] for item in rows(result, check)) == ["/DC0/vm/teamA/dup-vm", "/DC0/vm/teamB/dup-vm"], check
    # The master target keeps its name (unique); the disk plan counts both VMs.
    limit = rows(result, "master_target.disk_limit")[0]
    both = sum(vm["disks"] for vm in result["protected_vms"])
    assert limit["master_target"] == "asr-mt-02" and limit["status"] == "pass"
    assert f"2 own disks + {both} of " in limit["message"] and "teamA/dup-vm" in limit["message"] and "teamB/dup-vm" in limit["message"]


def test_a_vm_given_twice_is_read_once_and_a_vm_in_both_lists_fails(vcsim, si):
    db = find_vm_object(si, "prod-db-01")._moId  # pylint: disable=protected-access
    args = dict(master_targets=["asr-mt-02"], protected_vms=["prod-db-01", "/DC0/vm/prod/prod-db-01", "prod/prod-db-01", db])
    result = run_module(MODULE, args, env=vcsim.env())
    assert not result.get("failed"), result.debug
    assert [vm["moid"] for vm in result["protected_vms"]] == [db]
    again = rows(result, "vm.found")
    assert [item["status"] for item in again] == ["info"] * 3, again
    assert all(f"is /DC0/vm/prod/prod-db-01 ({db}), already given as 'prod-db-01'" in item["message"] for item in again)
    limit = rows(result, "master_target.disk_limit")[0]
    assert limit["status"] == "pass" and "2 own disks + 2 of prod-db-01 = 4 of 60" in limit["message"], limit
    assert len(rows(result, "protected_vm.snapshots")) == 1 and len(rows(result, "protected_vm.datastore")) == 1

    both = run_module(MODULE, dict(master_targets=["asr-mt-02"], protected_vms=["asr/asr-mt-02", "prod-db-01"]), env=vcsim.env())
    found = rows(both, "vm.found")
    assert [item["status"] for item in found] == ["fail"] and "cannot fail back through itself" in found[0]["message"], both.debug
    assert [vm["name"] for vm in both["protected_vms"]] == ["prod-db-01"] and both["ready"] is False


def test_a_protected_vm_with_61_disks_gets_its_own_fix(vcsim, si):
    add_disks(si, "prod-web-01", 60)
    assert disk_count(si, "prod-web-01") == 61
    args = dict(master_targets=["asr-mt-01", "asr-mt-02"], protected_vms=["prod-web-01", "prod-db-01"])
    result = run_module(MODULE, args, env=vcsim.env())
    assert not result.get("failed"), result.debug
    limits = rows(result, "master_target.disk_limit")
    assert [item["status"] for item in limits] == ["fail", "fail"], limits
    for item in limits:
        assert "prod-web-01 has 61 disks, more than any linux master target listed can take (58 on asr-mt-02)" in item["message"], item
        assert "more master targets do not help" in item["message"]
        assert "Split the disks of prod-web-01 across VMs of at most 58 disks" in item["fix"] and "Add master targets" not in item["fix"]
    # prod-db-01 still has its place; asr-mt-01's ParaVirtual controller takes no protected disk.
    assert "prod-db-01" in limits[1]["message"] and "take only 45 disks more" in limits[0]["message"]


def test_a_replication_group_goes_whole_to_one_master_target_of_its_os_family(vcsim, si):
    add_disks(si, "prod-db-01", 28)
    add_disks(si, "prod-web-01", 29)
    assert disk_count(si, "prod-db-01") == disk_count(si, "prod-web-01") == 30
    env = vcsim.env()
    args = dict(master_targets=["asr-mt-01", "asr-mt-02"], protected_vms=["prod-db-01", "prod/prod-web-01"])
    apart = run_module(MODULE, args, env=env)
    assert [item["status"] for item in rows(apart, "master_target.disk_limit")] == ["pass", "pass"], apart.debug

    together = run_module(MODULE, dict(args, replication_groups=[["prod-db-01", "prod/prod-web-01"]]), env=env)
    limits = rows(together, "master_target.disk_limit")
    assert [item["status"] for item in limits] == ["fail", "fail"], together.debug
    assert all("the replication group (prod-db-01, prod-web-01) has 60 disks, more than any linux master target listed can take "
               "(58 on asr-mt-02)" in item["message"] for item in limits), limits
    assert "Split the replication group into groups of at most 58 disks" in limits[0]["fix"]

    mixed = run_module(MODULE, dict(master_targets=["asr-mt-02"], protected_vms=["prod-db-01", "prod-win-01"],
                                    replication_groups=[["prod-db-01", "prod-win-01"]]), env=env)
    limit = rows(mixed, "master_target.disk_limit")[0]
    assert limit["status"] == "fail" and "mixes OS families (linux and windows)" in limit["message"], mixed.debug
    assert "replication group of their own" in limit["fix"]
    os_family = [item for item in rows(mixed, "protected_vm.os_family") if item["objects"][0] == "prod-win-01"][0]
    assert "The VMs of its replication group mix linux and windows" in os_family["message"]

    unknown = run_module(MODULE, dict(args, replication_groups=[["prod-db-01", "prod-web-01"]]), env=env)
    assert unknown["failed"] and "group 1 names 'prod-web-01', which is not in protected_vms" in unknown["msg"], unknown.debug


def test_a_vm_name_typed_with_a_slash_is_found_as_vcenter_stores_it(vcsim, si):
    # vCenter stores "db/01" as "db%2f01" (ManagedEntity.name); the simulator keeps names as given, so the
    # scene gets the stored form directly.
    wait(find_vm_object(si, "prod-db-01").Rename_Task(newName="db%2f01"))
    env = vcsim.env()
    result = run_module(MODULE, dict(master_targets=["asr-mt-02"], protected_vms=["db/01", "prod/db/01"]), env=env)
    found = rows(result, "vm.found")
    assert [item["status"] for item in found] == ["fail", "fail"], result.debug
    for item in found:
        assert "vCenter stores '/' in a VM name as %2f" in item["message"], item
        assert "give 'db%2f01' (path /DC0/vm/prod/db%2f01)" in item["message"] and "%2f" in item["fix"]
    named = run_module(MODULE, dict(master_targets=["asr-mt-02"], protected_vms=["db%2f01"]), env=env)
    assert [vm["path"] for vm in named["protected_vms"]] == ["/DC0/vm/prod/db%2f01"], named.debug

    # The shared lookup of every module says the same.
    lookup = run_module("vm_snapshots_info", dict(name="db/01"), env=env)
    assert lookup["failed"] and "No virtual machine named 'db/01' was found." in lookup["msg"], lookup.debug
    assert "vCenter stores '/' in a VM name as %2f" in lookup["msg"] and "give 'db%2f01' (path /DC0/vm/prod/db%2f01)" in lookup["msg"]
    assert run_module("vm_snapshots_info", dict(name="db%2f01"), env=env)["snapshots"] == []


def test_with_a_linux_and_a_windows_master_target_each_vm_passes_on_its_own_family(vcsim, si):
    # asr-mt-01 becomes a Windows master target (vCenter changes a guest OS only with the VM powered off).
    wait(find_vm_object(si, "asr-mt-01").PowerOffVM_Task())
    wait(find_vm_object(si, "asr-mt-01").ReconfigVM_Task(spec=vim.vm.ConfigSpec(guestId="windows9Server64Guest")))
    env = vcsim.env()
    args = dict(master_targets=["asr-mt-01", "asr-mt-02"], protected_vms=["prod-db-01", "prod-win-01"])
    result = run_module(MODULE, args, env=env)
    assert [(mt["name"], mt["guest_family"]) for mt in result["master_targets"]] == [("asr-mt-01", "windows"), ("asr-mt-02", "linux")]
    families = rows(result, "protected_vm.os_family")
    assert [(item["status"], item["objects"], item["master_target"]) for item in families] == [
        ("pass", ["prod-db-01", "asr-mt-02"], None), ("pass", ["prod-win-01", "asr-mt-01"], None)], result.debug
    assert families[1]["message"] == "prod-win-01 is windows (windows9Server64Guest), as master target asr-mt-01 (windows9Server64Guest)."
    # The disk plan places each VM on its own family, as the rows above judge it.
    assert ["prod-win-01" in item["message"] for item in rows(result, "master_target.disk_limit")] == [True, False]

    # No master target of its family: one failing row, naming the master targets listed.
    alone = rows(run_module(MODULE, dict(args, master_targets=["asr-mt-02"]), env=env), "protected_vm.os_family")
    assert [item["status"] for item in alone] == ["pass", "fail"]
    assert "prod-win-01 is windows (windows9Server64Guest) and no master target listed is: asr-mt-02 is linux (ubuntu64Guest)" in alone[1]["message"]
