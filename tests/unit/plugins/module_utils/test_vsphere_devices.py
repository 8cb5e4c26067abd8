from __future__ import annotations

from pyVmomi import vim

from ansible_collections.siterecovery.master_target.plugins.module_utils._vsphere_devices import (
    controller_type,
    disks,
    enable_uuid_is_true,
    marker_of,
    option_value,
    scsi_controllers,
    uuid_hex,
)


def test_options_compare_keys_without_case():
    options = [vim.option.OptionValue(key="Disk.EnableUUID", value="true"), vim.option.OptionValue(key="siterecovery.retentionDisk.uuid", value="")]
    assert option_value(options, "disk.enableuuid") == "true" and enable_uuid_is_true(options)
    assert marker_of(options) is None and not enable_uuid_is_true([])


def test_enable_uuid_is_true_only_when_every_key_says_exactly_true():
    def options(*pairs):
        return [vim.option.OptionValue(key=key, value=value) for key, value in pairs]

    assert not enable_uuid_is_true(options(("disk.EnableUUID", " True ")))  # not known to be read as TRUE by ESXi
    assert not enable_uuid_is_true(options(("disk.EnableUUID", "TRUE"), ("disk.enableuuid", "FALSE")))  # not only the first key
    assert not enable_uuid_is_true(options(("disk.enableuuid", "FALSE"), ("disk.EnableUUID", "TRUE")))
    assert enable_uuid_is_true(options(("disk.EnableUUID", "TRUE"), ("DISK.ENABLEUUID", "true")))


def test_uuid_hex():
    assert uuid_hex("6000C29A-b1b5") == uuid_hex("60 00 c2 9a b1 b5") == "6000c29ab1b5"
    assert uuid_hex(None) == ""


def test_controllers_and_disks_in_bus_and_unit_order():
    devices = [
        vim.vm.device.VirtualLsiLogicSASController(key=1001, busNumber=1),
        vim.vm.device.VirtualBusLogicController(key=1000, busNumber=0, deviceInfo=vim.Description(label="SCSI controller 0", summary="")),
        vim.vm.device.VirtualDisk(key=2001, controllerKey=1001, unitNumber=0, capacityInKB=1024 * 1024,
                                  backing=vim.vm.device.VirtualDisk.FlatVer2BackingInfo(uuid="u2")),
        vim.vm.device.VirtualDisk(key=2000, controllerKey=1000, unitNumber=0, capacityInBytes=100 * 1024**3,
                                  backing=vim.vm.device.VirtualDisk.FlatVer2BackingInfo(uuid="u1")),
    ]
    assert [(c["bus"], c["type"], c["label"]) for c in scsi_controllers(devices)] == [(0, "buslogic", "SCSI controller 0"),
                                                                                      (1, "lsilogicsas", "SCSI controller 1")]
    assert [(d["uuid"], d["size_gb"]) for d in disks(devices)] == [("u1", 100), ("u2", 1)]
    assert controller_type(vim.vm.device.VirtualLsiLogicController()) == "lsilogic"
    assert controller_type(vim.vm.device.ParaVirtualSCSIController()) == "paravirtual"
