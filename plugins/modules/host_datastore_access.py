#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, siterecovery.master_target contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: host_datastore_access
short_description: Ensure an ESXi host has read/write access to VMFS or vSAN datastores for failback
description:
  - Ensures that each datastore in O(datastores) is attached, mounted and accessible with read/write
    access on one ESXi host, either the host of the master target VM (selected with O(name), O(uuid)
    or O(moid)) or the host named O(esxi_hostname).
  - Azure Site Recovery fails back to VMFS or vSAN datastores only, never to NFS, and the master
    target's host needs read/write access to the datastore it fails back to (for original-location
    recovery, the protected VM's datastore).
  - A VMFS datastore that is attached to the host but unmounted is mounted (the same as
    B(Mount Datastore) in the vSphere Client). That is the only change this module makes.
  - Every other problem makes the module fail with one message that names the host, each datastore
    and the fix, and nothing is changed. The problems are an NFS (or any other non-VMFS, non-vSAN)
    datastore, a datastore that is not attached to the host, one mounted read-only, one in
    maintenance mode, and one mounted but not accessible. All datastores are checked before any is
    mounted.
  - The module never creates, formats, removes or unmounts a VMFS volume; it only mounts one that
    already exists. That is unlike C(community.vmware.vmware_host_datastore), whose C(state=present)
    creates a new VMFS file system on the device it is given (partitioning and formatting it) and
    whose C(state=absent) removes the datastore, and with it the partitions of its VMFS volume,
    rather than unmounting it. A datastore the host cannot see must first be presented to the host
    by the storage array, followed by a rescan of the host's storage adapters.
version_added: 0.1.0
author:
  - siterecovery.master_target contributors (@siterecovery)
extends_documentation_fragment:
  - siterecovery.master_target.vsphere
  - siterecovery.master_target.vsphere.vm
  - siterecovery.master_target.vsphere.attributes
options:
  name:
    description:
      - The name of the master target virtual machine; the module works on the ESXi host it runs on.
      - When several VMs have this name, set O(folder) or O(datacenter), or use O(uuid) or O(moid).
      - Exactly one of O(name), O(uuid), O(moid) or O(esxi_hostname) is required.
    type: str
  esxi_hostname:
    description:
      - The name of the ESXi host to work on, as vCenter shows it (often its FQDN or IP address).
      - Compared exactly, then without regard to case.
      - Use it instead of selecting the master target VM with O(name), O(uuid) or O(moid).
    type: str
  datastores:
    description:
      - The names of the datastores the host needs read/write access to.
      - Each must be a VMFS or vSAN datastore already attached to the host.
    type: list
    elements: str
    required: true
notes:
  - There is no C(state) option. To only check, without mounting, run the module in check mode.
  - >-
    Privileges: C(Host.Config.Storage) (Host > Configuration > Storage partition configuration) on the ESXi host, to
    mount a datastore (C(HostStorageSystem.MountVmfsVolume)). Otherwise read-only (C(System.Read), as in the Read-only
    role) on the host, the datastores and the master target VM.
seealso:
  - name: Azure Site Recovery, prepare VMware VMs for reprotect and failback
    description: Microsoft's requirements for the on-premises master target, its host and datastores.
    link: https://learn.microsoft.com/azure/site-recovery/vmware-azure-prepare-failback
  - module: siterecovery.master_target.vm_retention_disk
    description: Adds the master target's retention disk, on a datastore its host has mounted read/write.
  - module: siterecovery.master_target.vm_preparation_info
    description: Says in one call whether this module would change the VM, with the other preparation steps.
"""

EXAMPLES = r"""
- name: Ensure the master target's host can write to the failback datastores
  siterecovery.master_target.host_datastore_access:
    hostname: vcenter.example.com
    username: administrator@vsphere.local
    password: "{{ vcenter_password }}"
    name: asr-mt-01
    datastores:
      - vmfs-mt-01
      - vmfs-prod-01
  delegate_to: localhost

- name: Same for an ESXi host chosen by name, connection from module_defaults
  module_defaults:
    group/siterecovery.master_target.vmware:
      hostname: vcenter.example.com
      username: administrator@vsphere.local
      password: "{{ vcenter_password }}"
  siterecovery.master_target.host_datastore_access:
    esxi_hostname: esx01.example.com
    datastores: [vmfs-prod-02]
  delegate_to: localhost
  register: access

