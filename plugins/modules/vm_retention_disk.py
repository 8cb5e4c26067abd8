#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, siterecovery.master_target contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: vm_retention_disk
short_description: Ensure a virtual machine has exactly one retention disk
description:
  - Ensures the master target VM has exactly one retention disk of O(size_gb) GB on O(datastore),
    attached to an LSI Logic (Parallel or SAS) SCSI controller. Azure Site Recovery (classic
    architecture) needs a separate retention disk on a Linux master target (1 TB suggested).
  - The disk is found again on later runs by a marker, the VM advanced setting (configuration
    parameter) C(siterecovery.retentionDisk.uuid) holding the disk's backing UUID. The marker is
    written in the same reconfiguration that adds the disk, so a VM never has the disk without the
    marker, and a re-run never adds a second disk. Disks added by other means are not adopted.
  - The new disk's UUID is chosen by the module (VMware form, C(6000C29...)) and given to vCenter
    in the disk's backing. Should vCenter give the disk another UUID, the module corrects the marker
    at once in a second reconfiguration.
  - When the marker names a UUID that no disk of the VM has (the disk was removed or replaced
    outside this module), the module fails and changes nothing. Run it with O(state=absent) to clear
    the stale marker, then with O(state=present) to add a new disk.
  - A disk smaller than O(size_gb) is grown with O(grow=true) and makes the module fail otherwise.
    A disk is never shrunk; a disk larger than O(size_gb) makes the module fail, naming both sizes.
  - The VM may be powered on; vCenter hot-adds and hot-extends the disk. After growing a disk, extend
    the partition and file system in the guest.
  - With C(disk.EnableUUID=TRUE) on the VM (see M(siterecovery.master_target.vm_disk_uuid)) a Linux
    guest sees the disk's UUID as its WWN; RV(disk.by_id) and RV(disk.wwid) give the names to find it by.
version_added: 0.1.0
author:
  - siterecovery.master_target contributors (@siterecovery)
extends_documentation_fragment:
  - siterecovery.master_target.vsphere
  - siterecovery.master_target.vsphere.vm
  - siterecovery.master_target.vsphere.attributes
options:
  state:
    description:
      - V(present) ensures the retention disk exists with at least O(size_gb) GB.
      - V(absent) detaches the retention disk and removes the marker. Its files are kept unless
        O(delete_files=true). With a stale marker (no such disk), only the marker is removed.
    type: str
    choices: [present, absent]
    default: present
  size_gb:
    description:
      - The size of the retention disk in GiB (1024^3 bytes, as vSphere counts). Required with O(state=present).
    type: int
  grow:
    description:
      - Whether to grow an existing retention disk that is smaller than O(size_gb).
      - When V(false), a smaller disk makes the module fail and nothing is changed.
      - The disk must have no snapshot; remove them first (M(siterecovery.master_target.vm_snapshots)).
    type: bool
    default: false
  datastore:
    description:
      - The name of the datastore for a new retention disk. It must be VMFS or vSAN (failback never
        works from NFS), accessible, and mounted read-write on the VM's host.
      - Default, the datastore that holds the VM's configuration file (C(.vmx)). Setting it explicitly
        is recommended.
      - When set and the retention disk already exists on another datastore, the module fails; it never
        moves a disk.
    type: str
  provisioning:
    description:
      - The provisioning of a new retention disk. V(thick) is lazy-zeroed thick, V(eager_zeroed) is
        eager-zeroed thick.
      - With V(thick) or V(eager_zeroed), the datastore must have the whole size (or the growth) free.
      - An existing disk keeps its provisioning; it is reported in RV(disk.provisioning).
    type: str
    choices: [thin, thick, eager_zeroed]
    default: thin
  controller_bus:
    description:
      - The SCSI bus number of the LSI Logic controller to attach a new retention disk to.
      - Default, the first LSI Logic controller (lowest bus) with a free unit number.
      - The module never adds a controller. A VM without an LSI Logic controller makes the module fail;
        convert its controllers first with M(siterecovery.master_target.vm_scsi_controller), since Azure
        Site Recovery needs every SCSI controller of the master target to be LSI Logic anyway.
      - Ignored for an existing retention disk (it is never moved).
    type: int
  delete_files:
    description:
      - With O(state=absent), whether to delete the disk's files from the datastore too.
      - Default, the disk is only detached and its C(.vmdk) stays on the datastore.
    type: bool
    default: false
