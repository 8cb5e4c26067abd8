from __future__ import annotations

import re

import pytest
from pyVmomi import vim

from ansible_collections.siterecovery.master_target.plugins.module_utils._vsphere_client import VSphereError
from ansible_collections.siterecovery.master_target.plugins.module_utils._vsphere_lookup import ManagedObject
from ansible_collections.siterecovery.master_target.plugins.module_utils._vsphere_devices import (
    datastore_of_path,
    disk_record,
    gib,
    guest_ids,
    uuid_hex,
)
from ansible_collections.siterecovery.master_target.plugins.module_utils._vsphere_devices import marker_option as marker_of
from ansible_collections.siterecovery.master_target.plugins.modules.vm_retention_disk import (
    GIB,
    MARKER_KEY,
    add_disk_spec,
    check_space,
    choose_slot,
    datastore_problem,
    free_units,
    grow_spec,
    marker_correction,
    new_disk_uuid,
    remove_spec,
    resolve_datastore,
    size_change,
)

UUID = "6000C29a-b1b5-1bf8-40d7-a2e2c43fb182"


def label(text):
    return vim.Description(label=text, summary=text)


def controller(cls, key, bus):
    return cls(key=key, busNumber=bus, scsiCtlrUnitNumber=7, sharedBus="noSharing", deviceInfo=label(f"SCSI controller {bus}"))


def disk(key, controller_key, unit, size_gb=1, uuid=UUID, datastore=None, file_name="[vmfs-mt-01] vm/vm_1.vmdk"):
    backing = vim.vm.device.VirtualDisk.FlatVer2BackingInfo(fileName=file_name, datastore=datastore, diskMode="persistent", thinProvisioned=True, uuid=uuid)
    return vim.vm.device.VirtualDisk(
        key=key, controllerKey=controller_key, unitNumber=unit, capacityInKB=size_gb * GIB // 1024, capacityInBytes=size_gb * GIB,
        backing=backing, deviceInfo=label(f"Hard disk {key - 1999}"),
    )


def lsi_vm(units=(0, 1)):
    """An LSI Logic SAS controller on bus 0 (key 1000) with disks at `units`."""
    return [controller(vim.vm.device.VirtualLsiLogicSASController, 1000, 0)] + [disk(2000 + i, 1000, unit) for i, unit in enumerate(units)]


def datastore(name, kind="VMFS", free=100 * GIB, mounts=(("host-1", "readWrite", True),), accessible=True, moid=None):
    host = [
        vim.Datastore.HostMount(key=vim.HostSystem(host_moid), mountInfo=vim.host.MountInfo(accessMode=mode, mounted=mounted, accessible=mounted))
        for host_moid, mode, mounted in mounts
    ]
    props = {"name": name, "summary.type": kind, "summary.accessible": accessible, "summary.freeSpace": free, "host": host}
    return ManagedObject(vim.Datastore(moid or f"ds-{name}"), props)


# --- marker and UUIDs ---------------------------------------------------------------------------


def test_marker_of_finds_the_key_without_case_and_treats_empty_as_unset():
    assert marker_of(None) == (MARKER_KEY, None)
    assert marker_of([vim.option.OptionValue(key="disk.EnableUUID", value="TRUE")]) == (MARKER_KEY, None)
    assert marker_of([vim.option.OptionValue(key="SiteRecovery.RetentionDisk.UUID", value=UUID)]) == ("SiteRecovery.RetentionDisk.UUID", UUID)
    assert marker_of([vim.option.OptionValue(key=MARKER_KEY, value="")]) == (MARKER_KEY, None)


@pytest.mark.parametrize("uuid", [UUID, UUID.upper(), "60 00 C2 9a b1 b5 1b f8-40 d7 a2 e2 c4 3f b1 82"])
def test_guest_ids_from_any_uuid_spelling(uuid):
    assert uuid_hex(uuid) == "6000c29ab1b51bf840d7a2e2c43fb182"
    assert guest_ids(uuid) == dict(by_id="wwn-0x6000c29ab1b51bf840d7a2e2c43fb182", wwid="36000c29ab1b51bf840d7a2e2c43fb182")


def test_guest_ids_of_no_or_malformed_uuid():
    assert guest_ids(None) == dict(by_id=None, wwid=None)
    assert guest_ids("6000c29") == dict(by_id=None, wwid=None)


def test_marker_correction_only_when_vcenter_changed_the_uuid():
    assert marker_correction(UUID, UUID.upper(), "d") is None
    other = "6000C291-1111-2222-3333-444444444444"
    assert marker_correction(UUID, other, "d") == other
    with pytest.raises(VSphereError, match="d has no backing UUID"):
        marker_correction(UUID, None, "d")


