# -*- coding: utf-8 -*-
# Copyright: (c) 2026, siterecovery.master_target contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The retention disk of a master target, as pure functions: which disk it is, where a new one goes,
whether it must grow, and whether its datastore can take it.

vm_retention_disk decides with these, and vm_preparation_info (retention_disk_step) calls the very
same functions, so the plan and the module never disagree.
"""

from __future__ import annotations

import re
import secrets
from typing import NamedTuple

from ansible_collections.siterecovery.master_target.plugins.module_utils._vsphere_client import VSphereError
from ansible_collections.siterecovery.master_target.plugins.module_utils._vsphere_datastores import datastore_facts, datastore_problem, pick_for_host
from ansible_collections.siterecovery.master_target.plugins.module_utils._vsphere_devices import (
    GIB,
    LSI_TYPES,
    MARKER_KEY,
    controller_records,
    describe_controllers,
    disk_record,
    disk_bytes,
    disks_with_uuid,
    find_option,
    gib,
    marker_option,
    option_value,
)
from ansible_collections.siterecovery.master_target.plugins.module_utils._vsphere_lookup import reread

try:
    from pyVmomi import vim
except ImportError:  # pragma: no cover - connect() reports the missing library
    pass

# Where vm_retention_disk puts a new disk, written in the same reconfiguration that creates it
# ("scsi<bus>:<unit>", which vCenter keeps as given), and removed once the marker names the uuid
# read back from the created disk. vCenter may give a new disk another uuid than the one supplied
# (the API says "if available"): should a run stop between the two reconfigurations, the next run
# finds the disk it added by this slot instead of adding a second one.
PENDING_KEY = "siterecovery.retentionDisk.pending"
UNITS = 16  # an LSI Logic controller has units 0-15...
CONTROLLER_UNIT = 7  # ...of which 7 is its own
MAX_CONTROLLERS = 4  # SCSI controllers per VM
MAX_DISKS = 60  # 4 x 15: the most a VM holds on LSI Logic, and the most ASR allows on a master target


class RetentionDisk(NamedTuple):
    """The retention disk as found: the disk (None when there is none), the marker and the pending slot.

    `to_record` is true when the disk was found by the pending slot only: the marker must be set to its uuid.
    `leftover_pending` is true when the marker names the disk and a pending slot is still set: a run recorded
    the uuid but the reply was lost before it learnt so, or an older run left it; the slot is removed, so
    that the VM's options end as an uncut run leaves them.
    """

    disk: object
    marker_key: str
    marker: str
    pending_key: str
    pending: str
    to_record: bool
    leftover_pending: bool = False


def slot_text(bus, unit):
    """Pure: 'scsi0:2', the way the VMX names SCSI bus 0, unit 2."""
    return f"scsi{bus}:{unit}"


def parse_slot(text):
    """Pure: (bus, unit) of 'scsi0:2', or None."""
    match = re.fullmatch(r"\s*scsi(\d+):(\d+)\s*", text or "", re.IGNORECASE)
    return (int(match.group(1)), int(match.group(2))) if match else None


def disk_at(devices, bus, unit):
    """Pure: the virtual disk at SCSI bus `bus`, unit `unit`, or None."""
    controller = next((d for d in devices or [] if isinstance(d, vim.vm.device.VirtualSCSIController) and d.busNumber == bus), None)
    if controller is None:
        return None
    return next((d for d in devices if isinstance(d, vim.vm.device.VirtualDisk) and d.controllerKey == controller.key and d.unitNumber == unit), None)


def find_retention_disk(devices, extra_config, vm_path):
    """Pure: the VM's retention disk: the disk the marker names (a pending slot next to it is a leftover), else
    the disk at the pending slot.

    Raises when the marker names several disks. A marker naming no disk (and no disk at the pending
    slot) gives disk None with the marker set: see refuse_stale_marker.
    """
    marker_key, marker = marker_option(extra_config)
    pending_option = find_option(extra_config, PENDING_KEY)
    pending_key = pending_option.key if pending_option is not None else PENDING_KEY
    pending = option_value(extra_config, PENDING_KEY)
    marked = disks_with_uuid(devices, marker) if marker else []
    if len(marked) > 1:
        raise VSphereError(
            f"{len(marked)} disks of VM {vm_path} have the UUID {marker} of the retention disk marker {marker_key}: "
            "fix the duplicate disk UUIDs in vCenter. Nothing was changed."
        )
    if marked:
        return RetentionDisk(marked[0], marker_key, marker, pending_key, pending, False, bool((pending or "").strip()))
    slot = parse_slot(pending)
    added = disk_at(devices, *slot) if slot else None
    return RetentionDisk(added, marker_key, marker, pending_key, pending, added is not None)


def refuse_stale_marker(found, vm_path):
    """Pure: raise when the marker names a disk the VM no longer has (state: present must not add a second one)."""
    if found.disk is None and found.marker:
        raise VSphereError(
            f"VM {vm_path} has the retention disk marker {found.marker_key}={found.marker}, but none of its disks has that UUID: the disk "
            "was removed or replaced outside this module. Nothing was changed, so that no second retention disk is added by mistake. "
            "If the old disk is really gone, run with state: absent to clear the marker, then with state: present."
        )


def recorded_uuid(disk, what):
    """Pure: the uuid of `disk` for the marker; raises when vCenter reports none."""
    uuid = getattr(disk.backing, "uuid", None)
    if not uuid:
        raise VSphereError(f"{what} has no backing UUID, so the retention disk marker cannot name it. Check the disk in vCenter.")
    return uuid


# ---- where a new disk goes ------------------------------------------------------------------------


def free_units(controller):
    """Pure: the unit numbers still free on a SCSI controller (controller_records), lowest first (never 7, its own)."""
    used = {device["unit"] for device in controller["devices"]}
    return [unit for unit in range(UNITS) if unit != CONTROLLER_UNIT and unit not in used]


def holders(controllers):
    """Pure: 'CD/DVD drive 1 (scsi0:3), ...': the devices other than disks that hold SCSI units."""
    return ", ".join(
        f"{device['label']} ({slot_text(controller['bus'], device['unit'])})"
        for controller in controllers
        for device in controller["devices"]
        if device["kind"] != "disk"
    )


def no_free_unit(devices, controllers, lsi, vm_path):
    """Pure: the VSphereError for a VM whose LSI Logic controllers have no free unit, naming the way out."""
    disk_count = sum(1 for d in devices or [] if isinstance(d, vim.vm.device.VirtualDisk))
    if disk_count >= MAX_DISKS:
        where = "at" if disk_count == MAX_DISKS else "over"
        return VSphereError(
            f"VM {vm_path} has {disk_count} disks: it is {where} the {MAX_DISKS}-disk limit of a VM's {MAX_CONTROLLERS} SCSI controllers "
            f"({UNITS - 1} units each), which Azure Site Recovery also imposes on a master target (its own disks plus the protected disks of "
            "every VM reprotected to it). There is no room for a retention disk: remove a disk the master target does not need (or use "
            "another master target for some protected VMs), then run again. Nothing was changed."
        )
    if len(controllers) < MAX_CONTROLLERS:
        buses = sorted(set(range(MAX_CONTROLLERS)) - {c["bus"] for c in controllers})
        return VSphereError(
            f"No free unit number on {describe_controllers(lsi)} of VM {vm_path}: units 0-15 but {CONTROLLER_UNIT} are all taken. "
            f"Add an LSI Logic controller on a free bus ({', '.join(str(bus) for bus in buses)}) in vCenter (or free a unit), then run "
            "again. Nothing was changed."
        )
    others = [c for c in controllers if c["type"] not in LSI_TYPES and free_units(c)]
    if others:
        return VSphereError(
            f"VM {vm_path} has the most SCSI controllers a VM can have ({MAX_CONTROLLERS}), and every unit of its LSI Logic ones "
            f"({describe_controllers(lsi)}) is taken; {describe_controllers(others)} has room but is not LSI Logic. Convert it with "
            "siterecovery.master_target.vm_scsi_controller (convert: true; the VM must be powered off), then run again. Nothing was changed."
        )
    return VSphereError(
        f"VM {vm_path} has the most SCSI controllers a VM can have ({MAX_CONTROLLERS}) and every unit is taken, but only {disk_count} "
        f"disks: these devices hold the other units: {holders(controllers) or 'none'}. Remove one of them (or a disk the master target "
        "does not need), then run again. Nothing was changed."
    )


def choose_slot(devices, bus, vm_path):
    """Pure: (controller record, unit) for a new disk: on the LSI Logic controller on `bus`, else on the first with room."""
    controllers = controller_records(devices)
    lsi = [c for c in controllers if c["type"] in LSI_TYPES]
    if bus is not None:
        on_bus = [c for c in controllers if c["bus"] == bus]
        if not on_bus:
            raise VSphereError(
                f"VM {vm_path} has no SCSI controller on bus {bus} (its SCSI controllers: {describe_controllers(controllers) or 'none'}). "
                "Set controller_bus to the bus of an LSI Logic controller, or leave it out. Nothing was changed."
            )
        if on_bus[0]["type"] not in LSI_TYPES:
            raise VSphereError(
                f"The SCSI controller on bus {bus} of VM {vm_path} is {on_bus[0]['type']}, not LSI Logic: Azure Site Recovery "
                "needs LSI Logic. Convert it with siterecovery.master_target.vm_scsi_controller (convert: true), or choose another "
                "controller_bus. Nothing was changed."
            )
        units = free_units(on_bus[0])
        if not units:
            raise VSphereError(
                f"No free unit number on {describe_controllers(on_bus)} of VM {vm_path}: units 0-15 but {CONTROLLER_UNIT} are all taken. "
                "Choose another controller_bus, or leave it out to use the first LSI Logic controller with room. Nothing was changed."
            )
        return on_bus[0], units[0]
    if not lsi:
        raise VSphereError(
            f"VM {vm_path} has no LSI Logic SCSI controller (its SCSI controllers: {describe_controllers(controllers) or 'none'}). "
            "Azure Site Recovery needs LSI Logic Parallel or SAS controllers: convert them with siterecovery.master_target.vm_scsi_controller "
            "(convert: true; the VM must be powered off), then run this again. Nothing was changed."
        )
    for controller in lsi:
        units = free_units(controller)
        if units:
            return controller, units[0]
    raise no_free_unit(devices, controllers, lsi, vm_path)


# ---- datastore and space --------------------------------------------------------------------------


def resolve_datastore(datastores, name, host, vm_path):
    """Pure: the one usable datastore (datastore_facts) called `name` from the VM's host {name, moid}; raises otherwise.

    The shared datastore_problem judges it, as for every module: VMFS or vSAN, attached, read/write,
    not in maintenance mode, mounted and accessible on that host.
    """
    found = [ds for ds in datastores if ds["name"] == name]
    if not found:
        usable = sorted({ds["name"] for ds in datastores if datastore_problem(ds, host["moid"]) is None})
        raise VSphereError(
            f"Datastore '{name}' was not found. Datastores usable for the retention disk of VM {vm_path}: "
            f"{', '.join(usable) or 'none'}. Fix the datastore option. Nothing was changed."
        )
    ds = pick_for_host(found, host["moid"])  # one name in several datacenters: the one the VM's host has
    problem = datastore_problem(ds, host["moid"])
    if problem is not None:
        raise VSphereError(
            f"Datastore '{name}' cannot be used from host '{host['name']}' ({host['moid']}), the host of VM {vm_path}: {problem.problem}. "
            f"Fix: {problem.fix}. Or choose another datastore with the datastore option. Nothing was changed."
        )
    return ds


def provisioned_bytes(ds):
    """Pure: what the datastore's disks may grow to (capacity - free + uncommitted), or None when not read."""
    if ds.get("uncommitted") is None or ds.get("capacity") is None or ds.get("free_space") is None:
        return None
    return ds["capacity"] - ds["free_space"] + ds["uncommitted"]


