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
    parameter) C(siterecovery.retentionDisk.uuid) holding the disk's backing UUID. Disks added by
    other means are not adopted.
  - The new disk's UUID is chosen by the module (VMware form, C(6000C29...)) and given to vCenter
    in the disk's backing, but the API documents a disk's UUID only "if available", and vCenter may
    give the new disk one of its own. So the reconfiguration that adds the disk also writes the
    marker and the disk's slot, C(siterecovery.retentionDisk.pending) = C(scsi<bus>:<unit>) (vCenter
    keeps the bus and unit it is given); the module then reads the created disk back and, in a second
    reconfiguration, sets the marker to the UUID the disk really has and removes the slot.
  - Should a run stop between the two reconfigurations (a lost connection), the next run finds the
    disk at the recorded slot and records its UUID (RV(operation=recorded)) instead of adding a second
    disk, and O(state=absent) detaches that disk. A slot left next to a marker that names a disk
    (the second reconfiguration was applied but its reply lost) is removed, also
    RV(operation=recorded), so the VM ends with the options a run without a cut leaves.
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
  - siterecovery.master_target.vsphere_tasks
options:
  state:
    description:
      - V(present) ensures the retention disk exists with at least O(size_gb) GB.
      - V(absent) detaches the retention disk and removes the marker (and the pending slot). Its files are
        kept unless O(delete_files=true). A disk an interrupted run added and did not record yet is found
        by its pending slot and detached too, so no disk is left behind for the next run to duplicate.
        With a stale marker (no such disk), only the marker is removed.
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
        works from NFS), attached to and mounted read-write on the VM's host, accessible, and not in
        maintenance mode (C(enteringMaintenance) or C(inMaintenance)); the same check as every module of
        this collection makes. An attached but unmounted VMFS datastore is mounted by
        M(siterecovery.master_target.host_datastore_access).
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
        vCenter allocates it at once, so the module refuses up front, naming the figures.
      - With V(thin), a disk (or a growth) larger than the datastore's free space is added with a
        warning and the figures in RV(overcommit). Failback writes the whole retention volume over time,
        and a datastore that fills up stops the VMs with disks on it.
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
  - Unit numbers 0 to 15 are used, except the controller's own (7). A VM has at most 4 SCSI
    controllers, so at most 60 disks on LSI Logic, which is also the most Azure Site Recovery allows
    on a master target; a VM at that limit makes the module fail, asking to remove a disk.
  - >-
    Privileges: adding the disk (O(state=present)) needs C(VirtualMachine.Config.AddNewDisk) (a disk whose file is created)
    and C(VirtualMachine.Config.AdvancedConfig) (the marker and the pending slot, and recording the disk's UUID
    afterwards) on the VM, and C(Datastore.AllocateSpace) on the datastore of the new disk. Growing it (O(grow=true)):
    C(VirtualMachine.Config.DiskExtend) on the VM and C(Datastore.AllocateSpace) on the disk's datastore. Removing it
    (O(state=absent)): C(VirtualMachine.Config.RemoveDisk) and C(VirtualMachine.Config.AdvancedConfig) (the marker) on the
    VM; the vSphere API reference names no further privilege for deleting the disk's files (O(delete_files=true)).
    Otherwise read-only (C(System.Read), as in the Read-only role) on the VM, its host and the datastores.
seealso:
  - module: siterecovery.master_target.vm_scsi_controller
    description: Converts the VM's SCSI controllers to LSI Logic, which a new retention disk is attached to.
  - module: siterecovery.master_target.vm_disk_uuid
    description: Sets C(disk.EnableUUID=TRUE), so that the guest sees the retention disk by its UUID.
  - module: siterecovery.master_target.host_datastore_access
    description: Mounts the datastore of the retention disk read/write on the VM's host, when it is attached but not mounted.
  - module: siterecovery.master_target.vm_preparation_info
    description: Says in one call whether this module would change the VM, with the other preparation steps.
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
  choices: [none, added, grown, recorded, removed, marker_removed]
  sample: added
