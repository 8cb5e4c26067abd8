# -*- coding: utf-8 -*-
# Copyright: (c) 2026, siterecovery.master_target contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A VM's disks, SCSI controllers and retention disk marker as plain data (pure functions).

Shared by failback_readiness_info; the marker and controller names are vm_retention_disk's and
vm_scsi_controller's (MARKER_KEY, marker_of, uuid_hex and controller_type are the same functions).
"""

from __future__ import annotations

import re

try:
    from pyVmomi import vim
except ImportError:  # pragma: no cover - connect() reports the missing library
    pass

# The VM advanced setting vm_retention_disk writes: the backing uuid of the retention disk.
MARKER_KEY = "siterecovery.retentionDisk.uuid"
ENABLE_UUID_KEY = "disk.EnableUUID"
LSI_TYPES = ("lsilogic", "lsilogicsas")
GIB = 1024**3


def option_value(extra_config, key):
    """Pure: the value of advanced setting `key` in a VM's extraConfig (keys compare without case), or None."""
    for option in extra_config or []:
        if option.key.lower() == key.lower():
            return str(option.value) if option.value not in (None, "") else None
    return None


def marker_of(extra_config):
    """Pure: the retention disk uuid the marker names, or None."""
    return option_value(extra_config, MARKER_KEY)


def enable_uuid_is_true(extra_config):
    """Pure: whether disk.EnableUUID is TRUE (not case-sensitive, as ESXi reads it)."""
    return (option_value(extra_config, ENABLE_UUID_KEY) or "").strip().upper() == "TRUE"


def uuid_hex(uuid):
    """Pure: the hex digits of a BIOS or disk uuid in lower case ("6000C29a-b1b5-..." or "42 01 ...")."""
    return re.sub(r"[^0-9a-f]", "", str(uuid or "").lower())


def controller_type(device):
    """'lsilogic', 'lsilogicsas', 'paravirtual', 'buslogic', or the vSphere type name of another controller."""
    kinds = (
        (vim.vm.device.VirtualLsiLogicSASController, "lsilogicsas"),
        (vim.vm.device.VirtualLsiLogicController, "lsilogic"),
        (vim.vm.device.ParaVirtualSCSIController, "paravirtual"),
        (vim.vm.device.VirtualBusLogicController, "buslogic"),
    )
    for cls, name in kinds:
        if isinstance(device, cls):
            return name
    return type(device).__name__.split(".")[-1]


def scsi_controllers(devices):
    """Pure: [{bus, type, label}] of a VM's SCSI controllers, by bus."""
    found = [
        dict(bus=d.busNumber, type=controller_type(d), label=d.deviceInfo.label if d.deviceInfo else f"SCSI controller {d.busNumber}")
        for d in devices or []
        if isinstance(d, vim.vm.device.VirtualSCSIController)
    ]
    return sorted(found, key=lambda item: item["bus"])


def disk_bytes(disk):
    return disk.capacityInBytes or (disk.capacityInKB or 0) * 1024


def disks(devices):
    """Pure: [{key, label, uuid, size_gb, bus, unit}] of a VM's virtual disks, in device order (the OS disk first).

    The OS disk is taken to be the disk on the lowest controller bus and unit (SCSI 0:0 as installed).
    """
    buses = {d.key: d.busNumber for d in devices or [] if isinstance(d, vim.vm.device.VirtualController)}
    found = []
    for device in devices or []:
        if isinstance(device, vim.vm.device.VirtualDisk):
            found.append(
                dict(
                    key=device.key,
                    label=device.deviceInfo.label if device.deviceInfo else str(device.key),
                    uuid=getattr(device.backing, "uuid", None) or None,
                    size_gb=round(disk_bytes(device) / GIB, 2),
                    bus=buses.get(device.controllerKey, 0),
                    unit=device.unitNumber if device.unitNumber is not None else 0,
                )
            )
    return sorted(found, key=lambda item: (item["bus"], item["unit"], item["key"]))