def check_space(ds, provisioning, needed_bytes, what):
    """Pure: None, or the overcommit of a thin disk whose unwritten part (`needed_bytes`) is more than the free space.

    Raises when a thick disk (or its growth) needs more than the free space: vCenter allocates it
    whole at once and would fail the task half-way through the run.
    """
    free, capacity = ds.get("free_space"), ds.get("capacity")
    if needed_bytes <= 0 or free is None or needed_bytes <= free:
        return None
    figures = f"{gib(free)} GB free of {gib(capacity)} GB" if capacity else f"{gib(free)} GB free"
    if provisioning != "thin":
        raise VSphereError(
            f"Datastore '{ds['name']}' has {figures}, not enough for {what} ({gib(needed_bytes)} GB, thick provisioned: vCenter allocates "
            "it all at once). Free space there, choose another datastore, or use provisioning: thin. Nothing was changed."
        )
    provisioned = provisioned_bytes(ds)
    return dict(
        datastore=ds["name"], size_gb=gib(needed_bytes), free_gb=gib(free), capacity_gb=gib(capacity) if capacity else None,
        provisioned_gb=gib(provisioned) if provisioned is not None else None,
    )


def overcommit_warning(overcommit, subject):
    """Pure: the warning for a thin disk (or growth) larger than its datastore's free space (check_space).

    `subject` names it with its size: "The new retention disk of VM X (8192 GB, thin)".
    """
    figures = f"{overcommit['free_gb']} GB free of {overcommit['capacity_gb']} GB"
    if overcommit["provisioned_gb"] is not None:
        figures += f", {overcommit['provisioned_gb']} GB provisioned"
    return (
        f"{subject} is larger than the free space of datastore '{overcommit['datastore']}' ({figures}). Failback writes the whole "
        "retention volume over time, and when the datastore fills up, the VMs with disks on it stop. Free space there, or choose a "
        "larger datastore or a smaller size_gb."
    )