notes:
  - The module never powers the VM off or on, never moves a disk, and never adds a SCSI controller.
  - Unit numbers 0 to 15 are used, except the controller's own (7).
seealso:
  - module: siterecovery.master_target.vm_scsi_controller
  - module: siterecovery.master_target.vm_disk_uuid
"""

EXAMPLES = r"""
- name: Give the master target its 1 TB retention disk on a VMFS datastore
  siterecovery.master_target.vm_retention_disk:
    name: asr-mt-01
    size_gb: 1024
    datastore: vmfs-mt-01
  delegate_to: localhost
  register: retention

- name: Tell the guest role which disk to format and mount at /mnt/retention
  ansible.builtin.debug:
    msg: "/dev/disk/by-id/{{ retention.disk.by_id }} (multipath id {{ retention.disk.wwid }})"

- name: Grow the retention disk to 1.5 TB (then grow the file system in the guest)
  siterecovery.master_target.vm_retention_disk:
    name: asr-mt-01
    size_gb: 1536
    datastore: vmfs-mt-01
    grow: true
  delegate_to: localhost

- name: Detach the retention disk (its files stay on the datastore)
  siterecovery.master_target.vm_retention_disk:
    name: asr-mt-01
    state: absent
  delegate_to: localhost
"""

RETURN = r"""
operation:
  description: What the run did (or would do, in check mode).
  returned: always
  type: str
  choices: [none, added, grown, removed, marker_removed]
  sample: added
disk:
  description:
    - The retention disk after the run (as planned, in check mode, where the values vCenter assigns are null).
    - With O(state=absent), the disk detached (or that would be); null when there was none.
  returned: always
  type: dict
  contains:
    label:
      description: The disk's label in vCenter.
      type: str
      sample: Hard disk 3
    key:
      description: The disk's device key.
      type: int
      sample: 2002
    controller_bus:
      description: The SCSI bus number of the controller the disk is attached to.
      type: int
      sample: 0
    unit_number:
      description: The disk's unit number on that controller.
      type: int
      sample: 2
    file_name:
      description: The backing file, as a datastore path.
      type: str
      sample: "[vmfs-mt-01] asr-mt-01/asr-mt-01_2.vmdk"
    datastore:
      description: The name of the datastore holding the disk.
      type: str
      sample: vmfs-mt-01
    uuid:
      description: The disk's backing UUID, also the value of the marker.
      type: str
      sample: 6000C29a-b1b5-1bf8-40d7-a2e2c43fb182
    by_id:
      description:
        - The name of the disk under C(/dev/disk/by-id) in a Linux guest, when the VM has C(disk.EnableUUID=TRUE).
      type: str
      sample: wwn-0x6000c29ab1b51bf840d7a2e2c43fb182
    wwid:
      description: The disk's SCSI WWID in a Linux guest (the C(multipath -ll) id and C(/dev/mapper) name without user friendly names).
      type: str
      sample: 36000c29ab1b51bf840d7a2e2c43fb182
    size_gb:
      description: The disk's size in GiB.
      type: float
      sample: 1024
    provisioning:
      description: The disk's provisioning (V(thin), V(thick) or V(eager_zeroed)).
      type: str
      sample: thin
marker:
  description: The VM advanced setting that identifies the retention disk, after the run.
  returned: always
  type: dict
  sample: {key: siterecovery.retentionDisk.uuid, value: 6000C29a-b1b5-1bf8-40d7-a2e2c43fb182}
vm:
  description: The virtual machine worked on (name, moid, path).
  returned: always
  type: dict
  sample: {name: asr-mt-01, moid: vm-42, path: /DC0/vm/asr/asr-mt-01}
