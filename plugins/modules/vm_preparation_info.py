#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, siterecovery.master_target contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: vm_preparation_info
short_description: Say, in one call, which master target preparation steps would change a virtual machine
description:
  - Reads a master target VM, its host, its datastores and its clusters with a few PropertyCollector
    calls and says, for each step of preparing it, whether the step would change anything. Changes nothing.
  - Each step is judged with the same functions the module that makes the change uses to decide
    it, so a step reported as not needed is one that module would report as unchanged. The steps and
    their modules are C(disk_uuid) (M(siterecovery.master_target.vm_disk_uuid), O(siterecovery.master_target.vm_disk_uuid#module:enabled=true)),
    C(snapshots) (M(siterecovery.master_target.vm_snapshots), O(siterecovery.master_target.vm_snapshots#module:state=absent)),
    C(scsi_controllers) (M(siterecovery.master_target.vm_scsi_controller)),
    C(retention_disk) (M(siterecovery.master_target.vm_retention_disk)),
    C(datastores) (M(siterecovery.master_target.host_datastore_access)) and
    C(migration_exclusion) (M(siterecovery.master_target.vm_migration_exclusion), O(siterecovery.master_target.vm_migration_exclusion#module:state=present)).
  - A step is also reported as needed when its module would fail (a retention disk marker naming a missing
    disk, an unknown or NFS datastore); running that module gives its error and the fix.
  - With O(vms) it plans any number of VMs in one call, with one login and a constant number of reads.
  - The P(siterecovery.master_target.vsphere#role) role runs this first, once for all the master targets of the play,
    and then only the modules of the steps that are needed. So a run on prepared master targets costs one module call
    for the whole play. It also returns the VMware Tools state, which the role uses when it did not power-cycle the VM.
version_added: 0.1.0
author:
  - siterecovery.master_target contributors (@siterecovery)
extends_documentation_fragment:
  - siterecovery.master_target.vsphere
  - siterecovery.master_target.vsphere.vm
  - siterecovery.master_target.vsphere.info_attributes
options:
  disk_uuid:
    description: Whether to judge the C(disk_uuid) step (C(disk.EnableUUID=TRUE)).
    type: bool
    default: true
  snapshots:
    description: Whether to judge the C(snapshots) step (no snapshot, no disk to consolidate).
    type: bool
    default: true
  scsi_controllers:
    description: Whether to judge the C(scsi_controllers) step (every SCSI controller LSI Logic).
    type: bool
    default: true
  scsi_type:
    description: The LSI Logic type a conversion would use, as O(siterecovery.master_target.vm_scsi_controller#module:type).
    type: str
    choices: [auto, lsilogic, lsilogicsas]
    default: auto
  scsi_guest_drivers:
    description: As O(siterecovery.master_target.vm_scsi_controller#module:guest_drivers).
    type: list
    elements: str
    choices: [lsilogic, lsilogicsas]
    default: []
  scsi_guest_ready:
    description: As O(siterecovery.master_target.vm_scsi_controller#module:guest_ready).
    type: bool
    default: false
  retention_disk_size_gb:
    description:
      - The size of the retention disk in GiB, as O(siterecovery.master_target.vm_retention_disk#module:size_gb).
      - When set, the C(retention_disk) step is judged; when not, it is left out.
    type: int
  retention_disk_datastore:
    description: The datastore of the retention disk, as O(siterecovery.master_target.vm_retention_disk#module:datastore); empty means any.
    type: str
  datastores:
    description:
      - The datastores the VM's host must have mounted read/write, as O(siterecovery.master_target.host_datastore_access#module:datastores).
      - When empty, the C(datastores) step is left out.
    type: list
    elements: str
    default: []
  migration_exclusion:
    description: Whether to judge the C(migration_exclusion) step (Storage DRS and DRS VM overrides).
    type: bool
    default: true
  storage_drs_behavior:
    description: As O(siterecovery.master_target.vm_migration_exclusion#module:storage_drs_behavior).
    type: str
    choices: [disabled, manual]
    default: disabled
  drs_behavior:
    description: As O(siterecovery.master_target.vm_migration_exclusion#module:drs_behavior).
    type: str
    choices: [disabled, manual]
    default: disabled
  vms:
    description:
      - Plan several VMs in one call instead of the one that O(name), O(uuid) or O(moid) selects. One login and a
        constant number of PropertyCollector reads serve every VM, whatever their number. Only a VM whose controllers
        would be converted costs one more call (its guest OS descriptor).
      - Each item selects a VM as the module's own options do, and may set any step option. An option that an item
        leaves out (or sets to null) takes the module's value. So O(folder), for example, can be given once for all.
      - The result is RV(vms), one plan per item, in the order given.
    type: list
    elements: dict
    default: []
    suboptions:
      id:
        description: Any text, returned with this VM's plan (the vsphere role gives the inventory host name).
        type: str
      name:
        description: As O(name).
        type: str
      uuid:
        description: As O(uuid).
        type: str
      use_instance_uuid:
        description: As O(use_instance_uuid).
        type: bool
      moid:
        description: As O(moid).
        type: str
      folder:
        description: As O(folder).
        type: str
      datacenter:
        description: As O(datacenter).
        type: str
      disk_uuid:
        description: As O(disk_uuid).
        type: bool
      snapshots:
        description: As O(snapshots).
        type: bool
      scsi_controllers:
        description: As O(scsi_controllers).
        type: bool
      scsi_type:
        description: As O(scsi_type).
        type: str
        choices: [auto, lsilogic, lsilogicsas]
      scsi_guest_drivers:
        description: As O(scsi_guest_drivers).
        type: list
        elements: str
        choices: [lsilogic, lsilogicsas]
      scsi_guest_ready:
        description: As O(scsi_guest_ready).
        type: bool
      retention_disk_size_gb:
        description: As O(retention_disk_size_gb).
        type: int
      retention_disk_datastore:
        description: As O(retention_disk_datastore).
        type: str
      datastores:
        description: As O(datastores).
        type: list
        elements: str
      migration_exclusion:
        description: As O(migration_exclusion).
        type: bool
      storage_drs_behavior:
        description: As O(storage_drs_behavior).
        type: str
        choices: [disabled, manual]
      drs_behavior:
        description: As O(drs_behavior).
        type: str
        choices: [disabled, manual]
      enable_cluster_vm_overrides:
        description: As O(enable_cluster_vm_overrides).
        type: bool
  enable_cluster_vm_overrides:
    description:
      - As O(siterecovery.master_target.vm_migration_exclusion#module:enable_cluster_vm_overrides).
      - Where the cluster has VM overrides switched off, the C(migration_exclusion) step is needed either way. Its reason says
        that they would be switched on (V(true), a cluster-wide change) or gives the error the module would fail with (V(false)).
    type: bool
    default: false
notes:
  - >-
    Privileges: read-only (C(System.Read), as in the Read-only role) on the VM, its host, the datastores, its datastore
    clusters and its cluster. Reading the guest OS's SCSI controller list (C(EnvironmentBrowser.QueryConfigOptionEx))
    needs C(System.View), which every role has. The modules that make the changes need their own privileges, listed in
    their notes.
seealso:
  - module: siterecovery.master_target.vm_disk_uuid
    description: Makes the C(disk_uuid) step's change.
  - module: siterecovery.master_target.vm_snapshots
    description: Makes the C(snapshots) step's change.
  - module: siterecovery.master_target.vm_scsi_controller
    description: Makes the C(scsi_controllers) step's change.
  - module: siterecovery.master_target.vm_retention_disk
    description: Makes the C(retention_disk) step's change.
  - module: siterecovery.master_target.host_datastore_access
    description: Makes the C(datastores) step's change.
  - module: siterecovery.master_target.vm_migration_exclusion
    description: Makes the C(migration_exclusion) step's change.
  - module: siterecovery.master_target.vm_preparation
    description: Makes the changes of the C(disk_uuid), C(snapshots), C(scsi_controllers) and C(retention_disk) steps in one
      call, with one power cycle and one reconfiguration.
  - module: siterecovery.master_target.failback_readiness_info
    description: Judges, once the master targets are prepared, whether reprotect and failback will work.
"""

EXAMPLES = r"""
- name: What would preparing the master target change?
  siterecovery.master_target.vm_preparation_info:
    name: asr-mt-01
    retention_disk_size_gb: 1024
    datastores: [vmfs-prod-01, vmfs-prod-02]
  delegate_to: localhost
  register: plan

- name: Plan every master target in one call (one login, a constant number of reads)
  siterecovery.master_target.vm_preparation_info:
    folder: asr
    retention_disk_size_gb: 1024
    vms:
      - name: asr-mt-01
      - name: asr-mt-02
        retention_disk_size_gb: 2048
  delegate_to: localhost
  register: plans

- name: Say it
  ansible.builtin.debug:
    msg: "{{ plan.to_change | map('extract', plan.steps) | map(attribute='reason') | list or 'Nothing to change.' }}"

- name: Remove the snapshots only when there are some
  siterecovery.master_target.vm_snapshots:
    name: asr-mt-01
    state: absent
  delegate_to: localhost
  when: plan.steps.snapshots.needed
"""

RETURN = r"""
to_change:
  description: The names of the steps that are needed, in the order the vsphere role runs them.
  returned: when one VM is selected (not O(vms))
  type: list
  elements: str
  sample: [snapshots, retention_disk]
steps:
  description:
    - One entry per step judged, by name. Each has RV(steps.disk_uuid.needed) and RV(steps.disk_uuid.reason)
      (shown here for C(disk_uuid); every step has both) and the facts below.
  returned: when one VM is selected (not O(vms))
  type: dict
  contains:
    disk_uuid:
      description: C(disk.EnableUUID=TRUE). Absent with O(disk_uuid=false).
      type: dict
      contains:
        needed:
          description: Whether the step would change the VM (or its module would fail).
          type: bool
        reason:
          description: What is found and, when needed, what would change.
          type: str
          sample: "disk.EnableUUID is not set: it must be TRUE."
        before:
          description: The current value (of the key that is kept, when several differ only in case); null when not set.
          type: str
        after:
          description: The value the step would leave.
          type: str
          sample: "TRUE"
        stray_keys:
          description: The keys that differ from C(disk.EnableUUID) only in case, which the step would remove.
          type: list
          elements: str
        power_cycle_required:
          description:
            - Whether the VM (powered on or suspended) runs with another C(disk.EnableUUID) than its configuration
              holds, so that only a power-off and power-on puts it into effect. The step would change it now, or
              M(siterecovery.master_target.vm_disk_uuid) changed it at or after the VM's last power-on
              (C(runtime.bootTime)), as RV(siterecovery.master_target.vm_disk_uuid#module:power_cycle_required) says.
            - Judged on every run, also when the step is not needed.
          type: bool
    snapshots:
      description: No snapshot, no disk to consolidate. Absent with O(snapshots=false).
      type: dict
      contains:
        snapshots:
          description: The path of every snapshot.
          type: list
          elements: str
        consolidation_needed:
          description: Whether vCenter reports that the VM's disks need consolidation.
          type: bool
    scsi_controllers:
      description: Every SCSI controller LSI Logic. Absent with O(scsi_controllers=false).
      type: dict
      contains:
        controllers:
          description: The SCSI controllers, as RV(siterecovery.master_target.vm_scsi_controller#module:controllers).
          type: list
          elements: dict
        not_lsi:
          description: The controllers that are not LSI Logic (the ones a conversion would replace).
          type: list
          elements: dict
        type:
          description: The LSI Logic type a conversion would use for this guest OS; null when none is needed or none can be chosen.
          type: str
        refusal:
          description: Why the conversion would be refused (the module's message), or null.
          type: str
        boot_pending:
          description: Whether a conversion is recorded on the VM that the guest has not yet booted from (the step is then needed).
          type: bool
        guest_os:
          description:
            - What vCenter says of the guest OS, as RV(siterecovery.master_target.vm_scsi_controller#module:guest_os).
            - Read only when a controller is not LSI Logic.
          type: dict
    retention_disk:
      description:
        - One retention disk of O(retention_disk_size_gb). Absent without O(retention_disk_size_gb).
        - Judged with the functions of M(siterecovery.master_target.vm_retention_disk) itself (thin provisioning, the first LSI
          Logic controller with room, the datastore holding the VM's C(.vmx) unless O(retention_disk_datastore) is set). When that
          module would fail (a datastore it refuses, no free unit, a disk larger than asked), the reason is its error message.
      type: dict
      contains:
        disk:
          description: The retention disk found, as RV(siterecovery.master_target.vm_retention_disk#module:disk); null when none.
          type: dict
    datastores:
      description: The datastores mounted read/write on the VM's host. Absent when O(datastores) is empty.
      type: dict
      contains:
        host:
          description: The VM's host (name, moid); null when the VM has none.
          type: dict
        datastores:
          description: Each datastore found, as RV(siterecovery.master_target.host_datastore_access#module:datastores).
          type: list
          elements: dict
    migration_exclusion:
      description: The Storage DRS and DRS VM overrides. Absent with O(migration_exclusion=false).
      type: dict
      contains:
        storage_drs:
          description: Each datastore cluster holding the VM's files, with the VM's override there (enabled, behavior) or null.
          type: list
          elements: dict
        drs:
          description:
            - The cluster of the VM's host with the VM's override there, or null when the host is in no cluster.
            - C(vm_overrides_enabled) says whether the cluster has VM overrides switched on (C(drsConfig.enableVmBehaviorOverrides)).
          type: dict
tools:
  description: The VMware Tools facts, as RV(siterecovery.master_target.vm_tools#module:tools).
  returned: when one VM is selected (not O(vms))
  type: dict
state:
  description:
    - The VM as found, in the shape the P(siterecovery.master_target.vsphere#role) role publishes as C(vsphere_master_target)
      when it changes nothing (as RV(siterecovery.master_target.vm_preparation#module:state)).
  returned: when one VM is selected (not O(vms))
  type: dict
vms:
  description:
    - With O(vms), one plan per item, in the order given. Each has C(id) (the item's O(vms[].id)), C(failed) and, when
      C(failed) is true, C(msg) (why that VM could not be planned, for example that it was not found). Otherwise it has
      RV(to_change), RV(steps), RV(tools), RV(state) and RV(vm), as for one VM.
    - One VM that cannot be planned does not fail the module. Only an error that concerns every VM (the connection,
      the login) does.
  returned: with O(vms)
  type: list
  elements: dict
  sample: [{id: asr-mt-01, failed: false, to_change: [], steps: {}, vm: {name: asr-mt-01}}, {id: asr-mt-09, failed: true,
    msg: "No virtual machine named 'asr-mt-09' was found. Check the name (it is case-sensitive) and the folder/datacenter options."}]
vm:
  description: The virtual machine read (name, moid, path) and its power state.
  returned: when one VM is selected (not O(vms))
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
    power_state:
      description: The VM's power state (C(runtime.powerState)).
      type: str
      sample: poweredOn
"""

from ansible_collections.siterecovery.master_target.plugins.module_utils._vsphere_client import VSphereError
from ansible_collections.siterecovery.master_target.plugins.module_utils._vsphere_devices import LSI_TYPES
from ansible_collections.siterecovery.master_target.plugins.module_utils._vsphere_lookup import (
    VM_SELECTION_RULES,
    find_vm,
    find_vms,
    vm_selection_argument_spec,
)
from ansible_collections.siterecovery.master_target.plugins.module_utils._vsphere_module import run_module, vsphere_module
from ansible_collections.siterecovery.master_target.plugins.module_utils._vsphere_preparation import VM_PATHS, judge, read_surroundings

# The options that say what to judge: given once for the module, or per VM in `vms`.
STEP_OPTIONS = dict(
    disk_uuid=dict(type="bool", default=True),
    snapshots=dict(type="bool", default=True),
    scsi_controllers=dict(type="bool", default=True),
    scsi_type=dict(type="str", choices=["auto", *LSI_TYPES], default="auto"),
    scsi_guest_drivers=dict(type="list", elements="str", choices=list(LSI_TYPES), default=[]),
    scsi_guest_ready=dict(type="bool", default=False),
    retention_disk_size_gb=dict(type="int"),
    retention_disk_datastore=dict(type="str"),
    datastores=dict(type="list", elements="str", default=[]),
    migration_exclusion=dict(type="bool", default=True),
    storage_drs_behavior=dict(type="str", choices=["disabled", "manual"], default="disabled"),
    drs_behavior=dict(type="str", choices=["disabled", "manual"], default="disabled"),
    enable_cluster_vm_overrides=dict(type="bool", default=False),
)
SELECTION = tuple(vm_selection_argument_spec())


def vm_requests(params):
    """Pure: one dict per VM to plan, with its selection and step options: each item of `vms` over the module's own
    options (an item's option left out, or null, takes the module's), or the module's options alone."""
    if not params["vms"]:
        return [dict(params, id=None)]
    return [dict(params, **{name: value for name, value in item.items() if value is not None}) for item in params["vms"]]


def find_each(client, requests):
    """The VM of each request, or the VSphereError that names why it was not found: one lookup for all of them."""
    selections = [{name: request.get(name) for name in SELECTION} for request in requests]
    try:
        return find_vms(client, selections, VM_PATHS)
    except VSphereError:
        pass  # one of them was not found: find each alone, to tell each VM's own error
    found = []
    for selection in selections:
        try:
            found.append(find_vm(client, selection, VM_PATHS))
        except VSphereError as error:
            found.append(error)
    return found


def plan_preparation(module, client):
    requests = vm_requests(module.params)
    vms = find_each(client, requests)
    if not module.params["vms"] and isinstance(vms[0], VSphereError):
        raise vms[0]
    found = [vm for vm in vms if not isinstance(vm, VSphereError)]
    around = read_surroundings(client, found, overrides=any(request["migration_exclusion"] for request in requests))
    plans = []
    for request, vm in zip(requests, vms):
        if isinstance(vm, VSphereError):
            plans.append(dict(id=request["id"], failed=True, msg=vm.msg))
            continue
        try:
            plans.append(dict(judge(client, vm, around, request), id=request["id"], failed=False))
        except VSphereError as error:
            plans.append(dict(id=request["id"], failed=True, msg=error.msg))
    if not module.params["vms"]:
        plan = plans[0]
        if plan["failed"]:
            raise VSphereError(plan["msg"])
        return dict({name: value for name, value in plan.items() if name not in ("id", "failed")}, changed=False)
    return dict(changed=False, vms=plans)


def main():
    item_options = dict(vm_selection_argument_spec(), id=dict(type="str"))
    item_options.update({name: dict(option, default=None) for name, option in STEP_OPTIONS.items()})
    item_options["use_instance_uuid"] = dict(type="bool")
    module = vsphere_module(
        dict(vm_selection_argument_spec(), **STEP_OPTIONS, vms=dict(type="list", elements="dict", options=item_options, default=[])),
        selects_vm=False,
        required_one_of=[[*VM_SELECTION_RULES["required_one_of"][0], "vms"]],
        mutually_exclusive=[[*VM_SELECTION_RULES["mutually_exclusive"][0], "vms"]],
    )
    run_module(module, plan_preparation)


if __name__ == "__main__":
    main()
