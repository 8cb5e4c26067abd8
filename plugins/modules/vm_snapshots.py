#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, siterecovery.master_target contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: vm_snapshots
short_description: Remove every snapshot of a virtual machine
description:
  - With O(state=absent), removes the whole snapshot tree of a virtual machine and, when vCenter
    reports that the VM's disks need consolidation, consolidates them.
  - Azure Site Recovery reprotect and failback fail when the master target has snapshots. Snapshots
    on a protected VM are merged by reprotect itself, so report those with
    M(siterecovery.master_target.vm_snapshots_info) instead.
  - A VM without snapshots and with nothing to consolidate reports RV(ignore:changed=false).
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
      - V(absent) removes every snapshot (and consolidates the disks when needed).
      - Required, so that removing snapshots is always written out in the task.
    type: str
    choices: [absent]
    required: true
  consolidate:
    description:
      - Whether to consolidate the VM's disks when vCenter reports C(consolidationNeeded), with O(state=absent).
    type: bool
    default: true
notes:
  - >-
    Privileges: C(VirtualMachine.State.RemoveSnapshot) on the VM, both to remove the snapshots (C(RemoveAllSnapshots_Task))
    and to consolidate its disks (C(ConsolidateVMDisks_Task)). Otherwise read-only (C(System.Read), as in the Read-only
    role) on the VM and its tasks.
seealso:
  - module: siterecovery.master_target.vm_snapshots_info
    description: Lists the snapshot tree without changing it, for example to report the protected VMs' snapshots.
  - module: siterecovery.master_target.vm_preparation_info
    description: Says in one call whether this module would change the VM, with the other preparation steps.
"""

EXAMPLES = r"""
- name: Remove every snapshot of the master target
  siterecovery.master_target.vm_snapshots:
    name: asr-mt-01
    state: absent
  delegate_to: localhost
  register: mt_snapshots

- name: Show what was removed
  ansible.builtin.debug:
    msg: "{{ mt_snapshots.removed }}"
"""

RETURN = r"""
snapshots:
  description:
    - The snapshots the VM had at the start of the run, parents before children (once a task still
      running was awaited, see RV(awaited_tasks), those it had then).
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: The snapshot's name.
      type: str
      sample: before-patch
    path:
      description: The names from the root snapshot down to this one, joined by C(/).
      type: str
      sample: before-patch/after-patch
    description:
      description: The snapshot's description.
      type: str
    id:
      description: The snapshot's id within the VM.
      type: int
    moid:
      description: The snapshot's managed object id.
      type: str
    created:
      description: When the snapshot was taken (ISO 8601).
      type: str
    power_state:
      description: The VM's power state when the snapshot was taken.
      type: str
    current:
      description: Whether the VM runs from this snapshot.
      type: bool
removed:
  description: The paths of the snapshots removed (or that would be, in check mode).
  returned: always
  type: list
  elements: str
  sample: [before-patch, before-patch/after-patch]
consolidation_needed:
  description: Whether vCenter reported at the start that the VM's disks need consolidation.
  returned: always
  type: bool
consolidated:
  description: Whether the disks were consolidated (or would be, in check mode).
  returned: always
  type: bool
awaited_tasks:
  description:
    - The snapshot removal or consolidation tasks that were still running on the VM when the run began
      (see O(task_timeout)) and that the module waited for before it read the snapshots again. Empty in
      check mode and when there were none.
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
      sample: VirtualMachine.removeAllSnapshots
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

from ansible_collections.siterecovery.master_target.plugins.module_utils._vsphere_lookup import find_vm
from ansible_collections.siterecovery.master_target.plugins.module_utils._vsphere_module import (
    Changes,
    run_module,
    vsphere_module,
)
from ansible_collections.siterecovery.master_target.plugins.module_utils._vsphere_snapshots import (
    SNAPSHOT_PATHS,
    SNAPSHOT_TASKS,
    removal_plan,
    remove_snapshots,
    vm_snapshots,
)
from ansible_collections.siterecovery.master_target.plugins.module_utils._vsphere_tasks import (
    TASK_PATHS,
    await_earlier_task,
    check_task_timeout,
    task_timeout_argument_spec,
    with_awaited,
)


def ensure_snapshots(module, client):
    vm = find_vm(client, module.params, SNAPSHOT_PATHS + TASK_PATHS)
    vm, awaited = await_earlier_task(module, client, vm, SNAPSHOT_TASKS, SNAPSHOT_PATHS)
    snapshots = vm_snapshots(vm)
    consolidation_needed = bool(vm.get("runtime.consolidationNeeded"))
    result = dict(snapshots=snapshots, consolidation_needed=consolidation_needed, vm=vm.describe())

    remove, consolidate = removal_plan(snapshots, consolidation_needed, module.params["consolidate"])
    changes = Changes()
    changes.compare("snapshots", [snap["path"] for snap in snapshots], [])
    changes.compare("consolidation_needed", consolidation_needed, consolidation_needed and not consolidate)

    if not module.check_mode:
        consolidate = remove_snapshots(client, vm, remove, consolidate, module.params["consolidate"], module.params["task_timeout"])

    result = dict(result, **changes.result(module), removed=[snap["path"] for snap in snapshots], consolidated=consolidate)
    return with_awaited(result, awaited)


def main():
    module = vsphere_module(
        dict(
            state=dict(type="str", choices=["absent"], required=True),
            consolidate=dict(type="bool", default=True),
            **task_timeout_argument_spec(),
        )
    )
    check_task_timeout(module)
    run_module(module, ensure_snapshots)


if __name__ == "__main__":
    main()
