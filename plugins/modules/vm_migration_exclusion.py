#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, siterecovery.master_target contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: vm_migration_exclusion
short_description: Exclude a virtual machine from Storage DRS and DRS migrations with VM overrides
description:
  - Excludes a virtual machine from automatic migration with per-VM overrides, the way the vSphere
    Client's B(VM Overrides) pages do.
  - Azure Site Recovery attaches the disks of the protected VMs to the master target during reprotect;
    if the master target is then moved by Storage vMotion, those disks move with it and failback
    breaks. Microsoft's guidance is to exclude the master target from Storage DRS and from migrations.
  - B(Storage DRS.) In every datastore cluster (StoragePod) that holds any of the VM's files (the VM's
    datastores whose parent is a datastore cluster), sets a Storage DRS VM override. With the default
    O(storage_drs_behavior=disabled) the override has C(enabled=false), which is what the vSphere
    Client's automation level B(Disabled) stores; the vSphere API says the VM is then "effectively
    excluded from storage DRS", so Storage DRS neither moves its files nor recommends moving them.
  - B(DRS.) In the DRS cluster of the VM's host, sets a DRS VM override. With the default
    O(drs_behavior=disabled) the override has C(enabled=false) (the vSphere Client's B(Disabled));
    DRS neither migrates the VM nor recommends migrating it, so nobody can apply such a recommendation
    by mistake. Moving the VM off a host (for example for maintenance mode) is left to an administrator.
  - A VM with no files in a datastore cluster, or on a host outside a cluster, needs no override of
    that kind; the module says so in RV(msg) and changes nothing for it.
  - An existing override of the VM is edited in place (never a second entry); only the fields that make
    the exclusion are changed, so settings such as B(Keep VMDKs together) are kept.
  - With O(state=absent), removes the VM's override in each datastore cluster and in the cluster,
    whatever its settings (there is at most one per VM), which gives the VM back the cluster's default
    automation, for example after failback.
  - An override is stored even when Storage DRS or DRS is disabled on the cluster, so the exclusion
    holds when it is enabled again. RV(storage_drs[].storage_drs_enabled) and
    RV(drs.drs_enabled) tell whether the service is on.
  - B(VM overrides switched off.) A DRS cluster can have its VM overrides switched off (the DRS setting
    B(Enable individual virtual machine automation levels), C(enableVmBehaviorOverrides=false)); vCenter
    then applies the cluster's default automation to every VM, whatever its override says, so a DRS
    override excludes nothing. With O(state=present) the module then fails, changing nothing (no Storage
    DRS override either, in check mode too), unless O(enable_cluster_vm_overrides=true) lets it switch
    them on. Where DRS itself is turned off, DRS migrates nothing, so the override is stored as usual and
    RV(msg) says it takes effect only once VM overrides are switched on.
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
      - V(present) makes sure the overrides exclude the VM; V(absent) removes the VM's overrides.
    type: str
    choices: [present, absent]
    default: present
  storage_drs:
    description:
      - Whether to manage the VM's Storage DRS overrides in its datastore clusters.
      - With V(false), datastore clusters are neither read nor changed and RV(storage_drs) is null.
    type: bool
    default: true
  storage_drs_behavior:
    description:
      - The Storage DRS automation level the override sets for the VM, with O(state=present).
      - V(disabled) (C(enabled=false)) excludes the VM from Storage DRS entirely.
      - V(manual) (C(enabled=true), C(behavior=manual), the vSphere Client's B(No Automation (Manual
        Mode))) still lets Storage DRS recommend moves, which someone must then not apply.
    type: str
    choices: [disabled, manual]
    default: disabled
  drs:
    description:
      - Whether to manage the VM's DRS override in the cluster of its host.
      - With V(false), the cluster is neither read nor changed and RV(drs) is null.
    type: bool
    default: true
  drs_behavior:
    description:
      - The DRS automation level the override sets for the VM, with O(state=present).
      - V(disabled) (C(enabled=false)) excludes the VM from DRS entirely, recommendations included.
      - V(manual) (C(enabled=true), C(behavior=manual)) lets DRS recommend migrations (and place the VM
        at power-on only by recommendation), which someone must then not apply.
    type: str
    choices: [disabled, manual]
    default: disabled
  enable_cluster_vm_overrides:
    description:
      - Whether the module may switch on VM overrides (C(drsConfig.enableVmBehaviorOverrides)) in the cluster
        of the VM's host where they are switched off, with O(state=present) and O(drs=true). It is done in the
        same cluster reconfiguration as the VM's DRS override.
      - B(This is a cluster-wide change.) Every VM's existing DRS override in that cluster then takes effect,
        not only this VM's; check the cluster's B(VM Overrides) list before allowing it.
      - With V(false), the module fails in such a cluster (where DRS is on), and changes nothing.
      - Never switches VM overrides off, also not with O(state=absent).
    type: bool
    default: false
