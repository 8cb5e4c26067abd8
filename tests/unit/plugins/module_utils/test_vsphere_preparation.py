"""The step functions of vm_preparation_info, fed with real pyVmomi data objects (no server).

Each step must say "needed" exactly when the module that makes the change would change something
(or fail), and its reason must name the object to look at.
"""

from __future__ import annotations

import datetime

import pytest
from pyVmomi import vim

from ansible_collections.siterecovery.master_target.plugins.module_utils._vsphere_datastores import datastore_facts
from ansible_collections.siterecovery.master_target.plugins.module_utils._vsphere_devices import ENABLE_UUID_CHANGED_KEY, enable_uuid_changed_value
from ansible_collections.siterecovery.master_target.plugins.module_utils._vsphere_lookup import ManagedObject
from ansible_collections.siterecovery.master_target.plugins.module_utils._vsphere_overrides import (
    CLUSTER_CONFIG,
    POD_DEFAULT_BEHAVIOR,
    POD_ENABLED,
    POD_VM_CONFIG,
    cluster_facts,
    pod_facts,
)
from ansible_collections.siterecovery.master_target.plugins.module_utils._vsphere_preparation import (
    datastores_step,
    disk_uuid_step,
    migration_exclusion_step,
    retention_disk_step,
    scsi_controllers_step,
    snapshots_step,
)
from ansible_collections.siterecovery.master_target.plugins.module_utils._vsphere_snapshots import flatten_snapshots

GIB = 1024**3
VM_PATH = "/DC0/vm/asr/asr-mt-01"
VM_MOID = "vm-42"
UUID = "6000C29a-b1b5-1bf8-40d7-a2e2c43fb182"
MARKER_KEY = "siterecovery.retentionDisk.uuid"
HOST = dict(name="esx-01.example.com", moid="host-1")
BOOT = datetime.datetime(2026, 11, 24, 10, 0, 0, tzinfo=datetime.timezone.utc)


def option(key, value):
    return vim.option.OptionValue(key=key, value=value)


def label(text):
    return vim.Description(label=text, summary=text)


def controller(cls, key, bus):
    return cls(key=key, busNumber=bus, scsiCtlrUnitNumber=7, sharedBus="noSharing", deviceInfo=label(f"SCSI controller {bus}"))


def disk(key, controller_key, unit, size_gb=1024, uuid=UUID, datastore="datastore-11", file_name="[vmfs-mt-01] asr-mt-01/asr-mt-01_1.vmdk"):
    backing = vim.vm.device.VirtualDisk.FlatVer2BackingInfo(
        fileName=file_name, datastore=vim.Datastore(datastore) if datastore else None, diskMode="persistent", thinProvisioned=True, uuid=uuid
    )
    return vim.vm.device.VirtualDisk(
        key=key, controllerKey=controller_key, unitNumber=unit, capacityInKB=size_gb * GIB // 1024, capacityInBytes=size_gb * GIB,
        backing=backing, deviceInfo=label(f"Hard disk {key - 1999}"),
    )


def os_disk():
    return disk(2000, 1000, 0, size_gb=100, uuid="6000C291-1111-2222-3333-444444444444", file_name="[vmfs-mt-01] asr-mt-01/asr-mt-01.vmdk")


def vm_devices(*extra, controller_cls=vim.vm.device.VirtualLsiLogicController):
    """A controller on bus 0 (key 1000) with the OS disk at 0:0, plus `extra` devices."""
    return [controller(controller_cls, 1000, 0), os_disk(), *extra]


# --- disk_uuid -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "extra_config",
    [
        [option("disk.EnableUUID", "TRUE")],
        [option("disk.EnableUUID", "true")],  # ESXi reads the value without case
        [option("Disk.EnableUUID", "True")],
        [option("tools.syncTime", "FALSE"), option("DISK.ENABLEUUID", "TRUE")],
    ],
)
@pytest.mark.parametrize("power_state", ["poweredOn", "poweredOff"])
def test_disk_uuid_true_in_any_case_is_not_needed(extra_config, power_state):
    value = extra_config[-1].value
    assert disk_uuid_step(extra_config, power_state, BOOT) == dict(
        needed=False, reason="disk.EnableUUID is TRUE.", before=value, after=value, stray_keys=[], power_cycle_required=False
    )


