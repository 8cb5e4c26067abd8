#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, siterecovery.master_target contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: vm_disk_uuid
short_description: Ensure disk.EnableUUID is set on a virtual machine
description:
  - Ensures the advanced setting (configuration parameter) C(disk.EnableUUID) of a virtual machine is
    C(TRUE), or C(FALSE) with O(enabled=false).
  - Azure Site Recovery needs C(disk.EnableUUID=TRUE) on the master target, so that the guest sees
    stable disk identifiers for the disks attached to it during reprotect and failback.
  - The current value is compared without regard to case; an existing key spelled in another case is
    edited, never duplicated. A missing key counts as C(FALSE).
  - The setting takes effect at the next power-on. Changing it on a powered-on VM works and returns
    RV(power_cycle_required=true).
version_added: 0.1.0
author:
  - siterecovery.master_target contributors (@siterecovery)
extends_documentation_fragment:
  - siterecovery.master_target.vsphere
  - siterecovery.master_target.vsphere.vm
  - siterecovery.master_target.vsphere.attributes
options:
  enabled:
    description:
      - Whether C(disk.EnableUUID) must be C(TRUE) (V(true)) or C(FALSE) (V(false)).
    type: bool
    default: true
"""

EXAMPLES = r"""
- name: Enable disk UUIDs on the master target
  siterecovery.master_target.vm_disk_uuid:
    hostname: vcenter.example.com
    username: administrator@vsphere.local
    password: "{{ vcenter_password }}"
    name: asr-mt-01
  delegate_to: localhost
  register: disk_uuid

- name: Tell the admin to power-cycle the VM when needed
  ansible.builtin.debug:
    msg: "Power-cycle {{ disk_uuid.vm.name }} for disk.EnableUUID to take effect."
  when: disk_uuid.power_cycle_required

- name: Same, with the connection from module_defaults and the VM chosen by folder
  module_defaults:
    group/siterecovery.master_target.vmware:
      hostname: vcenter.example.com
      username: administrator@vsphere.local
      password: "{{ vcenter_password }}"
  siterecovery.master_target.vm_disk_uuid:
    name: asr-mt-01
    folder: /DC0/vm/asr
  delegate_to: localhost
"""

RETURN = r"""
before:
  description: The value of C(disk.EnableUUID) before the run, as stored (null when the key was missing).
  returned: always
  type: str
  sample: null
after:
  description: The value of C(disk.EnableUUID) after the run (or that the run would set, in check mode).
  returned: always
  type: str
  sample: "TRUE"
power_cycle_required:
  description: Whether the VM is powered on and the value changed, so it takes effect only after a power-off and power-on.
  returned: always
  type: bool
  sample: true
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

from ansible_collections.siterecovery.master_target.plugins.module_utils._vsphere_devices import (
    ENABLE_UUID_KEY as KEY,
    enable_uuid_change,
    enable_uuid_setting,
)
from ansible_collections.siterecovery.master_target.plugins.module_utils._vsphere_lookup import find_vm
from ansible_collections.siterecovery.master_target.plugins.module_utils._vsphere_module import (
    Changes,
    run_module,
    vsphere_module,
)
from ansible_collections.siterecovery.master_target.plugins.module_utils._vsphere_tasks import run_task

try:
    from pyVmomi import vim
except ImportError:  # pragma: no cover - reported when connecting
    pass


def ensure_disk_uuid(module, client):
    vm = find_vm(client, module.params, ["config.extraConfig", "runtime.powerState"])
    key, current = enable_uuid_setting(vm.get("config.extraConfig"))
    new_value = enable_uuid_change(current, module.params["enabled"])

    changes = Changes()
    changes.compare(KEY, current, new_value if new_value is not None else current)
    if new_value is not None and not module.check_mode:
        spec = vim.vm.ConfigSpec(extraConfig=[vim.option.OptionValue(key=key, value=new_value)])
        run_task(client, lambda: vm.obj.ReconfigVM_Task(spec=spec), f"Setting {KEY}={new_value}", f"VM {vm.path}")

    powered_on = vm.get("runtime.powerState") == "poweredOn"
    return dict(
        changes.result(module),
        before=current,
        after=changes.after[KEY],
        power_cycle_required=changes.changed and powered_on,
        vm=vm.describe(),
    )


def main():
    module = vsphere_module(dict(enabled=dict(type="bool", default=True)))
    run_module(module, ensure_disk_uuid)


if __name__ == "__main__":
    main()