notes:
  - Needs vCenter; on a standalone ESXi host there is neither a datastore cluster nor a DRS cluster and
    the module changes nothing.
  - >-
    Privileges: C(StoragePod.Config) (Datastore cluster > Configure a datastore cluster) on each datastore cluster whose
    override changes (C(ConfigureStorageDrsForPod_Task)); C(Host.Inventory.EditCluster) (Host > Inventory > Modify
    cluster) on the cluster whose override changes, also when O(enable_cluster_vm_overrides=true) switches its VM
    overrides on (C(ReconfigureComputeResource_Task)). Granted on a parent folder or the datacenter with propagation,
    they reach these objects too. Otherwise read-only (C(System.Read), as in the Read-only role) on the VM, its
    datastores, datastore clusters, host and cluster.
  - Each datastore cluster and the cluster are changed by one task each, after every current override
    has been read. If a task fails, the error names the overrides already changed; running the module
    again finishes the work.
seealso:
  - name: Azure Site Recovery, reprotect from Azure to on-premises
    description: Why the master target must not be moved by Storage vMotion after reprotect.
    link: https://learn.microsoft.com/azure/site-recovery/vmware-azure-reprotect
  - module: siterecovery.master_target.vm_preparation_info
    description: Says in one call whether this module would change the VM, with the other preparation steps.
  - module: siterecovery.master_target.failback_readiness_info
    description: Checks the exclusion (V(master_target.migration_exclusion)) with the other requirements of failback.
"""

EXAMPLES = r"""
- name: Exclude the master target from Storage DRS and DRS
  siterecovery.master_target.vm_migration_exclusion:
    name: asr-mt-01
  delegate_to: localhost

- name: Exclude it from Storage DRS only, and let DRS recommend (not perform) host moves
  siterecovery.master_target.vm_migration_exclusion:
    name: asr-mt-01
    storage_drs_behavior: disabled
    drs_behavior: manual
  delegate_to: localhost

- name: Exclude it also where the cluster has VM overrides switched off (switches them on, cluster-wide)
  siterecovery.master_target.vm_migration_exclusion:
    name: asr-mt-01
    enable_cluster_vm_overrides: true
  delegate_to: localhost

- name: After failback, give the VM back to the clusters' default automation
  siterecovery.master_target.vm_migration_exclusion:
    name: asr-mt-01
    state: absent
  delegate_to: localhost
"""

RETURN = r"""
storage_drs:
  description:
    - One entry per datastore cluster holding files of the VM, sorted by name.
    - An empty list when none of the VM's datastores is in a datastore cluster; null with O(storage_drs=false).
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: The datastore cluster's name.
      type: str
      sample: dsc-failback
    moid:
      description: The datastore cluster's managed object id.
      type: str
      sample: group-p42
    datastores:
      description: The VM's datastores in this datastore cluster.
      type: list
      elements: str
      sample: [vmfs-mt-01]
    storage_drs_enabled:
      description: Whether Storage DRS is enabled on the datastore cluster.
      type: bool
      sample: true
    operation:
      description: What was done to the VM's override (V(add), V(edit), V(remove)), or would be in check mode; null when nothing.
      type: str
      sample: add
    before:
      description: The VM's override before the run (C(enabled), C(behavior)); null when there was none.
      type: dict
      sample: null
    after:
      description: The VM's override after the run, as read back from vCenter (as it would be, in check mode); null when there is none.
      type: dict
      sample: {enabled: false, behavior: null}
drs:
  description:
    - The VM's DRS override in the cluster of its host.
    - Null when the host is not in a cluster, or with O(drs=false).
  returned: always
  type: dict
  contains:
    name:
      description: The cluster's name.
      type: str
      sample: DC0_C0
    moid:
      description: The cluster's managed object id.
      type: str
      sample: domain-c7
    drs_enabled:
      description: Whether DRS is enabled on the cluster.
      type: bool
      sample: true
    vm_overrides_enabled:
      description:
        - Whether the cluster has VM overrides switched on (C(drsConfig.enableVmBehaviorOverrides)) after the run,
          as read back from vCenter (as it would be, in check mode).
        - The diff shows it, before and after, under C(drs_vm_overrides).
      type: bool
      sample: true
    vm_overrides_switched_on:
      description: Whether this run switched the cluster's VM overrides on (would, in check mode), with O(enable_cluster_vm_overrides=true).
      type: bool
      sample: false
    operation:
      description: What was done to the VM's override (V(add), V(edit), V(remove)), or would be in check mode; null when nothing.
      type: str
      sample: edit
    before:
      description: The VM's override before the run (C(enabled), C(behavior)); null when there was none.
      type: dict
      sample: {enabled: true, behavior: fullyAutomated}
    after:
      description: The VM's override after the run, as read back from vCenter (as it would be, in check mode); null when there is none.
      type: dict
      sample: {enabled: false, behavior: fullyAutomated}