@pytest.mark.parametrize(
    "extra_config, before, shown",
    [
        ([option("disk.EnableUUID", "FALSE")], "FALSE", "FALSE"),
        ([option("disk.EnableUUID", "no")], "no", "no"),
        # Not exactly TRUE: ESXi is not known to read it as TRUE.
        ([option("Disk.EnableUUID", " True ")], " True ", "' True '"),
        ([], None, "not set"),
        (None, None, "not set"),
        ([option("tools.syncTime", "FALSE")], None, "not set"),
    ],
)
def test_disk_uuid_false_or_missing_is_needed(extra_config, before, shown):
    result = disk_uuid_step(extra_config, "poweredOff")
    assert result == dict(
        needed=True, reason=f"disk.EnableUUID is {shown}: it must be TRUE.", before=before, after="TRUE", stray_keys=[], power_cycle_required=False
    )


def test_disk_uuid_keys_differing_in_case_are_all_judged():
    # Not only the first key: the stray one is removed, the kept one set to TRUE.
    result = disk_uuid_step([option("disk.EnableUUID", "FALSE"), option("disk.enableuuid", "TRUE")], "poweredOff")
    assert (result["needed"], result["before"], result["stray_keys"]) == (True, "FALSE", ["disk.enableuuid"])
    assert result["reason"] == ("disk.EnableUUID is FALSE (disk.EnableUUID), TRUE (disk.enableuuid): it must be TRUE. "
                                "The key disk.enableuuid differs from disk.EnableUUID only in case and would be removed.")
    assert disk_uuid_step([option("disk.enableuuid", "TRUE"), option("disk.EnableUUID", "FALSE")], "poweredOff")["needed"] is True
    assert disk_uuid_step([option("disk.EnableUUID", "TRUE"), option("disk.enableuuid", "TRUE")], "poweredOff")["needed"] is False


def test_disk_uuid_on_a_running_vm_needs_a_power_cycle():
    assert disk_uuid_step([option("disk.EnableUUID", "FALSE")], "poweredOn", BOOT)["power_cycle_required"] is True
    # A resume does not apply it either.
    assert disk_uuid_step(None, "suspended", BOOT)["power_cycle_required"] is True
    assert disk_uuid_step(None, "poweredOff")["power_cycle_required"] is False


def changed_at(minutes_after_boot):
    moment = BOOT + datetime.timedelta(minutes=minutes_after_boot)
    return [option("disk.EnableUUID", "TRUE"), option(ENABLE_UUID_CHANGED_KEY, enable_uuid_changed_value(moment))]


def test_disk_uuid_changed_after_the_last_power_on_still_needs_a_power_cycle_on_every_run():
    pending = disk_uuid_step(changed_at(5), "poweredOn", BOOT)
    assert (pending["needed"], pending["power_cycle_required"]) == (False, True)
    assert "not in effect until a power cycle" in pending["reason"]
    # After the power cycle (a later bootTime), or powered off: nothing pending.
    assert disk_uuid_step(changed_at(5), "poweredOn", BOOT + datetime.timedelta(minutes=10))["power_cycle_required"] is False
    assert disk_uuid_step(changed_at(5), "poweredOff", None)["power_cycle_required"] is False
    assert disk_uuid_step(changed_at(-5), "poweredOn", BOOT)["power_cycle_required"] is False


# --- snapshots -----------------------------------------------------------------------------------


def node(name, moid, children=(), snap_id=1):
    return vim.vm.SnapshotTree(
        name=name,
        description="",
        id=snap_id,
        snapshot=vim.vm.Snapshot(moid),
        createTime=datetime.datetime(2026, 11, 1, 12, 0, tzinfo=datetime.timezone.utc),
        state="poweredOff",
        quiesced=False,
        childSnapshotList=list(children),
    )


