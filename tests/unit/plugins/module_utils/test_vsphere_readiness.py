"""The pure checks of failback_readiness_info (plugins/module_utils/_vsphere_readiness.py)."""

from __future__ import annotations

import datetime

import pytest
from pyVmomi import vim

from ansible_collections.siterecovery.master_target.plugins.module_utils import _vsphere_readiness as checks
from ansible_collections.siterecovery.master_target.plugins.module_utils._vsphere_devices import ENABLE_UUID_CHANGED_KEY, enable_uuid_changed_value

HOST = "host-34"


def option(key, value):
    return vim.option.OptionValue(key=key, value=value)


def disk(label, uuid, size_gb=100, unit=0):
    return dict(key=2000 + unit, label=label, uuid=uuid, size_gb=size_gb, bus=0, unit=unit)


def tools(running=True, installed=True):
    return dict(installed=installed, running=running, running_status="guestToolsRunning" if running else "guestToolsNotRunning",
                status=None, version="12389", version_text="12.3.5")


def vm(name="asr-mt-02", **kwargs):
    facts = dict(
        name=name, path=f"/DC0/vm/asr/{name}", moid=f"vm-{name}", host_moid=HOST, host="esx01", extra_config=[option("disk.EnableUUID", "TRUE")],
        marker=None, bios_uuid="4201aaaa-0000-0000-0000-000000000001", num_cpu=4, memory_mb=8192, snapshots=[],
        controllers=[dict(bus=0, type="lsilogicsas", label="SCSI controller 0")],
        disks=[disk("Hard disk 1", "6000C291-0000-0000-0000-000000000001"), disk("Hard disk 2", "6000C291-0000-0000-0000-000000000002", 1024, 1)],
        datastores=[], tools=tools(), guest=dict(power_state="poweredOn", guest_id="ubuntu64Guest", guest_family="linuxGuest"),
        guest_id="ubuntu64Guest", guest_family="linux", power_state="poweredOn",
    )
    facts.update(kwargs)
    return facts


def ds(name="vmfs-prod-01", kind="VMFS", mode="readWrite", mounted=True, host=HOST):
    return dict(name=name, moid="datastore-" + name, type=kind, capacity=1, free_space=1, maintenance_mode="normal", vmfs_uuid="x",
                mounts={host: dict(mounted=mounted, accessible=mounted, access_mode=mode)})


def test_disk_uuid():
    assert checks.check_disk_uuid(vm())["status"] == "pass"
    assert checks.check_disk_uuid(vm(extra_config=[option("disk.enableuuid", "true")]))["status"] == "pass"
    failed = checks.check_disk_uuid(vm(extra_config=[]))
    assert failed["status"] == "fail" and "is not set" in failed["message"] and "vm_disk_uuid" in failed["fix"]
    assert "is FALSE" in checks.check_disk_uuid(vm(extra_config=[option("disk.EnableUUID", "FALSE")]))["message"]


@pytest.mark.parametrize(
    "extra_config, shown",
    [
        # Judged as vm_disk_uuid and vm_preparation_info judge it (enable_uuid_writes): only exactly TRUE.
        ([option("disk.EnableUUID", " True ")], "' True '"),
        ([option("disk.EnableUUID", "yes")], "yes"),
        # Every key that differs only in case counts, not only the first.
        ([option("disk.enableuuid", "TRUE"), option("disk.EnableUUID", "FALSE")], "FALSE (disk.EnableUUID), TRUE (disk.enableuuid)"),
        ([option("disk.EnableUUID", "TRUE"), option("disk.enableuuid", "FALSE")], "TRUE (disk.EnableUUID), FALSE (disk.enableuuid)"),
    ],
)
def test_disk_uuid_not_exactly_true_fails(extra_config, shown):
    row = checks.check_disk_uuid(vm(extra_config=extra_config))
    assert row["status"] == "fail" and f"disk.EnableUUID is {shown} on asr-mt-02, not TRUE" in row["message"], row["message"]


