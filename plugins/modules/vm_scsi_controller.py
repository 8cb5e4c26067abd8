#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, siterecovery.master_target contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: vm_scsi_controller
short_description: Ensure every SCSI controller of a virtual machine is LSI Logic
description:
  - Confirms that every SCSI controller of a virtual machine is LSI Logic Parallel or LSI Logic SAS.
  - Azure Site Recovery reprotect fails when the master target has a VMware ParaVirtual (PVSCSI)
    controller.
  - By default the module only reports, and fails with a message naming each controller that is not
    LSI Logic.
  - With O(convert=true), replaces each such controller by one of O(type) on the same SCSI bus, in one
    reconfiguration, keeping every disk and other device attached at the same unit number. The VM must
    be powered off; a powered-on VM is refused before anything is changed.
  - The guest must have a driver for the new controller before it boots from it. Linux kernels carry
    the LSI Logic drivers (mptspi, mptsas); on Windows, check the LSI driver is installed first.
version_added: 0.1.0
author:
  - siterecovery.master_target contributors (@siterecovery)
extends_documentation_fragment:
  - siterecovery.master_target.vsphere
  - siterecovery.master_target.vsphere.vm
  - siterecovery.master_target.vsphere.attributes
options:
  convert:
    description:
      - Whether to convert each controller that is not LSI Logic (Parallel or SAS) to O(type).
      - When V(false), a controller that is not LSI Logic makes the module fail.
    type: bool
    default: false
  type:
    description:
      - The controller type to convert to, with O(convert=true).
      - V(lsilogic) is LSI Logic Parallel, V(lsilogicsas) is LSI Logic SAS.
    type: str
    choices: [lsilogic, lsilogicsas]
    default: lsilogic
"""

EXAMPLES = r"""
- name: Check that the master target has LSI Logic controllers only (fails otherwise)
  siterecovery.master_target.vm_scsi_controller:
    name: asr-mt-01
  delegate_to: localhost

- name: Convert ParaVirtual controllers to LSI Logic SAS (the VM must be powered off)
  siterecovery.master_target.vm_scsi_controller:
    name: asr-mt-01
    convert: true
    type: lsilogicsas
  delegate_to: localhost
"""

RETURN = r"""
controllers:
  description: The SCSI controllers of the VM after the run (as they would be, in check mode).
  returned: always
  type: list
  elements: dict
  contains:
    bus:
      description: The SCSI bus number.
      type: int
      sample: 0
    type:
      description: The controller type (V(lsilogic), V(lsilogicsas), V(paravirtual), V(buslogic)).
      type: str
      sample: lsilogic
    label:
      description: The controller's label in vCenter.
      type: str
      sample: SCSI controller 0
    key:
      description: The controller's device key (null for a controller still to be added in check mode).
      type: int
    devices:
      description: The devices attached to the controller.
      type: list
      elements: dict
      contains:
        label:
          description: The device's label.
          type: str
        unit:
          description: The unit number on the bus.
          type: int
converted:
  description: The controllers converted (or that would be, in check mode).
  returned: always
  type: list
  elements: dict
  sample: [{bus: 0, from: paravirtual, to: lsilogic}]
vm:
  description: The virtual machine worked on (name, moid, path).
  returned: always
  type: dict
"""

from ansible_collections.siterecovery.master_target.plugins.module_utils._vsphere_client import VSphereError
from ansible_collections.siterecovery.master_target.plugins.module_utils._vsphere_lookup import find_vm
from ansible_collections.siterecovery.master_target.plugins.module_utils._vsphere_module import (
    Changes,
    run_module,
    vsphere_module,
)
from ansible_collections.siterecovery.master_target.plugins.module_utils._vsphere_devices import (
    LSI_TYPES,
    controller_records,
    describe_controllers,
    not_lsi,
    not_lsi_message,
)
from ansible_collections.siterecovery.master_target.plugins.module_utils._vsphere_tasks import run_task

try:
    from pyVmomi import vim
except ImportError:  # pragma: no cover - reported when connecting
    pass


def controller_classes():
    return {
        "lsilogic": vim.vm.device.VirtualLsiLogicController,
        "lsilogicsas": vim.vm.device.VirtualLsiLogicSASController,
        "paravirtual": vim.vm.device.ParaVirtualSCSIController,
        "buslogic": vim.vm.device.VirtualBusLogicController,
    }


def conversion_spec(devices, keys_to_convert, new_type):
    """Build one ConfigSpec that swaps each controller in `keys_to_convert` for a `new_type` one.

    The new controller takes the old one's bus; every device on the old controller is re-pointed
    to the new one at its unit number. One reconfiguration, so the VM is never left half-converted.
    """
    new_class = controller_classes()[new_type]
    changes = []
    for index, old in enumerate(device for device in devices if device.key in keys_to_convert):
        new_key = -100 - index  # temporary negative key: vCenter assigns the real one
        new = new_class(key=new_key, busNumber=old.busNumber, sharedBus=old.sharedBus, hotAddRemove=old.hotAddRemove)
        changes.append(vim.vm.device.VirtualDeviceSpec(operation="add", device=new))
        for child in devices:
            if child.controllerKey == old.key:
                child.controllerKey = new_key
                changes.append(vim.vm.device.VirtualDeviceSpec(operation="edit", device=child))
        changes.append(vim.vm.device.VirtualDeviceSpec(operation="remove", device=old))
    return vim.vm.ConfigSpec(deviceChange=changes)


def ensure_lsi_controllers(module, client):
    vm = find_vm(client, module.params, ["config.hardware.device", "runtime.powerState"])
    devices = vm.get("config.hardware.device") or []
    controllers = controller_records(devices)
    wrong = not_lsi(controllers)
    new_type = module.params["type"]
    result = dict(controllers=controllers, converted=[], vm=vm.describe())

    if wrong and not module.params["convert"]:
        raise VSphereError(not_lsi_message(vm.path, wrong), **result)
    if wrong and vm.get("runtime.powerState") != "poweredOff":
        raise VSphereError(
            f"VM {vm.path} is {vm.get('runtime.powerState')}: power it off before converting {describe_controllers(wrong)} to {new_type}. "
            "Nothing was changed.",
            **result,
        )

    after = [dict(item, type=new_type, key=None) if item in wrong else item for item in controllers]
    changes = Changes()
    changes.compare("controllers", [dict(bus=item["bus"], type=item["type"]) for item in controllers],
                    [dict(bus=item["bus"], type=item["type"]) for item in after])
    if wrong and not module.check_mode:
        spec = conversion_spec(devices, {item["key"] for item in wrong}, new_type)
        run_task(client, lambda: vm.obj.ReconfigVM_Task(spec=spec), f"Converting SCSI controllers to {new_type}", f"VM {vm.path}")
        after = controller_records(find_vm(client, dict(moid=vm.moid), ["config.hardware.device"]).get("config.hardware.device"))
    return dict(
        result,
        **changes.result(module),
        controllers=after,
        converted=[dict(bus=item["bus"], **{"from": item["type"], "to": new_type}) for item in wrong],
    )


def main():
    module = vsphere_module(
        dict(
            convert=dict(type="bool", default=False),
            type=dict(type="str", choices=list(LSI_TYPES), default="lsilogic"),
        )
    )
    run_module(module, ensure_lsi_controllers)


if __name__ == "__main__":
    main()