TREE = [node("before-patch", "snapshot-1", [node("after-patch", "snapshot-2", snap_id=2)])]


@pytest.mark.parametrize("consolidation_needed", [False, None])
def test_snapshots_none_and_nothing_to_consolidate_is_not_needed(consolidation_needed):
    assert snapshots_step([], consolidation_needed) == dict(needed=False, reason="No snapshots.", snapshots=[], consolidation_needed=False)


def test_snapshots_only_names_every_snapshot_by_path():
    result = snapshots_step(flatten_snapshots(TREE), False)
    assert result == dict(
        needed=True,
        reason="2 snapshot(s) to remove: before-patch, before-patch/after-patch.",
        snapshots=["before-patch", "before-patch/after-patch"],
        consolidation_needed=False,
    )


def test_snapshots_consolidation_only_is_needed():
    result = snapshots_step([], True)
    assert result == dict(needed=True, reason="vCenter reports that the disks need consolidation.", snapshots=[], consolidation_needed=True)


def test_snapshots_and_consolidation_give_both_reasons():
    result = snapshots_step(flatten_snapshots(TREE), True)
    assert result["needed"] and result["consolidation_needed"]
    assert result["reason"] == (
        "2 snapshot(s) to remove: before-patch, before-patch/after-patch. vCenter reports that the disks need consolidation."
    )


# --- scsi_controllers ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "devices, described",
    [
        (vm_devices(), "SCSI controller 0 (bus 0, lsilogic)"),
        (
            vm_devices(controller(vim.vm.device.VirtualLsiLogicSASController, 1001, 1), controller_cls=vim.vm.device.VirtualLsiLogicController),
            "SCSI controller 0 (bus 0, lsilogic), SCSI controller 1 (bus 1, lsilogicsas)",
        ),
        ([vim.vm.device.VirtualIDEController(key=200, busNumber=0)], "none"),
        ([], "none"),
    ],
)
def test_scsi_controllers_all_lsi_logic_is_not_needed(devices, described):
    result = scsi_controllers_step(VM_PATH, devices)
    assert not result["needed"] and result["not_lsi"] == []
    assert result["reason"] == f"Every SCSI controller is LSI Logic: {described}."


@pytest.mark.parametrize(
    "cls, kind",
    [(vim.vm.device.ParaVirtualSCSIController, "paravirtual"), (vim.vm.device.VirtualBusLogicController, "buslogic")],
)
def test_scsi_controllers_pvscsi_or_buslogic_is_needed_and_named(cls, kind):
    result = scsi_controllers_step(VM_PATH, vm_devices(controller_cls=cls))
    assert result["needed"]
    assert result["not_lsi"] == [dict(bus=0, type=kind, label="SCSI controller 0", key=1000, devices=[dict(label="Hard disk 1", unit=0, kind="disk")])]
    assert result["controllers"] == result["not_lsi"]
    assert f"VM {VM_PATH} has SCSI controllers that are not LSI Logic: SCSI controller 0 (bus 0, {kind})." in result["reason"]
    assert "convert: true" in result["reason"]


def test_scsi_controllers_only_the_wrong_one_is_named():
    devices = vm_devices(controller(vim.vm.device.ParaVirtualSCSIController, 1001, 1), disk(2001, 1001, 0))
    result = scsi_controllers_step(VM_PATH, devices)
    assert result["needed"] and [item["bus"] for item in result["controllers"]] == [0, 1]
    assert [(item["bus"], item["type"]) for item in result["not_lsi"]] == [(1, "paravirtual")]
    assert "SCSI controller 1 (bus 1, paravirtual)" in result["reason"] and "bus 0" not in result["reason"]


# --- retention_disk ------------------------------------------------------------------------------
# The step calls vm_retention_disk's own functions (_vsphere_retention, unit-tested there): these
# tests check that it says "needed" exactly when the module would change something or fail.