BOOT = datetime.datetime(2026, 11, 24, 10, 0, 0, tzinfo=datetime.timezone.utc)


def changed_at(minutes_after_boot):
    moment = BOOT + datetime.timedelta(minutes=minutes_after_boot)
    return [option("disk.EnableUUID", "TRUE"), option(ENABLE_UUID_CHANGED_KEY, enable_uuid_changed_value(moment))]


def test_disk_uuid_set_after_the_last_power_on_is_not_in_effect_until_a_power_cycle():
    row = checks.check_disk_uuid(vm(extra_config=changed_at(5), boot_time=BOOT))
    assert row["status"] == "fail", row
    assert row["message"] == (
        "disk.EnableUUID is set but not in effect until a power cycle on asr-mt-02: it was set at 2026-11-24 10:05:00 UTC, after the VM's "
        "last power-on at 2026-11-24 10:00:00 UTC, and ESXi reads it only at power-on (a restart of the guest or a resume is not enough)."
    )
    assert "vm_power" in row["fix"] and "state: shutdown_guest" in row["fix"] and "vsphere_power_off_allowed: true" in row["fix"]
    # Powered on again since, powered off now, or set before the power-on: in effect (or at the next power-on).
    assert checks.check_disk_uuid(vm(extra_config=changed_at(5), boot_time=BOOT + datetime.timedelta(minutes=6)))["status"] == "pass"
    assert checks.check_disk_uuid(vm(extra_config=changed_at(5), power_state="poweredOff", boot_time=None))["status"] == "pass"
    assert checks.check_disk_uuid(vm(extra_config=changed_at(-5), boot_time=BOOT))["status"] == "pass"


def test_rows_have_the_contract_keys_and_no_fix_when_passing():
    passed = checks.check_snapshots(vm())
    assert set(passed) == {"check", "status", "master_target", "objects", "message", "fix"}
    assert passed["fix"] == "" and passed["master_target"] == "asr-mt-02" and passed["objects"] == ["asr-mt-02"]


def test_snapshots_fail_with_names():
    row = checks.check_snapshots(vm(snapshots=["before-patch", "before-patch/after-patch"]))
    assert row["status"] == "fail" and "before-patch/after-patch" in row["message"] and "state: absent" in row["fix"]


@pytest.mark.parametrize("kind, status", [("lsilogic", "pass"), ("lsilogicsas", "pass"), ("paravirtual", "fail"), ("buslogic", "fail")])
def test_scsi_controller(kind, status):
    row = checks.check_scsi_controller(vm(controllers=[dict(bus=0, type=kind, label="SCSI controller 0")]))
    assert row["status"] == status and kind in row["message"]


def test_scsi_controller_none_warns():
    assert checks.check_scsi_controller(vm(controllers=[]))["status"] == "warn"


def test_tools():
    assert checks.check_tools(vm())["status"] == "pass"
    off = checks.check_tools(vm(tools=tools(running=False), guest=dict(power_state="poweredOff", guest_id="ubuntu64Guest")))
    assert off["status"] == "fail" and "Power the VM on" in off["fix"]
    missing = checks.check_tools(vm(tools=tools(running=False, installed=False)))
    assert "open-vm-tools" in missing["fix"]
    stopped = checks.check_tools(vm(tools=tools(running=False)))
    assert "Start the VMware Tools service" in stopped["fix"]


def test_vmfs_datastore_needs_one_mounted_read_write_vmfs():
    assert checks.check_vmfs_datastore(vm(), [ds(), ds("nfs", "NFS")])["status"] == "pass"
    row = checks.check_vmfs_datastore(vm(), [ds("ro", mode="readOnly"), ds("off", mounted=False), ds("nfs", "NFS")])
    assert row["status"] == "fail" and "ro (the host has it read-only" in row["message"] and "off (it is attached" in row["message"]
    assert "none is attached" in checks.check_vmfs_datastore(vm(), [ds("nfs", "NFS")])["message"]


