"""The retention disk decisions of vm_retention_disk (and of vm_preparation_info's retention_disk step)."""

from __future__ import annotations

import pytest
from pyVmomi import vim

from ansible_collections.siterecovery.master_target.plugins.module_utils._vsphere_client import VSphereError
from ansible_collections.siterecovery.master_target.plugins.module_utils._vsphere_devices import GIB, MARKER_KEY, controller_records, disk_record
from ansible_collections.siterecovery.master_target.plugins.module_utils._vsphere_retention import (
    PENDING_KEY,
    check_space,
    choose_slot,
    disk_at,
    find_retention_disk,
    free_units,
    overcommit_warning,
    parse_slot,
    plan_existing_disk,
    plan_new_disk,
    recorded_uuid,
    refuse_stale_marker,
    resolve_datastore,
    size_change,
    slot_text,
)

UUID = "6000C29a-b1b5-1bf8-40d7-a2e2c43fb182"
OTHER = "6000C291-1111-2222-3333-444444444444"
VM = "/DC0/vm/mt"
HOST = dict(name="esx-01", moid="host-1")


def label(text):
    return vim.Description(label=text, summary=text)


def controller(key, bus, cls=vim.vm.device.VirtualLsiLogicSASController):
    return cls(key=key, busNumber=bus, scsiCtlrUnitNumber=7, sharedBus="noSharing", deviceInfo=label(f"SCSI controller {bus}"))


def disk(key, controller_key, unit, size_gb=1, uuid=UUID, provisioning="thin", parent=None):
    backing = vim.vm.device.VirtualDisk.FlatVer2BackingInfo(
        fileName=f"[vmfs-a] mt/mt_{key}.vmdk", diskMode="persistent", thinProvisioned=provisioning == "thin",
        eagerlyScrub=provisioning == "eager_zeroed", uuid=uuid, parent=parent,
    )
    return vim.vm.device.VirtualDisk(
        key=key, controllerKey=controller_key, unitNumber=unit, capacityInKB=size_gb * GIB // 1024, capacityInBytes=size_gb * GIB,
        backing=backing, deviceInfo=label(f"Hard disk {key - 1999}"),
    )


def cdrom(key, controller_key, unit):
    return vim.vm.device.VirtualCdrom(key=key, controllerKey=controller_key, unitNumber=unit, deviceInfo=label(f"CD/DVD drive {key - 2999}"))


def lsi_vm(units=(0, 1)):
    """An LSI Logic SAS controller on bus 0 (key 1000) with disks at `units`, the first with UUID."""
    return [controller(1000, 0)] + [disk(2000 + i, 1000, unit, uuid=UUID if i == 0 else f"6000C29{i}-0000-0000-0000-000000000000")
                                    for i, unit in enumerate(units)]


def full_vm(buses=4, filler=None):
    """LSI Logic SAS controllers on `buses` buses, every unit but 7 held by a disk (or by `filler(key, controller, unit)`)."""
    devices, key = [], 2000
    for bus in range(buses):
        devices.append(controller(1000 + bus, bus))
        for unit in (u for u in range(16) if u != 7):
            make = filler if filler is not None and bus == 0 and unit == 15 else None
            devices.append(make(3000, 1000 + bus, unit) if make else disk(key, 1000 + bus, unit, uuid=None))
            key += 1
    return devices


def option(key, value):
    return vim.option.OptionValue(key=key, value=value)


def datastore(name="vmfs-a", kind="VMFS", free=100 * GIB, capacity=200 * GIB, mounts=None, maintenance="normal", uncommitted=None, moid=None):
    """datastore_facts (with `uncommitted`, as vm_retention_disk reads it); mounted read/write on HOST by default."""
    mounts = {HOST["moid"]: dict(mounted=True, accessible=True, access_mode="readWrite")} if mounts is None else mounts
    return dict(name=name, moid=moid or f"ds-{name}", type=kind, capacity=capacity, free_space=free, maintenance_mode=maintenance,
                vmfs_uuid=None, mounts=mounts, uncommitted=uncommitted)


# --- finding the disk ---------------------------------------------------------------------------


def test_slots():
    assert slot_text(0, 2) == "scsi0:2" and parse_slot("scsi0:2") == (0, 2) and parse_slot(" SCSI3:15 ") == (3, 15)
    assert parse_slot(None) is None and parse_slot("0:2") is None
    devices = lsi_vm()
    assert disk_at(devices, 0, 1).key == 2001 and disk_at(devices, 0, 2) is None and disk_at(devices, 1, 0) is None