PENDING_KEY = "siterecovery.retentionDisk.pending"


def marked(uuid=UUID, key=MARKER_KEY, pending=None):
    return [option("disk.EnableUUID", "TRUE"), option(key, uuid)] + ([option(PENDING_KEY, pending)] if pending else [])


def retention(devices, extra_config, size_gb=1024, wanted=None, datastores=None):
    """The step for VM_PATH on HOST, the VM's .vmx on vmfs-mt-01."""
    datastores = [datastore("vmfs-mt-01", "datastore-11"), datastore("vmfs-mt-02", "datastore-12")] if datastores is None else datastores
    return retention_disk_step(VM_PATH, devices, extra_config, datastores, HOST, size_gb, wanted, "vmfs-mt-01")


@pytest.mark.parametrize("extra_config", [None, [option("disk.EnableUUID", "TRUE")], [option(MARKER_KEY, "")]])
def test_retention_disk_without_marker_is_needed_and_says_where_it_would_go(extra_config):
    devices = vm_devices(disk(2001, 1000, 1))  # a disk of the right size and UUID, but nothing marks it
    assert retention(devices, extra_config) == dict(
        needed=True, reason="No retention disk: a 1024 GB disk would be added on vmfs-mt-01 at scsi0:2.", disk=None
    )
    assert "on vmfs-mt-02 at scsi0:2" in retention(devices, extra_config, wanted="vmfs-mt-02")["reason"]


def test_retention_disk_that_the_module_could_not_add_is_needed_with_its_error():
    nfs = retention(vm_devices(), None, datastores=[datastore("vmfs-mt-01", "datastore-11", kind="NFS")])
    assert nfs["needed"] and nfs["reason"].startswith("Datastore 'vmfs-mt-01' cannot be used from host 'esx-01.example.com' (host-1)")
    maintenance = retention(vm_devices(), None, datastores=[datastore("vmfs-mt-01", "datastore-11", maintenance="inMaintenance")])
    assert maintenance["needed"] and "maintenance mode (inMaintenance)" in maintenance["reason"]
    pvscsi = retention(vm_devices(controller_cls=vim.vm.device.ParaVirtualSCSIController), None)
    assert pvscsi["needed"] and "has no LSI Logic SCSI controller" in pvscsi["reason"]


def test_retention_disk_marker_without_its_disk_is_needed_with_the_modules_refusal():
    result = retention(vm_devices(), marked())
    assert result["needed"] and result["disk"] is None
    assert result["reason"].startswith(f"VM {VM_PATH} has the retention disk marker {MARKER_KEY}={UUID}, but none of its disks has that UUID")


def test_retention_disk_marker_on_two_disks_is_needed():
    result = retention(vm_devices(disk(2001, 1000, 1), disk(2002, 1000, 2)), marked())
    assert result["needed"] and result["reason"].startswith(f"2 disks of VM {VM_PATH} have the UUID {UUID}"), result


def test_retention_disk_found_by_its_pending_slot_is_needed_to_record_its_uuid():
    # An interrupted run: the disk at scsi0:1 has the uuid the host gave it, the marker the one supplied.
    other = "6000C29f-0000-4000-8000-00000000abcd"
    result = retention(vm_devices(disk(2001, 1000, 1, uuid=other)), marked(pending="scsi0:1"))
    assert result["needed"] and result["disk"]["uuid"] == other
    assert result["reason"] == (f"The retention disk (Hard disk 2) added by an interrupted run is found by its pending slot: its UUID {other} "
                                "would be recorded in the marker.")


def test_retention_disk_with_a_leftover_pending_slot_is_needed_to_remove_it():
    # A cut run: the marker names the disk, but the reply of the reconfigure that removed the slot was lost.
    result = retention(vm_devices(disk(2001, 1000, 1)), marked(pending="scsi0:1"))
    assert result["needed"]
    assert result["reason"] == f"The pending slot {PENDING_KEY}=scsi0:1 that an interrupted run left next to the marker would be removed."