def test_new_disk_uuid_has_vmware_form_and_is_random():
    first, second = new_disk_uuid(), new_disk_uuid()
    assert re.fullmatch(r"6000C29[0-9a-f]-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", first)
    assert first != second


# --- controller and unit ------------------------------------------------------------------------


def test_free_units_skip_the_controllers_own_unit_and_used_ones():
    devices = lsi_vm(units=(0, 1, 2))
    assert free_units(devices, devices[0]) == [3, 4, 5, 6, 8, 9, 10, 11, 12, 13, 14, 15]


def test_free_units_default_own_unit_is_7():
    ctrl = controller(vim.vm.device.VirtualLsiLogicController, 1000, 0)
    ctrl.scsiCtlrUnitNumber = None
    assert 7 not in free_units([ctrl], ctrl) and len(free_units([ctrl], ctrl)) == 15


def test_choose_slot_first_lsi_controller_with_room():
    full = [u for u in range(16) if u != 7]
    devices = (
        [controller(vim.vm.device.VirtualLsiLogicController, 1001, 1), controller(vim.vm.device.VirtualLsiLogicSASController, 1000, 0)]
        + [disk(2000 + u, 1000, u) for u in full]
        + [disk(2100, 1001, 0)]
    )
    ctrl, unit = choose_slot(devices, None, "/DC0/vm/mt")
    assert (ctrl.busNumber, unit) == (1, 1)


def test_choose_slot_on_the_asked_bus():
    devices = lsi_vm() + [controller(vim.vm.device.VirtualLsiLogicController, 1001, 1)]
    ctrl, unit = choose_slot(devices, 1, "mt")
    assert (ctrl.key, unit) == (1001, 0)


def test_choose_slot_without_lsi_controller_points_to_vm_scsi_controller():
    devices = [controller(vim.vm.device.ParaVirtualSCSIController, 1000, 0), disk(2000, 1000, 0)]
    with pytest.raises(VSphereError, match=r"VM mt has no LSI Logic SCSI controller \(its SCSI controllers: bus 0 \(paravirtual\)\).*vm_scsi_controller"):
        choose_slot(devices, None, "mt")


def test_choose_slot_bus_errors():
    devices = lsi_vm() + [controller(vim.vm.device.ParaVirtualSCSIController, 1001, 1)]
    with pytest.raises(VSphereError, match="no SCSI controller on bus 3"):
        choose_slot(devices, 3, "mt")
    with pytest.raises(VSphereError, match="bus 1 of VM mt is paravirtual, not LSI Logic"):
        choose_slot(devices, 1, "mt")


def test_choose_slot_all_units_taken():
    devices = lsi_vm(units=[u for u in range(16) if u != 7])
    with pytest.raises(VSphereError, match="No free unit number on bus 0 \\(lsilogicsas\\)"):
        choose_slot(devices, None, "mt")


# --- sizes ------------------------------------------------------------------------------------


