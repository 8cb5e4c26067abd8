"""The checks after reprotect (plugins/module_utils/_vsphere_reprotected.py) and the rows each phase runs
(failback_readiness_info.protected_vm_rows), without vCenter."""

from __future__ import annotations

from pyVmomi import vim

from ansible_collections.siterecovery.master_target.plugins.module_utils import _vsphere_reprotected as after
from ansible_collections.siterecovery.master_target.plugins.modules.failback_readiness_info import protected_vm_rows

HOST = "host-34"


def disk(label, uuid, file, unit=0):
    return dict(key=2000 + unit, label=label, uuid=uuid, size_gb=1, bus=0, unit=unit, file=file)


def facts(name, disks, **kwargs):
    item = dict(name=name, moid=f"vm-{name}", selection=f"name: {name}", host="esx01", host_moid=HOST, disks=disks, datastores=[],
                guest_family="linux", guest_id="ubuntu64Guest", power_state="poweredOff", snapshots=["nightly"], bios_uuid=None)
    item.update(kwargs)
    return item


DB = facts("prod-db-01", [disk("Hard disk 1", "6000C290-0000-0000-0000-00000000db01", "[vmfs-prod-02] prod-db-01/prod-db-01.vmdk"),
                          disk("Hard disk 2", "6000C290-0000-0000-0000-00000000db02", "[vmfs-prod-02] prod-db-01/prod-db-01_1.vmdk", 1)])
OWN = [disk("Hard disk 1", "6000C294-0000-0000-0000-0000000000a1", "[vmfs-mt-01] asr-mt-02/asr-mt-02.vmdk"),
       disk("Hard disk 2", "6000C294-0000-0000-0000-0000000000a2", "[vmfs-mt-01] asr-mt-02/asr-mt-02_1.vmdk", 1)]


def attached(vm, at=None, unit=2):
    """The master target disks reprotect attaches for `vm`: its files (or the same uuids at the paths `at` gives)."""
    return [dict(d, key=3000 + unit + index, label=f"Hard disk {unit + index + 1}", unit=unit + index, file=(at or {}).get(d["label"], d["file"]))
            for index, d in enumerate(vm["disks"])]


def mt(name="asr-mt-02", disks=None, **kwargs):
    return facts(name, OWN + (disks or []), power_state="poweredOn", snapshots=[], **kwargs)


def test_disk_files_and_paths_compare_as_vsphere_writes_them():
    backing = vim.vm.device.VirtualDisk.FlatVer2BackingInfo(fileName="[vmfs-prod-02] prod-db-01/prod-db-01.vmdk")
    devices = [vim.vm.device.VirtualDisk(key=2000, backing=backing), vim.vm.device.VirtualCdrom(key=3000)]
    assert after.disk_files(devices) == {2000: "[vmfs-prod-02] prod-db-01/prod-db-01.vmdk"}
    assert after.file_key("[vmfs-prod-02] prod-db-01/a.vmdk") == after.file_key("[vmfs-prod-02]prod-db-01/a.vmdk") == ("vmfs-prod-02", "prod-db-01/a.vmdk")
    assert after.file_key("[vmfs-prod-01] prod-db-01/a.vmdk") != after.file_key("[vmfs-prod-02] prod-db-01/a.vmdk")
    assert after.file_key(None) is None and after.file_key("") is None


def test_powered_off_passes_and_anything_else_fails_with_the_fix():
    assert after.check_powered_off(DB)["status"] == "pass"
    for state in ("poweredOn", "suspended"):
        row = after.check_powered_off(dict(DB, power_state=state))
        assert row["status"] == "fail" and f"prod-db-01 is {state} after reprotect" in row["message"], row
        assert "state: shutdown_guest" in row["fix"] and "replication health" in row["fix"]


def test_disks_attached_at_the_vms_own_paths_to_one_master_target_pass():
    target = mt(disks=attached(DB))
    mts = [mt("asr-mt-01"), target]
    found = after.attachments(DB, mts)
    assert [mt_["name"] for mt_ in after.holders(found, mts)] == ["asr-mt-02"]
    row = after.check_disks_attached(DB, found, mts)
    assert row["status"] == "pass" and row["master_target"] == "asr-mt-02", row
    assert "asr-mt-02 holds the 2 disk(s) of prod-db-01 at the paths prod-db-01's configuration names" in row["message"]
    assert "[vmfs-prod-02] prod-db-01/prod-db-01_1.vmdk" in row["message"]