@pytest.mark.parametrize("datastore_name", [None, ""])
def test_retention_disk_of_the_exact_size_on_any_datastore_is_not_needed(datastore_name):
    devices = vm_devices(disk(2001, 1000, 1, datastore="datastore-12", file_name="[vmfs-mt-02] asr-mt-01/asr-mt-01_1.vmdk"))
    result = retention(devices, marked(), wanted=datastore_name)
    assert not result["needed"]
    assert result["reason"] == "The retention disk (Hard disk 2, 1024 GB on vmfs-mt-02) is in place."
    assert (result["disk"]["key"], result["disk"]["datastore"], result["disk"]["uuid"]) == (2001, "vmfs-mt-02", UUID)


def test_retention_disk_found_by_marker_in_any_spelling_on_the_named_datastore():
    found = disk(2001, 1000, 1)
    found.capacityInBytes = None  # older vCenters report capacityInKB only
    result = retention(vm_devices(found), marked(UUID.upper(), MARKER_KEY.upper()), wanted="vmfs-mt-01")
    assert not result["needed"] and result["disk"]["size_gb"] == 1024


def test_retention_disk_datastore_from_the_file_name_when_the_moid_is_unknown():
    devices = vm_devices(disk(2001, 1000, 1, datastore="datastore-99", file_name="[vmfs-other] asr-mt-01/asr-mt-01_1.vmdk"))
    assert not retention(devices, marked(), wanted="vmfs-other")["needed"]


def test_retention_disk_on_another_datastore_is_needed():
    result = retention(vm_devices(disk(2001, 1000, 1)), marked(), wanted="vmfs-mt-02")
    assert result["needed"] and result["disk"]["label"] == "Hard disk 2"
    assert "is on datastore vmfs-mt-01, not vmfs-mt-02. The module never moves a disk" in result["reason"]


@pytest.mark.parametrize("size_gb", [512, 1])
def test_retention_disk_smaller_is_needed(size_gb):
    # vm_retention_disk grows it (grow: true) or fails.
    result = retention(vm_devices(disk(2001, 1000, 1, size_gb=size_gb)), marked())
    assert result["needed"] and result["disk"]["key"] == 2001
    assert result["reason"].startswith(f"The retention disk is {size_gb} GB, not 1024 GB: vm_retention_disk grows it with grow: true")


def test_retention_disk_larger_is_needed_with_the_modules_refusal():
    result = retention(vm_devices(disk(2001, 1000, 1, size_gb=2048)), marked())
    assert result["needed"] and result["disk"]["key"] == 2001
    assert "is 2048 GB, larger than size_gb 1024 GB: a disk is never shrunk" in result["reason"]


def test_retention_disk_a_fraction_of_a_gib_off_is_needed():
    found = disk(2001, 1000, 1)
    found.capacityInBytes = 1024 * GIB + GIB // 2
    result = retention(vm_devices(found), marked())
    assert result["needed"] and "is 1024.5 GB, larger than size_gb 1024 GB" in result["reason"]


# --- datastores ----------------------------------------------------------------------------------


def mount(host, mode="readWrite", mounted=True, accessible=True):
    return vim.Datastore.HostMount(
        key=vim.HostSystem(host), mountInfo=vim.host.MountInfo(path="/vmfs/volumes/x", accessMode=mode, mounted=mounted, accessible=accessible)
    )


def datastore(name, moid, kind="VMFS", mounts=None, maintenance="normal"):
    """datastore_facts of a Datastore read with DATASTORE_PATHS; mounted read/write on HOST by default."""
    mounts = [mount(HOST["moid"])] if mounts is None else mounts
    if kind == "VMFS":
        info = vim.host.VmfsDatastoreInfo(name=name, vmfs=vim.host.VmfsVolume(type="VMFS", name=name, uuid=f"uuid-{moid}"))
    else:
        info = vim.host.NasDatastoreInfo(name=name)
    props = {
        "name": name,
        "summary.type": kind,
        "summary.capacity": 4 << 40,
        "summary.freeSpace": 3 << 40,
        "summary.accessible": any(item.mountInfo.accessible for item in mounts),
        "summary.maintenanceMode": maintenance,
        "host": mounts,
        "info": info,
    }
    return datastore_facts(ManagedObject(vim.Datastore(moid), props))


