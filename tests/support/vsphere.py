"""Reading and changing the simulator's state from tests, independently of the modules under test."""

from __future__ import annotations

from pyVim.task import WaitForTask
from pyVmomi import vim

from support.vcsim import read_props


def vm_state(si, name, paths):
    """The properties `paths` of the one VM called `name`, read with the PropertyCollector."""
    return read_props(si, vim.VirtualMachine, list(paths), names=[name])[name]


def find_vm_object(si, name):
    view = si.content.viewManager.CreateContainerView(si.content.rootFolder, [vim.VirtualMachine], True)
    try:
        return next(vm for vm in view.view if vm.name == name)
    finally:
        view.DestroyView()


def wait(task):
    WaitForTask(task)


def set_extra_config(si, name, options):
    """Set advanced settings of VM `name` ({key: value}; harness knobs such as harness.bootsOn) in one
    reconfigure; an empty value removes the key."""
    spec = vim.vm.ConfigSpec(extraConfig=[vim.option.OptionValue(key=key, value=value) for key, value in options.items()])
    wait(find_vm_object(si, name).ReconfigVM_Task(spec=spec))


def device_list(si, name):
    """The VM's whole config.hardware.device as plain data, device keys replaced by what they stand for.

    vCenter gives a re-created controller a new key, so a controller is named by its type and bus, every
    other device by its label, and controllerKey/device lists by those names: two lists compare equal
    when every device is the same, on the same controller type and bus, at the same unit.
    """
    from support.statedump import plain  # pylint: disable=import-outside-toplevel

    devices = vm_state(si, name, ["config.hardware.device"])["config.hardware.device"]

    def ident(device):
        if isinstance(device, vim.vm.device.VirtualController):
            return f"{device._wsdlName}/bus{device.busNumber}"  # pylint: disable=protected-access
        return device.deviceInfo.label if device.deviceInfo else device._wsdlName  # pylint: disable=protected-access

    names = {device.key: ident(device) for device in devices}
    out = []
    for device in devices:
        item = plain(device)
        item["key"] = names[device.key]
        if "controllerKey" in item:
            item["controllerKey"] = names.get(device.controllerKey, device.controllerKey)
        if "device" in item:
            item["device"] = sorted(names.get(key, key) for key in item["device"])
        out.append(item)
    return sorted(out, key=lambda item: item["key"])
