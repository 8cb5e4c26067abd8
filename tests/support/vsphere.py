"""Reading and changing the simulator's state from tests, independently of the modules under test."""

from __future__ import annotations

import time

from pyVim.task import WaitForTask
from pyVmomi import vim, vmodl

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


def task_outcome(si, task, timeout=10):
    """{info.state, info.error} of `task` once it ended, read with the PropertyCollector.

    Only these two paths: pyVmomi refuses to read the whole info of a task whose entity is not a
    managed entity (the simulator gives its Storage DRS and disk manager tasks their manager).
    """
    collector = vmodl.query.PropertyCollector
    spec = collector.FilterSpec(objectSet=[collector.ObjectSpec(obj=task)],
                                propSet=[collector.PropertySpec(type=vim.Task, pathSet=["info.state", "info.error"])])
    deadline = time.monotonic() + timeout
    while True:
        result = si.content.propertyCollector.RetrievePropertiesEx([spec], collector.RetrieveOptions())
        props = {prop.name: prop.val for prop in result.objects[0].propSet}
        if props["info.state"] in ("success", "error"):
            return props
        if time.monotonic() > deadline:
            raise AssertionError(f"task {task._moId} did not finish within {timeout} s")
        time.sleep(0.05)


def wait_state(si, task):
    """Wait for `task` (see task_outcome) and assert that it succeeded."""
    props = task_outcome(si, task)
    assert props["info.state"] == "success", props.get("info.error")


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


def vcenter_tasks(si):
    """Every task in TaskManager.recentTask, oldest first, as dicts (id, kind: descriptionId, entity: moid, state, queued),
    read in one PropertyCollector call (not through the VM's recentTask, which the modules read)."""
    collector = vmodl.query.PropertyCollector
    spec = collector.FilterSpec(
        objectSet=[collector.ObjectSpec(obj=si.content.taskManager, skip=True,
                                        selectSet=[collector.TraversalSpec(type=vim.TaskManager, path="recentTask", skip=False)])],
        propSet=[collector.PropertySpec(type=vim.Task, pathSet=["info.descriptionId", "info.state", "info.entity", "info.queueTime"])],
    )
    result = si.content.propertyCollector.RetrievePropertiesEx([spec], collector.RetrieveOptions())
    tasks = []
    while result is not None:
        for item in result.objects:
            props = {prop.name: prop.val for prop in item.propSet}
            entity = props.get("info.entity")
            tasks.append(dict(id=item.obj._moId, kind=props["info.descriptionId"], state=str(props["info.state"]),
                              entity=entity._moId if entity is not None else None, queued=props.get("info.queueTime")))
        result = si.content.propertyCollector.ContinueRetrievePropertiesEx(result.token) if result.token else None
    return sorted(tasks, key=lambda task: (task["queued"], int(task["id"].rsplit("-", 1)[-1]) if task["id"].rsplit("-", 1)[-1].isdigit() else 0))