def by_name(*facts):
    grouped = {}
    for ds in facts:
        grouped.setdefault(ds["name"], []).append(ds)
    return grouped


def test_datastores_mounted_read_write_are_not_needed():
    facts = by_name(datastore("vmfs-prod-01", "datastore-1"), datastore("vsan-prod", "datastore-2", kind="vsan"), datastore("unused", "datastore-3"))
    result = datastores_step(["vmfs-prod-01", "vsan-prod"], facts, HOST)
    assert not result["needed"] and result["host"] == HOST
    assert result["reason"] == "Every datastore is mounted read/write on host 'esx-01.example.com'."
    assert result["datastores"][0] == dict(
        name="vmfs-prod-01", moid="datastore-1", type="VMFS", capacity=4 << 40, free_space=3 << 40, mounted_now=False,
        mounted=True, accessible=True, access_mode="readWrite",
    )
    assert [ds["name"] for ds in result["datastores"]] == ["vmfs-prod-01", "vsan-prod"]


def test_datastores_unknown_name_is_needed_and_named():
    result = datastores_step(["vmfs-prod-01", "vmfs-typo"], by_name(datastore("vmfs-prod-01", "datastore-1")), HOST)
    assert result["needed"] and result["reason"] == "Datastore 'vmfs-typo' does not exist."
    assert [ds["name"] for ds in result["datastores"]] == ["vmfs-prod-01"]


@pytest.mark.parametrize(
    "facts, words",
    [
        (
            datastore("ds", "datastore-5", kind="NFS", mounts=[mount(HOST["moid"])]),
            "Datastore 'ds' cannot be used on host 'esx-01.example.com': it is an NFS datastore",
        ),
        (
            datastore("ds", "datastore-5", kind="NFS41"),
            "Datastore 'ds' cannot be used on host 'esx-01.example.com': it is an NFS datastore (type NFS41)",
        ),
        (
            datastore("ds", "datastore-5", mounts=[mount(HOST["moid"], mounted=False, accessible=False)]),
            "Datastore 'ds' would be mounted on host 'esx-01.example.com': it is attached to that host but not mounted.",
        ),
        (
            datastore("ds", "datastore-5", mounts=[mount(HOST["moid"], mode="readOnly")]),
            "Datastore 'ds' cannot be used on host 'esx-01.example.com': the host has it read-only (access mode readOnly)",
        ),
        (
            datastore("ds", "datastore-5", mounts=[mount("host-2")]),
            "Datastore 'ds' cannot be used on host 'esx-01.example.com': it is not attached to that host",
        ),
        (
            datastore("ds", "datastore-5", mounts=[mount(HOST["moid"], accessible=False)]),
            "Datastore 'ds' cannot be used on host 'esx-01.example.com': it is mounted on that host but not accessible",
        ),
        (
            datastore("ds", "datastore-5", maintenance="inMaintenance"),
            "Datastore 'ds' cannot be used on host 'esx-01.example.com': the datastore is in maintenance mode (inMaintenance)",
        ),
    ],
    ids=["nfs", "nfs41", "unmounted", "read_only", "not_attached", "inaccessible", "maintenance"],
)
def test_datastores_each_problem_is_needed_and_named(facts, words):
    result = datastores_step(["vmfs-prod-01", "ds"], by_name(datastore("vmfs-prod-01", "datastore-1"), facts), HOST)
    assert result["needed"] and result["reason"].startswith(words)
    assert "vmfs-prod-01" not in result["reason"]
    assert [ds["moid"] for ds in result["datastores"]] == ["datastore-1", "datastore-5"]