msg:
  description: What was found and done, part by part, including why a part needs no override.
  returned: always
  type: str
  sample: "Storage DRS override in datastore cluster 'dsc-failback': added. DRS override in cluster 'DC0_C0': added."
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
from ansible_collections.siterecovery.master_target.plugins.module_utils._vsphere_lookup import (
    find_vm,
    read_object,
    read_objects,
)
from ansible_collections.siterecovery.master_target.plugins.module_utils._vsphere_module import (
    Changes,
    run_module,
    vsphere_module,
)
from ansible_collections.siterecovery.master_target.plugins.module_utils._vsphere_overrides import (
    CLUSTER_PATHS,
    ENABLE_OVERRIDES_OPTION,
    POD_PATHS,
    cluster_facts,
    complies,
    overrides_off_reason,
    overrides_switch,
    pod_facts,
    pods_of,
    wanted_fields,
)
from ansible_collections.siterecovery.master_target.plugins.module_utils._vsphere_tasks import run_task

try:
    from pyVmomi import vim
except ImportError:  # pragma: no cover - reported when connecting
    pass


# ---- pure logic: what must change (what an override is: module_utils/_vsphere_overrides.py) ------


def plan_override(view, state, level):
    """Pure: (operation, after) for one override: operation is add, edit, remove or None.

    An existing override is edited (never added twice); `after` is the view it will have.
    """
    if state == "absent":
        return ("remove", None) if view is not None else (None, None)
    if complies(view, level):
        return None, view
    if view is None:
        return "add", dict(dict(enabled=True, behavior=None), **wanted_fields(level))
    return "edit", dict(view, **wanted_fields(level))


def describe_step(kind, where, operation, check_mode, view_after, service_enabled):
    """Pure: one sentence for RV(msg) about one override."""
    done = {"add": "added", "edit": "edited", "remove": "removed"}
    if operation is None:
        outcome = "already excludes the VM" if view_after is not None else "none to remove"
    else:
        outcome = ("would be " if check_mode else "") + done[operation]
    text = f"{kind} override in {where}: {outcome}"
    if not service_enabled:
        text += f" ({kind} is disabled there; the override applies once it is enabled)"
    return text + "."


# ---- vSphere specs ------------------------------------------------------------------------------


def storage_drs_spec(vm_obj, operation, level):
    """A StorageDrsConfigSpec with the one vmConfigSpec entry for this VM."""
    if operation == "remove":
        entry = vim.storageDrs.VmConfigSpec(operation="remove", removeKey=vm_obj)
    else:
        entry = vim.storageDrs.VmConfigSpec(operation=operation, info=vim.storageDrs.VmConfigInfo(vm=vm_obj, **wanted_fields(level)))
    return vim.storageDrs.ConfigSpec(vmConfigSpec=[entry])


def drs_spec(vm_obj, operation, level, switch_on=False):
    """A ClusterConfigSpecEx with the one drsVmConfigSpec entry for this VM (none when `operation` is None),
    and, with `switch_on`, drsConfig switching VM overrides on: one task, so both or neither apply."""
    spec = vim.cluster.ConfigSpecEx()
    if operation == "remove":
        spec.drsVmConfigSpec = [vim.cluster.DrsVmConfigSpec(operation="remove", removeKey=vm_obj)]
    elif operation:
        spec.drsVmConfigSpec = [vim.cluster.DrsVmConfigSpec(operation=operation, info=vim.cluster.DrsVmConfigInfo(key=vm_obj, **wanted_fields(level)))]
    if switch_on:
        spec.drsConfig = vim.cluster.DrsConfigInfo(enableVmBehaviorOverrides=True)
    return spec


# ---- reading ------------------------------------------------------------------------------------


def read_pods(client, refs):
    return sorted(read_objects(client, refs, POD_PATHS), key=lambda pod: pod.name)


def read_cluster(client, ref):
    return read_object(client, ref, CLUSTER_PATHS, what=f"Cluster {ref._moId}")  # pylint: disable=protected-access


