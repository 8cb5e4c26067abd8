# -*- coding: utf-8 -*-
# Copyright: (c) 2026, siterecovery.master_target contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A SCSI controller conversion that leaves a guest that boots: which LSI Logic type, whether the
guest is ready for it, whether every device fits, and the record of a conversion not yet proven by
a boot (pure functions, plus the one vCenter read of the guest OS descriptor).

Shared by vm_scsi_controller and vm_preparation (which convert, confirm the boot and roll back with
conversion_changes, confirm_conversion_boot and roll_back) and vm_preparation_info (which plans): all
decide with these functions.
"""

from __future__ import annotations

import copy
import re

from ansible_collections.siterecovery.master_target.plugins.module_utils._vsphere_client import VSphereError
from ansible_collections.siterecovery.master_target.plugins.module_utils._vsphere_devices import (
    LSI_TYPES,
    controller_records,
    describe_controllers,
    find_option,
    not_lsi,
)
from ansible_collections.siterecovery.master_target.plugins.module_utils._vsphere_lookup import reread
from ansible_collections.siterecovery.master_target.plugins.module_utils._vsphere_tasks import poll, run_task

try:
    from pyVmomi import vim, vmodl
except ImportError:  # pragma: no cover - connect() reports the missing library
    pass

# The vSphere type name of each controller type, as GuestOsDescriptor lists them.
WSDL_NAMES = dict(
    lsilogic="VirtualLsiLogicController",
    lsilogicsas="VirtualLsiLogicSASController",
    paravirtual="ParaVirtualSCSIController",
    buslogic="VirtualBusLogicController",
)
TYPE_LABELS = dict(lsilogic="LSI Logic Parallel", lsilogicsas="LSI Logic SAS", paravirtual="VMware Paravirtual", buslogic="BusLogic")
# LSI Logic controllers take units 0-15, 7 being the controller's own (vSphere API reference,
# VirtualSCSIController.scsiCtlrUnitNumber); a ParaVirtual one on hardware version 14+ takes up to 64.
LSI_MAX_UNIT = 15
LSI_OWN_UNIT = 7

# The VM advanced setting that records a conversion until the guest has booted from it:
# "pending 0:paravirtual>lsilogic" after the conversion, "rolledBack 0:paravirtual>lsilogic" after
# a rollback. It is written in the same reconfiguration as the conversion, so a run cut anywhere
# still knows on the next run that a boot must be confirmed (or was already refused).
CONVERSION_KEY = "siterecovery.scsiConversion"
PENDING = "pending"
ROLLED_BACK = "rolledBack"

# The descriptor properties read from vCenter (QueryConfigOptionEx).
VM_DESCRIPTOR_PATHS = ("config.guestId", "config.version", "environmentBrowser", "runtime.host")

DRIVER_STEPS = (
    "make the guest load the driver at boot first: the linux role's lsi_driver step "
    "(linux_lsi_driver_type: {type}) or the windows role's (windows_lsi_driver_type: {type}) in the same play, "
    "or do it by hand and set guest_ready: true (vsphere_scsi_guest_ready: true in the vsphere role)"
)


def type_name(value):
    """Pure: 'VirtualLsiLogicController' from a pyVmomi type, its name or the wire string."""
    if value is None:
        return None
    return getattr(value, "_wsdlName", None) or str(value).rsplit(".", 1)[-1]


def our_type(wsdl_name):
    """Pure: 'lsilogic' from 'VirtualLsiLogicController'; None for a type not in WSDL_NAMES."""
    return next((name for name, wsdl in WSDL_NAMES.items() if wsdl == wsdl_name), None)


def descriptor_facts(descriptor):
    """Pure: a GuestOsDescriptor as plain data (None stays None)."""
    if descriptor is None:
        return None
    supported = [our_type(type_name(item)) for item in getattr(descriptor, "supportedDiskControllerList", None) or []]
    return dict(
        id=descriptor.id,
        full_name=getattr(descriptor, "fullName", None) or descriptor.id,
        family=getattr(descriptor, "family", None),
        recommended_scsi=our_type(type_name(getattr(descriptor, "recommendedSCSIController", None))),
        supported=[name for name in supported if name],
    )


def read_guest_os(client, vm):
    """The VM's guest OS descriptor (descriptor_facts) as vCenter gives it for the VM's hardware
    version on its host, or None when vCenter has none for the VM's guestId.

    One QueryConfigOptionEx with the guestId filled in: vCenter then returns that one descriptor
    instead of all of them (several hundred). `vm` must have VM_DESCRIPTOR_PATHS read.
    """
    guest_id = vm.get("config.guestId")
    browser = vm.get("environmentBrowser")
    if not guest_id or browser is None:
        return None
    spec = vim.EnvironmentBrowser.ConfigOptionQuerySpec(guestId=[guest_id], key=vm.get("config.version"), host=vm.get("runtime.host"))
    try:
        option = browser.QueryConfigOptionEx(spec=spec)
    except vmodl.MethodFault:
        # An ESXi or hardware version that cannot answer: the type is then unknown, which the
        # callers refuse for type auto and report for an explicit type.
        return None
    # "If there is no match, the whole list is returned" (API reference): pick ours by id.
    found = [d for d in getattr(option, "guestOSDescriptor", None) or [] if d.id == guest_id]
    return descriptor_facts(found[0]) if found else None


def is_windows(guest_os):
    return bool(guest_os) and (guest_os.get("family") == "windowsGuest" or str(guest_os.get("id", "")).startswith("win"))


def pick_type(requested, guest_os, guest_id):
    """Pure: (type, None) to convert to, or (None, why not) for `requested` ('auto', 'lsilogic',
    'lsilogicsas') on a guest whose descriptor is `guest_os` (descriptor_facts, or None).

    auto: the guest's recommended SCSI controller when it is an LSI type, else an LSI type the guest
    supports (SAS first for Windows: Windows Server 2012 and later have no LSI Logic Parallel driver).
    """
    if guest_os is None or not guest_os["supported"]:
        if requested != "auto":
            return requested, None
        return None, (
            f"vCenter lists no supported disk controllers for the guest OS '{guest_id}', so the LSI Logic type cannot be chosen "
            "for it: set type to lsilogic or lsilogicsas, the one the guest has a driver for"
        )
    supported = [name for name in LSI_TYPES if name in guest_os["supported"]]
    if requested != "auto":
        if requested in supported:
            return requested, None
        offered = " or ".join(supported) or "no LSI Logic type"
        return None, (
            f"the guest OS {guest_os['full_name']} ({guest_os['id']}) does not support {TYPE_LABELS[requested]} ({requested}) "
            f"according to vCenter; it supports {offered}: use that type (or type: auto)"
        )
    if guest_os["recommended_scsi"] in supported:
        return guest_os["recommended_scsi"], None
    order = ("lsilogicsas", "lsilogic") if is_windows(guest_os) else LSI_TYPES
    for name in order:
        if name in supported:
            return name, None
    return None, (
        f"the guest OS {guest_os['full_name']} ({guest_os['id']}) supports no LSI Logic controller according to vCenter, "
        "so it cannot be a master target with this OS"
    )


def units_that_do_not_fit(controllers, keys_to_convert):
    """Pure: 'Hard disk 3 (SCSI 0:20)', ... for each device of a controller to convert whose unit an
    LSI Logic controller does not have (above 15, or 7: the controller's own)."""
    found = []
    for controller in controllers:
        if controller["key"] not in keys_to_convert:
            continue
        for device in controller["devices"]:
            unit = device["unit"]
            if unit is not None and (unit > LSI_MAX_UNIT or unit == LSI_OWN_UNIT):
                found.append(f"{device['label']} (SCSI {controller['bus']}:{unit})")
    return found


def format_conversion(state, converted):
    """Pure: the marker value, e.g. 'pending 0:paravirtual>lsilogic 1:paravirtual>lsilogic'."""
    return " ".join([state] + [f"{item['bus']}:{item['from']}>{item['to']}" for item in converted])


def parse_conversion(value):
    """Pure: (state, [{bus, from, to}]) of a marker value; (None, []) when absent or unreadable."""
    words = str(value or "").split()
    if not words or words[0] not in (PENDING, ROLLED_BACK):
        return None, []
    converted = []
    for word in words[1:]:
        match = re.fullmatch(r"(\d+):(\w+)>(\w+)", word)
        if not match:
            return None, []
        converted.append({"bus": int(match.group(1)), "from": match.group(2), "to": match.group(3)})
    return words[0], converted


def conversion_record(extra_config):
    """Pure: (state, converted) of the conversion marker in a VM's extraConfig."""
    option = find_option(extra_config, CONVERSION_KEY)
    return parse_conversion(option.value if option is not None else None)


def readiness_refusal(vm_path, controllers, wrong, new_type, guest_drivers, guest_ready, record):
    """Pure: why converting `wrong` to `new_type` could leave a guest that does not boot, or None.

    A guest boots from a controller only with its driver loaded at boot. `guest_drivers` are the LSI
    types whose driver the guest roles verified in this run; `guest_ready` is the admin's word. After
    a rollback (`record` = (state, converted) of the marker) the admin's word has been proven wrong
    once: only a verified driver lets the conversion run again. A controller without disks needs none.
    """
    wrong_keys = {item["key"] for item in wrong}
    disks = [
        device["label"]
        for item in controllers
        if item["key"] in wrong_keys
        for device in item["devices"]
        if str(device.get("kind")) == "disk"
    ]
    if not disks or new_type in (guest_drivers or []):
        return None
    state, converted = record
    if state == ROLLED_BACK:
        before = ", ".join(f"bus {item['bus']} to {item['to']}" for item in converted)
        return (
            f"VM {vm_path}: an earlier conversion of its SCSI controllers ({before}) was rolled back because the guest did not boot "
            f"from it, so guest_ready is not enough any more. Make the guest load the {TYPE_LABELS[new_type]} driver at boot and prove "
            f"it with the linux or windows role's lsi_driver step in the same play ({new_type}), then run again. Nothing was changed."
        )
    if guest_ready:
        return None
    return (
        f"VM {vm_path}: converting its SCSI controllers to {TYPE_LABELS[new_type]} ({new_type}) would move {', '.join(disks)} to a "
        f"controller whose driver the guest may not load at boot (Windows stops with 0x7B, Linux drops to an emergency shell). "
        f"To go on, {DRIVER_STEPS.format(type=new_type)}. Nothing was changed."
    )


def plan_conversion(vm_path, controllers, requested, guest_os, guest_id, guest_drivers, guest_ready, record):
    """Pure: (type, refusal) of converting the controllers that are not LSI Logic: the LSI type to
    convert to (None when none can be chosen) and why the conversion must not run (None when it may).

    Checked before anything changes, in check mode too: the guest OS supports the type, every device
    has a unit an LSI controller has, and the guest is ready to boot from it.
    """
    wrong = not_lsi(controllers)
    if not wrong:
        return None, None
    new_type, why = pick_type(requested, guest_os, guest_id)
    if why:
        return None, f"VM {vm_path}: {describe_controllers(wrong)} cannot be converted: {why}. Nothing was changed."
    misfits = units_that_do_not_fit(controllers, {item["key"] for item in wrong})
    if misfits:
        return new_type, (
            f"VM {vm_path}: {', '.join(misfits)} cannot stay at that unit on an LSI Logic controller, which has units 0-15 "
            f"(7 is the controller's own). With the VM powered off, move each to a free unit (0-6 or 8-15) of this or another "
            f"controller, or detach it, then run again. Nothing was changed."
        )
    return new_type, readiness_refusal(vm_path, controllers, wrong, new_type, guest_drivers, guest_ready, record)


def guest_booted(props):
    """Pure: whether a guest is up, from VM properties: VMware Tools running, or its heartbeat green."""
    return props.get("guest.toolsRunningStatus") == "guestToolsRunning" or str(props.get("guestHeartbeatStatus")) == "green"


# The VM properties that tell whether the guest has booted.
BOOT_PATHS = ["runtime.powerState", "guest.toolsRunningStatus", "guestHeartbeatStatus"]


def controller_classes():
    return {
        "lsilogic": vim.vm.device.VirtualLsiLogicController,
        "lsilogicsas": vim.vm.device.VirtualLsiLogicSASController,
        "paravirtual": vim.vm.device.ParaVirtualSCSIController,
        "buslogic": vim.vm.device.VirtualBusLogicController,
    }


def conversion_changes(devices, new_types):
    """(device changes, devices after): the changes that swap each controller whose key is in `new_types` for one of
    the type it maps to, and the VM's devices as they will be, the new controllers with their temporary keys (so that
    a disk added in the same reconfiguration can name one of them). `devices` are not changed.

    The new controller takes the old one's bus; every device on the old controller is re-pointed
    to the new one at its unit number. The temporary negative keys are the API's way to do this in one
    reconfiguration (vSphere Web Services API, VirtualDevice.key: "When adding new devices, it may be
    necessary for a client to assign keys temporarily in order to associate controllers with devices").
    """
    changes, after = [], list(devices)
    for index, old in enumerate(device for device in devices if device.key in new_types):
        new_key = -100 - index  # temporary negative key: vCenter assigns the real one
        new = controller_classes()[new_types[old.key]](key=new_key, busNumber=old.busNumber, sharedBus=old.sharedBus, hotAddRemove=old.hotAddRemove)
        changes.append(vim.vm.device.VirtualDeviceSpec(operation="add", device=new))
        after.append(new)
        for position, child in enumerate(after):
            if child.controllerKey == old.key:
                moved = copy.copy(child)
                moved.controllerKey = new_key
                after[position] = moved
                changes.append(vim.vm.device.VirtualDeviceSpec(operation="edit", device=moved))
        changes.append(vim.vm.device.VirtualDeviceSpec(operation="remove", device=old))
        after.remove(old)
    return changes, after


def conversion_spec(devices, new_types, marker):
    """One ConfigSpec with the conversion_changes and the conversion marker set to `marker`: one
    reconfiguration, so the VM is never left half-converted and the marker is there exactly when the conversion is."""
    changes, _added = conversion_changes(devices, new_types)
    return vim.vm.ConfigSpec(deviceChange=changes, extraConfig=[vim.option.OptionValue(key=CONVERSION_KEY, value=marker)])


def confirm_conversion_boot(client, vm, converted, timeout, details, extra_options=()):
    """Wait up to `timeout` s for the guest of `vm` (powered on) to boot from its converted controllers: then clear the
    conversion marker (with `extra_options`, in the same reconfiguration) and return "confirmed". Without a boot, put
    the controllers back, power the VM on again and raise; `details` go into the error."""
    power_state = reread(client, vm, ["runtime.powerState"]).get("runtime.powerState")
    if power_state != "poweredOn":
        raise VSphereError(
            f"VM {vm.path} is {power_state}: its SCSI controllers were converted ({format_conversion('', converted).strip()}) "
            "and the guest has not yet been seen booting from them. Power it on, then run this again: it waits for the boot and "
            "puts the controllers back if the guest does not boot.",
            **details,
        )
    props = poll(lambda: reread(client, vm, BOOT_PATHS), guest_booted, timeout)
    if guest_booted(props):
        marker = vim.vm.ConfigSpec(extraConfig=[vim.option.OptionValue(key=CONVERSION_KEY, value=""), *extra_options])
        run_task(client, lambda: vm.obj.ReconfigVM_Task(spec=marker), "Recording the boot from the converted controllers", f"VM {vm.path}")
        return "confirmed"
    roll_back(client, vm, converted, extra_options)
    after = controller_records(reread(client, vm, ["config.hardware.device"]).get("config.hardware.device"))
    back = ", ".join(f"bus {item['bus']} {TYPE_LABELS.get(item['from'], item['from'])} ({item['from']})" for item in converted)
    to = converted[0]["to"]
    raise VSphereError(
        f"VM {vm.path} did not boot within {timeout} s from its SCSI controllers converted to {TYPE_LABELS.get(to, to)} "
        f"(VMware Tools did not start and the guest heartbeat stayed {props.get('guestHeartbeatStatus') or 'unknown'}). "
        f"It was powered off, its controllers were put back as they were ({back}, every device at its unit) and it was powered on again. "
        f"Make the guest load the {to} driver at boot (the linux or windows role's lsi_driver step), then run again; "
        "until a guest role has verified the driver, the conversion is refused.",
        **{**details, "changed": True, "boot": ROLLED_BACK, "controllers": after},
    )


def roll_back(client, vm, converted, extra_options=()):
    """Power off, put each converted bus's controller back to its earlier type (and write `extra_options`), power on."""
    target = f"VM {vm.path}"
    if reread(client, vm, ["runtime.powerState"]).get("runtime.powerState") != "poweredOff":
        # Hard: a guest that did not boot cannot shut itself down.
        run_task(client, vm.obj.PowerOffVM_Task, "Power-off for the controller rollback", target)
    devices = reread(client, vm, ["config.hardware.device"]).get("config.hardware.device") or []
    by_bus = {item["bus"]: item["from"] for item in converted}
    back = {d.key: by_bus[d.busNumber] for d in devices if isinstance(d, vim.vm.device.VirtualSCSIController) and d.busNumber in by_bus}
    spec = conversion_spec(devices, back, format_conversion(ROLLED_BACK, converted))
    spec.extraConfig.extend(extra_options)
    run_task(client, lambda: vm.obj.ReconfigVM_Task(spec=spec), "Putting the SCSI controllers back", target)
    run_task(client, vm.obj.PowerOnVM_Task, "Power-on after the controller rollback", target)