def test_the_marker_names_the_disk_and_a_leftover_slot_is_to_remove():
    found = find_retention_disk(lsi_vm(), [option(MARKER_KEY.upper(), UUID.lower()), option(PENDING_KEY, "scsi0:1")], VM)
    assert (found.disk.key, found.marker_key, found.marker, found.pending, found.to_record) == (2000, MARKER_KEY.upper(), UUID.lower(), "scsi0:1", False)
    assert found.leftover_pending
    assert not find_retention_disk(lsi_vm(), [option(MARKER_KEY, UUID)], VM).leftover_pending


def test_a_disk_the_host_gave_its_own_uuid_is_found_by_its_pending_slot_to_record():
    # The run added the disk at scsi0:1 with the marker UUID; the host gave the disk another uuid; the run stopped there.
    devices = [controller(1000, 0), disk(2000, 1000, 0, uuid=None), disk(2001, 1000, 1, uuid=OTHER)]
    found = find_retention_disk(devices, [option(MARKER_KEY, UUID), option(PENDING_KEY, "scsi0:1")], VM)
    assert (found.disk.key, found.to_record) == (2001, True)
    refuse_stale_marker(found, VM)  # not stale: the disk is there
    assert recorded_uuid(found.disk, "d") == OTHER


def test_a_marker_naming_no_disk_is_stale_unless_the_slot_holds_one():
    found = find_retention_disk(lsi_vm(), [option(MARKER_KEY, OTHER), option(PENDING_KEY, "scsi0:5")], VM)
    assert found.disk is None and found.marker == OTHER
    with pytest.raises(VSphereError, match=f"VM {VM} has the retention disk marker {MARKER_KEY}={OTHER}, but none of its disks.*state: absent"):
        refuse_stale_marker(found, VM)
    nothing = find_retention_disk(lsi_vm(), None, VM)
    assert nothing.disk is None and nothing.marker is None and nothing.pending is None
    refuse_stale_marker(nothing, VM)


def test_two_disks_with_the_marker_uuid_are_refused():
    devices = lsi_vm() + [disk(2005, 1000, 5, uuid=UUID)]
    with pytest.raises(VSphereError, match=f"2 disks of VM {VM} have the UUID {UUID}"):
        find_retention_disk(devices, [option(MARKER_KEY, UUID)], VM)


def test_a_disk_without_uuid_cannot_be_recorded():
    with pytest.raises(VSphereError, match="d has no backing UUID"):
        recorded_uuid(disk(2001, 1000, 1, uuid=None), "d")


# --- where a new disk goes ----------------------------------------------------------------------


def test_free_units_skip_the_controllers_own_unit_and_used_ones():
    (record,) = controller_records(lsi_vm(units=(0, 1, 2)))
    assert free_units(record) == [3, 4, 5, 6, 8, 9, 10, 11, 12, 13, 14, 15]


def test_choose_slot_first_lsi_controller_with_room():
    full = [u for u in range(16) if u != 7]
    devices = [controller(1001, 1), controller(1000, 0)] + [disk(2000 + u, 1000, u) for u in full] + [disk(2100, 1001, 0)]
    record, unit = choose_slot(devices, None, VM)
    assert (record["bus"], record["key"], unit) == (1, 1001, 1)


def test_choose_slot_on_the_asked_bus():
    record, unit = choose_slot(lsi_vm() + [controller(1001, 1, vim.vm.device.VirtualLsiLogicController)], 1, VM)
    assert (record["key"], unit) == (1001, 0)


def test_choose_slot_without_lsi_controller_points_to_vm_scsi_controller():
    devices = [controller(1000, 0, vim.vm.device.ParaVirtualSCSIController), disk(2000, 1000, 0)]
    with pytest.raises(VSphereError, match=r"VM /DC0/vm/mt has no LSI Logic SCSI controller \(its SCSI controllers: SCSI controller 0 "
                                           r"\(bus 0, paravirtual\)\).*vm_scsi_controller"):
        choose_slot(devices, None, VM)


def test_choose_slot_bus_errors():
    devices = lsi_vm() + [controller(1001, 1, vim.vm.device.ParaVirtualSCSIController)]
    with pytest.raises(VSphereError, match="no SCSI controller on bus 3"):
        choose_slot(devices, 3, VM)
    with pytest.raises(VSphereError, match=f"bus 1 of VM {VM} is paravirtual, not LSI Logic"):
        choose_slot(devices, 1, VM)
    with pytest.raises(VSphereError, match="No free unit number on SCSI controller 0 .*Choose another controller_bus"):
        choose_slot(full_vm(buses=1), 0, VM)