"""

import secrets

from ansible_collections.siterecovery.master_target.plugins.module_utils._vsphere_client import VSphereError
from ansible_collections.siterecovery.master_target.plugins.module_utils._vsphere_lookup import find_vm, read_inventory, read_object
from ansible_collections.siterecovery.master_target.plugins.module_utils._vsphere_module import (
    Changes,
    run_module,
    vsphere_module,
)
from ansible_collections.siterecovery.master_target.plugins.module_utils._vsphere_devices import (
    GIB,
    MARKER_KEY,
    controller_type,
    datastore_of_path,
    disk_bytes,
    disk_record,
    disks_with_uuid,
    enable_uuid_is_true,
    gib,
    marker_option,
    uuid_hex,
)
from ansible_collections.siterecovery.master_target.plugins.module_utils._vsphere_tasks import run_task

try:
    from pyVmomi import vim
except ImportError:  # pragma: no cover - reported when connecting
    pass

MAX_UNIT = 15  # a SCSI controller has units 0-15; its own unit (7) is reserved
# Azure Site Recovery failback works from VMFS and vSAN only (never NFS).
DATASTORE_TYPES = ("VMFS", "vsan")
VM_PATHS = [
    "config.hardware.device",
    "config.extraConfig",
    "config.files.vmPathName",
    "runtime.host",
]
DATASTORE_PATHS = ["name", "summary.type", "summary.accessible", "summary.freeSpace", "host"]


def scsi_controllers(devices):
    return sorted((d for d in devices or [] if isinstance(d, vim.vm.device.VirtualSCSIController)), key=lambda c: c.busNumber)


def describe_controllers(controllers):
    return ", ".join(f"bus {c.busNumber} ({controller_type(c)})" for c in controllers) or "none"


def new_disk_uuid():
    """A random disk UUID in the form ESXi gives disks: VMware's NAA prefix 6000C29, then 25 hex digits."""
    digits = "6000C29" + secrets.token_hex(13)[:25]
    return f"{digits[0:8]}-{digits[8:12]}-{digits[12:16]}-{digits[16:20]}-{digits[20:32]}"


def free_units(devices, controller):
    """Pure: the unit numbers still free on a SCSI controller, lowest first (never its own, 7)."""
    own = controller.scsiCtlrUnitNumber if controller.scsiCtlrUnitNumber is not None else 7
    used = {d.unitNumber for d in devices if d.controllerKey == controller.key and d.unitNumber is not None}
    return [unit for unit in range(MAX_UNIT + 1) if unit != own and unit not in used]


def choose_slot(devices, bus, vm_path):
    """Pure: (controller, unit) for a new disk: on the LSI Logic controller on `bus`, else on the first one with room."""
    controllers = scsi_controllers(devices)
    lsi = [c for c in controllers if controller_type(c) in ("lsilogic", "lsilogicsas")]
    if bus is not None:
        on_bus = [c for c in controllers if c.busNumber == bus]
        if not on_bus:
            raise VSphereError(
                f"VM {vm_path} has no SCSI controller on bus {bus} (its SCSI controllers: {describe_controllers(controllers)}). "
                "Set controller_bus to the bus of an LSI Logic controller, or leave it out. Nothing was changed."
            )
        if on_bus[0] not in lsi:
            raise VSphereError(
                f"The SCSI controller on bus {bus} of VM {vm_path} is {controller_type(on_bus[0])}, not LSI Logic: Azure Site Recovery "
                "needs LSI Logic. Convert it with siterecovery.master_target.vm_scsi_controller (convert: true), or choose another "
                "controller_bus. Nothing was changed."
            )
        candidates = on_bus
    elif not lsi:
        raise VSphereError(
            f"VM {vm_path} has no LSI Logic SCSI controller (its SCSI controllers: {describe_controllers(controllers)}). Azure Site "
            "Recovery needs LSI Logic Parallel or SAS controllers: convert them with siterecovery.master_target.vm_scsi_controller "
            "(convert: true; the VM must be powered off), then run this again. Nothing was changed."
        )
    else:
        candidates = lsi
    for controller in candidates:
        units = free_units(devices, controller)
        if units:
            return controller, units[0]
    raise VSphereError(
        f"No free unit number on {describe_controllers(candidates)} of VM {vm_path}: units 0-15 but 7 are all taken. "
        "Add an LSI Logic controller on a free bus (or free a unit), then run again. Nothing was changed."
    )


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


