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
  - Only C(TRUE) (or C(FALSE)) exactly, in any case and without spaces, counts as set. ESXi is not
    known to read a value such as C(yes), or C(TRUE) with spaces around it, as C(TRUE), so the module
    rewrites it. A missing key counts as C(FALSE).
  - Advanced setting keys are compared without regard to case. An existing key spelled in another
    case is edited, never duplicated. When several keys differ only in case (for example
    C(disk.EnableUUID=FALSE) and C(disk.enableuuid=TRUE)), all of them are fixed in one
    reconfiguration. The key spelled C(disk.EnableUUID) (else the first) gets the value, and the others
    are removed (set to an empty value, which vCenter treats as removal).
  - ESXi reads the setting only when the VM powers on. A restart of the guest or a resume from
    suspended does not apply it. The module records when it changed the setting in the advanced
    setting C(siterecovery.diskEnableUUID.changed) (vCenter's time), in the same reconfiguration.
    On every run it returns RV(power_cycle_required). This is true while the VM is powered on or
    suspended and the setting was changed (now, or by an earlier run) at or after the VM's last
    power-on (C(runtime.bootTime)).
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
notes:
  - >-
    Privileges: C(VirtualMachine.Config.AdvancedConfig) on the VM, to set the advanced setting (a C(ReconfigVM_Task)
    that changes C(extraConfig) only, the record C(siterecovery.diskEnableUUID.changed) included). Otherwise read-only
    (C(System.Read), as in the Read-only role) on the VM; reading vCenter's time (C(CurrentTime)) needs C(System.View),
    which every role has.
seealso:
  - module: siterecovery.master_target.vm_power
    description: Power-cycles the VM (off, then on), which C(disk.EnableUUID) needs to take effect (RV(power_cycle_required)).
  - module: siterecovery.master_target.vm_preparation_info
    description: Says in one call whether this module would change the VM, with the other preparation steps.
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
  description:
    - The value of C(disk.EnableUUID) before the run, as stored (null when the key was missing).
    - With several keys that differ only in case, the value of the key that is kept.
  returned: always
  type: str
  sample: null
after:
  description: The value of C(disk.EnableUUID) after the run (or that the run would set, in check mode).
  returned: always
  type: str
  sample: "TRUE"
power_cycle_required:
  description:
    - Whether the VM runs with another C(disk.EnableUUID) than its configuration holds, so it takes
      effect only after a power-off and power-on. This holds when the VM is powered on or suspended
      and this run changed the value (or would, in check mode), or this module changed it at or after
      the VM's last power-on.
    - Judged on every run, so a later run still says V(true) until the VM has been power-cycled.
    - A VM that is powered off needs no power cycle, only its next power-on.
    - A change made outside this module is not recorded, so it is not seen here.
  returned: always
  type: bool
  sample: true
removed_keys:
  description: The keys that differed from C(disk.EnableUUID) only in case and were removed (or would be, in check mode).
  returned: always
  type: list
  elements: str
  sample: [disk.enableuuid]
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
    enable_uuid_option_values,
    enable_uuid_options,
    enable_uuid_power_cycle,
    enable_uuid_setting,
    enable_uuid_writes,
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
    vm = find_vm(client, module.params, ["config.extraConfig", "runtime.powerState", "runtime.bootTime"])
    extra_config = vm.get("config.extraConfig")
    _key, current = enable_uuid_setting(extra_config)
    writes = enable_uuid_writes(extra_config, module.params["enabled"])
    removed = [key for key, value in writes if value == ""]

    changes = Changes()
    changes.compare(KEY, current, writes[-1][1] if writes else current)
    for key in removed:
        changes.compare(key, dict(enable_uuid_options(extra_config)).get(key), None)
    if writes and not module.check_mode:
        # The time of the change, from vCenter's clock (runtime.bootTime's), in the same reconfiguration.
        spec = vim.vm.ConfigSpec(extraConfig=enable_uuid_option_values(writes, client.service_instance.CurrentTime()))
        run_task(client, lambda: vm.obj.ReconfigVM_Task(spec=spec), f"Setting {KEY}={writes[-1][1]}", f"VM {vm.path}")

    return dict(
        changes.result(module),
        before=current,
        after=changes.after[KEY],
        removed_keys=removed,
        power_cycle_required=enable_uuid_power_cycle(extra_config, vm.get("runtime.powerState"), vm.get("runtime.bootTime"), bool(writes)),
        vm=vm.describe(),
    )


def main():
    module = vsphere_module(dict(enabled=dict(type="bool", default=True)))
    run_module(module, ensure_disk_uuid)


if __name__ == "__main__":
    main()
