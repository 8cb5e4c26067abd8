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
