#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, siterecovery.master_target contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: vm_scsi_controller
short_description: Ensure every SCSI controller of a virtual machine is LSI Logic, and that the guest still boots
description:
  - Confirms that every SCSI controller of a virtual machine is LSI Logic Parallel or LSI Logic SAS.
  - Azure Site Recovery reprotect fails when the master target has a VMware ParaVirtual (PVSCSI)
    controller.
  - By default the module only reports, and fails with a message naming each controller that is not
    LSI Logic and the LSI Logic type vCenter gives for the guest OS.
  - With O(convert=true), replaces each such controller by one of O(type) on the same SCSI bus, in one
    reconfiguration, keeping every disk and other device attached at the same unit number. The VM must
    be powered off; a powered-on VM is refused before anything is changed.
  - A guest boots from the new controller only if it loads the controller's driver at boot; Windows
    otherwise stops with 0x7B (INACCESSIBLE_BOOT_DEVICE), and a Linux initramfs without mptspi or mptsas
    drops to an emergency shell. So a conversion that moves a disk is refused unless the guest is known
    to be ready (O(guest_drivers), or O(guest_ready)), and it is recorded on the VM (advanced setting
    C(siterecovery.scsiConversion)) until a boot proves it.
  - With O(confirm_boot=true), on a powered-on VM whose conversion is not yet proven, waits up to
    O(boot_timeout) seconds for the guest to come up (VMware Tools running or the guest heartbeat green).
    If it does not, the VM is powered off, every converted controller is put back to its earlier type on
    its bus with every device at its unit, the VM is powered on again, and the module fails saying so.
    After such a rollback O(guest_ready) is no longer accepted for that VM, only O(guest_drivers) is.
  - The guest counts as up only when VMware Tools run in it or its heartbeat is green. Install VMware
    Tools (open-vm-tools on Linux) before a conversion, or a guest that boots is rolled back all the same.
  - Checked before anything changes, in check mode too (check mode predicts the refusal), that the guest OS
    supports the type according to vCenter, and every device on a controller to convert has a unit that
    an LSI Logic controller has (0-15 but 7; a ParaVirtual controller can hold units up to 64).
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
      - V(auto) takes what vCenter says of the VM's guest OS (C(EnvironmentBrowser.QueryConfigOptionEx)
        for its guest OS id, hardware version and host), that is the recommended SCSI controller when it is an LSI
        Logic type, else an LSI Logic type the guest OS supports (SAS first for Windows, Parallel first
        otherwise). A guest OS vCenter has no controller list for needs an explicit type.
      - V(lsilogic) is LSI Logic Parallel, V(lsilogicsas) is LSI Logic SAS. A type the guest OS does not
        support according to vCenter is refused.
    type: str
    choices: [auto, lsilogic, lsilogicsas]
    default: auto
  guest_drivers:
    description:
      - The LSI Logic types whose driver the guest was verified, in this run, to load at boot, as the
        P(siterecovery.master_target.linux#role) and P(siterecovery.master_target.windows#role) roles'
        C(lsi_driver) step publishes (C(linux_lsi_driver.type), C(windows_lsi_driver.type)).
      - A conversion to a type listed here may run, also after an earlier rollback.
    type: list
    elements: str
    choices: [lsilogic, lsilogicsas]
    default: []
  guest_ready:
    description:
      - The admin's word that the guest loads the driver of the new type at boot (done by hand).
      - Without it or O(guest_drivers), a conversion that moves a disk is refused. Not accepted after a
        conversion of this VM was rolled back because the guest did not boot.
    type: bool
    default: false
  confirm_boot:
    description:
      - Whether to confirm that the guest boots from a conversion this module made (see the description),
        instead of converting. The VM must be powered on. Without a conversion waiting for its boot,
        nothing is done.
    type: bool
    default: false
  boot_timeout:
    description: How long O(confirm_boot=true) waits for the guest to come up, in seconds.
    type: int
    default: 600
notes:
  - The rollback powers the VM off hard (the guest did not boot, so it cannot shut down) and on again.
  - >-
    Privileges: all on the VM. A conversion (O(convert=true)) is one C(ReconfigVM_Task) that removes and adds
    controllers (C(VirtualMachine.Config.AddRemoveDevice)), moves each device to the new controller
    (C(VirtualMachine.Config.EditDevice)) and records the conversion (C(VirtualMachine.Config.AdvancedConfig)).
    O(confirm_boot=true) clears the record once the guest booted (C(VirtualMachine.Config.AdvancedConfig)); its rollback
    also powers the VM off and on (C(VirtualMachine.Interact.PowerOff), C(VirtualMachine.Interact.PowerOn)) and
    reconfigures it as a conversion does. Otherwise read-only (C(System.Read), as in the Read-only role) on the VM;
    reading the guest OS's controller list (C(EnvironmentBrowser.QueryConfigOptionEx)) needs C(System.View), which every
    role has.
seealso:
  - module: siterecovery.master_target.vm_power
    description: Powers the VM off before a conversion, and on again for the guest to boot from the new controllers.
  - module: siterecovery.master_target.vm_preparation_info
    description: Says in one call whether this module would change the VM, with the other preparation steps.
"""

EXAMPLES = r"""
- name: Check that the master target has LSI Logic controllers only (fails otherwise)
  siterecovery.master_target.vm_scsi_controller:
    name: asr-mt-01
  delegate_to: localhost

- name: Convert ParaVirtual controllers to the LSI Logic type vCenter gives for the guest OS
  siterecovery.master_target.vm_scsi_controller:
    name: asr-mt-01
    convert: true
    # What the linux role's lsi_driver step verified in the guest before the VM was powered off.
    guest_drivers: "{{ [linux_lsi_driver.type] if (linux_lsi_driver.ready | default(false)) else [] }}"
  delegate_to: localhost

- name: Power the VM on, then confirm that the guest boots (else the conversion is rolled back)
  siterecovery.master_target.vm_scsi_controller:
    name: asr-mt-01
    confirm_boot: true
    boot_timeout: 900
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
        kind:
          description: V(disk), V(cdrom) or V(other).
          type: str
converted:
  description:
    - The controllers converted (or that would be, in check mode); with O(confirm_boot=true), the
      conversion that waited for its boot.
  returned: always
  type: list
  elements: dict
  sample: [{bus: 0, from: paravirtual, to: lsilogic}]
type:
  description: The LSI Logic type converted to (or chosen for O(type=auto)); null when every controller is LSI Logic.
  returned: always
  type: str
  sample: lsilogic
guest_os:
  description: What vCenter says of the guest OS, when a controller is not LSI Logic; null otherwise or when vCenter has nothing.
  returned: always
  type: dict
  contains:
    id:
      description: The guest OS id (C(config.guestId)).
      type: str
    full_name:
      description: Its name.
      type: str
    recommended_scsi:
      description: The recommended SCSI controller type, in this module's names (null when not one of them).
      type: str
    supported:
      description: The supported controller types among V(lsilogic), V(lsilogicsas), V(paravirtual), V(buslogic).
      type: list
      elements: str
boot:
  description:
    - The conversion's boot state. V(none) (no conversion recorded), V(pending) (converted, not yet booted),
      V(confirmed) (the guest booted, the record is removed), V(rolledBack) (the guest did not boot and
      the controllers were put back).
  returned: always
  type: str
  sample: pending
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
from ansible_collections.siterecovery.master_target.plugins.module_utils._vsphere_devices import (
    LSI_TYPES,
    controller_records,
    describe_controllers,
    not_lsi,
    not_lsi_message,
)
from ansible_collections.siterecovery.master_target.plugins.module_utils._vsphere_lookup import find_vm, reread
from ansible_collections.siterecovery.master_target.plugins.module_utils._vsphere_module import (
    Changes,
    run_module,
    vsphere_module,
)
from ansible_collections.siterecovery.master_target.plugins.module_utils._vsphere_scsi import (
    PENDING,
    VM_DESCRIPTOR_PATHS,
    confirm_conversion_boot,
    conversion_record,
    conversion_spec,
    format_conversion,
    plan_conversion,
    read_guest_os,
)
from ansible_collections.siterecovery.master_target.plugins.module_utils._vsphere_tasks import run_task

VM_PATHS = ["config.hardware.device", "runtime.powerState", "config.extraConfig", *VM_DESCRIPTOR_PATHS]


def read_controllers(client, vm):
    return controller_records(reread(client, vm, ["config.hardware.device"]).get("config.hardware.device"))


def ensure_lsi_controllers(module, client):
    params = module.params
    vm = find_vm(client, params, VM_PATHS)
    if params["confirm_boot"]:
        return confirm_boot(module, client, vm)
    devices = vm.get("config.hardware.device") or []
    controllers = controller_records(devices)
    wrong = not_lsi(controllers)
    record = conversion_record(vm.get("config.extraConfig"))
    result = dict(controllers=controllers, converted=[], type=None, guest_os=None, boot=record[0] or "none", vm=vm.describe())
    if not wrong:
        return dict(result, changed=False)

    guest_os = read_guest_os(client, vm)
    new_type, refusal = plan_conversion(
        vm.path, controllers, params["type"], guest_os, vm.get("config.guestId"),
        params["guest_drivers"], params["guest_ready"], record,
    )
    result.update(type=new_type, guest_os=guest_os)
    if not params["convert"]:
        advice = f" For this guest OS the type is {new_type}." if new_type else ""
        raise VSphereError(not_lsi_message(vm.path, wrong) + advice, **result)
    if refusal:
        raise VSphereError(refusal, **result)
    if vm.get("runtime.powerState") != "poweredOff":
        raise VSphereError(
            f"VM {vm.path} is {vm.get('runtime.powerState')}: power it off before converting {describe_controllers(wrong)} to {new_type}. "
            "Nothing was changed.",
            **result,
        )

    converted = [dict(bus=item["bus"], **{"from": item["type"], "to": new_type}) for item in wrong]
    after = [dict(item, type=new_type, key=None) if item in wrong else item for item in controllers]
    changes = Changes()
    changes.compare("controllers", [dict(bus=item["bus"], type=item["type"]) for item in controllers],
                    [dict(bus=item["bus"], type=item["type"]) for item in after])
    if not module.check_mode:
        spec = conversion_spec(devices, {item["key"]: new_type for item in wrong}, format_conversion(PENDING, converted))
        run_task(client, lambda: vm.obj.ReconfigVM_Task(spec=spec), f"Converting SCSI controllers to {new_type}", f"VM {vm.path}")
        after = read_controllers(client, vm)
    return dict(result, **changes.result(module), controllers=after, converted=converted, boot="pending")


def confirm_boot(module, client, vm):
    """Wait for the guest to boot from a pending conversion; without a boot, put the controllers back."""
    state, converted = conversion_record(vm.get("config.extraConfig"))
    controllers = controller_records(vm.get("config.hardware.device") or [])
    result = dict(changed=False, controllers=controllers, converted=converted, boot=state or "none", vm=vm.describe())
    if state != PENDING:
        return result
    if module.check_mode:
        return dict(result, changed=True)
    return dict(result, changed=True, boot=confirm_conversion_boot(client, vm, converted, module.params["boot_timeout"], result))


def main():
    module = vsphere_module(
        dict(
            convert=dict(type="bool", default=False),
            type=dict(type="str", choices=["auto", *LSI_TYPES], default="auto"),
            guest_drivers=dict(type="list", elements="str", choices=list(LSI_TYPES), default=[]),
            guest_ready=dict(type="bool", default=False),
            confirm_boot=dict(type="bool", default=False),
            boot_timeout=dict(type="int", default=600),
        ),
        mutually_exclusive=[("convert", "confirm_boot")],
    )
    run_module(module, ensure_lsi_controllers)


if __name__ == "__main__":
    main()
