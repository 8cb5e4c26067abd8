"""The harness's disk fixes for ReconfigVM_Task (tests/vcsim/disks.go) behave like vCenter."""

from __future__ import annotations

import re

from pyVmomi import vim

from support.vcsim import read_props
from support.vsphere import find_vm_object, vm_state, wait

GIB = 1024**3


def reconfigure(si, name, **spec):
    wait(find_vm_object(si, name).ReconfigVM_Task(spec=vim.vm.ConfigSpec(**spec)))


def free_gib(si, name):
    return read_props(si, vim.Datastore, ["summary.freeSpace"], names=[name])[name]["summary.freeSpace"] / GIB


def test_new_disk_gets_a_uuid_and_label_and_growing_costs_only_the_growth(vcsim, si):
    start = free_gib(si, "vmfs-prod-02")
    disk = vim.vm.device.VirtualDisk(
        key=-1, controllerKey=1000, unitNumber=2, capacityInKB=GIB // 1024,
        backing=vim.vm.device.VirtualDisk.FlatVer2BackingInfo(fileName="[vmfs-prod-02]", diskMode="persistent", thinProvisioned=True),
    )
    reconfigure(si, "asr-mt-02", deviceChange=[vim.vm.device.VirtualDeviceSpec(operation="add", fileOperation="create", device=disk)])
    devices = vm_state(si, "asr-mt-02", ["config.hardware.device"])["config.hardware.device"]
    (new,) = [d for d in devices if isinstance(d, vim.vm.device.VirtualDisk) and d.unitNumber == 2]
    assert re.fullmatch(r"6000C29[0-9a-f]-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", new.backing.uuid)
    assert new.deviceInfo.label == "Hard disk 3"
    assert free_gib(si, "vmfs-prod-02") == start - 1

    new.capacityInKB, new.capacityInBytes = 3 * GIB // 1024, 3 * GIB
    reconfigure(si, "asr-mt-02", deviceChange=[vim.vm.device.VirtualDeviceSpec(operation="edit", device=new)])
    assert free_gib(si, "vmfs-prod-02") == start - 3


def ide_devices(si, name):
    devices = vm_state(si, name, ["config.hardware.device"])["config.hardware.device"]
    return {d.key: list(d.device or []) for d in devices if isinstance(d, vim.vm.device.VirtualIDEController)}


def test_reconfiguring_one_vm_leaves_the_controllers_of_the_others_alone(vcsim, si):
    # vcsim gives every VM the same default IDE/PCI controller objects; the harness's device index
    # must not write into them (it once showed asr-mt-02's CD-ROM on prod-db-01's IDE 0).
    before = ide_devices(si, "prod-db-01")
    disk = vim.vm.device.VirtualDisk(
        key=-1, controllerKey=1000, unitNumber=3, capacityInKB=GIB // 1024,
        backing=vim.vm.device.VirtualDisk.FlatVer2BackingInfo(fileName="[vmfs-prod-02]", diskMode="persistent", thinProvisioned=True),
    )
    reconfigure(si, "asr-mt-02", deviceChange=[vim.vm.device.VirtualDeviceSpec(operation="add", fileOperation="create", device=disk)])
    assert ide_devices(si, "prod-db-01") == before
    assert 3000 in ide_devices(si, "asr-mt-02")[200]
