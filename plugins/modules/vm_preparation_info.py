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
  - The P(siterecovery.master_target.vsphere#role) role runs this first and then only the modules of
    the steps that are needed, so a run on a prepared master target costs one module call instead of
    about ten. It also returns the VMware Tools state, which the role uses when it did not power-cycle the VM.
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
  returned: always
  type: list
  elements: str
  sample: [snapshots, retention_disk]
steps:
  description:
    - One entry per step judged, by name. Each has RV(steps.disk_uuid.needed) and RV(steps.disk_uuid.reason)
      (shown here for C(disk_uuid); every step has both) and the facts below.
  returned: always
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
  returned: always
  type: dict
vm:
  description: The virtual machine read (name, moid, path) and its power state.
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
    power_state:
      description: The VM's power state (C(runtime.powerState)).
      type: str
      sample: poweredOn
"""

from ansible_collections.siterecovery.master_target.plugins.module_utils._vsphere_datastores import DATASTORE_PATHS, datastore_facts
from ansible_collections.siterecovery.master_target.plugins.module_utils._vsphere_devices import LSI_TYPES, controller_records, datastore_of_path, not_lsi
from ansible_collections.siterecovery.master_target.plugins.module_utils._vsphere_lookup import find_vm, read_inventory, read_objects
from ansible_collections.siterecovery.master_target.plugins.module_utils._vsphere_module import run_module, vsphere_module
from ansible_collections.siterecovery.master_target.plugins.module_utils._vsphere_overrides import (
    CLUSTER_PATHS,
    POD_PATHS,
    cluster_facts,
    pod_facts,
    pods_of,
)
from ansible_collections.siterecovery.master_target.plugins.module_utils._vsphere_preparation import (
    STEPS,
    datastores_step,
    disk_uuid_step,
    migration_exclusion_step,
    retention_disk_step,
    scsi_controllers_step,
    snapshots_step,
    step,
)
from ansible_collections.siterecovery.master_target.plugins.module_utils._vsphere_scsi import VM_DESCRIPTOR_PATHS, read_guest_os
from ansible_collections.siterecovery.master_target.plugins.module_utils._vsphere_snapshots import SNAPSHOT_PATHS, vm_snapshots
from ansible_collections.siterecovery.master_target.plugins.module_utils._vsphere_tools import TOOLS_PATHS, tools_facts

try:
    from pyVmomi import vim
except ImportError:  # pragma: no cover - reported when connecting
    pass

VM_PATHS = sorted(
    {"config.extraConfig", "config.hardware.device", "config.files.vmPathName", "runtime.powerState", "runtime.bootTime", "runtime.host", "datastore"}
    .union(VM_DESCRIPTOR_PATHS, SNAPSHOT_PATHS, TOOLS_PATHS)
)


def read_surroundings(client, vm, params):
    """The VM's host (name, parent) and every datastore (facts, parent), then its datastore clusters
    and cluster: two to four round trips, whatever the inventory size."""
    host_ref = vm.get("runtime.host")
    host = read_objects(client, [host_ref], ["name", "parent"])[0] if host_ref is not None else None
    # Not `info` (the VMFS uuid, needed only to mount): it is large, and read here for every datastore.
    paths = [path for path in DATASTORE_PATHS if path != "info"] + ["parent"]
    datastores = read_inventory(client, [vim.Datastore], {vim.Datastore: paths})
    pods, cluster = [], None
    if params["migration_exclusion"]:
        vm_datastores = {ref._moId for ref in vm.get("datastore") or []}  # pylint: disable=protected-access
        pod_refs = [ref for ref, _names in pods_of([ds for ds in datastores if ds.moid in vm_datastores]).values()]
        if pod_refs:
            pods = sorted((pod_facts(pod, vm.moid) for pod in read_objects(client, pod_refs, POD_PATHS)), key=lambda pod: pod["name"])
        parent = host.get("parent") if host is not None else None
        if isinstance(parent, vim.ClusterComputeResource):
            cluster = cluster_facts(read_objects(client, [parent], CLUSTER_PATHS)[0], vm.moid)
    return host, datastores, pods, cluster


def plan_preparation(module, client):
    params = module.params
    vm = find_vm(client, params, VM_PATHS)
    host, datastores, pods, cluster = read_surroundings(client, vm, params)
    devices = vm.get("config.hardware.device") or []
    extra_config = vm.get("config.extraConfig")
    power_state = vm.get("runtime.powerState")

    steps = {}
    if params["disk_uuid"]:
        steps["disk_uuid"] = disk_uuid_step(extra_config, power_state, vm.get("runtime.bootTime"))
    if params["snapshots"]:
        steps["snapshots"] = snapshots_step(vm_snapshots(vm), vm.get("runtime.consolidationNeeded"))
    if params["scsi_controllers"]:
        # The guest OS descriptor costs a call: read only when a controller would be converted.
        guest_os = read_guest_os(client, vm) if not_lsi(controller_records(devices)) else None
        steps["scsi_controllers"] = scsi_controllers_step(
            vm.path, devices, extra_config, guest_os, vm.get("config.guestId"),
            params["scsi_type"], params["scsi_guest_drivers"], params["scsi_guest_ready"],
        )
    if params["retention_disk_size_gb"] is not None:
        steps["retention_disk"] = retention_disk_step(
            vm.path, devices, extra_config, [datastore_facts(ds) for ds in datastores],
            dict(name=host.name, moid=host.moid) if host is not None else None,
            params["retention_disk_size_gb"], params["retention_disk_datastore"], datastore_of_path(vm.get("config.files.vmPathName")),
        )
    if params["datastores"]:
        if host is None:
            steps["datastores"] = step(True, f"VM {vm.path} is not on any ESXi host.", host=None, datastores=[])
        else:
            facts_by_name = {}
            for ds in datastores:
                facts_by_name.setdefault(ds.name, []).append(datastore_facts(ds))
            steps["datastores"] = datastores_step(params["datastores"], facts_by_name, dict(name=host.name, moid=host.moid))
    if params["migration_exclusion"]:
        steps["migration_exclusion"] = migration_exclusion_step(pods, cluster, params["storage_drs_behavior"], params["drs_behavior"],
                                                                params["enable_cluster_vm_overrides"], vm.path)

    return dict(
        changed=False,
        to_change=[name for name in STEPS if name in steps and steps[name]["needed"]],
        steps=steps,
        tools=tools_facts(vm.props),
        vm=dict(vm.describe(), power_state=power_state),
    )


def main():
    module = vsphere_module(
        dict(
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
    )
    run_module(module, plan_preparation)


if __name__ == "__main__":
    main()
