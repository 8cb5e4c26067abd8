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
    O(retention_disk_min_gb). V(master_target.disk_limit) at most 60 disks. V(master_target.sizing)
    4 vCPU, 6 GB RAM and a 100 GB OS disk (the first disk), as warnings.
  - >-
    B(The 60-disk limit with several master targets.) A master target holds its own disks plus all the
    disks of each protected VM reprotected to it. The protected VMs are spread over all master targets
    listed together (capacity across all). Each VM goes whole to the master target with the most room
    left, the VMs with most disks first. When a VM fits on none, every V(master_target.disk_limit) row
    fails, naming the total of protected disks and how many master targets are needed.
  - >-
    B(Protected VM checks), one row per protected VM and master target. V(protected_vm.datastore)
    each of its datastores is VMFS or vSAN (NFS fails, as Azure Site Recovery fails back to VMFS or vSAN
    only) and mounted read/write on the master target's host. V(protected_vm.uuid_clash) its BIOS uuid
    and disk uuids differ from the master target's (clones of one template clash).
    V(protected_vm.os_family) it has the master target's OS family, and the protected VMs all have one.
    V(protected_vm.snapshots), one row per protected VM, reports its snapshots as V(info) (reprotect
    merges them).
  - >-
    B(Global checks.) V(host.license), per ESXi host of the master targets and protected VMs: a free
    edition (vSphere Hypervisor, ESXi free) fails (failover works, failback does not), evaluation mode
    warns. V(vcenter.version) and V(host.version): 6.5, 6.7, 7.0 and 8.0 pass, older versions fail,
    newer ones warn (not yet in Microsoft's list). V(vcenter.privileges): the account must hold, on the
    master targets, their hosts and the datastores of the master targets and protected VMs, the
    privileges listed in the notes.
  - >-
    Round trips to vCenter do not grow with the inventory or the number of VMs asked about. One
    ContainerView read finds every VM by name, one read gets the VMs' details, then one read each for
    their hosts, datastores, datastore clusters and clusters. One call each reads the session, the
    licences and the privileges.
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
        part V(asr/asr-mt-01)). A name shared by several VMs is a failed V(vm.found) row; give the path.
    type: list
    elements: str
    required: true
  protected_vms:
    description:
      - The on-premises VMs to reprotect and fail back through the master targets, by name or path.
    type: list
    elements: str
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
notes:
  - >-
    Privileges checked (Microsoft's list for failback, at the datacenter with propagation): C(Datastore.AllocateSpace),
    C(Datastore.Browse), C(Datastore.FileManagement) (low-level file operations), C(Datastore.DeleteFile),
    C(Datastore.UpdateVirtualMachineFiles) to write the replicated disks; C(Network.Assign);
    C(Resource.AssignVMToPool), C(Resource.ColdMigrate), C(Resource.HotMigrate); C(Task.Create), C(Task.Update);
    the C(VirtualMachine.Config) privileges (AddExistingDisk, AddNewDisk, AddRemoveDevice, AdvancedConfig, Annotation,
    CPUCount, ChangeTracking, DiskExtend, EditDevice, Memory, QueryUnownedFiles, RawDevice, ReloadFromPath, RemoveDisk,
    Rename, ResetGuestInfo, Resource, Settings, SwapPlacement, Unlock, UpgradeVirtualHardware) to attach the protected
    disks to the master target; C(VirtualMachine.Interact) AnswerQuestion, DeviceConnection, SetCDMedia,
    SetFloppyMedia, PowerOff, PowerOn, ToolsInstall; C(VirtualMachine.Inventory) Create, CreateFromExisting, Register,
    Unregister; C(VirtualMachine.Provisioning.GetVmFiles) and C(PutVmFiles); C(VirtualMachine.State.RemoveSnapshot).
  - The account running this module needs only read access (and C(System.Read) for the licences); the
    privilege check is about that account, so run it with the account Azure Site Recovery uses.
  - The checks in the guest (multipath, retention file system, network to the process server) are the
    linux and windows roles' business; this module reads vCenter only.
seealso:
  - name: Azure Site Recovery, prepare for reprotect and failback of VMware VMs
    description: Microsoft's requirements for the master target, its host, datastores and account.
    link: https://learn.microsoft.com/azure/site-recovery/vmware-azure-prepare-failback
  - module: siterecovery.master_target.vm_migration_exclusion
  - module: siterecovery.master_target.vm_retention_disk
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
      protected VM rows, then the global ones (V(vm.found), V(host.license), V(host.version), V(vcenter.version),
      V(vcenter.privileges)).
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
                protected_vm.os_family, protected_vm.snapshots, host.license, vcenter.version, host.version,
                vcenter.privileges, vm.found]
      sample: master_target.snapshots
    status:
      description: The outcome.
      type: str
      choices: [pass, info, warn, fail]
      sample: fail
    master_target:
      description: The master target the row belongs to; null for global rows (and V(protected_vm.snapshots)).
      type: str
      sample: asr-mt-01
    objects:
      description: The names of the objects the row is about (VMs, datastores, hosts, clusters).
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
  description: The master targets found, in the order given.
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
    ready: {description: Whether no row of this master target failed (its own and its protected VM rows)., type: bool, sample: false}