def pod(enabled=True, override=None):
    return dict(name="dsc-failback", enabled=enabled, default_behavior="automated", override=override)


def cluster(enabled=True, default="fullyAutomated", override=None):
    return dict(name="DC0_C0", enabled=enabled, default_behavior=default, override=override)


@pytest.mark.parametrize("pods, drs, status, words", [
    ([], None, "pass", ["is in a datastore cluster", "is not in a cluster"]),
    ([pod(override=dict(enabled=False, behavior=None))], cluster(override=dict(enabled=False, behavior=None)), "pass", ["disabling", "disabled"]),
    ([pod(override=dict(enabled=False, behavior=None))], cluster(override=dict(enabled=True, behavior="manual")), "pass", ["manual"]),
    ([pod()], cluster(override=dict(enabled=False, behavior=None)), "fail", ["runs Storage DRS", "no VM override"]),
    ([pod(override=dict(enabled=True, behavior="manual"))], None, "fail", ["override with automation manual"]),
    ([pod(enabled=False)], None, "warn", ["turned off"]),
    ([], cluster(), "fail", ["runs DRS"]),
    ([], cluster(enabled=False), "warn", ["DRS turned off"]),
    ([], cluster(default="manual"), "warn", ["manual mode by default"]),
])
def test_migration_exclusion(pods, drs, status, words):
    row = checks.check_migration_exclusion(vm(), pods, drs)
    assert row["status"] == status, row
    assert all(word in row["message"] for word in words), row["message"]


def test_retention_disk():
    assert checks.check_retention_disk(vm())["status"] == "fail"
    present = vm(marker="6000c291-0000-0000-0000-000000000002")  # case and separators do not matter
    assert checks.check_retention_disk(present)["status"] == "pass"
    assert "1024 GB" in checks.check_retention_disk(present)["message"]
    assert checks.check_retention_disk(present, min_gb=2048)["status"] == "warn"
    stale = checks.check_retention_disk(vm(marker="6000C291-dead"))
    assert stale["status"] == "fail" and "no longer has" in stale["message"] and "state: absent" in stale["fix"]


def protected(name, count):
    return vm(name, bios_uuid=f"4201bbbb-{name}", disks=[disk(f"Hard disk {i + 1}", f"6000C29{name}-{i}", 40, i) for i in range(count)])


def test_plan_disks_spreads_whole_vms_by_room():
    mts = [vm("mt-a"), vm("mt-b", disks=[disk("d", "u1", unit=unit) for unit in range(30) if unit != 7])]
    result = checks.plan_disks(mts, [protected("big", 40), protected("small", 20), protected("tiny", 5)])
    assert result["plan"] == {"vm-mt-a": ["vm-big", "vm-tiny"], "vm-mt-b": ["vm-small"]} and result["unplaced"] == []
    result = checks.plan_disks([vm("mt-a")], [protected("huge", 59)])
    assert [unit["moids"] for unit in result["unplaced"]] == [["vm-huge"]] and result["unplaced"][0]["reason"] == "too_big"


def test_disk_limit_fails_naming_total_and_master_targets_needed():
    rows = checks.check_disk_limit([vm("mt-a")], [protected("a", 30), protected("b", 30)])
    assert [r["status"] for r in rows] == ["fail"]
    assert "60 disks in total" in rows[0]["message"] and "at least 2 master targets" in rows[0]["message"]
    ok = checks.check_disk_limit([vm("mt-a"), vm("mt-b")], [protected("a", 30), protected("b", 30)])
    assert [r["status"] for r in ok] == ["pass", "pass"] and "= 32 of 60" in ok[0]["message"]
    assert checks.check_disk_limit([vm("mt-a")], [])[0]["message"].endswith("= 2 of 60.")