- name: Show what is attached where
  ansible.builtin.debug:
    msg: "{{ item.name }}: {{ item.access_mode }}, {{ (item.free_space / 1024 ** 3) | round }} GiB free"
  loop: "{{ access.datastores }}"
"""

RETURN = r"""
host:
  description: The ESXi host worked on.
  returned: always
  type: dict
  contains:
    name:
      description: The host's name in vCenter.
      type: str
      sample: esx01.example.com
    moid:
      description: The host's managed object id.
      type: str
      sample: host-34
vm:
  description: The VM whose host was worked on; null when O(esxi_hostname) was used instead.
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
datastores:
  description:
    - Each datastore of O(datastores) as seen from the host after the run (as it would be, in check mode).
    - Also returned when the module fails because of a datastore, with the state before the run.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: The datastore's name.
      type: str
      sample: vmfs-prod-01
    moid:
      description: The datastore's managed object id.
      type: str
      sample: datastore-61
    type:
      description: The file system type (C(summary.type)), for example V(VMFS), V(vsan), V(NFS), V(NFS41).
      type: str
      sample: VMFS
    capacity:
      description: The capacity in bytes.
      type: int
      sample: 4398046511104
    free_space:
      description: The free space in bytes.
      type: int
      sample: 3298534883328
    mounted:
      description: Whether the datastore is mounted on the host (false when it is not attached to the host).
      type: bool
      sample: true
    accessible:
      description: Whether the host can reach the datastore.
      type: bool
      sample: true
    access_mode:
      description: The host's access mode, V(readWrite) or V(readOnly); null when not attached to the host.
      type: str
      sample: readWrite
    mounted_now:
      description: Whether this run mounted the datastore on the host (or would, in check mode).
      type: bool
      sample: false
"""

import difflib

from ansible_collections.siterecovery.master_target.plugins.module_utils._vsphere_client import VSphereError
from ansible_collections.siterecovery.master_target.plugins.module_utils._vsphere_datastores import (
    DATASTORE_PATHS,
    UNMOUNTED,
    datastore_facts,
    datastore_problem,
    datastore_state,
    host_access,
    pick_for_host,
)
from ansible_collections.siterecovery.master_target.plugins.module_utils._vsphere_lookup import (
    find_vm,
    read_inventory,
    read_objects,
    vm_selection_argument_spec,
)
from ansible_collections.siterecovery.master_target.plugins.module_utils._vsphere_module import (
    Changes,
    run_module,
    vsphere_module,
)
from ansible_collections.siterecovery.master_target.plugins.module_utils._vsphere_tasks import fault_text, poll

try:
    from pyVmomi import vim, vmodl
except ImportError:  # pragma: no cover - reported when connecting
    pass

MOUNT_TIMEOUT = 60  # seconds for vCenter to report a mount the host has made


def access_after(ds, host_moid, problem):
    """Pure: the host's mount of `ds` once this module has run: a mount makes it mounted and accessible."""
    access = host_access(ds, host_moid)
    if problem is not None and problem.code == UNMOUNTED:
        access.update(mounted=True, accessible=True)
    return access


def unique(names):
    """Pure: the names in their order, each once."""
    return list(dict.fromkeys(names))


def near_names(name, known, count=3):
    """Pure: up to `count` known names that look like `name` (a typo, another case), best first."""
    by_lower = {}
    for candidate in known:
        by_lower.setdefault(candidate.lower(), candidate)
    return [by_lower[match] for match in difflib.get_close_matches(name.lower(), list(by_lower), n=count, cutoff=0.6)]


def did_you_mean(name, known):
    """Pure: " (did you mean 'a', 'b' or 'c'?)" for the known names near `name`, else ""."""
    near = [f"'{item}'" for item in near_names(name, known)]
    if not near:
        return ""
    listed = near[0] if len(near) == 1 else ", ".join(near[:-1]) + " or " + near[-1]
    return f" (did you mean {listed}?)"


