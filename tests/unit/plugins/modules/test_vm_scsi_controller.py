from __future__ import annotations

from pyVmomi import vim

from ansible_collections.siterecovery.master_target.plugins.module_utils._vsphere_devices import controller_records as scsi_controllers
from ansible_collections.siterecovery.master_target.plugins.module_utils._vsphere_devices import not_lsi
from ansible_collections.siterecovery.master_target.plugins.module_utils._vsphere_scsi import conversion_spec


def label(text):
    return vim.Description(label=text, summary=text)


def devices_with(controller_class):
    controller = controller_class(key=1000, busNumber=0, sharedBus="noSharing", hotAddRemove=True, deviceInfo=label("SCSI controller 0"))
    return [
        vim.vm.device.VirtualIDEController(key=200, busNumber=0, deviceInfo=label("IDE 0")),
        controller,
        vim.vm.device.VirtualDisk(key=2000, controllerKey=1000, unitNumber=0, deviceInfo=label("Hard disk 1")),
        vim.vm.device.VirtualDisk(key=2001, controllerKey=1000, unitNumber=1, deviceInfo=label("Hard disk 2")),
        vim.vm.device.VirtualCdrom(key=3000, controllerKey=200, unitNumber=0, deviceInfo=label("CD/DVD drive 1")),
    ]


def test_scsi_controllers_lists_each_controller_with_its_devices():
    controllers = scsi_controllers(devices_with(vim.vm.device.ParaVirtualSCSIController))
    assert controllers == [
        dict(bus=0, type="paravirtual", label="SCSI controller 0", key=1000,
             devices=[dict(label="Hard disk 1", unit=0, kind="disk"), dict(label="Hard disk 2", unit=1, kind="disk")]),
    ]


def test_not_lsi():
    assert not_lsi(scsi_controllers(devices_with(vim.vm.device.VirtualLsiLogicController))) == []
    assert not_lsi(scsi_controllers(devices_with(vim.vm.device.VirtualLsiLogicSASController))) == []
    assert [item["type"] for item in not_lsi(scsi_controllers(devices_with(vim.vm.device.VirtualBusLogicController)))] == ["buslogic"]


def test_conversion_spec_swaps_controller_and_keeps_units():
    devices = devices_with(vim.vm.device.ParaVirtualSCSIController)
    spec = conversion_spec(devices, {1000: "lsilogicsas"}, "pending 0:paravirtual>lsilogicsas")
    ops = [(change.operation, type(change.device).__name__.split(".")[-1]) for change in spec.deviceChange]
    assert ops == [
        ("add", "VirtualLsiLogicSASController"),
        ("edit", "VirtualDisk"),
        ("edit", "VirtualDisk"),
        ("remove", "ParaVirtualSCSIController"),
    ]
    new = spec.deviceChange[0].device
    assert new.busNumber == 0 and new.key < 0
    disks = [change.device for change in spec.deviceChange if change.operation == "edit"]
    assert [(disk.controllerKey, disk.unitNumber) for disk in disks] == [(new.key, 0), (new.key, 1)]
    # The CD-ROM on the IDE controller is left alone.
    assert all(change.device.key != 3000 for change in spec.deviceChange)
    # The conversion is recorded in the same reconfiguration, so it exists exactly when the conversion does.
    assert [(option.key, option.value) for option in spec.extraConfig] == [("siterecovery.scsiConversion", "pending 0:paravirtual>lsilogicsas")]