def datastore_problem(ds, host_moid, host_name=None):
    """Pure: why a datastore cannot take the retention disk of a VM on host `host_moid`, or None.

    Messages name the host by `host_name` (with its moid) when given, else by its moid.
    """
    host = f"{host_name} ({host_moid})" if host_name else f"({host_moid})"
    kind = ds.get("summary.type")
    if kind in ("NFS", "NFS41"):
        return f"is an NFS datastore ({kind}): Azure Site Recovery failback needs VMFS or vSAN for the master target's disks"
    if kind not in DATASTORE_TYPES:
        return f"is of type {kind}: Azure Site Recovery failback needs VMFS or vSAN for the master target's disks"
    if ds.get("summary.accessible") is False:
        return "is not accessible"
    if host_moid is None:
        return None
    mount = next((m for m in ds.get("host") or [] if m.key._moId == host_moid), None)  # pylint: disable=protected-access
    info = mount.mountInfo if mount is not None else None
    if info is None or info.mounted is False:
        return (f"is not mounted on the VM's host {host}; siterecovery.master_target.host_datastore_access mounts a VMFS "
                "datastore the host has attached, and says what else is missing")
    if info.accessible is False:
        return f"is not accessible from the VM's host {host}; restore the host's paths to its device and rescan the host's storage"
    if info.accessMode and info.accessMode != "readWrite":
        return (f"is mounted {info.accessMode} on the VM's host {host}, and the retention disk needs read/write access: "
                "the LUN must be writable for that host (a replica or snapshot LUN is often presented read-only)")
    return None


def resolve_datastore(datastores, name, host_moid, vm_path, host_name=None):
    """Pure: the one usable datastore called `name` for the VM; raises with the reason otherwise."""
    found = [ds for ds in datastores if ds.name == name]
    if len(found) > 1:  # same name in several datacenters: the one the VM's host mounts
        found = [ds for ds in found if datastore_problem(ds, host_moid) is None] or found[:1]
    if not found:
        usable = sorted(ds.name for ds in datastores if datastore_problem(ds, host_moid) is None)
        raise VSphereError(
            f"Datastore '{name}' was not found. Datastores usable for the retention disk of VM {vm_path}: "
            f"{', '.join(usable) or 'none'}. Fix the datastore option. Nothing was changed."
        )
    problem = datastore_problem(found[0], host_moid, host_name)
    if problem:
        raise VSphereError(f"Datastore '{name}' {problem}. Choose another datastore with the datastore option. Nothing was changed.")
    return found[0]


def check_space(ds, needed_bytes, what):
    """Raise when thick provisioning needs more than the datastore's free space (thin needs none up front)."""
    free = ds.get("summary.freeSpace")
    if needed_bytes > 0 and free is not None and needed_bytes > free:
        raise VSphereError(
            f"Datastore '{ds.name}' has {gib(free)} GB free, not enough for {what} ({gib(needed_bytes)} GB, thick provisioned). "
            "Free space there, choose another datastore, or use provisioning: thin. Nothing was changed."
        )


def add_disk_spec(controller_key, unit, size_gb, ds_obj, ds_name, provisioning, uuid, marker_key=MARKER_KEY):
    """One reconfiguration that creates the disk and writes the marker, so neither exists without the other."""
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
        extraConfig=[vim.option.OptionValue(key=marker_key, value=uuid)],
    )


def grow_spec(disk, size_gb):
    """Edit the disk as read, with the new size in both fields (vCenter prefers capacityInBytes when set)."""
    disk.capacityInKB = size_gb * GIB // 1024
    disk.capacityInBytes = size_gb * GIB
    return vim.vm.ConfigSpec(deviceChange=[vim.vm.device.VirtualDeviceSpec(operation="edit", device=disk)])


def remove_spec(disk, delete_files, marker_key=MARKER_KEY):
    """Detach the disk (and delete its files only when asked) and remove the marker (an empty value removes a key)."""
    changes = []
    if disk is not None:
        change = vim.vm.device.VirtualDeviceSpec(operation="remove", device=disk)
        if delete_files:
            change.fileOperation = "destroy"
        changes.append(change)
    return vim.vm.ConfigSpec(deviceChange=changes, extraConfig=[vim.option.OptionValue(key=marker_key, value="")])


def planned_record(controller, unit, size_gb, ds_name, provisioning):
    """Pure: the description of a disk still to be added (what vCenter assigns is null)."""
    return dict(
        label=None, key=None, controller_bus=controller.busNumber, unit_number=unit, file_name=None, datastore=ds_name,
        uuid=None, by_id=None, wwid=None, size_gb=size_gb, provisioning=provisioning,
    )