def test_datastores_unmounted_reads_as_unmounted_in_the_state():
    facts = by_name(datastore("ds", "datastore-5", mounts=[mount(HOST["moid"], mounted=False, accessible=False)]))
    (state,) = datastores_step(["ds"], facts, HOST)["datastores"]
    assert (state["mounted"], state["accessible"], state["mounted_now"]) == (False, False, False)


def test_datastores_every_problem_is_named():
    facts = by_name(datastore("nfs-01", "datastore-5", kind="NFS"), datastore("ro-01", "datastore-6", mounts=[mount(HOST["moid"], mode="readOnly")]))
    reason = datastores_step(["nfs-01", "gone", "ro-01"], facts, HOST)["reason"]
    assert [sentence.split("'")[1] for sentence in reason.split("Datastore ")[1:]] == ["nfs-01", "gone", "ro-01"]


@pytest.mark.parametrize("order", [1, -1])
def test_datastores_same_name_in_two_datacenters_picks_the_one_the_host_has(order):
    elsewhere = datastore("vmfs-shared", "datastore-21", mounts=[mount("host-2")])  # DC1: another host only
    here = datastore("vmfs-shared", "datastore-31")  # DC2: the VM's host
    result = datastores_step(["vmfs-shared"], by_name(*[elsewhere, here][::order]), HOST)
    assert not result["needed"]
    assert [ds["moid"] for ds in result["datastores"]] == ["datastore-31"]


def test_datastores_listed_twice_are_judged_once():
    facts = by_name(datastore("vmfs-prod-01", "datastore-1"), datastore("ds", "datastore-5", mounts=[mount(HOST["moid"], mounted=False)]))
    result = datastores_step(["ds", "vmfs-prod-01", "ds", "gone", "gone"], facts, HOST)
    assert [ds["name"] for ds in result["datastores"]] == ["ds", "vmfs-prod-01"]
    assert result["reason"].count("Datastore 'ds'") == 1 and result["reason"].count("Datastore 'gone'") == 1


# --- migration_exclusion -------------------------------------------------------------------------


def pod(name, *overrides, enabled=True):
    """pod_facts of a datastore cluster whose VM overrides are (vm moid, enabled, behavior)."""
    entries = [vim.storageDrs.VmConfigInfo(vm=vim.VirtualMachine(vm), enabled=on, behavior=behavior) for vm, on, behavior in overrides]
    props = {"name": name, POD_ENABLED: enabled, POD_DEFAULT_BEHAVIOR: "automated", POD_VM_CONFIG: entries}
    return pod_facts(ManagedObject(vim.StoragePod(f"group-p-{name}"), props), VM_MOID)


def cluster(name, *overrides):
    """cluster_facts of a DRS cluster whose VM overrides are (vm moid, enabled, behavior)."""
    config = vim.cluster.ConfigInfoEx(
        drsConfig=vim.cluster.DrsConfigInfo(enabled=True, defaultVmBehavior="fullyAutomated"),
        drsVmConfig=[vim.cluster.DrsVmConfigInfo(key=vim.VirtualMachine(vm), enabled=on, behavior=behavior) for vm, on, behavior in overrides],
    )
    return cluster_facts(ManagedObject(vim.ClusterComputeResource(f"domain-{name}"), {"name": name, CLUSTER_CONFIG: config}), VM_MOID)


def test_migration_without_pods_and_cluster_is_not_needed():
    assert migration_exclusion_step([], None, "disabled", "disabled") == dict(
        needed=False, reason="The VM overrides exclude the VM from Storage DRS and DRS migrations.", storage_drs=[], drs=None
    )