def test_sizing_warns():
    assert checks.check_sizing(vm())["status"] == "pass"
    row = checks.check_sizing(vm(num_cpu=2, memory_mb=4096, disks=[disk("Hard disk 1", "u", 40)]))
    assert row["status"] == "warn" and "4 vCPU, 6 GB RAM, a 100 GB OS disk" in row["message"]


def test_protected_datastore():
    mt = vm()
    assert checks.check_protected_datastore(protected("p", 1), mt, [ds()])["status"] == "pass"
    nfs = checks.check_protected_datastore(protected("p", 1), mt, [ds("nfs-prod-01", "NFS")])
    assert nfs["status"] == "fail" and "cannot fail back to NFS" in nfs["message"]
    other_host = checks.check_protected_datastore(protected("p", 1), mt, [ds(host="host-99")])
    assert other_host["status"] == "fail" and "present the datastore's LUN to host esx01" in other_host["fix"]
    unmounted = checks.check_protected_datastore(protected("p", 1), mt, [ds(mounted=False)])
    assert "host_datastore_access" in unmounted["fix"]
    assert checks.check_protected_datastore(protected("p", 1), mt, [ds("vsan", "vsan")])["status"] == "pass"


def test_uuid_clash():
    mt = vm()
    assert checks.check_uuid_clash(protected("p", 1), mt)["status"] == "pass"
    clone = vm("clone", bios_uuid="4201AAAA00000000000000000000000 1".replace(" ", ""), disks=[disk("Hard disk 1", "6000c291-0000-0000-0000-000000000001")])
    row = checks.check_uuid_clash(clone, mt)
    assert row["status"] == "fail" and "BIOS uuid" in row["message"] and "disk uuid 6000c291" in row["message"]


def test_os_family():
    mt = vm()
    win = vm("win", guest_family="windows", guest_id="windows9Server64Guest")
    assert checks.check_os_family(protected("p", 1), [mt], ["linux", "windows"])["status"] == "pass"
    row = checks.check_os_family(win, [mt], ["linux", "windows"])
    assert row["status"] == "fail" and "mix linux and windows" in row["message"]
    assert "win is windows (windows9Server64Guest) and no master target listed is: asr-mt-02 is linux (ubuntu64Guest)" in row["message"]


def test_os_family_is_one_row_per_vm_judged_against_the_master_targets_of_its_family():
    linux_mt, windows_mt = vm("mt-lnx"), vm("mt-win", guest_family="windows", guest_id="windows2019srv_64Guest")
    win = vm("win", guest_family="windows", guest_id="windows9Server64Guest")
    for protected_vm, mine in ((protected("p", 1), "mt-lnx"), (win, "mt-win")):
        row = checks.check_os_family(protected_vm, [linux_mt, windows_mt], [protected_vm["guest_family"]])
        assert row["status"] == "pass" and row["master_target"] is None, row
        assert row["objects"] == [protected_vm["name"], mine] and f"as master target {mine} (" in row["message"]


def test_guest_family():
    assert checks.guest_family(dict(guest_family="windowsGuest")) == "windows"
    assert checks.guest_family(dict(guest_family=None, guest_id="windows2019srv_64Guest")) == "windows"
    assert checks.guest_family(dict(guest_family=None, guest_id="ubuntu64Guest")) == "linux"
    assert checks.guest_family(dict(guest_family="solarisGuest", guest_id="solaris11_64Guest")) == "other"


def test_protected_snapshots_are_info():
    assert checks.check_protected_snapshots(vm("p", snapshots=["nightly"]))["status"] == "info"
    assert checks.check_protected_snapshots(vm("p"))["status"] == "pass"
    assert checks.check_protected_snapshots(vm("p"))["master_target"] is None