overcommit:
  description:
    - Set when a thin disk (or its growth) is larger than the datastore's free space; a warning says
      the same. Sizes in GiB; C(size_gb) is the part not yet written (the whole new disk, or the growth).
    - C(provisioned_gb) is what the datastore's disks may grow to (capacity - free + uncommitted), null
      when vCenter does not report it.
  returned: always
  type: dict
  sample: {datastore: vmfs-mt-01, size_gb: 16384, free_gb: 8000, capacity_gb: 8192, provisioned_gb: 9000}
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
  description:
    - The VM advanced setting that identifies the retention disk, after the run.
    - The uuid the disk has in vCenter (read back after it was added), not necessarily the one the module supplied.
  returned: always
  type: dict
  sample: {key: siterecovery.retentionDisk.uuid, value: 6000C29a-b1b5-1bf8-40d7-a2e2c43fb182}
awaited_tasks:
  description:
    - The reconfigurations that were still running on the VM when the run began (see O(task_timeout)),
      such as the creation of an eager-zeroed disk an earlier run stopped waiting for, and that the module
      waited for before it read the VM again. Empty in check mode and when there were none.
  returned: always
  type: list
  elements: dict
  contains:
    id:
      description: The task's managed object id.
      type: str
      sample: task-1234
    key:
      description: The task's key (C(info.key)).
      type: str
    description_id:
      description: What the task does, as vCenter names it.
      type: str
      sample: VirtualMachine.reconfigure
    state:
      description: How the task ended (V(success)).
      type: str
    progress:
      description: The task's last reported progress in percent, when vCenter reported one.
      type: int
    entity:
      description: The managed object id of the VM the task ran on.
      type: str
    entity_name:
      description: The name of the VM the task ran on.
      type: str
vm:
  description: The virtual machine worked on.
  returned: always
  type: dict
  contains:
    name:
      description: The VM's name.
      type: str
      sample: asr-mt-01
    moid:
      description: The VM's managed object id.
      type: str
      sample: vm-42
    path:
      description: The VM's inventory path (when selected by name), else its name and moid.
      type: str
      sample: /DC0/vm/asr/asr-mt-01