def select_host(hosts, esxi_hostname):
    """Pure: the one host named `esxi_hostname` among `hosts` (ManagedObjects with a name), exact name first."""
    matches = [host for host in hosts if host.name == esxi_hostname]
    if not matches:
        # DNS names are not case-sensitive, and vCenter keeps whatever case the host was added with.
        matches = [host for host in hosts if host.name.lower() == esxi_hostname.lower()]
    if len(matches) > 1:
        raise VSphereError(
            f"{len(matches)} ESXi hosts match the name '{esxi_hostname}' ({', '.join(host.name for host in matches)}): "
            "set esxi_hostname to one of them exactly as vCenter shows it."
        )
    if not matches:
        raise VSphereError(
            f"No ESXi host named '{esxi_hostname}' was found{did_you_mean(esxi_hostname, [host.name for host in hosts])}. "
            "Set esxi_hostname to the host's name as vCenter shows it (often its FQDN or IP address)."
        )
    return matches[0]


def select_datastores(datastores, wanted):
    """Pure: {name: [datastores of that name]} for each wanted name; raises naming every unknown one."""
    by_name = {}
    for ds in datastores:
        by_name.setdefault(ds.name, []).append(ds)
    unknown = [name for name in wanted if name not in by_name]
    if unknown:
        listed = "; ".join(f"'{name}'{did_you_mean(name, list(by_name))}" for name in unknown)
        raise VSphereError(
            f"No datastore with {'these names' if len(unknown) > 1 else 'this name'} exists in vCenter: {listed}. "
            "Fix the datastores option (names are case-sensitive). Nothing was changed.",
            unknown_datastores=unknown,
        )
    return {name: by_name[name] for name in wanted}


def describe_problems(host, problems, closing="Nothing was changed."):
    """The one failure message for every datastore that cannot be used, in the order they were asked for."""
    lines = [f"Datastore '{name}' cannot be used from host '{host.name}': {problem.problem}. Fix: {problem.fix}." for name, problem in problems]
    return " ".join(lines + [closing])


def host_of(vm, hosts):
    """Pure: the host (among `hosts`) that VM `vm` (read with runtime.host) runs on."""
    ref = vm.get("runtime.host")
    if ref is None:
        raise VSphereError(f"VM {vm.path} is not on any ESXi host (runtime.host is unset): register it on a host, or set esxi_hostname.")
    moid = ref._moId  # pylint: disable=protected-access
    host = next((item for item in hosts if item.moid == moid), None)
    if host is None:
        raise VSphereError(f"The ESXi host {moid} of VM {vm.path} is not visible to this vCenter account: grant it read access to the host.")
    return host


def read_facts(client, objects):
    """{moid: datastore_facts} of the given Datastore references, in one round trip."""
    return {ds["moid"]: ds for ds in (datastore_facts(item) for item in read_objects(client, objects, DATASTORE_PATHS))}


def mount(client, host, ds, obj, mounted_before):
    """Mount a VMFS volume on the host; a refusal names the datastore, the host and what this run already mounted.

    A refusal because another run (a parallel task for another master target on the same host)
    mounted it since we read it is the state we want, not an error.
    """
    done = f" Already mounted by this run: {', '.join(mounted_before)}." if mounted_before else " Nothing was changed."
    if not ds["vmfs_uuid"]:
        raise VSphereError(f"Datastore '{ds['name']}' reports no VMFS uuid (info.vmfs.uuid), so it cannot be mounted on host '{host.name}'.{done}")
    try:
        # A plain method, not a task: it returns once the host has mounted the volume.
        host.get("configManager.storageSystem").MountVmfsVolume(vmfsUuid=ds["vmfs_uuid"])
    except vmodl.MethodFault as fault:
        # InvalidState: already mounted. vCenter may learn of a mount from the host a moment after it
        # happened, so that fault is left to wait_until_usable() to confirm.
        if isinstance(fault, vim.fault.InvalidState):
            return
        now = read_facts(client, [obj]).get(ds["moid"])
        if now is not None and datastore_problem(now, host.moid) is None:
            return
        raise VSphereError(
            f"Mounting datastore '{ds['name']}' on host '{host.name}' was refused: {fault_text(fault)}. "
            f"Check the host's storage (Storage Devices in vCenter), or mount it in the vSphere Client to see the host's reason.{done}"
        ) from None