@pytest.mark.parametrize("edition, name, status", [
    ("esx.enterprisePlus.cpuPackage", "VMware vSphere 7 Enterprise Plus", "pass"),
    ("esx.standard.cpuPackage", "VMware vSphere 8 Standard", "pass"),
    ("esx.hypervisor.cpuPackageCoreLimited", "vSphere 7 Hypervisor", "fail"),
    ("esx.free", "Free", "fail"),
    ("esxBasic", "VMware vSphere 5 Hypervisor", "fail"),
    ("esx.other", "ESXi 5.5 free", "fail"),
    ("eval", "Evaluation Mode", "warn"),
])
def test_license(edition, name, status):
    """Read from the host itself (a direct ESXi connection)."""
    assert checks.check_license("esx01", dict(edition_key=edition, name=name), direct=True)["status"] == status


def test_license_through_vcenter_free_edition_is_info_pointing_at_a_direct_check():
    """vCenter refuses the free edition for a host it manages: should it report one anyway, the row informs."""
    row = checks.check_license("esx01", dict(edition_key="esx.hypervisor.cpuPackageCoreLimited", name="vSphere 7 Hypervisor"))
    assert row["status"] == "info" and "which vCenter cannot manage" in row["message"], row
    assert "connected to esx01 directly" in row["fix"] and "Licensing > Assets > Hosts" in row["fix"]
    assert checks.check_license("esx01", dict(edition_key="esx.enterprisePlus.cpuPackage", name="vSphere 7 Enterprise Plus"))["status"] == "pass"
    assert checks.check_license("esx01", dict(edition_key="eval", name="Evaluation Mode"))["status"] == "warn"


def test_license_unknown_warns():
    assert checks.check_license("esx01", None)["status"] == "warn"
    direct = checks.check_license("esx01", None, direct=True)
    assert direct["status"] == "warn" and direct["message"] == "ESXi host esx01 reported no licence." and "Host Client" in direct["fix"]


@pytest.mark.parametrize("state, maintenance, status, words", [
    ("connected", False, "pass", "Host esx01 of asr-mt-01, prod-db-01 is connected and not in maintenance mode."),
    ("connected", True, "fail", "is in maintenance mode: reprotect and failback detach and attach disks through vCenter"),
    ("disconnected", False, "fail", "Host esx01 of asr-mt-01, prod-db-01 is disconnected:"),
    ("notResponding", True, "fail", "is notResponding and is in maintenance mode:"),
    (None, False, "fail", "is in an unknown connection state"),
])
def test_host_state(state, maintenance, status, words):
    row = checks.check_host_state("esx01", state, maintenance, ["asr-mt-01", "prod-db-01"])
    assert row["check"] == "host.state" and row["status"] == status and words in row["message"], row
    if status == "fail":
        assert row["objects"] == ["esx01", "asr-mt-01", "prod-db-01"] and row["fix"].endswith("before reprotect and failback.")
        assert ("Exit Maintenance Mode" in row["fix"]) == maintenance
        assert ("Reconnect esx01" in row["fix"]) == (state == "disconnected")


@pytest.mark.parametrize("version, status", [("6.5.0", "pass"), ("6.7.0", "pass"), ("7.0.3", "pass"), ("8.0.2", "pass"),
                                             ("6.0.0", "fail"), ("5.5.0", "fail"), ("9.0.0", "warn"), ("8.1", "warn"), ("", "fail")])
def test_version(version, status):
    assert checks.check_version("host.version", "ESXi host", "esx01", version)["status"] == status


def checked(name, kind, missing=None):
    return dict(name=name, kind=kind, missing=checks.privileges_for(kind) if missing is None else missing)