# ---- a new disk, an existing disk ----------------------------------------------------------------


def plan_new_disk(devices, datastores, host, vm_path, size_gb, datastore, provisioning, controller_bus):
    """Pure: where a new retention disk goes: {datastore (datastore_facts), controller (record), unit, overcommit}; raises when it cannot."""
    if host is None:
        raise VSphereError(f"VM {vm_path} is not on any ESXi host (runtime.host is unset): register it on a host. Nothing was changed.")
    ds = resolve_datastore(datastores, datastore, host, vm_path)
    controller, unit = choose_slot(devices, controller_bus, vm_path)
    overcommit = check_space(ds, provisioning, size_gb * GIB, f"a new {size_gb} GB disk")
    return dict(datastore=ds, controller=controller, unit=unit, overcommit=overcommit)


def size_change(current_bytes, size_gb, grow, what):
    """Pure: whether the disk must grow to size_gb; raises when it is larger, or smaller without grow."""
    wanted = size_gb * GIB
    if current_bytes == wanted:
        return False
    if current_bytes > wanted:
        raise VSphereError(
            f"{what} is {gib(current_bytes)} GB, larger than size_gb {size_gb} GB: a disk is never shrunk. "
            f"Set size_gb to {gib(current_bytes)} or more. Nothing was changed."
        )
    if not grow:
        raise VSphereError(
            f"{what} is {gib(current_bytes)} GB, smaller than size_gb {size_gb} GB. Set grow: true to grow it "
            f"(then extend the file system in the guest), or set size_gb to {gib(current_bytes)}. Nothing was changed."
        )
    return True