@pytest.mark.parametrize(
    "override, wanted, needed",
    [
        ((VM_MOID, False, None), "disabled", False),
        ((VM_MOID, False, "fullyAutomated"), "disabled", False),  # disabled excludes whatever the behavior
        ((VM_MOID, False, None), "manual", True),  # disabled is not the manual override asked for
        ((VM_MOID, True, "manual"), "manual", False),
        ((VM_MOID, None, "manual"), "manual", False),  # unset enabled means true
        ((VM_MOID, True, "manual"), "disabled", True),
        ((VM_MOID, True, None), "disabled", True),
        (("vm-9", False, None), "disabled", True),  # another VM's override
    ],
)
def test_migration_storage_drs_override(override, wanted, needed):
    result = migration_exclusion_step([pod("dsc-01", override)], None, wanted, "disabled")
    assert result["needed"] is needed and result["drs"] is None
    assert result["storage_drs"] == [dict(name="dsc-01", override=pod("dsc-01", override)["override"])]
    if needed:
        assert result["reason"] == f"Datastore cluster 'dsc-01' has no Storage DRS override {wanted} for the VM."


def test_migration_only_the_pods_without_the_override_are_named():
    pods = [pod("dsc-01", (VM_MOID, False, None)), pod("dsc-02"), pod("dsc-03", (VM_MOID, True, "manual"), enabled=False)]
    result = migration_exclusion_step(pods, None, "disabled", "disabled")
    assert result["needed"] and [item["name"] for item in result["storage_drs"]] == ["dsc-01", "dsc-02", "dsc-03"]
    assert result["reason"] == (
        "Datastore cluster 'dsc-02' has no Storage DRS override disabled for the VM. "
        "Datastore cluster 'dsc-03' has no Storage DRS override disabled for the VM."
    )


@pytest.mark.parametrize(
    "overrides, wanted, needed",
    [
        ([(VM_MOID, False, None)], "disabled", False),
        ([(VM_MOID, True, "manual")], "manual", False),
        ([(VM_MOID, True, "manual")], "disabled", True),
        ([(VM_MOID, False, None)], "manual", True),
        ([(VM_MOID, True, "fullyAutomated")], "manual", True),
        ([], "disabled", True),
        ([("vm-9", False, None)], "disabled", True),
    ],
)
def test_migration_drs_override(overrides, wanted, needed):
    facts = cluster("C0", *overrides)
    result = migration_exclusion_step([], facts, "disabled", wanted)
    assert result["needed"] is needed and result["storage_drs"] == []
    assert result["drs"] == dict(name="C0", vm_overrides_enabled=True, override=facts["override"])
    if needed:
        assert result["reason"] == f"Cluster 'C0' has no DRS override {wanted} for the VM."


def overrides_off(name, *overrides):
    """cluster_facts of cluster() with VM overrides switched off."""
    return dict(cluster(name, *overrides), vm_overrides_enabled=False)


def test_migration_cluster_with_vm_overrides_off_is_needed_with_the_modules_refusal():
    result = migration_exclusion_step([], overrides_off("C0", (VM_MOID, False, None)), "disabled", "disabled", vm="/DC0/vm/asr/mt")
    assert result["needed"] and result["drs"]["vm_overrides_enabled"] is False
    assert result["reason"].startswith("vm_migration_exclusion would fail: VM overrides are switched off in cluster 'C0'")
    assert "VM /DC0/vm/asr/mt" in result["reason"] and "enable_cluster_vm_overrides: true" in result["reason"]


def test_migration_cluster_with_vm_overrides_off_would_switch_them_on_when_allowed():
    result = migration_exclusion_step([], overrides_off("C0", (VM_MOID, False, None)), "disabled", "disabled", enable_cluster_vm_overrides=True)
    assert result["needed"]
    assert result["reason"] == "VM overrides in cluster 'C0' would be switched on (enable_cluster_vm_overrides; a cluster-wide change)."
    both = migration_exclusion_step([], overrides_off("C0"), "disabled", "disabled", enable_cluster_vm_overrides=True)
    assert both["reason"].endswith("a cluster-wide change). Cluster 'C0' has no DRS override disabled for the VM.")


def test_migration_pod_and_cluster_reasons_together():
    result = migration_exclusion_step([pod("dsc-01")], cluster("C0"), "disabled", "manual")
    assert result["reason"] == (
        "Datastore cluster 'dsc-01' has no Storage DRS override disabled for the VM. Cluster 'C0' has no DRS override manual for the VM."
    )