def unusable(facts, host_moid):
    """Pure: [(name, problem)] for each datastore in `facts` ({moid: datastore_facts}) the host cannot use yet."""
    problems = [(ds["name"], datastore_problem(ds, host_moid)) for ds in facts.values()]
    return [(name, problem) for name, problem in problems if problem is not None]


def wait_until_usable(client, objects, host):
    """Re-read the datastores just mounted until vCenter reports them usable; raise for one that stays not.

    The host mounts at once, but vCenter learns of it from the host a moment later.
    """
    facts = poll(lambda: read_facts(client, objects), lambda found: not unusable(found, host.moid), MOUNT_TIMEOUT, longest=2.0)
    problems = unusable(facts, host.moid)
    if problems:
        raise VSphereError(describe_problems(host, problems, f"(Still so {MOUNT_TIMEOUT} s after it was mounted.)"))
    return facts


def ensure_datastore_access(module, client):
    params = module.params
    wanted = unique(params["datastores"])
    if not wanted:
        raise VSphereError("The datastores option is empty: list the names of the datastores the host needs read/write access to.")
    vm = None if params["esxi_hostname"] else find_vm(client, params, ["runtime.host"])

    # One round trip for the names of every host and datastore; then the details of only the
    # datastores asked for (a second one).
    inventory = read_inventory(
        client,
        [vim.HostSystem, vim.Datastore],
        {vim.HostSystem: ["name", "configManager.storageSystem"], vim.Datastore: ["name"]},
    )
    hosts = [item for item in inventory if isinstance(item.obj, vim.HostSystem)]
    host = host_of(vm, hosts) if vm else select_host(hosts, params["esxi_hostname"])
    by_name = select_datastores([item for item in inventory if isinstance(item.obj, vim.Datastore)], wanted)
    objects = {item.moid: item.obj for candidates in by_name.values() for item in candidates}
    facts = read_facts(client, list(objects.values()))
    chosen = []
    for name in wanted:
        candidates = [facts[item.moid] for item in by_name[name] if item.moid in facts]
        if not candidates:
            raise VSphereError(f"Datastore '{name}' disappeared from vCenter while it was being read. Run again.")
        chosen.append(pick_for_host(candidates, host.moid))

    # Every datastore is judged before anything is mounted: one bad entry leaves all untouched.
    problems = [datastore_problem(ds, host.moid) for ds in chosen]
    blocking = [(ds["name"], problem) for ds, problem in zip(chosen, problems) if problem is not None and problem.code != UNMOUNTED]
    result = dict(
        host=dict(name=host.name, moid=host.moid),
        vm=vm.describe() if vm else None,
        datastores=[datastore_state(ds, host_access(ds, host.moid)) for ds in chosen],
    )
    if blocking:
        raise VSphereError(describe_problems(host, blocking), **result)

    changes = Changes()
    to_mount = []
    for ds, problem in zip(chosen, problems):
        if changes.compare(ds["name"], host_access(ds, host.moid), access_after(ds, host.moid, problem)):
            to_mount.append(ds)
    if to_mount and not module.check_mode:
        for index, ds in enumerate(to_mount):
            mount(client, host, ds, objects[ds["moid"]], [item["name"] for item in to_mount[:index]])
        fresh = wait_until_usable(client, [objects[ds["moid"]] for ds in to_mount], host)
        chosen = [fresh.get(ds["moid"], ds) for ds in chosen]
    mounted_now = {ds["moid"] for ds in to_mount}
    states = []
    for ds in chosen:
        access = changes.after[ds["name"]] if module.check_mode else host_access(ds, host.moid)
        states.append(datastore_state(ds, access, ds["moid"] in mounted_now))
    return dict(result, **changes.result(module), datastores=states)


def main():
    argument_spec = vm_selection_argument_spec()
    argument_spec.update(
        esxi_hostname=dict(type="str"),
        datastores=dict(type="list", elements="str", required=True),
    )
    selectors = ["name", "uuid", "moid", "esxi_hostname"]
    module = vsphere_module(argument_spec, selects_vm=False, required_one_of=[selectors], mutually_exclusive=[selectors])
    run_module(module, ensure_datastore_access)


if __name__ == "__main__":
    main()