"""

from ansible_collections.siterecovery.master_target.plugins.module_utils._vsphere_client import VSphereError
from ansible_collections.siterecovery.master_target.plugins.module_utils._vsphere_datastores import DATASTORE_PATHS
from ansible_collections.siterecovery.master_target.plugins.module_utils._vsphere_lookup import find_vm, read_inventory, read_object
from ansible_collections.siterecovery.master_target.plugins.module_utils._vsphere_module import (
    Changes,
    run_module,
    vsphere_module,
)
from ansible_collections.siterecovery.master_target.plugins.module_utils._vsphere_devices import (
    MARKER_KEY,
    controller_records,
    datastore_of_path,
    describe_controllers,
    disk_record,
    enable_uuid_is_true,
    not_lsi,
)
from ansible_collections.siterecovery.master_target.plugins.module_utils._vsphere_retention import (
    add_disk_spec,
    diff_view,
    find_retention_disk,
    grow_spec,
    new_disk_uuid,
    overcommit_warning,
    plan_existing_disk,
    plan_new_disk,
    planned_record,
    read_added_disk,
    record_options,
    recorded_uuid,
    refuse_stale_marker,
    retention_datastores,
)
from ansible_collections.siterecovery.master_target.plugins.module_utils._vsphere_tasks import (
    RECONFIGURE,
    TASK_PATHS,
    await_earlier_task,
    check_task_timeout,
    run_task,
    task_timeout_argument_spec,
    with_awaited,
)

try:
    from pyVmomi import vim
except ImportError:  # pragma: no cover - reported when connecting
    pass

VM_PATHS = [
    "config.hardware.device",
    "config.extraConfig",
    "config.files.vmPathName",
    "runtime.host",
]
# The shared datastore facts (without `info`: large, and needed only to mount), and what the
# datastore's thin disks may still grow to, for the overcommit warning.
DATASTORE_READ = [path for path in DATASTORE_PATHS if path != "info"] + ["summary.uncommitted"]


def remove_spec(disk, delete_files, marker_key=MARKER_KEY, pending_key=None):
    """Detach the disk (and delete its files only when asked), remove the marker and the pending slot when given."""
    changes = []
    if disk is not None:
        change = vim.vm.device.VirtualDeviceSpec(operation="remove", device=disk)
        if delete_files:
            change.fileOperation = "destroy"
        changes.append(change)
    options = [vim.option.OptionValue(key=marker_key, value="")]
    if pending_key:
        options.append(vim.option.OptionValue(key=pending_key, value=""))
    return vim.vm.ConfigSpec(deviceChange=changes, extraConfig=options)


# A reconfiguration still running on the VM (one adding an eager-zeroed disk outlasts task_timeout) is
# waited for before the VM is read: it may be adding the disk and its marker.
RETENTION_DISK_TASKS = {RECONFIGURE: "Reconfiguring"}


def reconfigure(client, vm, spec, action, timeout):
    run_task(client, lambda: vm.obj.ReconfigVM_Task(spec=spec), action, f"VM {vm.path}", timeout)


def remove_disk(module, client, vm, found, record):
    changes = Changes()
    changes.compare("retention_disk", diff_view(record), None)
    changes.compare("marker", found.marker, None)
    operation = "removed" if found.disk is not None else "marker_removed"
    if found.disk is None:
        module.warn(f"The marker {found.marker_key} of VM {vm.path} named a disk the VM no longer has: only the marker is removed.")
    if not module.check_mode:
        spec = remove_spec(found.disk, module.params["delete_files"], found.marker_key, found.pending_key if found.pending else None)
        reconfigure(client, vm, spec, "Removing the retention disk", module.params["task_timeout"])
    return dict(changes.result(module), operation=operation, disk=record, marker=dict(key=found.marker_key, value=None))


def add_disk(module, client, vm, devices, datastores, ds_refs, found):
    params = module.params
    host_ref = vm.get("runtime.host")
    # The host's name only for the messages: one more read, on the first run only (adding a disk).
    host = None
    if host_ref is not None:
        host = dict(name=read_object(client, host_ref, ["name"], what="The VM's host").name, moid=host_ref._moId)  # pylint: disable=protected-access
    name = params["datastore"] or datastore_of_path(vm.get("config.files.vmPathName"))
    size_gb, provisioning = params["size_gb"], params["provisioning"]
    plan = plan_new_disk(devices, datastores, host, vm.path, size_gb, name, provisioning, params["controller_bus"])
    ds, controller, unit = plan["datastore"], plan["controller"], plan["unit"]
    if plan["overcommit"]:
        module.warn(overcommit_warning(plan["overcommit"], f"The new retention disk of VM {vm.path} ({size_gb} GB, thin)"))

    record = planned_record(controller, unit, size_gb, ds["name"], provisioning)
    changes = Changes()
    changes.compare("retention_disk", None, diff_view(record))
    marker = None
    if not module.check_mode:
        spec = add_disk_spec(controller["key"], controller["bus"], unit, size_gb, ds_refs[ds["moid"]], ds["name"], provisioning, new_disk_uuid(),
                             found.marker_key, found.pending_key)
        reconfigure(client, vm, spec, f"Adding a {size_gb} GB retention disk on {ds['name']}", params["task_timeout"])
        record, marker = read_added_disk(client, vm, controller["bus"], unit, datastores)
        reconfigure(client, vm, vim.vm.ConfigSpec(extraConfig=record_options(marker, found.marker_key, found.pending_key)),
                    "Recording the retention disk's UUID", params["task_timeout"])
    return dict(changes.result(module), operation="added", disk=record, marker=dict(key=found.marker_key, value=marker), overcommit=plan["overcommit"])


def ensure_size(module, client, vm, found, record, datastores):
    """An existing retention disk: grown when asked and needed; its uuid recorded when a cut-off run left it to record."""
    params = module.params
    what = f"The retention disk of VM {vm.path} ({record['label']}, {record['file_name']})"
    plan = plan_existing_disk(found.disk, record, datastores, params["size_gb"], params["grow"], params["datastore"], what)
    grow, overcommit = plan["grow"], plan["overcommit"]
    record_marker = found.to_record or found.leftover_pending
    uuid = recorded_uuid(found.disk, what) if record_marker else None
    after = dict(record, size_gb=params["size_gb"]) if grow else record
    changes = Changes()
    changes.compare("retention_disk", diff_view(record), diff_view(after))
    if record_marker:
        # The disk an earlier run added, found by its pending slot: that run stopped before it recorded the uuid.
        # Or the uuid is recorded but the slot is still set (the reply of the recording reconfigure was lost).
        changes.compare("marker", found.marker, uuid)
        changes.compare("pending_slot", found.pending, None)
    if overcommit:
        growth = f"Growing the retention disk of VM {vm.path} ({record['label']}) to {params['size_gb']} GB adds {overcommit['size_gb']} GB thin, which"
        module.warn(overcommit_warning(overcommit, growth))
    if changes.changed and not module.check_mode:
        spec = grow_spec(found.disk, params["size_gb"]) if grow else vim.vm.ConfigSpec()
        if record_marker:
            spec.extraConfig = record_options(uuid, found.marker_key, found.pending_key)
        action = f"Growing {record['label']} to {params['size_gb']} GB" if grow else "Recording the retention disk's UUID"
        reconfigure(client, vm, spec, action, params["task_timeout"])
    operation = "grown" if grow else "recorded" if record_marker else "none"
    return dict(changes.result(module), operation=operation, disk=after, marker=dict(key=found.marker_key, value=record["uuid"]), overcommit=overcommit)


def ensure_retention_disk(module, client):
    vm = find_vm(client, module.params, VM_PATHS + TASK_PATHS)
    vm, awaited = await_earlier_task(module, client, vm, RETENTION_DISK_TASKS, VM_PATHS)
    return with_awaited(retention_disk(module, client, vm), awaited)


def retention_disk(module, client, vm):
    params = module.params
    devices = vm.get("config.hardware.device") or []
    extra_config = vm.get("config.extraConfig")
    result = dict(vm=vm.describe(), overcommit=None)
    found = find_retention_disk(devices, extra_config, vm.path)
    read = read_inventory(client, [vim.Datastore], {vim.Datastore: DATASTORE_READ})
    datastores = retention_datastores(read)
    record = disk_record(found.disk, devices, {ds["moid"]: ds["name"] for ds in datastores}) if found.disk is not None else None

    if params["state"] == "absent":
        if found.disk is None and not found.marker and not found.pending:
            changes = Changes()
            changes.compare("retention_disk", None, None)
            changes.compare("marker", None, None)
            return dict(result, **changes.result(module), operation="none", disk=None, marker=dict(key=found.marker_key, value=None))
        return dict(result, **remove_disk(module, client, vm, found, record))

    try:
        refuse_stale_marker(found, vm.path)
    except VSphereError as error:
        raise VSphereError(error.msg, vm=result["vm"]) from None
    controllers = controller_records(devices)
    wrong = not_lsi(controllers)
    if wrong and (found.disk is not None or len(wrong) < len(controllers)):  # with no LSI controller at all, choose_slot fails
        module.warn(
            f"VM {vm.path} has SCSI controllers that are not LSI Logic ({describe_controllers(wrong)}): Azure Site Recovery "
            "reprotect fails with them. Convert them with siterecovery.master_target.vm_scsi_controller."
        )
    if not enable_uuid_is_true(extra_config):
        module.warn(
            f"disk.EnableUUID is not TRUE on VM {vm.path}: the guest will not see the disk by its UUID. "
            "Set it with siterecovery.master_target.vm_disk_uuid."
        )
    if found.disk is None:
        return dict(result, **add_disk(module, client, vm, devices, datastores, {ds.moid: ds.obj for ds in read}, found))
    return dict(result, **ensure_size(module, client, vm, found, record, datastores))


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
            **task_timeout_argument_spec(),
        ),
        required_if=[("state", "present", ["size_gb"])],
    )
    if module.params["size_gb"] is not None and module.params["size_gb"] < 1:
        module.fail_json(msg=f"size_gb must be at least 1 (GiB), got {module.params['size_gb']}.")
    check_task_timeout(module)
    run_module(module, ensure_retention_disk)


if __name__ == "__main__":
    main()
