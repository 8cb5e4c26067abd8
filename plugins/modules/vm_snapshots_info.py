#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, siterecovery.master_target contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: vm_snapshots_info
short_description: List the snapshots of a virtual machine
description:
  - Lists the whole snapshot tree of a virtual machine, parents before children, and whether vCenter
    reports that its disks need consolidation. Changes nothing.
  - Use it to report the snapshots of the protected VMs before reprotect (Azure Site Recovery merges
    those itself), and to check the master target, which must have none
    (M(siterecovery.master_target.vm_snapshots) removes them).
version_added: 0.1.0
author:
  - siterecovery.master_target contributors (@siterecovery)
extends_documentation_fragment:
  - siterecovery.master_target.vsphere
  - siterecovery.master_target.vsphere.vm
  - siterecovery.master_target.vsphere.info_attributes
notes:
  - "Privileges: read-only (C(System.Read), as in the Read-only role) on the VM."
seealso:
  - module: siterecovery.master_target.vm_snapshots
    description: Removes every snapshot of the master target (and consolidates its disks).
  - module: siterecovery.master_target.failback_readiness_info
    description: Checks that the master targets have no snapshot and reports the protected VMs' snapshots, among its other checks.
"""

EXAMPLES = r"""
- name: Report the snapshots of a protected VM (reprotect merges them)
  siterecovery.master_target.vm_snapshots_info:
    name: prod-web-01
  delegate_to: localhost
  register: protected_snapshots

- name: Show them
  ansible.builtin.debug:
    msg: "{{ protected_snapshots.snapshots | map(attribute='path') | list }}"
"""

RETURN = r"""
snapshots:
  description: The snapshots of the VM, parents before children.
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
consolidation_needed:
  description: Whether vCenter reports that the VM's disks need consolidation.
  returned: always
  type: bool
vm:
  description: The virtual machine read.
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
from ansible_collections.siterecovery.master_target.plugins.module_utils._vsphere_module import run_module, vsphere_module
from ansible_collections.siterecovery.master_target.plugins.module_utils._vsphere_snapshots import SNAPSHOT_PATHS, vm_snapshots


def list_snapshots(module, client):
    vm = find_vm(client, module.params, SNAPSHOT_PATHS)
    return dict(
        changed=False,
        snapshots=vm_snapshots(vm),
        consolidation_needed=bool(vm.get("runtime.consolidationNeeded")),
        vm=vm.describe(),
    )


def main():
    module = vsphere_module({})
    run_module(module, list_snapshots)


if __name__ == "__main__":
    main()
