from __future__ import annotations

import re

import pytest
from pyVmomi import vim

from ansible_collections.siterecovery.master_target.plugins.module_utils._vsphere_lookup import ManagedObject
from ansible_collections.siterecovery.master_target.plugins.module_utils._vsphere_devices import (
    datastore_of_path,
    disk_record,
    gib,
    guest_ids,
    uuid_hex,
)
from ansible_collections.siterecovery.master_target.plugins.module_utils._vsphere_devices import marker_option as marker_of
from ansible_collections.siterecovery.master_target.plugins.module_utils._vsphere_devices import GIB, MARKER_KEY
from ansible_collections.siterecovery.master_target.plugins.module_utils._vsphere_retention import (
    PENDING_KEY,
    add_disk_spec,
    grow_spec,
    new_disk_uuid,
    record_options,
    retention_datastores,
)
from ansible_collections.siterecovery.master_target.plugins.modules.vm_retention_disk import remove_spec

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


def test_new_disk_uuid_has_vmware_form_and_is_random():
    first, second = new_disk_uuid(), new_disk_uuid()
    assert re.fullmatch(r"6000C29[0-9a-f]-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", first)
    assert first != second


def test_gib():
    assert gib(1024 * GIB) == 1024 and isinstance(gib(GIB), int)
    assert gib(GIB + GIB // 4) == 1.25


def test_retention_datastores_adds_the_uncommitted_bytes_to_the_shared_facts():
    ds = datastore("vmfs-a", free=10 * GIB)
    ds.props.update({"summary.capacity": 20 * GIB, "summary.uncommitted": 5 * GIB, "summary.maintenanceMode": "normal"})
    (facts,) = retention_datastores([ds])
    assert (facts["name"], facts["capacity"], facts["free_space"], facts["uncommitted"], facts["maintenance_mode"]) == (
        "vmfs-a", 20 * GIB, 10 * GIB, 5 * GIB, "normal")
    assert facts["mounts"] == {"host-1": dict(mounted=True, accessible=True, access_mode="readWrite")}


def test_datastore_of_path():
    assert datastore_of_path("[vmfs-mt-01] asr-mt-01/asr-mt-01.vmx") == "vmfs-mt-01"
    assert datastore_of_path(None) is None


# --- specs ------------------------------------------------------------------------------------


@pytest.mark.parametrize("provisioning, thin, eager", [("thin", True, False), ("thick", False, False), ("eager_zeroed", False, True)])
def test_add_disk_spec_creates_the_disk_and_writes_the_marker_and_its_slot_in_one_spec(provisioning, thin, eager):
    ds = vim.Datastore("ds-1")
    spec = add_disk_spec(1000, 1, 2, 1024, ds, "vmfs-mt-01", provisioning, UUID)
    (change,) = spec.deviceChange
    assert (change.operation, change.fileOperation) == ("add", "create")
    new = change.device
    assert (new.controllerKey, new.unitNumber, new.capacityInBytes, new.capacityInKB) == (1000, 2, 1024 * GIB, 1024 * 1024 * 1024)
    assert new.key < 0
    backing = new.backing
    assert (backing.fileName, backing.datastore, backing.uuid, backing.diskMode) == ("[vmfs-mt-01]", ds, UUID, "persistent")
    assert (backing.thinProvisioned, backing.eagerlyScrub) == (thin, eager)
    assert [(o.key, o.value) for o in spec.extraConfig] == [(MARKER_KEY, UUID), (PENDING_KEY, "scsi1:2")]


def test_record_options_name_the_uuid_read_back_and_remove_the_slot():
    assert [(o.key, o.value) for o in record_options(UUID)] == [(MARKER_KEY, UUID), (PENDING_KEY, "")]
    assert [o.key for o in record_options(UUID, "SiteRecovery.RetentionDisk.UUID", "x.pending")] == ["SiteRecovery.RetentionDisk.UUID", "x.pending"]


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
    pending = remove_spec(target, False, MARKER_KEY, PENDING_KEY)
    assert [(o.key, o.value) for o in pending.extraConfig] == [(MARKER_KEY, ""), (PENDING_KEY, "")]


def test_disk_record():
    devices = lsi_vm() + [disk(2002, 1000, 2, size_gb=1024, datastore=vim.Datastore("ds-7"), file_name="[old-name] mt/mt_2.vmdk")]
    record = disk_record(devices[-1], devices, {"ds-7": "vmfs-mt-01"})
    assert record == dict(
        label="Hard disk 3", key=2002, controller_bus=0, unit_number=2, file_name="[old-name] mt/mt_2.vmdk", datastore="vmfs-mt-01",
        uuid=UUID, by_id="wwn-0x6000c29ab1b51bf840d7a2e2c43fb182", wwid="36000c29ab1b51bf840d7a2e2c43fb182", size_gb=1024, provisioning="thin",
    )
    # Without a datastore reference, the name comes from the file's datastore path.
    assert disk_record(devices[1], devices, {})["datastore"] == "vmfs-mt-01"