# ---- the module ---------------------------------------------------------------------------------


def apply_all(client, steps):
    """Run each step's task in order; a failure names the overrides already changed."""
    done = []
    for step in steps:
        try:
            run_task(client, step["start"], f"Setting the {step['kind']} override of VM {step['vm']}", step["where"])
        except VSphereError as error:
            if done:
                raise VSphereError(
                    f"{error.msg} Already changed before this failure: the {'; the '.join(done)}. Run the module again once the cause is fixed."
                ) from None
            raise
        done.append(f"{step['kind']} override in {step['where']}")


def verify(steps, state):
    """After the tasks: each override must read back as planned, so a server that ignores a spec cannot pass."""
    for step in steps:
        after = step["entry"]["after"]
        if (after is not None) if state == "absent" else not complies(after, step["level"]):
            raise VSphereError(
                f"vCenter accepted the change of the {step['kind']} override of VM {step['vm']} in {step['where']}, but it reads back as "
                f"{after}. Check the VM Overrides of {step['where']} in the vSphere Client and run the module again."
            )
        if step["entry"].get("vm_overrides_switched_on") and not step["entry"]["vm_overrides_enabled"]:
            raise VSphereError(
                f"vCenter accepted switching on VM overrides in {step['where']}, but they read back as switched off. Check the cluster's "
                "DRS settings (Virtual Machine Automation) in the vSphere Client and run the module again."
            )


def plan_storage_drs(module, client, vm, pods, pod_datastores, datastores):
    """Entries, steps and messages for the Storage DRS part."""
    state, level = module.params["state"], module.params["storage_drs_behavior"]
    entries, steps, messages = [], [], []
    for pod in pods:
        facts = pod_facts(pod, vm.moid)
        before, enabled = facts["override"], facts["enabled"]
        operation, after = plan_override(before, state, level)
        entry = dict(name=pod.name, moid=pod.moid, datastores=sorted(pod_datastores[pod.moid][1]), storage_drs_enabled=enabled,
                     operation=operation, before=before, after=after)
        entries.append(entry)
        where = f"datastore cluster '{pod.name}'"
        messages.append(describe_step("Storage DRS", where, operation, module.check_mode, after, enabled))
        if operation:
            spec = storage_drs_spec(vm.obj, operation, level)
            manager = client.content.storageResourceManager
            steps.append(dict(kind="Storage DRS", vm=vm.path, where=where, entry=entry, level=level,
                              start=lambda pod=pod, spec=spec: manager.ConfigureStorageDrsForPod_Task(pod=pod.obj, spec=spec, modify=True)))
    if not pods:
        names = ", ".join(sorted(item.name for item in datastores)) or "none"
        messages.append(f"VM {vm.path} has no files in a datastore cluster (its datastores: {names}): no Storage DRS override applies.")
    return entries, steps, messages


def plan_drs(module, vm, cluster):
    """Entry, steps and messages for the DRS part (a cluster was found).

    Raises the refusal for a cluster with VM overrides switched off; it is planned before anything
    is changed (Storage DRS overrides included), so a refusal leaves everything as it was.
    """
    state, level = module.params["state"], module.params["drs_behavior"]
    facts = cluster_facts(cluster, vm.moid)
    switch_on, refusal = overrides_switch(facts, state, module.params[ENABLE_OVERRIDES_OPTION], vm.path)
    if refusal:
        raise VSphereError(f"{refusal} Nothing was changed.")
    before = facts["override"]
    operation, after = plan_override(before, state, level)
    entry = dict(name=cluster.name, moid=cluster.moid, drs_enabled=facts["enabled"],
                 vm_overrides_enabled=facts["vm_overrides_enabled"] or switch_on, vm_overrides_switched_on=switch_on,
                 operation=operation, before=before, after=after)
    where = f"cluster '{cluster.name}'"
    messages = []
    if switch_on:
        outcome = "would be switched on" if module.check_mode else "switched on"
        messages.append(f"VM overrides in {where}: {outcome} ({ENABLE_OVERRIDES_OPTION}; a cluster-wide change: every VM's DRS override there "
                        "takes effect).")
    messages.append(describe_step("DRS", where, operation, module.check_mode, after, facts["enabled"]))
    if not entry["vm_overrides_enabled"] and state == "present":
        messages.append(f"Note: {overrides_off_reason(facts)}; the override takes effect only once they are switched on "
                        f"({ENABLE_OVERRIDES_OPTION}: true).")
    steps = []
    if operation or switch_on:
        spec = drs_spec(vm.obj, operation, level, switch_on)
        steps.append(dict(kind="DRS", vm=vm.path, where=where, entry=entry, level=level,
                          start=lambda: cluster.obj.ReconfigureComputeResource_Task(spec=spec, modify=True)))
    return entry, steps, messages