def test_size_change():
    assert size_change(GIB, 1, False, "d") is False
    assert size_change(GIB, 2, True, "d") is True
    with pytest.raises(VSphereError, match="d is 1 GB, smaller than size_gb 2 GB. Set grow: true"):
        size_change(GIB, 2, False, "d")
    with pytest.raises(VSphereError, match="d is 1.5 GB, larger than size_gb 1 GB: a disk is never shrunk"):
        size_change(GIB + GIB // 2, 1, True, "d")


def test_gib():
    assert gib(1024 * GIB) == 1024 and isinstance(gib(GIB), int)
    assert gib(GIB + GIB // 4) == 1.25


def test_check_space_only_when_more_than_free():
    ds = datastore("vmfs-a", free=10 * GIB)
    check_space(ds, 0, "thin")
    check_space(ds, 10 * GIB, "exactly the free space")
    with pytest.raises(VSphereError, match="Datastore 'vmfs-a' has 10 GB free, not enough for a new 11 GB disk \\(11 GB, thick provisioned\\)"):
        check_space(ds, 11 * GIB, "a new 11 GB disk")


# --- datastores -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "ds, problem",
    [
        (datastore("a"), None),
        (datastore("a", kind="vsan"), None),
        (datastore("a", kind="NFS"), "is an NFS datastore (NFS)"),
        (datastore("a", kind="NFS41"), "is an NFS datastore (NFS41)"),
        (datastore("a", kind="VVOL"), "is of type VVOL"),
        (datastore("a", accessible=False), "is not accessible"),
        (datastore("a", mounts=(("host-2", "readWrite", True),)), "is not mounted on the VM's host (host-1)"),
        (datastore("a", mounts=(("host-1", "readWrite", False),)), "is not mounted on the VM's host (host-1)"),
        (datastore("a", mounts=(("host-1", "readOnly", True),)), "is mounted readOnly on the VM's host (host-1)"),
    ],
)
def test_datastore_problem(ds, problem):
    found = datastore_problem(ds, "host-1")
    assert (found if problem is None else found[: len(problem)]) == problem


def test_datastore_problem_names_the_host_by_name_when_known():
    ds = datastore("a", mounts=(("host-1", "readOnly", True),))
    assert datastore_problem(ds, "host-1", "esx-01.lab.local").startswith("is mounted readOnly on the VM's host esx-01.lab.local (host-1),")


def test_resolve_datastore_unknown_lists_usable_ones():
    datastores = [datastore("vmfs-b"), datastore("vmfs-a"), datastore("nfs", kind="NFS")]
    with pytest.raises(VSphereError, match="Datastore 'x' was not found. Datastores usable for the retention disk of VM mt: vmfs-a, vmfs-b. "):
        resolve_datastore(datastores, "x", "host-1", "mt")
    with pytest.raises(VSphereError, match="Datastore 'nfs' is an NFS datastore"):
        resolve_datastore(datastores, "nfs", "host-1", "mt")


def test_resolve_datastore_same_name_picks_the_one_the_host_mounts():
    other = datastore("shared", mounts=(("host-9", "readWrite", True),), moid="ds-other")
    mine = datastore("shared", moid="ds-mine")
    assert resolve_datastore([other, mine], "shared", "host-1", "mt") is mine


def test_datastore_of_path():
    assert datastore_of_path("[vmfs-mt-01] asr-mt-01/asr-mt-01.vmx") == "vmfs-mt-01"
    assert datastore_of_path(None) is None


# --- specs ------------------------------------------------------------------------------------


@pytest.mark.parametrize("provisioning, thin, eager", [("thin", True, False), ("thick", False, False), ("eager_zeroed", False, True)])
def test_add_disk_spec_creates_the_disk_and_writes_the_marker_in_one_spec(provisioning, thin, eager):
    ds = vim.Datastore("ds-1")
    spec = add_disk_spec(1000, 2, 1024, ds, "vmfs-mt-01", provisioning, UUID)
    (change,) = spec.deviceChange
    assert (change.operation, change.fileOperation) == ("add", "create")
    new = change.device
    assert (new.controllerKey, new.unitNumber, new.capacityInBytes, new.capacityInKB) == (1000, 2, 1024 * GIB, 1024 * 1024 * 1024)
    assert new.key < 0
    backing = new.backing
    assert (backing.fileName, backing.datastore, backing.uuid, backing.diskMode) == ("[vmfs-mt-01]", ds, UUID, "persistent")
    assert (backing.thinProvisioned, backing.eagerlyScrub) == (thin, eager)
    assert [(o.key, o.value) for o in spec.extraConfig] == [(MARKER_KEY, UUID)]


def test_grow_spec_sets_both_capacity_fields():
    spec = grow_spec(disk(2002, 1000, 2, size_gb=1), 2)
    (change,) = spec.deviceChange
    assert change.operation == "edit" and not change.fileOperation
    assert (change.device.capacityInBytes, change.device.capacityInKB, change.device.key) == (2 * GIB, 2 * 1024 * 1024, 2002)


def test_remove_spec_detaches_unless_delete_files_and_removes_the_marker():
    target = disk(2002, 1000, 2)
    detach = remove_spec(target, False)
    assert [(c.operation, c.fileOperation) for c in detach.deviceChange] == [("remove", None)]
    assert [(o.key, o.value) for o in detach.extraConfig] == [(MARKER_KEY, "")]
    destroy = remove_spec(target, True, "SiteRecovery.RetentionDisk.UUID")
    assert [(c.operation, c.fileOperation) for c in destroy.deviceChange] == [("remove", "destroy")]
    assert [o.key for o in destroy.extraConfig] == ["SiteRecovery.RetentionDisk.UUID"]
    assert remove_spec(None, False).deviceChange == []


def test_disk_record():
    devices = lsi_vm() + [disk(2002, 1000, 2, size_gb=1024, datastore=vim.Datastore("ds-7"), file_name="[old-name] mt/mt_2.vmdk")]
    record = disk_record(devices[-1], devices, {"ds-7": "vmfs-mt-01"})
    assert record == dict(
        label="Hard disk 3", key=2002, controller_bus=0, unit_number=2, file_name="[old-name] mt/mt_2.vmdk", datastore="vmfs-mt-01",
        uuid=UUID, by_id="wwn-0x6000c29ab1b51bf840d7a2e2c43fb182", wwid="36000c29ab1b51bf840d7a2e2c43fb182", size_gb=1024, provisioning="thin",
    )
    # Without a datastore reference, the name comes from the file's datastore path.
    assert disk_record(devices[1], devices, {})["datastore"] == "vmfs-mt-01"