def test_full_lsi_controllers_with_free_buses_ask_for_another_controller():
    with pytest.raises(VSphereError, match=r"No free unit number on SCSI controller 0 \(bus 0, lsilogicsas\), SCSI controller 1 \(bus 1, "
                                           r"lsilogicsas\) of VM /DC0/vm/mt.*Add an LSI Logic controller on a free bus \(2, 3\)"):
        choose_slot(full_vm(buses=2), None, VM)


def test_sixty_disks_on_four_controllers_is_the_limit():
    with pytest.raises(VSphereError) as error:
        choose_slot(full_vm(), None, VM)
    assert error.value.msg.startswith(f"VM {VM} has 60 disks: it is at the 60-disk limit of a VM's 4 SCSI controllers")
    assert "Azure Site Recovery also imposes on a master target" in error.value.msg and "remove a disk" in error.value.msg
    assert "Add an LSI Logic controller" not in error.value.msg


def test_sixty_disks_even_with_fewer_controllers_is_the_limit():
    # A ParaVirtual controller (hardware version 14+) holds more than 15 disks.
    devices = full_vm(buses=1) + [controller(1009, 1, vim.vm.device.ParaVirtualSCSIController)]
    devices += [disk(2500 + unit, 1009, unit, uuid=None) for unit in range(46)]
    with pytest.raises(VSphereError, match=f"VM {VM} has 61 disks: it is over the 60-disk limit"):
        choose_slot(devices, None, VM)


def test_four_full_controllers_with_fewer_than_60_disks_name_the_other_devices():
    devices = full_vm(filler=cdrom)
    with pytest.raises(VSphereError) as error:
        choose_slot(devices, None, VM)
    assert error.value.msg.startswith(f"VM {VM} has the most SCSI controllers a VM can have (4) and every unit is taken, but only 59 disks")
    assert "CD/DVD drive 1 (scsi0:15)" in error.value.msg and "Remove one of them" in error.value.msg


def test_four_controllers_with_room_only_on_one_that_is_not_lsi_logic_ask_to_convert_it():
    devices = [d for d in full_vm() if not (isinstance(d, vim.vm.device.VirtualDisk) and d.controllerKey == 1003 and d.unitNumber > 0)]
    devices[devices.index(next(d for d in devices if d.key == 1003))] = controller(1003, 3, vim.vm.device.ParaVirtualSCSIController)
    with pytest.raises(VSphereError, match=r"SCSI controller 3 \(bus 3, paravirtual\) has room but is not LSI Logic. Convert it"):
        choose_slot(devices, None, VM)


# --- datastores and space -----------------------------------------------------------------------


def test_resolve_datastore_unknown_lists_usable_ones():
    datastores = [datastore("vmfs-b"), datastore("vmfs-a"), datastore("nfs", kind="NFS"), datastore("vmfs-a", moid="ds-a2")]
    with pytest.raises(VSphereError, match=f"Datastore 'x' was not found. Datastores usable for the retention disk of VM {VM}: vmfs-a, vmfs-b. "):
        resolve_datastore(datastores, "x", HOST, VM)


@pytest.mark.parametrize(
    "ds, words",
    [
        (datastore(kind="NFS"), ["it is an NFS datastore", "VMFS or vSAN"]),
        (datastore(mounts={}), ["it is not attached to that host", "rescan"]),
        (datastore(mounts={"host-1": dict(mounted=False, accessible=False, access_mode="readWrite")}),
         ["attached to that host but not mounted", "Fix: mount it on the host with siterecovery.master_target.host_datastore_access"]),
        (datastore(mounts={"host-1": dict(mounted=True, accessible=True, access_mode="readOnly")}), ["read-only (access mode readOnly)"]),
        (datastore(maintenance="inMaintenance"), ["maintenance mode (inMaintenance)", "out of maintenance mode"]),
        (datastore(maintenance="enteringMaintenance"), ["maintenance mode (enteringMaintenance)"]),
    ],
)
def test_resolve_datastore_refuses_with_the_shared_check_naming_the_host(ds, words):
    with pytest.raises(VSphereError) as error:
        resolve_datastore([ds], "vmfs-a", HOST, VM)
    msg = error.value.msg
    assert msg.startswith(f"Datastore 'vmfs-a' cannot be used from host 'esx-01' (host-1), the host of VM {VM}: ")
    assert msg.endswith("Or choose another datastore with the datastore option. Nothing was changed.")
    for word in words:
        assert word in msg


def test_resolve_datastore_vsan_in_any_case_and_same_name_picks_the_one_the_host_has():
    assert resolve_datastore([datastore(kind="vsan")], "vmfs-a", HOST, VM)["type"] == "vsan"
    other = datastore("shared", mounts={"host-9": dict(mounted=True, accessible=True, access_mode="readWrite")}, moid="ds-other")
    mine = datastore("shared", moid="ds-mine")
    assert resolve_datastore([other, mine], "shared", HOST, VM) is mine


