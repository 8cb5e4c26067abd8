#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, siterecovery.master_target contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: failback_readiness_info
short_description: Tell whether Azure Site Recovery reprotect and failback will work, check by check
description:
  - >-
    Reads vCenter once and answers, for a set of master targets and the protected VMs to fail back
    through them, every check Azure Site Recovery (classic architecture) makes or documents for
    reprotect and failback to VMware. Changes nothing.
  - >-
    Each check gives a row per object with a status (V(pass), V(info), V(warn), V(fail)), a message
    naming the objects and values found, and the fix. RV(ready) is true when no row fails. A VM that is
    not found is a failed V(vm.found) row, not a module failure.
  - >-
    B(Identities.) Every VM, host and datastore is told apart by its managed object id (moid), never by
    its name. A row names a VM by its name, or by its inventory path when another VM of the report has
    the same name (V(/DC0/vm/a/mt) and V(/DC0/vm/b/mt)); a host or datastore whose name is not unique is
    named with its moid. A VM given twice (by name and by path, two spellings of its path, or its moid)
    is read and counted once, with an V(info) V(vm.found) row saying so; a VM given both as a master
    target and as a protected VM is a failed V(vm.found) row. vCenter stores a C(/) in a VM name as
    C(%2f) (C(\) as C(%5c), C(%) as C(%25)): a name typed with C(/) that is not found says so, and
    gives the name as vCenter stores it.
  - >-
    B(Master target checks), one row each per master target. V(master_target.disk_uuid)
    C(disk.EnableUUID=TRUE), judged as M(siterecovery.master_target.vm_disk_uuid) judges it, and in
    effect. It fails when M(siterecovery.master_target.vm_disk_uuid) set it at or after the last
    power-on of the VM, still running or suspended (C(runtime.bootTime)): it is set but not in effect until a power cycle.
    V(master_target.snapshots) no snapshots. V(master_target.scsi_controller)
    every SCSI controller LSI Logic Parallel or SAS (ParaVirtual and BusLogic fail).
    V(master_target.tools) VMware Tools installed and running. V(master_target.vmfs_datastore) its ESXi
    host has at least one VMFS datastore attached, mounted and read/write.
    V(master_target.migration_exclusion) excluded from Storage DRS (a VM override with automation
    disabled in every datastore cluster holding its files) and from DRS (a VM override disabled or
    manual); a VM outside datastore clusters and clusters passes, and the message says so.
    V(master_target.retention_disk) the retention disk that
    M(siterecovery.master_target.vm_retention_disk) marks (advanced setting
    C(siterecovery.retentionDisk.uuid)) is present, and a warning when smaller than
    O(retention_disk_min_gb). V(master_target.disk_limit) at most 60 disks, with the protected VMs
    reprotect will attach (below). V(master_target.sizing)
    4 vCPU, 6 GB RAM and a 100 GB OS disk (the first disk), as warnings.
  - >-
    B(The 60-disk limit: the plan of reprotect.) A master target holds its own disks plus all the disks
    of each protected VM reprotected to it, and reprotect attaches them to LSI Logic SCSI controllers.
    So its room is 60 minus its own disks, and no more than its LSI Logic controllers can take: their
    free units (0-15 but 7) plus 15 for each of the 4 SCSI buses without a controller (a ParaVirtual or
    BusLogic controller takes a bus and no protected disk). Each protected VM goes whole to one master
    target of its OS family; the VMs of a replication group (O(replication_groups)) all go to the same
    one. The module plans it as an admin would: the VMs (or groups) with most disks first, each to the
    master target of its family with most room left. The V(master_target.disk_limit) row of each master
    target shows its share; it fails, with a fix of its own, for a VM or group of its OS family that
    fits nowhere. A VM with more disks than any master target can take (61 disks, say): more master
    targets do not help; split its disks across VMs or fail it back another way. A replication group
    too large for one master target: split the group. A group that mixes OS families: one group per
    family. Too many VMs in total: add master targets, with the number needed. A VM whose OS family
    has no master target listed is left to V(protected_vm.os_family).
  - >-
    B(Protected VM checks), one row per protected VM and master target. V(protected_vm.datastore)
    each of its datastores is VMFS or vSAN (NFS fails, as Azure Site Recovery fails back to VMFS or vSAN
    only) and mounted read/write on the master target's host. V(protected_vm.uuid_clash) its BIOS uuid
    and disk uuids differ from the master target's (clones of one template clash).
    One row per protected VM: V(protected_vm.os_family) at least one master target listed has its OS
    family (the disk plan places it only on those; with a Linux and a Windows master target each VM
    passes on its own family), and the VMs of its replication group all have one.
    V(protected_vm.snapshots) reports its snapshots as V(info) (reprotect merges them).
  - >-
    B(Phases.) O(phase=before_reprotect) (the default) judges whether reprotect will work: every check
    above. O(phase=after_reprotect) judges, once reprotect has run and before failback, whether failback
    will: reprotect has turned each protected VM off and attached its disks (the files the VM's own
    configuration names) to one master target. Rows after reprotect: V(protected_vm.powered_off) (new)
    the protected VM is powered off (Microsoft says not to turn it on after reprotect); else it fails.
    V(protected_vm.disks_attached) (new) each disk of the protected VM is attached to a master target
    listed at the path the VM's configuration names (the master target's disk backing C(fileName)
    against the VM's), all of them to exactly one master target, and the VMs of a replication group to
    the same one. A disk the master target holds with the VM's disk uuid at another path fails, naming
    the disk, both paths and the fix: a Storage vMotion of the master target moved it, and failback
    cannot detach it. A VM none of whose disks is attached fails: reprotect has not run for it, or it
    went through a master target not listed (list every master target the VMs were reprotected
    through). Some disks not attached warn (a disk excluded from replication is not reprotected).
    V(master_target.disk_limit) counts the disks the master target has now, its own and the attached
    ones, at most 60, instead of the plan of reprotect. V(protected_vm.datastore) is judged from the
    host of the master target that holds the VM's disks only. Kept as before reprotect:
    every other master target row (V(master_target.snapshots) fails when a snapshot appeared),
    V(protected_vm.os_family) and the global rows. Not run after reprotect: V(protected_vm.uuid_clash)
    (the attached disks share the protected VM's disk uuids by design), V(protected_vm.snapshots)
    (reprotect merged them; a disk changed since shows in V(protected_vm.disks_attached)) and the
    disk plan.
  - >-
    B(Global checks.) V(host.license), per ESXi host of the master targets and protected VMs: a free
    edition (vSphere Hypervisor, ESXi free) fails (failover works, failback does not), evaluation mode
    warns. vCenter cannot manage a host with a free edition (it refuses to assign one), so the free edition
    is found on a direct connection to the ESXi host (C(about.apiType) V(HostAgent)), which reads the host's
    own licence (C(LicenseManager.licenses)); through vCenter the row judges the licence vCenter assigned
    (C(QueryAssignedLicenses)), and should vCenter report a free edition all the same, the row is V(info),
    pointing at a direct check. V(host.state), per ESXi host of the master targets and protected VMs:
    connected (C(runtime.connectionState)) and not in maintenance mode (C(runtime.inMaintenanceMode)), as
    reprotect and failback detach and attach disks through vCenter on these hosts; else it fails, with the
    fix. V(vcenter.version) and V(host.version): 6.5, 6.7, 7.0 and 8.0 pass, older versions fail, newer
    ones warn (not yet in Microsoft's list). V(vcenter.privileges): the account must hold each privilege
    listed in the notes on the objects vCenter checks it on (see the notes); a failing row names each
    missing privilege with the objects it is missing on.
  - >-
    Round trips to vCenter do not grow with the inventory or the number of VMs asked about. One
    ContainerView read finds every VM by name, one read gets the VMs' details, then one read each for
    their hosts, datastores, datastore clusters and clusters, and one the names of the VMs' networks and
    resource pools. One call each reads the session, the licences and the privileges.
version_added: 0.1.0
author:
  - siterecovery.master_target contributors (@siterecovery)
extends_documentation_fragment:
  - siterecovery.master_target.vsphere
  - siterecovery.master_target.vsphere.info_attributes
options:
  master_targets:
    description:
      - The master target VMs, by name or by inventory path (V(/DC0/vm/asr/asr-mt-01), or its trailing
        part V(asr/asr-mt-01)), or by moid (V(vm-57)). A name shared by several VMs is a failed V(vm.found)
        row; give the path.
      - A name as vCenter stores it, C(/) as C(%2f) (V(db%2f01) for a VM created as C(db/01)).
    type: list
    elements: str
    required: true
  protected_vms:
    description:
      - The on-premises VMs to reprotect and fail back through the master targets, by name, path or moid
        (as O(master_targets)).
    type: list
    elements: str
    default: []
  replication_groups:
    description:
      - >-
        The Azure Site Recovery replication groups (multi-VM consistency) among O(protected_vms), each a
        list of VMs written exactly as O(protected_vms) gives them. The VMs of one group fail back
        through the same master target, so they must fit on it together and share its OS family.
      - A VM in no group goes to a master target on its own.
      - A name that is not in O(protected_vms), an empty group, or one VM in two groups is a module error.
    type: list
    elements: list
    default: []
  datacenter:
    description:
      - Look the VMs up in this datacenter only.
    type: str
  retention_disk_min_gb:
    description:
      - The size in GiB below which the retention disk is reported as a warning. Microsoft suggests 1 TB (V(1024)).
      - By default its size is only reported.
    type: int
  phase:
    description:
      - V(before_reprotect) checks what reprotect needs; run it while preparing and right before reprotect.
      - V(after_reprotect) checks what failback needs once reprotect has run (the protected VMs off, their disks attached to
        the master targets where their configurations name them, at most 60 disks per master target); run it before
        failback, and whenever something may have touched the master targets meanwhile (a Storage DRS run, a snapshot).
      - The rows of each phase are in the description.
    type: str
    choices: [before_reprotect, after_reprotect]
    default: before_reprotect
notes:
  - >-
    Privileges checked (Microsoft's list for failback), each where vCenter checks it (the "Required On" column of
    the vSphere Security guide's privilege tables), all in one C(HasPrivilegeOnEntities) call that answers per object
    from the roles granted on it or inherited (a VM inherits from its folder and from its resource pool). On the
    datastores of the master targets and protected VMs, to write the replicated disks: C(Datastore.AllocateSpace),
    C(Datastore.Browse), C(Datastore.FileManagement) (low-level file operations), C(Datastore.DeleteFile),
    C(Datastore.UpdateVirtualMachineFiles). On the protected VMs' networks (standard or distributed port groups):
    C(Network.Assign). On the resource pools of the master targets and protected VMs: C(Resource.AssignVMToPool). On
    the master targets and protected VMs: C(Resource.ColdMigrate), C(Resource.HotMigrate); the C(VirtualMachine.Config)
    privileges (AddExistingDisk, AddNewDisk, AddRemoveDevice, AdvancedConfig, Annotation, CPUCount, ChangeTracking,
    DiskExtend, EditDevice, Memory, QueryUnownedFiles, RawDevice, ReloadFromPath, RemoveDisk, Rename, ResetGuestInfo,
    Resource, Settings, SwapPlacement, Unlock, UpgradeVirtualHardware) to attach the protected disks to the master
    target; C(VirtualMachine.Interact) AnswerQuestion, DeviceConnection, SetCDMedia, SetFloppyMedia, PowerOff, PowerOn,
    ToolsInstall; C(VirtualMachine.Inventory.Unregister); C(VirtualMachine.State.RemoveSnapshot). On their VM folders:
    C(VirtualMachine.Inventory) Create, CreateFromExisting, Register. On the vCenter root folder: C(Task.Create),
    C(Task.Update), C(VirtualMachine.Provisioning.GetVmFiles) and C(PutVmFiles). None is checked on a host.
    Microsoft's advice, the role on the datacenter with propagation, covers all but the root folder's.
  - >-
    Privileges: the account running this module needs read-only (C(System.Read), as in the Read-only role) on the VMs,
    their folders, hosts, datastores, datastore clusters, clusters, networks and resource pools. The privilege check
    (C(HasPrivilegeOnEntities)) and, through vCenter, the licences (C(QueryAssignedLicenses)) need C(System.View), which
    every role has. Connected straight to an ESXi host, reading its licence (C(LicenseManager.licenses)) may need
    C(Global.Licenses) on the host; when it is refused, the V(host.license) row warns. The V(vcenter.privileges) row
    checks the privileges of this account, so run the module with the account Azure Site Recovery uses.
  - The checks in the guest (multipath, retention file system, network to the process server) are the
    linux and windows roles' business; this module reads vCenter only.
seealso:
  - name: Azure Site Recovery, prepare for reprotect and failback of VMware VMs
    description: Microsoft's requirements for the master target, its host, datastores and account.
    link: https://learn.microsoft.com/azure/site-recovery/vmware-azure-prepare-failback
  - module: siterecovery.master_target.vm_migration_exclusion
    description: Excludes a master target from Storage DRS and DRS (V(master_target.migration_exclusion)).
  - module: siterecovery.master_target.vm_retention_disk
    description: Adds the retention disk that V(master_target.retention_disk) looks for.
  - module: siterecovery.master_target.vm_preparation_info
    description: Says which preparation steps would still change a master target, before this module judges it.
"""

EXAMPLES = r"""
- name: Will failback through asr-mt-01 work for these VMs?
  siterecovery.master_target.failback_readiness_info:
    hostname: vcenter.example.com
    username: asr-failback@vsphere.local
    password: "{{ vcenter_password }}"
    master_targets: [asr-mt-01]
    protected_vms: [prod-web-01, prod-db-01]
    retention_disk_min_gb: 1024
  delegate_to: localhost
  register: readiness

- name: Two master targets of one name, and a replication group that fails back together
  siterecovery.master_target.failback_readiness_info:
    master_targets: [/DC0/vm/site-a/asr-mt, /DC0/vm/site-b/asr-mt]
    protected_vms: [prod-web-01, prod-web-02, prod-db-01]
    replication_groups:
      - [prod-web-01, prod-web-02]
  delegate_to: localhost

- name: Reprotect has run; will failback work?
  siterecovery.master_target.failback_readiness_info:
    master_targets: [asr-mt-01]
    protected_vms: [prod-web-01, prod-db-01]
    phase: after_reprotect
  delegate_to: localhost

- name: Stop when it will not
  ansible.builtin.assert:
    that: readiness.ready
    fail_msg: "{{ readiness.checks | selectattr('status', 'equalto', 'fail') | map(attribute='message') | list }}"
"""

RETURN = r"""
ready:
  description: Whether no check failed.
  returned: always
  type: bool
  sample: false
phase:
  description: The phase checked (O(phase)).
  returned: always
  type: str
  sample: before_reprotect
summary:
  description: How many rows have each status, and in total.
  returned: always
  type: dict
  sample: {pass: 21, info: 1, warn: 2, fail: 6, total: 30}
  contains:
    pass: {description: Rows that passed., type: int}
    info: {description: Rows that only inform., type: int}
    warn: {description: Rows that warn., type: int}
    fail: {description: Rows that failed., type: int}
    total: {description: All rows., type: int}
checks:
  description:
    - One row per check and object. Master target rows come first, grouped by master target, then the
      protected VM rows, then the global ones (V(vm.found), V(host.license), V(host.state), V(host.version),
      V(vcenter.version), V(vcenter.privileges)).
  returned: always
  type: list
  elements: dict
  contains:
    check:
      description: The check's stable id.
      type: str
      choices: [master_target.disk_uuid, master_target.snapshots, master_target.scsi_controller, master_target.tools,
                master_target.vmfs_datastore, master_target.migration_exclusion, master_target.retention_disk,
                master_target.disk_limit, master_target.sizing, protected_vm.datastore, protected_vm.uuid_clash,
                protected_vm.os_family, protected_vm.snapshots, protected_vm.powered_off, protected_vm.disks_attached, host.license,
                host.state, vcenter.version, host.version, vcenter.privileges, vm.found]
      sample: master_target.snapshots
    status:
      description: The outcome.
      type: str
      choices: [pass, info, warn, fail]
      sample: fail
    master_target:
      description:
        - The master target the row belongs to, by name, or by inventory path when another VM of the report
          has its name; null for global rows and the rows of a protected VM that are not about one master target
          (V(protected_vm.os_family), V(protected_vm.snapshots), V(protected_vm.powered_off), and
          V(protected_vm.disks_attached) unless exactly one master target holds the VM's disks).
      type: str
      sample: asr-mt-01
    master_target_moid:
      description: The managed object id of that master target (null when RV(checks[].master_target) is).
      type: str
      sample: vm-57
    objects:
      description:
        - The objects the row is about (VMs, datastores, hosts, clusters), each by its name; a VM by its inventory
          path when another VM of the report has its name, a host or datastore with its moid when its name is not unique.
        - For a V(vm.found) row of a VM not found, the entry as given.
        - V(vcenter.privileges) also names VM folders (by inventory path), networks, resource pools and the vCenter root
          folder (by the O(hostname) connected to).
      type: list
      elements: str
      sample: [asr-mt-01]
    message:
      description: What was found, naming the objects and values.
      type: str
      sample: "asr-mt-01 has 2 snapshot(s) (before-patch, before-patch/after-patch): reprotect and failback fail on a master target with snapshots."
    fix:
      description: How to fix it; empty when the row passed.
      type: str
      sample: "Remove them with siterecovery.master_target.vm_snapshots (name: asr-mt-01, state: absent)."
master_targets:
  description: The master targets found, in the order given, each once (a VM given twice is listed at its first entry).
  returned: always
  type: list
  elements: dict
  contains:
    name: {description: The VM's name., type: str, sample: asr-mt-01}
    path: {description: Its inventory path., type: str, sample: /DC0/vm/asr/asr-mt-01}
    moid: {description: Its managed object id., type: str, sample: vm-57}
    host: {description: The name of its ESXi host (null when it has none)., type: str, sample: esx01.example.com}
    power_state: {description: Its power state., type: str, sample: poweredOn}
    guest_id: {description: Its configured guest OS id., type: str, sample: ubuntu64Guest}
    guest_family: {description: Its OS family., type: str, choices: [linux, windows, other], sample: linux}
    num_cpu: {description: Its virtual CPUs., type: int, sample: 4}
    memory_mb: {description: Its memory in MB., type: int, sample: 8192}
    disks: {description: How many virtual disks it has., type: int, sample: 2}
    ready:
      description: Whether no row of this master target failed (its own and its protected VM rows, by RV(checks[].master_target_moid)).
      type: bool
      sample: false
protected_vms:
  description: The protected VMs found, in the order given, each once.
  returned: always
  type: list
  elements: dict
  contains:
    name: {description: The VM's name., type: str, sample: prod-web-01}
    path: {description: Its inventory path., type: str, sample: /DC0/vm/prod/prod-web-01}
    moid: {description: Its managed object id., type: str, sample: vm-61}
    host: {description: The name of its ESXi host., type: str, sample: esx02.example.com}
    datastores: {description: The names of its datastores (with the moid when not unique)., type: list, elements: str, sample: [vmfs-prod-01]}
    disks: {description: How many virtual disks it has., type: int, sample: 1}
    guest_family: {description: Its OS family., type: str, choices: [linux, windows, other], sample: linux}
policy:
  description: The failback replication policy Azure Site Recovery applies (fixed, not settable), for the record.
  returned: always
  type: dict
  sample: {rpo_threshold_minutes: 15, recovery_point_retention_hours: 24, app_consistent_snapshot_frequency_minutes: 60}
  contains:
    rpo_threshold_minutes: {description: RPO threshold., type: int, sample: 15}
    recovery_point_retention_hours: {description: Recovery point retention., type: int, sample: 24}
    app_consistent_snapshot_frequency_minutes: {description: App-consistent snapshot frequency., type: int, sample: 60}
vcenter:
  description: The vCenter (or ESXi) the module read.
  returned: always
  type: dict
  contains:
    name: {description: The product name., type: str, sample: VMware vCenter Server}
    version: {description: The product version., type: str, sample: 7.0.3}
    build: {description: The build number., type: str, sample: "21477706"}
    api_type: {description: V(VirtualCenter) or V(HostAgent) (a standalone ESXi host)., type: str, sample: VirtualCenter}
"""

import difflib
from collections import Counter

from ansible_collections.siterecovery.master_target.plugins.module_utils._vsphere_client import VSphereError
from ansible_collections.siterecovery.master_target.plugins.module_utils._vsphere_datastores import DATASTORE_PATHS, datastore_facts
from ansible_collections.siterecovery.master_target.plugins.module_utils._vsphere_devices import controller_records, disks, marker_of
from ansible_collections.siterecovery.master_target.plugins.module_utils._vsphere_lookup import (
    datacenter_matches,
    escaped_name_hint,
    inventory_paths,
    match_by_name,
    read_inventory,
    read_object,
    read_objects,
)
from ansible_collections.siterecovery.master_target.plugins.module_utils._vsphere_module import run_module, vsphere_module
from ansible_collections.siterecovery.master_target.plugins.module_utils._vsphere_overrides import (
    CLUSTER_PATHS,
    POD_PATHS,
    cluster_facts,
    pod_facts,
)
from ansible_collections.siterecovery.master_target.plugins.module_utils._vsphere_readiness import (
    POLICY,
    REQUIRED_PRIVILEGES,
    check_host_state,
    check_disk_limit,
    check_disk_uuid,
    check_license,
    check_migration_exclusion,
    check_os_family,
    check_privileges,
    check_protected_datastore,
    check_protected_snapshots,
    check_retention_disk,
    check_scsi_controller,
    check_sizing,
    check_snapshots,
    check_tools,
    check_uuid_clash,
    check_vmfs_datastore,
    check_version,
    duplicate_row,
    guest_family,
    not_found_row,
    privileges_for,
    replication_group_problem,
    row,
    summary,
)
from ansible_collections.siterecovery.master_target.plugins.module_utils._vsphere_reprotected import (
    attachments,
    check_attached_disk_count,
    check_disks_attached,
    check_powered_off,
    disk_files,
    holders,
)
from ansible_collections.siterecovery.master_target.plugins.module_utils._vsphere_snapshots import vm_snapshots
from ansible_collections.siterecovery.master_target.plugins.module_utils._vsphere_tools import TOOLS_PATHS, guest_facts, tools_facts

try:
    from pyVmomi import vim, vmodl
except ImportError:  # pragma: no cover - reported when connecting
    pass

VM_PATHS = sorted({"name", "config.uuid", "config.extraConfig", "config.hardware.device", "config.hardware.numCPU",
                   "config.hardware.memoryMB", "snapshot", "datastore", "runtime.host", "runtime.bootTime",
                   "parent", "resourcePool", "network"} | set(TOOLS_PATHS))
HOST_PATHS = ["name", "parent", "datastore", "config.product.version", "config.product.fullName", "runtime.connectionState",
              "runtime.inMaintenanceMode"]


# ---- pure: names, facts, rows ----------------------------------------------------------------------


def moid(ref):
    """Pure: a managed object reference's id, None for None."""
    return ref._moId if ref is not None else None  # pylint: disable=protected-access


def resolve(vms, wanted, datacenter=None):
    """Pure: (the one VM record `wanted` names, [paths when ambiguous], [similar names when not found]).

    `wanted` is a name, an inventory path ("/DC0/vm/asr/asr-mt-01") or its trailing part ("asr/asr-mt-01"), matched as
    the shared lookup matches a name in a folder (match_by_name), or else a moid ("vm-57").
    """
    folder, _slash, name = wanted.strip("/").rpartition("/")
    matches = match_by_name(vms, name, folder or None, datacenter)
    if not matches:
        matches = [vm for vm in vms if vm.moid == wanted and (not datacenter or datacenter_matches(vm.path, datacenter))]
    if len(matches) == 1:
        return matches[0], [], []
    if matches:
        return None, sorted(vm.path for vm in matches), []
    names = sorted({vm.name for vm in vms if not datacenter or datacenter_matches(vm.path, datacenter)})
    return None, [], difflib.get_close_matches(name, names, n=3, cutoff=0.6)


def choose_vms(all_vms, params):
    """Pure: each VM the options name, once, keyed by moid.

    Returns (rows for entries not found, {master_targets|protected_vms: [VM records]}, {(option, entry): moid},
    [(kind, entry, moid, first kind, first entry)] for entries naming a VM named before).
    """
    not_found, chosen, moids, repeats, first = [], {}, {}, [], {}
    for kind, key in (("master target", "master_targets"), ("protected VM", "protected_vms")):
        chosen[key] = []
        for wanted in params.get(key) or []:
            vm, matches, near = resolve(all_vms, wanted, params.get("datacenter"))
            if vm is None:
                hint = "" if matches else escaped_name_hint(all_vms, wanted)
                not_found.append(not_found_row(kind, wanted, matches, near, hint))
                continue
            moids[(key, wanted)] = vm.moid
            if vm.moid in first:
                repeats.append((kind, wanted, vm.moid) + first[vm.moid])
                continue
            first[vm.moid] = (kind, wanted)
            chosen[key].append(vm)
    return not_found, chosen, moids, repeats


def vm_labels(vms, all_vms):
    """Pure: {moid: (label, selection)} of the VMs of the report. The label is the name, or the inventory path when another
    VM of the report has that name; the selection is how a fix selects it ('name: x', with its folder when the name is
    not unique in the inventory)."""
    in_report = Counter(vm.name for vm in {vm.moid: vm for vm in vms}.values())
    in_inventory = Counter(vm.name for vm in all_vms)
    labels = {}
    for vm in vms:
        folder = (vm.path or "").rsplit("/", 1)[0]
        labels[vm.moid] = (vm.path if in_report[vm.name] > 1 else vm.name,
                           f"name: {vm.name}, folder: {folder}" if in_inventory[vm.name] > 1 and folder else f"name: {vm.name}")
    return labels


def object_labels(objects):
    """Pure: {moid: label} of datastores or hosts (ManagedObjects): the name, with the moid when another has that name."""
    count = Counter(item.name for item in objects.values())
    return {key: item.name if count[item.name] == 1 else f"{item.name} ({key})" for key, item in objects.items()}


def group_moids(groups, moids):
    """Pure: the replication groups as lists of VM moids (entries not found left out; `moids` maps ("protected_vms", entry)
    to the moid the entry names). Raises when two groups name one VM (in two spellings: replication_group_problem
    refuses the same spelling before connecting)."""
    found, owner = [], {}
    for number, group in enumerate(groups or [], 1):
        members = []
        for name in group:
            key = moids.get(("protected_vms", name))
            if key is None or key in members:
                continue
            if key in owner:
                raise VSphereError(f"replication_groups: group {number} names '{name}', the VM {key} that group {owner[key][0]} names as "
                                   f"'{owner[key][1]}': a VM belongs to one replication group. Give each VM in one group only.")
            owner[key] = (number, name)
            members.append(key)
        found.append(members)
    return found


def vm_facts(vm, host_names, label=None, selection=None):
    """Pure: what the checks need of a VM read with VM_PATHS; `host_names` maps host moids to names.

    `name` is how rows name the VM (`label`, default its name), `vm_name` its name in vCenter; `selection` how a fix
    selects it (see vm_labels).
    """
    host_moid = moid(vm.get("runtime.host"))
    devices = vm.get("config.hardware.device") or []
    guest = guest_facts(vm.props)
    files = disk_files(devices)
    return dict(
        name=label or vm.name, vm_name=vm.name, selection=selection or f"name: {vm.name}", path=vm.path, moid=vm.moid,
        host_moid=host_moid, host=host_names.get(host_moid),
        extra_config=vm.get("config.extraConfig") or [], marker=marker_of(vm.get("config.extraConfig")),
        bios_uuid=vm.get("config.uuid"), num_cpu=vm.get("config.hardware.numCPU"), memory_mb=vm.get("config.hardware.memoryMB"),
        snapshots=[item["path"] for item in vm_snapshots(vm)], controllers=controller_records(devices),
        disks=[dict(disk, file=files.get(disk["key"])) for disk in disks(devices)],
        datastores=[moid(ref) for ref in vm.get("datastore") or []],
        tools=tools_facts(vm.props), guest=guest, guest_id=guest["guest_id"], guest_family=guest_family(guest),
        power_state=guest["power_state"], boot_time=vm.get("runtime.bootTime"),
    )


def master_target_rows(mt, host_datastores, pods, cluster, limit_row, min_gb):
    """Pure: the rows of one master target, in the documented order."""
    return [
        check_disk_uuid(mt), check_snapshots(mt), check_scsi_controller(mt), check_tools(mt),
        check_vmfs_datastore(mt, host_datastores), check_migration_exclusion(mt, pods, cluster), check_retention_disk(mt, min_gb),
        limit_row, check_sizing(mt),
    ]


def protected_vm_rows(pvms, mts, groups, ds_facts, after=False):
    """Pure: the rows of the protected VMs, in the documented order: per VM, its rows per master target, then its own.
    `groups`: the replication groups as lists of VM moids; `ds_facts`: datastore_facts by moid; `after`: phase after_reprotect,
    where a VM is judged on the master target holding its disks, and uuid_clash and snapshots are not run (see DOCUMENTATION)."""
    family = {vm["moid"]: vm["guest_family"] for vm in pvms}
    group_of = {key: group for group in groups for key in group}
    found = {vm["moid"]: attachments(vm, mts) for vm in pvms} if after else {}
    held_by = {key: [mt["name"] for mt in holders(items, mts)] for key, items in found.items()}
    names = {vm["moid"]: vm["name"] for vm in pvms}
    rows = []
    for vm in pvms:
        vm_ds = [ds_facts[key] for key in vm["datastores"] if key in ds_facts]
        for mt in holders(found[vm["moid"]], mts) if after else mts:
            rows.append(check_protected_datastore(vm, mt, vm_ds))
            if not after:
                rows.append(check_uuid_clash(vm, mt))
        if mts:
            rows.append(check_os_family(vm, mts, [family[key] for key in group_of.get(vm["moid"], [vm["moid"]])]))
        if after:
            group = {names[key]: held_by[key] for key in group_of.get(vm["moid"], []) if key != vm["moid"] and held_by.get(key)}
            rows += [check_powered_off(vm), check_disks_attached(vm, found[vm["moid"]], mts, group)]
        else:
            rows.append(check_protected_snapshots(vm))
    return rows


def privilege_objects(vms, details, protected):
    """Pure: {moid: (ref, kind)} of the objects the privileges are asked on, each with its PRIVILEGE_KINDS kind: the VMs
    (master targets and protected VMs), their folders, datastores and resource pools, and the protected VMs' networks
    (moids in `protected`); `details` are the VMs read with VM_PATHS, by moid. The vCenter root folder is the caller's."""
    found = {}
    for vm in vms:
        record = details[vm["moid"]]
        found[vm["moid"]] = (record.obj, "vm")
        networks = (record.get("network") or []) if vm["moid"] in protected else []
        kinds = [("vm_folder", [record.get("parent")]), ("datastore", record.get("datastore") or []),
                 ("resource_pool", [record.get("resourcePool")]), ("network", networks)]
        for kind, refs in kinds:
            found.update({moid(ref): (ref, kind) for ref in refs if ref is not None and moid(ref) not in found})
    return found


def missing_privileges(availability, objects):
    """Pure: [{name, kind, missing}] from HasPrivilegeOnEntities' answer, each object judged only on the privileges of its
    kind (privileges_for); `objects`: {moid: (label, kind)}."""
    checked = []
    for entity in availability or []:
        key = moid(entity.entity)
        name, kind = objects.get(key, (key, None))
        wanted = privileges_for(kind)
        checked.append(dict(name=name, kind=kind, missing=[item.privId for item in entity.privAvailability or []
                                                           if not item.isGranted and item.privId in wanted]))
    return checked


# ---- reading ----------------------------------------------------------------------------------------


def by_moid(objects):
    return {item.moid: item for item in objects}


def read_licences(client, hosts):
    """The licence of each host, in one call: {host moid: LicenseManagerLicenseInfo or None}, or the fault's message.

    Through vCenter, QueryAssignedLicenses without an entity answers for every host; connected straight to an
    ESXi host (about.apiType HostAgent), LicenseManager.licenses is that host's own licence."""
    if not hosts:
        return {}
    direct = client.content.about.apiType == "HostAgent"
    try:
        manager = read_object(client, client.content.licenseManager, ["licenses" if direct else "licenseAssignmentManager"])
        if direct:
            return {host.moid: next(iter(manager.get("licenses") or []), None) for host in hosts}
        assignments = manager.get("licenseAssignmentManager")
        return {item.entityId: item.assignedLicense for item in assignments.QueryAssignedLicenses()} if assignments is not None else {}
    except vmodl.MethodFault as fault:
        return fault.msg or type(fault).__name__


def license_rows(assigned, hosts, labels, direct):
    """Pure: host.license rows from read_licences' answer (a message when vCenter refused to list the licences)."""
    if not hosts:
        return []
    if isinstance(assigned, str):
        return [row("host.license", "warn", None, [labels[host.moid] for host in hosts],
                    f"{'The ESXi host' if direct else 'vCenter'} refused to list the licences: {assigned}.",
                    "Grant the account read access to licences (Global.Licenses), or check the hosts' licences in vCenter.")]
    found = []
    for host in hosts:
        info = assigned.get(host.moid)
        found.append(check_license(labels[host.moid], dict(edition_key=info.editionKey, name=info.name) if info is not None else None, direct))
    return found


def read_privileges(client, objects):
    """One HasPrivilegeOnEntities call for every object and privilege; `objects`: {moid: (ref, label, kind)}.

    Returns (the session's user name, the answer), or (None, the fault's message) when vCenter refused."""
    session = read_object(client, client.content.sessionManager, ["currentSession"]).get("currentSession")
    try:
        answer = client.content.authorizationManager.HasPrivilegeOnEntities(
            entity=[ref for ref, _label, _kind in objects.values()], sessionId=session.key, privId=REQUIRED_PRIVILEGES)
    except vmodl.MethodFault as fault:
        return None, fault.msg or type(fault).__name__
    return session.userName, answer


def privilege_row(user, answer, objects):
    """Pure: vcenter.privileges from read_privileges' answer."""
    labels = {key: (label, kind) for key, (_ref, label, kind) in objects.items()}
    if user is None:
        return row("vcenter.privileges", "warn", None, sorted(label for label, _kind in labels.values()),
                   f"vCenter refused the privilege check: {answer}.",
                   "Check the account's role in vCenter (Administration > Access Control > Roles) against this module's notes.")
    return check_privileges(user, missing_privileges(answer, labels))


def read_vcenter(client, params):
    """Every read of the check, in a constant number of round trips: what judge() needs, as a dict."""
    about = client.content.about
    inventory = read_inventory(client, [vim.VirtualMachine, vim.Folder, vim.Datacenter],
                               {vim.VirtualMachine: ["name", "parent"], vim.Folder: ["name", "parent"], vim.Datacenter: ["name", "parent"]})
    inventory_paths(inventory)
    all_vms = [item for item in inventory if isinstance(item.obj, vim.VirtualMachine)]
    found_rows, chosen, entry_moids, repeats = choose_vms(all_vms, params)

    details = by_moid(read_objects(client, [vm.obj for vms in chosen.values() for vm in vms], VM_PATHS))
    for vms in chosen.values():
        for vm in vms:
            if vm.moid in details:
                details[vm.moid].path = vm.path
    host_refs = {moid(vm.get("runtime.host")): vm.get("runtime.host") for vm in details.values() if vm.get("runtime.host") is not None}
    hosts = by_moid(read_objects(client, list(host_refs.values()), HOST_PATHS))
    host_names = object_labels(hosts)
    # Rows name a VM by its path when another VM of the report has its name; everything else is keyed by moid.
    records = {vm.moid: vm for vms in chosen.values() for vm in vms}
    labels = vm_labels(list(records.values()), all_vms)
    mts = [vm_facts(details[vm.moid], host_names, *labels[vm.moid]) for vm in chosen["master_targets"] if vm.moid in details]
    pvms = [vm_facts(details[vm.moid], host_names, *labels[vm.moid]) for vm in chosen["protected_vms"] if vm.moid in details]
    found_rows += [duplicate_row(kind, wanted, dict(name=labels[key][0], path=records[key].path, moid=key), first_kind, first_wanted)
                   for kind, wanted, key, first_kind, first_wanted in repeats]

    # The datastores of the master targets' hosts (for the VMFS check) and of every VM asked about.
    ds_refs = {moid(ref): ref for mt in mts if mt["host_moid"] in hosts for ref in hosts[mt["host_moid"]].get("datastore") or []}
    ds_refs.update({moid(ref): ref for vm in details.values() for ref in vm.get("datastore") or []})
    ds_objects = by_moid(read_objects(client, list(ds_refs.values()), DATASTORE_PATHS + ["parent"]))
    ds_names = object_labels(ds_objects)
    pod_refs = {moid(ds.get("parent")): ds.get("parent") for ds in ds_objects.values() if isinstance(ds.get("parent"), vim.StoragePod)}
    cluster_refs = {moid(host.get("parent")): host.get("parent") for host in hosts.values()
                    if isinstance(host.get("parent"), vim.ClusterComputeResource)}
    host_list = sorted(hosts.values(), key=lambda item: item.name)
    reading = dict(
        about=about, found_rows=found_rows, groups=group_moids(params.get("replication_groups"), entry_moids), mts=mts, pvms=pvms,
        hosts=hosts, host_list=host_list, host_names=host_names, ds_objects=ds_objects,
        ds_facts={moid: dict(datastore_facts(item), name=ds_names[moid]) for moid, item in ds_objects.items()},
        pods=by_moid(read_objects(client, list(pod_refs.values()), POD_PATHS)),
        clusters=by_moid(read_objects(client, list(cluster_refs.values()), CLUSTER_PATHS)),
        licences=read_licences(client, host_list), privileges=None,
    )
    if mts:
        # Each privilege is asked where vCenter checks it (PRIVILEGE_GROUPS), all in one HasPrivilegeOnEntities call.
        asked = privilege_objects(mts + pvms, details, {vm["moid"] for vm in pvms})
        asked[moid(client.content.rootFolder)] = (client.content.rootFolder, "vcenter")
        unnamed = [ref for ref, kind in asked.values() if kind in ("network", "resource_pool")]
        object_names = dict(object_labels(by_moid(read_objects(client, unnamed, ["name"]))), **ds_names)
        object_names.update({vm["moid"]: vm["name"] for vm in mts + pvms})
        object_names.update({moid(details[vm["moid"]].get("parent")): vm["path"].rsplit("/", 1)[0] for vm in mts + pvms if vm["path"]})
        object_names[moid(client.content.rootFolder)] = client.hostname
        objects = {key: (ref, object_names.get(key, key), kind) for key, (ref, kind) in asked.items()}
        reading["privileges"] = (objects, *read_privileges(client, objects))
    return reading


def judge(reading, params):
    """Pure: the module's result (without changed) from read_vcenter's reading: every row, the verdict, the summary."""
    about, mts, pvms, hosts, ds_facts = reading["about"], reading["mts"], reading["pvms"], reading["hosts"], reading["ds_facts"]
    ds_objects, pods, clusters, groups = reading["ds_objects"], reading["pods"], reading["clusters"], reading["groups"]
    after = params.get("phase") == "after_reprotect"
    # Before reprotect the disk-limit row plans what reprotect will do; after it, it counts what the master target holds.
    if after:
        limit_rows = {mt["moid"]: check_attached_disk_count(mt, pvms) for mt in mts}
    else:
        limit_rows = dict(zip([mt["moid"] for mt in mts], check_disk_limit(mts, pvms, groups)))
    mt_rows = []
    for mt in mts:
        host = hosts.get(mt["host_moid"])
        host_ds = [ds_facts[moid(ref)] for ref in (host.get("datastore") or [] if host else []) if moid(ref) in ds_facts]
        mt_pods = sorted({moid(ds_objects[ds].get("parent")) for ds in mt["datastores"] if ds in ds_objects} & set(pods))
        cluster = clusters.get(moid(host.get("parent"))) if host else None
        mt_rows += master_target_rows(mt, host_ds, [pod_facts(pods[pod], mt["moid"]) for pod in mt_pods],
                                      cluster_facts(cluster, mt["moid"]) if cluster else None, limit_rows[mt["moid"]],
                                      params.get("retention_disk_min_gb"))

    protected_rows = protected_vm_rows(pvms, mts, groups, ds_facts, after)

    host_list, host_names = reading["host_list"], reading["host_names"]
    global_rows = list(reading["found_rows"])
    global_rows += license_rows(reading["licences"], host_list, host_names, about.apiType == "HostAgent")
    on_host = {}
    for vm in mts + pvms:
        on_host.setdefault(vm["host_moid"], []).append(vm["name"])
    global_rows += [check_host_state(host_names[host.moid], host.get("runtime.connectionState"), host.get("runtime.inMaintenanceMode"),
                                     on_host.get(host.moid, [])) for host in host_list]
    global_rows += [check_version("host.version", "ESXi host", host.name, host.get("config.product.version")) for host in host_list]
    global_rows.append(check_version("vcenter.version", "vCenter" if about.apiType == "VirtualCenter" else "ESXi", about.name, about.version))
    if reading["privileges"] is not None:
        objects, user, answer = reading["privileges"]
        global_rows.append(privilege_row(user, answer, objects))

    rows = mt_rows + protected_rows + global_rows
    # A master target's label is unique in the report (vm_labels), so it names one moid.
    mt_moids = {mt["name"]: mt["moid"] for mt in mts}
    for item in rows:
        item["master_target_moid"] = mt_moids.get(item["master_target"])
    failing = {item["master_target_moid"] for item in rows if item["status"] == "fail"}
    return dict(
        ready=not any(item["status"] == "fail" for item in rows),
        phase="after_reprotect" if after else "before_reprotect",
        summary=summary(rows),
        checks=rows,
        master_targets=[dict(name=mt["vm_name"], path=mt["path"], moid=mt["moid"], host=mt["host"], power_state=mt["power_state"],
                             guest_id=mt["guest_id"], guest_family=mt["guest_family"], num_cpu=mt["num_cpu"], memory_mb=mt["memory_mb"],
                             disks=len(mt["disks"]), ready=mt["moid"] not in failing) for mt in mts],
        protected_vms=[dict(name=vm["vm_name"], path=vm["path"], moid=vm["moid"], host=vm["host"], disks=len(vm["disks"]),
                            datastores=[ds_facts[key]["name"] for key in vm["datastores"] if key in ds_facts], guest_family=vm["guest_family"])
                       for vm in pvms],
        policy=dict(POLICY),
        vcenter=dict(name=about.name, version=about.version, build=about.build, api_type=about.apiType),
    )


def readiness(client, params):
    """Every check: the reads, then the verdict; returns the module's result (without changed)."""
    return judge(read_vcenter(client, params), params)


def main():
    module = vsphere_module(
        dict(
            master_targets=dict(type="list", elements="str", required=True),
            protected_vms=dict(type="list", elements="str", default=[]),
            datacenter=dict(type="str"),
            retention_disk_min_gb=dict(type="int"),
            replication_groups=dict(type="list", elements="list", default=[]),
            phase=dict(type="str", choices=["before_reprotect", "after_reprotect"], default="before_reprotect"),
        ),
        selects_vm=False,
    )
    if not module.params["master_targets"]:
        module.fail_json(msg="master_targets is empty: list the name of at least one master target VM.")
    if module.params["retention_disk_min_gb"] is not None and module.params["retention_disk_min_gb"] < 1:
        module.fail_json(msg=f"retention_disk_min_gb must be at least 1 (GiB), got {module.params['retention_disk_min_gb']}.")
    problem = replication_group_problem(module.params["replication_groups"], module.params["protected_vms"])
    if problem:
        module.fail_json(msg=problem)
    run_module(module, lambda module, client: dict(changed=False, **readiness(client, module.params)))


if __name__ == "__main__":
    main()