def ensure_exclusion(module, client):
    params = module.params
    vm = find_vm(client, params, ["datastore", "runtime.host"])
    datastore_refs = list(vm.get("datastore") or []) if params["storage_drs"] else []
    host_ref = vm.get("runtime.host") if params["drs"] else None

    # Every current override is read before anything is changed: one round trip for the parents of
    # the datastores and of the host, then one for the datastore clusters and one for the cluster.
    parents = read_objects(client, datastore_refs + ([host_ref] if host_ref is not None else []), ["name", "parent"])
    datastores = [item for item in parents if isinstance(item.obj, vim.Datastore)]
    host = next((item for item in parents if isinstance(item.obj, vim.HostSystem)), None)
    pod_datastores = pods_of(datastores)
    pods = read_pods(client, [pod_ref for pod_ref, _names in pod_datastores.values()]) if pod_datastores else []
    cluster_ref = host.get("parent") if host is not None else None
    cluster = read_cluster(client, cluster_ref) if isinstance(cluster_ref, vim.ClusterComputeResource) else None

    sdrs_entries, drs_entry, steps, messages = None, None, [], []
    if params["storage_drs"]:
        sdrs_entries, sdrs_steps, sdrs_messages = plan_storage_drs(module, client, vm, pods, pod_datastores, datastores)
        steps += sdrs_steps
        messages += sdrs_messages
    else:
        messages.append("Storage DRS overrides not managed (storage_drs: false).")
    # Every part is planned (and a refusal raised) before anything is changed.
    if params["drs"] and cluster is not None:
        drs_entry, drs_steps, drs_messages = plan_drs(module, vm, cluster)
        steps += drs_steps
        messages += drs_messages
    elif params["drs"]:
        where = f"runs on host '{host.name}', which is not in a cluster" if host is not None else "has no host"
        messages.append(f"VM {vm.path} {where}: no DRS override applies.")
    else:
        messages.append("DRS override not managed (drs: false).")

    if steps and not module.check_mode:
        apply_all(client, steps)
        # Report what vCenter stores now, not what was sent (re-reading only what was changed).
        changed_pods = {step["entry"]["moid"]: step["entry"] for step in steps if step["kind"] == "Storage DRS"}
        for pod in read_pods(client, [pod.obj for pod in pods if pod.moid in changed_pods]) if changed_pods else []:
            changed_pods[pod.moid]["after"] = pod_facts(pod, vm.moid)["override"]
        if any(step["kind"] == "DRS" for step in steps):
            facts = cluster_facts(read_cluster(client, cluster.obj), vm.moid)
            drs_entry["after"], drs_entry["vm_overrides_enabled"] = facts["override"], facts["vm_overrides_enabled"]
        verify(steps, params["state"])

    changes = Changes()
    if params["storage_drs"]:
        changes.compare("storage_drs", {item["name"]: item["before"] for item in sdrs_entries}, {item["name"]: item["after"] for item in sdrs_entries})
    if params["drs"]:
        changes.compare("drs", {drs_entry["name"]: drs_entry["before"]} if drs_entry else {}, {drs_entry["name"]: drs_entry["after"]} if drs_entry else {})
        # The cluster-wide switch: off before when this run switched it on, else as it is.
        overrides_before = {drs_entry["name"]: not drs_entry["vm_overrides_switched_on"] and drs_entry["vm_overrides_enabled"]} if drs_entry else {}
        changes.compare("drs_vm_overrides", overrides_before, {drs_entry["name"]: drs_entry["vm_overrides_enabled"]} if drs_entry else {})
    return dict(changes.result(module), storage_drs=sdrs_entries, drs=drs_entry, msg=" ".join(messages), vm=vm.describe())


def main():
    module = vsphere_module(
        dict(
            state=dict(type="str", choices=["present", "absent"], default="present"),
            storage_drs=dict(type="bool", default=True),
            storage_drs_behavior=dict(type="str", choices=["disabled", "manual"], default="disabled"),
            drs=dict(type="bool", default=True),
            drs_behavior=dict(type="str", choices=["disabled", "manual"], default="disabled"),
            enable_cluster_vm_overrides=dict(type="bool", default=False),
        )
    )
    if not module.params["storage_drs"] and not module.params["drs"]:
        module.fail_json(msg="Both storage_drs and drs are false, so there is nothing to manage: set at least one of them to true.")
    run_module(module, ensure_exclusion)


if __name__ == "__main__":
    main()