def test_check_space_thick_refuses_more_than_free_naming_the_figures():
    ds = datastore(free=10 * GIB, capacity=50 * GIB)
    assert check_space(ds, "thick", 10 * GIB, "exactly the free space") is None
    with pytest.raises(VSphereError, match=r"Datastore 'vmfs-a' has 10 GB free of 50 GB, not enough for a new 11 GB disk \(11 GB, thick "
                                           r"provisioned: vCenter allocates it all at once\).*provisioning: thin"):
        check_space(ds, "eager_zeroed", 11 * GIB, "a new 11 GB disk")


def test_check_space_thin_larger_than_free_is_an_overcommit_with_the_figures():
    assert check_space(datastore(free=10 * GIB), "thin", 10 * GIB, "d") is None
    ds = datastore(free=8000 * GIB, capacity=8192 * GIB, uncommitted=500 * GIB)
    overcommit = check_space(ds, "thin", 16384 * GIB, "d")
    assert overcommit == dict(datastore="vmfs-a", size_gb=16384, free_gb=8000, capacity_gb=8192, provisioned_gb=692)
    text = overcommit_warning(overcommit, "The new retention disk of VM mt (16384 GB, thin)")
    assert text.startswith("The new retention disk of VM mt (16384 GB, thin) is larger than the free space of datastore 'vmfs-a' "
                           "(8000 GB free of 8192 GB, 692 GB provisioned).")
    assert "writes the whole retention volume" in text
    unread = check_space(datastore(free=GIB), "thin", 2 * GIB, "d")
    assert unread["provisioned_gb"] is None and "provisioned" not in overcommit_warning(unread, "x")


# --- a new disk, an existing disk ---------------------------------------------------------------


def test_plan_new_disk():
    plan = plan_new_disk(lsi_vm(), [datastore(free=GIB)], HOST, VM, 2, "vmfs-a", "thin", None)
    assert (plan["datastore"]["name"], plan["controller"]["bus"], plan["unit"]) == ("vmfs-a", 0, 2)
    assert plan["overcommit"]["size_gb"] == 2
    with pytest.raises(VSphereError, match="not on any ESXi host"):
        plan_new_disk(lsi_vm(), [datastore()], None, VM, 2, "vmfs-a", "thin", None)


def test_size_change():
    assert size_change(GIB, 1, False, "d") is False
    assert size_change(GIB, 2, True, "d") is True
    with pytest.raises(VSphereError, match="d is 1 GB, smaller than size_gb 2 GB. Set grow: true"):
        size_change(GIB, 2, False, "d")
    with pytest.raises(VSphereError, match="d is 1.5 GB, larger than size_gb 1 GB: a disk is never shrunk"):
        size_change(GIB + GIB // 2, 1, True, "d")


def existing(size_gb=1, provisioning="thin", parent=None):
    devices = lsi_vm() + [disk(2002, 1000, 2, size_gb=size_gb, provisioning=provisioning, parent=parent)]
    return devices[-1], disk_record(devices[-1], devices, {})


def test_plan_existing_disk_in_place_or_grown():
    target, record = existing()
    assert plan_existing_disk(target, record, [datastore()], 1, False, None, "d") == dict(grow=False, overcommit=None)
    assert plan_existing_disk(target, record, [datastore()], 3, True, "vmfs-a", "d") == dict(grow=True, overcommit=None)
    grown = plan_existing_disk(target, record, [datastore(free=GIB)], 3, True, None, "d")
    assert grown["grow"] and grown["overcommit"]["size_gb"] == 2  # the growth, thin


def test_plan_existing_disk_refusals():
    target, record = existing(provisioning="thick")
    with pytest.raises(VSphereError, match="d is on datastore vmfs-a, not vmfs-b. The module never moves a disk"):
        plan_existing_disk(target, record, [datastore()], 1, False, "vmfs-b", "d")
    with pytest.raises(VSphereError, match="not enough for growing Hard disk 3 to 3 GB"):
        plan_existing_disk(target, record, [datastore(free=GIB)], 3, True, None, "d")
    snapped, snapped_record = existing(parent=vim.vm.device.VirtualDisk.FlatVer2BackingInfo(fileName="[vmfs-a] mt/mt.vmdk"))
    with pytest.raises(VSphereError, match="d has snapshots, so it cannot grow"):
        plan_existing_disk(snapped, snapped_record, [datastore()], 3, True, None, "d")