def plan_existing_disk(disk, record, datastores, size_gb, grow, datastore, what):
    """Pure: what an existing retention disk (disk_record `record`) needs: {grow, overcommit}; raises when it cannot be done."""
    if datastore and record["datastore"] != datastore:
        raise VSphereError(
            f"{what} is on datastore {record['datastore']}, not {datastore}. The module never moves a disk (and a master "
            f"target's disks must not move after reprotect). Set datastore: {record['datastore']}, or detach the disk with "
            "state: absent first. Nothing was changed."
        )
    growing = size_change(disk_bytes(disk), size_gb, grow, what)
    overcommit = None
    if growing:
        if getattr(disk.backing, "parent", None) is not None:
            raise VSphereError(
                f"{what} has snapshots, so it cannot grow. Remove the VM's snapshots "
                "(siterecovery.master_target.vm_snapshots, state: absent), then run again. Nothing was changed."
            )
        ds = next((d for d in datastores if d["name"] == record["datastore"]), None)
        if ds is not None:
            # The growth is new space that is not written yet, thin or not.
            overcommit = check_space(ds, record["provisioning"], size_gb * GIB - disk_bytes(disk), f"growing {record['label']} to {size_gb} GB")
    return dict(grow=growing, overcommit=overcommit)


# Building the reconfigurations (pyVmomi objects) and reading the added disk back: shared by
# vm_retention_disk and vm_preparation.