def marker_correction(supplied, actual, what):
    """Pure: the UUID to write to the marker after the add, or None when vCenter kept the one supplied."""
    if uuid_hex(actual) == uuid_hex(supplied):
        return None
    if not actual:
        raise VSphereError(f"{what} has no backing UUID, so the retention disk marker cannot name it. Check the disk in vCenter.")
    return actual  # vCenter gave the disk a UUID of its own: the marker must name that one


def summary(record):
    """Pure: what --diff shows of a disk."""
    if record is None:
        return None
    return {field: record[field] for field in ("size_gb", "datastore", "controller_bus", "unit_number")}


def reconfigure(client, vm, spec, action):
    run_task(client, lambda: vm.obj.ReconfigVM_Task(spec=spec), action, f"VM {vm.path}")


def remove_disk(module, client, vm, disk, marker_key, marker, record):
    changes = Changes()
    changes.compare("retention_disk", summary(record), None)
    changes.compare("marker", marker, None)
    operation = "removed" if disk is not None else "marker_removed"
    if disk is None:
        module.warn(f"The marker {marker_key} of VM {vm.path} named a disk the VM no longer has: only the marker is removed.")
    if not module.check_mode:
        reconfigure(client, vm, remove_spec(disk, module.params["delete_files"], marker_key), "Removing the retention disk")
    return dict(changes.result(module), operation=operation, disk=record, marker=dict(key=marker_key, value=None))


def add_disk(module, client, vm, devices, datastores, ds_names, marker_key):
    params = module.params
    host = vm.get("runtime.host")
    name = params["datastore"] or datastore_of_path(vm.get("config.files.vmPathName"))
    # The host's name only for the messages: one more read, on the first run only (adding a disk).
    host_name = read_object(client, host, ["name"], what="The VM's host").name if host is not None else None
    ds = resolve_datastore(datastores, name, host._moId if host is not None else None, vm.path, host_name)  # pylint: disable=protected-access
    controller, unit = choose_slot(devices, params["controller_bus"], vm.path)
    size_gb, provisioning = params["size_gb"], params["provisioning"]
    check_space(ds, 0 if provisioning == "thin" else size_gb * GIB, f"a new {size_gb} GB disk")

    record = planned_record(controller, unit, size_gb, ds.name, provisioning)
    changes = Changes()
    changes.compare("retention_disk", None, summary(record))
    marker = None
    if not module.check_mode:
        uuid = new_disk_uuid()
        spec = add_disk_spec(controller.key, unit, size_gb, ds.obj, ds.name, provisioning, uuid, marker_key)
        reconfigure(client, vm, spec, f"Adding a {size_gb} GB retention disk on {ds.name}")
        fresh = find_vm(client, dict(moid=vm.moid), ["config.hardware.device"]).get("config.hardware.device") or []
        # The new disk is the one at the controller and unit chosen above.
        added = next((d for d in fresh if isinstance(d, vim.vm.device.VirtualDisk) and (d.controllerKey, d.unitNumber) == (controller.key, unit)), None)
        if added is None:
            raise VSphereError(f"vCenter reported the new disk of VM {vm.path} as added, but no disk is at SCSI {controller.busNumber}:{unit}.")
        record, marker = disk_record(added, fresh, ds_names), uuid
        corrected = marker_correction(uuid, record["uuid"], f"The new disk {record['file_name']} of VM {vm.path}")
        if corrected:
            fix = vim.vm.ConfigSpec(extraConfig=[vim.option.OptionValue(key=marker_key, value=corrected)])
            reconfigure(client, vm, fix, "Recording the retention disk's UUID")
            marker = corrected
    return dict(changes.result(module), operation="added", disk=record, marker=dict(key=marker_key, value=marker))