def test_privileges():
    everything = [checked("asr-mt-01", "vm", []), checked("vmfs-mt-01", "datastore", []), checked("vcenter01", "vcenter", [])]
    ok = checks.check_privileges("admin", everything)
    assert ok["status"] == "pass" and ok["objects"] == ["asr-mt-01", "vcenter01", "vmfs-mt-01"]
    read_only = [checked("asr-mt-01", "vm"), checked("prod-db-01", "vm"), checked("vmfs-mt-01", "datastore"), checked("vcenter01", "vcenter"),
                 checked("VM Network", "network")]
    row = checks.check_privileges("readonly@vsphere.local", read_only)
    assert row["status"] == "fail" and row["objects"] == ["VM Network", "asr-mt-01", "prod-db-01", "vcenter01", "vmfs-mt-01"]
    for words in ("readonly@vsphere.local", "lacks 42 of the 46", "VirtualMachine.Config.{AddExistingDisk", "on VMs asr-mt-01, prod-db-01 (to migrate",
                  "Datastore.{AllocateSpace, Browse, FileManagement, DeleteFile, UpdateVirtualMachineFiles} on datastore vmfs-mt-01 (to write",
                  "Network.Assign on network VM Network (to connect", "Task.{Create, Update}, VirtualMachine.Provisioning.{GetVmFiles, PutVmFiles} "
                  "on vCenter root folder vcenter01", "discovery only"):
        assert words in row["message"], row["message"]
    # kinds come in PRIVILEGE_KINDS order: VMs before datastores before networks before the root folder
    assert row["message"].index("on VMs") < row["message"].index("on datastore") < row["message"].index("on network")
    assert checks.compact_privileges(["Task.Update", "Task.Create", "Network.Assign"]) == ["Network.Assign", "Task.{Create, Update}"]
    one = checks.check_privileges("ops", [checked("vmfs-prod-02", "datastore", ["Datastore.AllocateSpace"]), checked("vmfs-mt-01", "datastore", [])])
    assert one["objects"] == ["vmfs-prod-02"] and "lacks 1 of" in one["message"]
    assert "Datastore.AllocateSpace on datastore vmfs-prod-02 (to write the replicated disks to the datastores)" in one["message"]


def test_privileges_for_each_kind_cover_the_list_once():
    kinds = list(checks.PRIVILEGE_KINDS)
    assert sorted(p for kind in kinds for p in checks.privileges_for(kind)) == sorted(checks.REQUIRED_PRIVILEGES)
    assert checks.privileges_for("network") == ["Network.Assign"] and checks.privileges_for("resource_pool") == ["Resource.AssignVMToPool"]
    assert checks.privileges_for("vcenter") == ["Task.Create", "Task.Update", "VirtualMachine.Provisioning.GetVmFiles",
                                                "VirtualMachine.Provisioning.PutVmFiles"]
    assert "Resource.ColdMigrate" in checks.privileges_for("vm") and "VirtualMachine.Inventory.Register" in checks.privileges_for("vm_folder")
    assert checks.privileges_for("host") == [] and all(kind in checks.PRIVILEGE_KINDS for _why, kind, _ids in checks.PRIVILEGE_GROUPS)


def test_required_privileges_are_unique_and_from_the_asr_list():
    assert len(checks.REQUIRED_PRIVILEGES) == len(set(checks.REQUIRED_PRIVILEGES))
    for privilege in ("Datastore.FileManagement", "Resource.HotMigrate", "Task.Update", "VirtualMachine.Interact.ToolsInstall",
                      "VirtualMachine.Inventory.CreateFromExisting", "VirtualMachine.Provisioning.PutVmFiles"):
        assert privilege in checks.REQUIRED_PRIVILEGES


def test_not_found_rows():
    ambiguous = checks.not_found_row("protected VM", "dup-vm", ["/DC0/vm/teamA/dup-vm", "/DC0/vm/teamB/dup-vm"], [])
    assert ambiguous["check"] == "vm.found" and "matches 2 VMs" in ambiguous["message"] and ambiguous["master_target"] is None
    missing = checks.not_found_row("master target", "asr-mt-1", [], ["asr-mt-01"])
    assert "Similar names: asr-mt-01" in missing["message"]


def test_summary():
    rows = [dict(status="pass"), dict(status="fail"), dict(status="fail"), dict(status="info")]
    assert checks.summary(rows) == {"pass": 1, "info": 1, "warn": 0, "fail": 2, "total": 4}