protected_vms:
  description: The protected VMs found, in the order given.
  returned: always
  type: list
  elements: dict
  contains:
    name: {description: The VM's name., type: str, sample: prod-web-01}
    path: {description: Its inventory path., type: str, sample: /DC0/vm/prod/prod-web-01}
    moid: {description: Its managed object id., type: str, sample: vm-61}
    host: {description: The name of its ESXi host., type: str, sample: esx02.example.com}
    datastores: {description: The names of its datastores., type: list, elements: str, sample: [vmfs-prod-01]}
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

from ansible_collections.siterecovery.master_target.plugins.module_utils._vsphere_datastores import DATASTORE_PATHS, datastore_facts
from ansible_collections.siterecovery.master_target.plugins.module_utils._vsphere_devices import disks, marker_of, scsi_controllers
from ansible_collections.siterecovery.master_target.plugins.module_utils._vsphere_lookup import (
    inventory_paths,
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
    guest_family,
    not_found_row,
    row,
    summary,
)
from ansible_collections.siterecovery.master_target.plugins.module_utils._vsphere_snapshots import vm_snapshots
from ansible_collections.siterecovery.master_target.plugins.module_utils._vsphere_tools import TOOLS_PATHS, guest_facts, tools_facts

try:
    from pyVmomi import vim, vmodl
except ImportError:  # pragma: no cover - reported when connecting
    pass

VM_PATHS = sorted({"name", "config.uuid", "config.extraConfig", "config.hardware.device", "config.hardware.numCPU",
                   "config.hardware.memoryMB", "snapshot", "datastore", "runtime.host", "runtime.bootTime"} | set(TOOLS_PATHS))
HOST_PATHS = ["name", "parent", "datastore", "config.product.version", "config.product.fullName"]


# ---- pure: names, facts, rows ----------------------------------------------------------------------


def moid(ref):
    """Pure: a managed object reference's id, None for None."""
    return ref._moId if ref is not None else None  # pylint: disable=protected-access


def resolve(vms, wanted, datacenter=None):
    """Pure: (the one VM record `wanted` names, [paths when ambiguous], [similar names when not found]).

    `wanted` is a name, or an inventory path ("/DC0/vm/asr/asr-mt-01") or its trailing part ("asr/asr-mt-01").
    """
    if datacenter:
        vms = [vm for vm in vms if vm.path.strip("/").split("/", 1)[0] == datacenter]
    if "/" in wanted:
        tail = "/" + wanted.strip("/")
        matches = [vm for vm in vms if vm.path == tail or vm.path.endswith(tail)]
    else:
        matches = [vm for vm in vms if vm.name == wanted]
    if len(matches) == 1:
        return matches[0], [], []
    if matches:
        return None, sorted(vm.path for vm in matches), []
    names = sorted({vm.name for vm in vms})
    return None, [], difflib.get_close_matches(wanted, names, n=3, cutoff=0.6)


def vm_facts(vm, host_names):
    """Pure: what the checks need of a VM read with VM_PATHS; `host_names` maps host moids to names."""
    host_moid = moid(vm.get("runtime.host"))
    devices = vm.get("config.hardware.device") or []
    guest = guest_facts(vm.props)
    return dict(
        name=vm.name, path=vm.path, moid=vm.moid, host_moid=host_moid, host=host_names.get(host_moid),
        extra_config=vm.get("config.extraConfig") or [], marker=marker_of(vm.get("config.extraConfig")),
        bios_uuid=vm.get("config.uuid"), num_cpu=vm.get("config.hardware.numCPU"), memory_mb=vm.get("config.hardware.memoryMB"),
        snapshots=[item["path"] for item in vm_snapshots(vm)], controllers=scsi_controllers(devices), disks=disks(devices),
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


def missing_privileges(availability, names):
    """Pure: {entity name: [privilege ids not granted]} from HasPrivilegeOnEntities' answer."""
    missing = {}
    for entity in availability or []:
        name = names.get(moid(entity.entity), moid(entity.entity))
        missing[name] = sorted(item.privId for item in entity.privAvailability or [] if not item.isGranted)
    return missing


# ---- reading ----------------------------------------------------------------------------------------


def by_moid(objects):
    return {item.moid: item for item in objects}


def license_rows(client, hosts):
    """host.license rows; one call answers for every host (QueryAssignedLicenses without an entity)."""
    if not hosts:
        return []
    try:
        manager = read_object(client, client.content.licenseManager, ["licenseAssignmentManager"]).get("licenseAssignmentManager")
        assigned = {item.entityId: item.assignedLicense for item in manager.QueryAssignedLicenses()} if manager is not None else {}
    except vmodl.MethodFault as fault:
        return [row("host.license", "warn", None, [host.name for host in hosts], f"vCenter refused to list the licences: {fault.msg}.",
                    "Grant the account read access to licences (Global.Licenses), or check the hosts' licences in vCenter.")]
    found = []
    for host in hosts:
        info = assigned.get(host.moid)
        found.append(check_license(host.name, dict(edition_key=info.editionKey, name=info.name) if info is not None else None))
    return found


def privilege_row(client, entities):
    """vcenter.privileges: one HasPrivilegeOnEntities call for every entity and privilege."""
    session = read_object(client, client.content.sessionManager, ["currentSession"]).get("currentSession")
    names = {key: name for key, (_ref, name) in entities.items()}
    try:
        answer = client.content.authorizationManager.HasPrivilegeOnEntities(
            entity=[ref for ref, _name in entities.values()], sessionId=session.key, privId=REQUIRED_PRIVILEGES)
    except vmodl.MethodFault as fault:
        return row("vcenter.privileges", "warn", None, sorted(names.values()), f"vCenter refused the privilege check: {fault.msg}.",
                   "Check the account's role in vCenter (Administration > Access Control > Roles) against this module's notes.")
    return check_privileges(session.userName, missing_privileges(answer, names))


def readiness(client, params):
    """Every check, in a constant number of round trips; returns the module's result (without changed)."""
    about = client.content.about
    inventory = read_inventory(client, [vim.VirtualMachine, vim.Folder, vim.Datacenter],
                               {vim.VirtualMachine: ["name", "parent"], vim.Folder: ["name", "parent"], vim.Datacenter: ["name", "parent"]})
    inventory_paths(inventory)
    all_vms = [item for item in inventory if isinstance(item.obj, vim.VirtualMachine)]
    found_rows, chosen = [], {}
    for kind, key in (("master target", "master_targets"), ("protected VM", "protected_vms")):
        chosen[key] = []
        for wanted in dict.fromkeys(params[key] or []):
            vm, matches, near = resolve(all_vms, wanted, params.get("datacenter"))
            if vm is None:
                found_rows.append(not_found_row(kind, wanted, matches, near))
            else:
                chosen[key].append(vm)

    details = by_moid(read_objects(client, [vm.obj for vms in chosen.values() for vm in vms], VM_PATHS))
    for vms in chosen.values():
        for vm in vms:
            if vm.moid in details:
                details[vm.moid].path = vm.path
    host_refs = {moid(vm.get("runtime.host")): vm.get("runtime.host") for vm in details.values() if vm.get("runtime.host") is not None}
    hosts = by_moid(read_objects(client, list(host_refs.values()), HOST_PATHS))
    host_names = {moid: host.name for moid, host in hosts.items()}
    mts = [vm_facts(details[vm.moid], host_names) for vm in chosen["master_targets"] if vm.moid in details]
    pvms = [vm_facts(details[vm.moid], host_names) for vm in chosen["protected_vms"] if vm.moid in details]

    # The datastores of the master targets' hosts (for the VMFS check) and of every VM asked about.
    ds_refs = {moid(ref): ref for mt in mts if mt["host_moid"] in hosts for ref in hosts[mt["host_moid"]].get("datastore") or []}
    ds_refs.update({moid(ref): ref for vm in details.values() for ref in vm.get("datastore") or []})
    ds_objects = by_moid(read_objects(client, list(ds_refs.values()), DATASTORE_PATHS + ["parent"]))
    ds_facts = {moid: datastore_facts(item) for moid, item in ds_objects.items()}
    pod_refs = {moid(ds.get("parent")): ds.get("parent") for ds in ds_objects.values() if isinstance(ds.get("parent"), vim.StoragePod)}
    pods = by_moid(read_objects(client, list(pod_refs.values()), POD_PATHS))
    cluster_refs = {moid(host.get("parent")): host.get("parent") for host in hosts.values()
                    if isinstance(host.get("parent"), vim.ClusterComputeResource)}
    clusters = by_moid(read_objects(client, list(cluster_refs.values()), CLUSTER_PATHS))

    limit_rows = {item["master_target"]: item for item in check_disk_limit(mts, pvms)}
    mt_rows = []
    for mt in mts:
        host = hosts.get(mt["host_moid"])
        host_ds = [ds_facts[moid(ref)] for ref in (host.get("datastore") or [] if host else []) if moid(ref) in ds_facts]
        mt_pods = sorted({moid(ds_objects[ds].get("parent")) for ds in mt["datastores"] if ds in ds_objects} & set(pods))
        cluster = clusters.get(moid(host.get("parent"))) if host else None
        mt_rows += master_target_rows(mt, host_ds, [pod_facts(pods[pod], mt["moid"]) for pod in mt_pods],
                                      cluster_facts(cluster, mt["moid"]) if cluster else None, limit_rows[mt["name"]],
                                      params.get("retention_disk_min_gb"))

    protected_rows = []
    families = [vm["guest_family"] for vm in pvms]
    for vm in pvms:
        for mt in mts:
            vm_ds = [ds_facts[key] for key in vm["datastores"] if key in ds_facts]
            protected_rows += [check_protected_datastore(vm, mt, vm_ds), check_uuid_clash(vm, mt), check_os_family(vm, mt, families)]
        protected_rows.append(check_protected_snapshots(vm))

    global_rows = list(found_rows)
    host_list = sorted(hosts.values(), key=lambda item: item.name)
    global_rows += license_rows(client, host_list)
    global_rows += [check_version("host.version", "ESXi host", host.name, host.get("config.product.version")) for host in host_list]
    global_rows.append(check_version("vcenter.version", "vCenter" if about.apiType == "VirtualCenter" else "ESXi", about.name, about.version))
    if mts:
        entities = {mt["moid"]: (details[mt["moid"]].obj, mt["name"]) for mt in mts}
        entities.update({key: (hosts[key].obj, hosts[key].name) for key in {mt["host_moid"] for mt in mts} if key in hosts})
        for vm in mts + pvms:
            entities.update({key: (ds_objects[key].obj, ds_objects[key].name) for key in vm["datastores"] if key in ds_objects})
        global_rows.append(privilege_row(client, entities))

    rows = mt_rows + protected_rows + global_rows
    failing = {item["master_target"] for item in rows if item["status"] == "fail"}
    return dict(
        ready=not any(item["status"] == "fail" for item in rows),
        summary=summary(rows),
        checks=rows,
        master_targets=[dict(name=mt["name"], path=mt["path"], moid=mt["moid"], host=mt["host"], power_state=mt["power_state"],
                             guest_id=mt["guest_id"], guest_family=mt["guest_family"], num_cpu=mt["num_cpu"], memory_mb=mt["memory_mb"],
                             disks=len(mt["disks"]), ready=mt["name"] not in failing) for mt in mts],
        protected_vms=[dict(name=vm["name"], path=vm["path"], moid=vm["moid"], host=vm["host"], disks=len(vm["disks"]),
                            datastores=[ds_facts[key]["name"] for key in vm["datastores"] if key in ds_facts], guest_family=vm["guest_family"])
                       for vm in pvms],
        policy=dict(POLICY),
        vcenter=dict(name=about.name, version=about.version, build=about.build, api_type=about.apiType),
    )


def main():
    module = vsphere_module(
        dict(
            master_targets=dict(type="list", elements="str", required=True),
            protected_vms=dict(type="list", elements="str", default=[]),
            datacenter=dict(type="str"),
            retention_disk_min_gb=dict(type="int"),
        ),
        selects_vm=False,
    )
    if not module.params["master_targets"]:
        module.fail_json(msg="master_targets is empty: list the name of at least one master target VM.")
    if module.params["retention_disk_min_gb"] is not None and module.params["retention_disk_min_gb"] < 1:
        module.fail_json(msg=f"retention_disk_min_gb must be at least 1 (GiB), got {module.params['retention_disk_min_gb']}.")
    run_module(module, lambda module, client: dict(changed=False, **readiness(client, module.params)))


if __name__ == "__main__":
    main()