def ensure_size(module, client, vm, disk, record, datastores, marker_key):
    params = module.params
    what = f"The retention disk of VM {vm.path} ({record['label']}, {record['file_name']})"
    if params["datastore"] and record["datastore"] != params["datastore"]:
        raise VSphereError(
            f"{what} is on datastore {record['datastore']}, not {params['datastore']}. The module never moves a disk (and a master "
            f"target's disks must not move after reprotect). Set datastore: {record['datastore']}, or detach the disk with "
            "state: absent first. Nothing was changed."
        )
    grow = size_change(disk_bytes(disk), params["size_gb"], params["grow"], what)
    after = dict(record, size_gb=params["size_gb"]) if grow else record
    changes = Changes()
    changes.compare("retention_disk", summary(record), summary(after))
    if grow:
        if getattr(disk.backing, "parent", None) is not None:
            raise VSphereError(
                f"{what} has snapshots, so it cannot grow. Remove the VM's snapshots "
                "(siterecovery.master_target.vm_snapshots, state: absent), then run again. Nothing was changed."
            )
        ds = next((d for d in datastores if d.name == record["datastore"]), None)
        if ds is not None and record["provisioning"] != "thin":
            check_space(ds, params["size_gb"] * GIB - disk_bytes(disk), f"growing {record['label']} to {params['size_gb']} GB")
        if not module.check_mode:
            reconfigure(client, vm, grow_spec(disk, params["size_gb"]), f"Growing {record['label']} to {params['size_gb']} GB")
    marker = dict(key=marker_key, value=record["uuid"])
    return dict(changes.result(module), operation="grown" if grow else "none", disk=after, marker=marker)


def ensure_retention_disk(module, client):
    params = module.params
    vm = find_vm(client, params, VM_PATHS)
    devices = vm.get("config.hardware.device") or []
    extra_config = vm.get("config.extraConfig")
    marker_key, marker = marker_option(extra_config)
    marked = disks_with_uuid(devices, marker) if marker else []
    if len(marked) > 1:
        raise VSphereError(
            f"{len(marked)} disks of VM {vm.path} have the UUID {marker} of the retention disk marker {marker_key}: "
            "fix the duplicate disk UUIDs in vCenter. Nothing was changed."
        )
    disk = marked[0] if marked else None
    datastores = read_inventory(client, [vim.Datastore], {vim.Datastore: DATASTORE_PATHS})
    ds_names = {ds.moid: ds.name for ds in datastores}
    record = disk_record(disk, devices, ds_names) if disk is not None else None
    result = dict(vm=vm.describe())

    if params["state"] == "absent":
        if marker is None:
            changes = Changes()
            changes.compare("retention_disk", None, None)
            changes.compare("marker", None, None)
            return dict(result, **changes.result(module), operation="none", disk=None, marker=dict(key=marker_key, value=None))
        return dict(result, **remove_disk(module, client, vm, disk, marker_key, marker, record))

    if marker and disk is None:
        raise VSphereError(
            f"VM {vm.path} has the retention disk marker {marker_key}={marker}, but none of its disks has that UUID: the disk was "
            "removed or replaced outside this module. Nothing was changed, so that no second retention disk is added by mistake. "
            "If the old disk is really gone, run with state: absent to clear the marker, then with state: present.",
            **result,
        )
    controllers = scsi_controllers(devices)
    non_lsi = [c for c in controllers if controller_type(c) not in ("lsilogic", "lsilogicsas")]
    if non_lsi and (disk is not None or len(non_lsi) < len(controllers)):  # with no LSI controller at all, choose_slot fails
        module.warn(
            f"VM {vm.path} has SCSI controllers that are not LSI Logic ({describe_controllers(non_lsi)}): Azure Site Recovery "
            "reprotect fails with them. Convert them with siterecovery.master_target.vm_scsi_controller."
        )
    if not enable_uuid_is_true(extra_config):
        module.warn(
            f"disk.EnableUUID is not TRUE on VM {vm.path}: the guest will not see the disk by its UUID. "
            "Set it with siterecovery.master_target.vm_disk_uuid."
        )
    if disk is None:
        return dict(result, **add_disk(module, client, vm, devices, datastores, ds_names, marker_key))
    return dict(result, **ensure_size(module, client, vm, disk, record, datastores, marker_key))


def main():
    module = vsphere_module(
        dict(
            state=dict(type="str", choices=["present", "absent"], default="present"),
            size_gb=dict(type="int"),
            grow=dict(type="bool", default=False),
            datastore=dict(type="str"),
            provisioning=dict(type="str", choices=["thin", "thick", "eager_zeroed"], default="thin"),
            controller_bus=dict(type="int"),
            delete_files=dict(type="bool", default=False),
        ),
        required_if=[("state", "present", ["size_gb"])],
    )
    if module.params["size_gb"] is not None and module.params["size_gb"] < 1:
        module.fail_json(msg=f"size_gb must be at least 1 (GiB), got {module.params['size_gb']}.")
    run_module(module, ensure_retention_disk)


if __name__ == "__main__":
    main()