def new_disk_uuid():
    """A random disk UUID in the form ESXi gives disks: VMware's NAA prefix 6000C29, then 25 hex digits."""
    digits = "6000C29" + secrets.token_hex(13)[:25]
    return f"{digits[0:8]}-{digits[8:12]}-{digits[12:16]}-{digits[16:20]}-{digits[20:32]}"


def retention_datastores(datastores):
    """Pure: the datastore_facts of each Datastore read with DATASTORE_READ, with its `uncommitted` bytes."""
    return [dict(datastore_facts(ds), uncommitted=ds.get("summary.uncommitted")) for ds in datastores]


def add_disk_spec(controller_key, bus, unit, size_gb, ds_obj, ds_name, provisioning, uuid, marker_key=MARKER_KEY, pending_key=PENDING_KEY):
    """One reconfiguration that creates the disk, the marker (with the uuid supplied) and the pending slot of the disk.

    vCenter applies it whole or not at all, so a disk this module adds is never there without the
    slot that names it, whatever uuid vCenter gives it.
    """
    backing = vim.vm.device.VirtualDisk.FlatVer2BackingInfo(
        fileName=f"[{ds_name}]",  # vCenter names the file, in a folder named after the VM
        datastore=ds_obj,
        diskMode="persistent",
        thinProvisioned=provisioning == "thin",
        eagerlyScrub=provisioning == "eager_zeroed",
        uuid=uuid,
    )
    disk = vim.vm.device.VirtualDisk(
        key=-1, controllerKey=controller_key, unitNumber=unit, capacityInKB=size_gb * GIB // 1024, capacityInBytes=size_gb * GIB, backing=backing
    )
    return vim.vm.ConfigSpec(
        deviceChange=[vim.vm.device.VirtualDeviceSpec(operation="add", fileOperation="create", device=disk)],
        extraConfig=[vim.option.OptionValue(key=marker_key, value=uuid), vim.option.OptionValue(key=pending_key, value=slot_text(bus, unit))],
    )


def record_options(uuid, marker_key=MARKER_KEY, pending_key=PENDING_KEY):
    """The marker set to the uuid read back from the disk, and the pending slot removed (an empty value removes a key)."""
    return [vim.option.OptionValue(key=marker_key, value=uuid), vim.option.OptionValue(key=pending_key, value="")]


def grow_spec(disk, size_gb):
    """Edit the disk as read, with the new size in both fields (vCenter prefers capacityInBytes when set)."""
    disk.capacityInKB = size_gb * GIB // 1024
    disk.capacityInBytes = size_gb * GIB
    return vim.vm.ConfigSpec(deviceChange=[vim.vm.device.VirtualDeviceSpec(operation="edit", device=disk)])


def planned_record(controller, unit, size_gb, ds_name, provisioning):
    """Pure: the description of a disk still to be added on `controller` (controller_records); what vCenter assigns is null."""
    return dict(
        label=None, key=None, controller_bus=controller["bus"], unit_number=unit, file_name=None, datastore=ds_name,
        uuid=None, by_id=None, wwid=None, size_gb=size_gb, provisioning=provisioning,
    )


def diff_view(record):
    """Pure: what --diff shows of a disk."""
    if record is None:
        return None
    return {field: record[field] for field in ("size_gb", "datastore", "controller_bus", "unit_number")}


def read_added_disk(client, vm, bus, unit, datastores):
    """(disk_record, uuid) of the disk a reconfiguration added at SCSI `bus`:`unit`, read back: vCenter may have given it
    a uuid of its own, and the marker must name the one it has. `datastores` are datastore_facts, for the record's names."""
    fresh = reread(client, vm, ["config.hardware.device"]).get("config.hardware.device") or []
    added = disk_at(fresh, bus, unit)
    if added is None:
        raise VSphereError(
            f"vCenter reported the new disk of VM {vm.path} as added, but no disk is at {slot_text(bus, unit)}. Check the "
            "VM's disks in vCenter; the next run finds a disk added there by the pending slot it recorded."
        )
    record = disk_record(added, fresh, {item["moid"]: item["name"] for item in datastores})
    return record, recorded_uuid(added, f"The new disk {record['file_name']} of VM {vm.path}")