def test_a_disk_moved_by_a_storage_vmotion_fails_naming_the_disk_both_paths_and_the_fix():
    moved = "[vmfs-mt-01] asr-mt-02/prod-db-01.vmdk"
    target = mt(disks=attached(DB, at={"Hard disk 1": moved}))
    found = after.attachments(DB, [target])
    assert [len(item["moved"]) for item in found] == [1, 0] and [len(item["at_path"]) for item in found] == [0, 1]
    row = after.check_disks_attached(DB, found, [target])
    assert row["status"] == "fail" and row["master_target"] == "asr-mt-02", row
    assert (f"Hard disk 1 of prod-db-01 (uuid 6000C290-0000-0000-0000-00000000db01) is attached to asr-mt-02 as Hard disk 3 at {moved}, "
            "but prod-db-01's configuration names [vmfs-prod-02] prod-db-01/prod-db-01.vmdk") in row["message"]
    assert "Storage vMotion of the master target moved the file" in row["message"]
    assert "vm_migration_exclusion" in row["fix"] and "Add existing hard disk" in row["fix"]


def test_a_vm_none_of_whose_disks_is_attached_fails_and_some_missing_warns():
    row = after.check_disks_attached(DB, after.attachments(DB, [mt()]), [mt()])
    assert row["status"] == "fail" and row["master_target"] is None, row
    assert "None of the 2 disk(s) of prod-db-01 is attached to a master target listed" in row["message"]
    assert "add the master target holding its disks to master_targets" in row["fix"] and "phase: before_reprotect" in row["fix"]

    half = [mt(disks=attached(DB)[:1])]
    partly = after.check_disks_attached(DB, after.attachments(DB, half), half)
    assert partly["status"] == "warn" and "asr-mt-02 holds 1 of the 2 disks of prod-db-01" in partly["message"], partly
    assert "Hard disk 2 is attached to no master target listed" in partly["message"]


def test_disks_on_two_master_targets_or_a_split_replication_group_fail():
    disks = attached(DB)
    mts = [mt("mt-a", disks=disks[1:]), mt("mt-b", disks=disks[:1])]
    row = after.check_disks_attached(DB, after.attachments(DB, mts), mts)
    assert row["status"] == "fail" and row["master_target"] is None and row["objects"] == ["prod-db-01", "mt-a", "mt-b"], row
    assert "the disks of prod-db-01 are attached to 2 master targets (mt-a, mt-b)" in row["message"]

    one = [mt("mt-a", disks=disks)]
    split = after.check_disks_attached(DB, after.attachments(DB, one), one, {"prod-web-01": ["mt-b"]})
    assert split["status"] == "fail" and "its replication group is split: prod-db-01 is on mt-a, prod-web-01 on mt-b" in split["message"]
    together = after.check_disks_attached(DB, after.attachments(DB, one), one, {"prod-web-01": ["mt-a"]})
    assert together["status"] == "pass", together


def test_disk_count_after_reprotect_is_what_the_master_target_holds():
    row = after.check_attached_disk_count(mt(disks=attached(DB)), [DB])
    assert row["status"] == "pass" and row["check"] == "master_target.disk_limit", row
    assert row["message"] == "asr-mt-02 has 4 disks attached, 60 at most: 2 of its own (or of VMs not listed) and 2 of prod-db-01 (2)."
    extra = [disk(f"Hard disk {n}", f"6000C299-0000-0000-0000-{n:012d}", f"[vmfs-mt-01] asr-mt-02/asr-mt-02_{n}.vmdk", n) for n in range(57)]
    full = after.check_attached_disk_count(mt(disks=attached(DB) + extra), [DB])
    assert full["status"] == "fail" and "has 61 disks attached, 60 at most: 59 of its own" in full["message"] and "1 too many" in full["message"]
    assert "another master target" in full["fix"]


def test_each_phase_runs_its_rows():
    vms, mts = [DB], [mt("asr-mt-01"), mt(disks=attached(DB))]
    before = protected_vm_rows(vms, mts, [], {})
    assert [item["check"] for item in before] == [
        "protected_vm.datastore", "protected_vm.uuid_clash", "protected_vm.datastore", "protected_vm.uuid_clash",
        "protected_vm.os_family", "protected_vm.snapshots"]
    # After reprotect: judged on the master target holding its disks; no uuid clash (the attached disks share the VM's
    # uuids by design) and no snapshot row (reprotect merged them).
    rows = protected_vm_rows(vms, mts, [], {}, after=True)
    assert [(item["check"], item["master_target"]) for item in rows] == [
        ("protected_vm.datastore", "asr-mt-02"), ("protected_vm.os_family", None), ("protected_vm.powered_off", None),
        ("protected_vm.disks_attached", "asr-mt-02")]
