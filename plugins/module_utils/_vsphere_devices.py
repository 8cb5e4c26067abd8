# -*- coding: utf-8 -*-
# Copyright: (c) 2026, siterecovery.master_target contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A VM's disks, SCSI controllers, disk.EnableUUID and retention disk marker as plain data (pure functions).

Shared by the modules that change them (vm_disk_uuid, vm_scsi_controller, vm_retention_disk), the one
that plans the changes (vm_preparation_info) and failback_readiness_info: all judge a VM the same way.
"""

from __future__ import annotations

import datetime
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


def find_option(extra_config, key):
    """Pure: the OptionValue of advanced setting `key` in a VM's extraConfig (keys compare without case), or None."""
    return next((option for option in extra_config or [] if option.key.lower() == key.lower()), None)


def option_value(extra_config, key):
    """Pure: the value of advanced setting `key` in a VM's extraConfig as a string; None when missing or empty."""
    option = find_option(extra_config, key)
    return str(option.value) if option is not None and option.value not in (None, "") else None


def marker_of(extra_config):
    """Pure: the retention disk uuid the marker names, or None."""
    return option_value(extra_config, MARKER_KEY)


def enable_uuid_is_true(extra_config):
    """Pure: whether disk.EnableUUID is TRUE: every key of that name (keys compare without case) says exactly TRUE.

    The one judge of vm_disk_uuid, vm_preparation_info and failback_readiness_info (enable_uuid_writes).
    """
    return not enable_uuid_writes(extra_config, True)


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


def enable_uuid_options(extra_config):
    """Pure: every disk.EnableUUID setting with a value, as [(key as stored, value)].

    Keys compare without case; the one spelled exactly disk.EnableUUID comes first, the others in stored order.
    An empty value is no setting: vCenter removes a key set to an empty value.
    """
    found = [(option.key, str(option.value)) for option in extra_config or []
             if option.key.lower() == ENABLE_UUID_KEY.lower() and option.value not in (None, "")]
    return sorted(found, key=lambda item: item[0] != ENABLE_UUID_KEY)


def enable_uuid_setting(extra_config):
    """Pure: (key, value) of the disk.EnableUUID setting that is kept (enable_uuid_options); (ENABLE_UUID_KEY, None) if none."""
    options = enable_uuid_options(extra_config)
    return options[0] if options else (ENABLE_UUID_KEY, None)


def enable_uuid_writes(extra_config, enabled=True):
    """Pure: the advanced settings [(key, value)] to write so that disk.EnableUUID is TRUE (FALSE); [] when it is.

    Only exactly TRUE (or FALSE), in any case and without spaces, counts: ESXi is not known to read
    " True " or "yes" as TRUE, so those are rewritten. A missing key means FALSE. Several keys that
    differ only in case (disk.EnableUUID=FALSE and disk.enableuuid=TRUE) are all fixed: each one but
    the kept key is removed (an empty value), then the kept key is written, last, so that the result
    is one key with the right value whether vCenter compares keys with or without case.
    """
    wanted = "TRUE" if enabled else "FALSE"
    options = enable_uuid_options(extra_config)
    if all(value.upper() == wanted for _key, value in options) and (options or not enabled):
        return []
    if not options:
        return [(ENABLE_UUID_KEY, wanted)]
    key, strays = options[0][0], options[1:]
    return [(stray, "") for stray, _stray_value in strays] + [(key, wanted)]


def describe_enable_uuid(extra_config):
    """Pure: what disk.EnableUUID holds, for a message: 'not set', 'FALSE', "' True '" or 'FALSE (disk.EnableUUID), TRUE (disk.enableuuid)'."""
    options = enable_uuid_options(extra_config)

    def shown(value):
        return value if value.strip() == value and value else f"'{value}'"

    if not options:
        return "not set"
    if len(options) == 1:
        return shown(options[0][1])
    return ", ".join(f"{shown(value)} ({key})" for key, value in options)


# vm_disk_uuid records when it changed disk.EnableUUID (vCenter's clock, ISO 8601) in the same reconfiguration:
# vCenter keeps no change time per advanced setting, and only a power-on after it puts the change into effect.
ENABLE_UUID_CHANGED_KEY = "siterecovery.diskEnableUUID.changed"


def enable_uuid_changed_at(extra_config):
    """Pure: when vm_disk_uuid last changed disk.EnableUUID (a datetime in UTC), or None when not recorded or unreadable."""
    value = option_value(extra_config, ENABLE_UUID_CHANGED_KEY)
    if value is None:
        return None
    try:
        moment = datetime.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=datetime.timezone.utc)


def enable_uuid_power_cycle(extra_config, power_state, boot_time, changing=False):
    """Pure: whether the VM runs with another disk.EnableUUID than its configuration holds, so it needs a power-off and power-on.

    ESXi reads the setting only at power-on: neither a restart of the guest nor a resume from suspended
    applies it. So a VM that is powered on or suspended needs a power cycle when the setting changes now
    (`changing`) or was changed (by vm_disk_uuid, which records when) at or after its last power-on,
    runtime.bootTime (which vCenter does not update on a resume). A VM powered off needs only its next
    power-on. A change made outside this collection has no record, so it is not seen here.
    """
    if power_state not in ("poweredOn", "suspended"):
        return False
    if changing:
        return True
    changed = enable_uuid_changed_at(extra_config)
    if changed is None:
        return False
    if boot_time is None:
        return True  # running, but vCenter says nothing of when it was powered on: assume before the change
    if boot_time.tzinfo is None:
        boot_time = boot_time.replace(tzinfo=datetime.timezone.utc)
    return changed >= boot_time


def enable_uuid_changed_value(moment):
    """Pure: the record of a change at `moment` (vCenter's CurrentTime), ISO 8601 in UTC."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.timezone.utc)
    return moment.astimezone(datetime.timezone.utc).isoformat()


def enable_uuid_option_values(writes, moment):
    """The OptionValues that write `writes` (enable_uuid_writes) and record the change at `moment` (vCenter's CurrentTime),
    for one reconfiguration: shared by vm_disk_uuid and vm_preparation."""
    changed = [vim.option.OptionValue(key=ENABLE_UUID_CHANGED_KEY, value=enable_uuid_changed_value(moment))]
    return [vim.option.OptionValue(key=key, value=value) for key, value in writes] + changed


def moment_text(moment):
    """Pure: a datetime for messages, in UTC to the second: '2026-11-24 10:00:00 UTC'."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.timezone.utc)
    return moment.astimezone(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


def device_kind(device):
    """'disk', 'cdrom' or 'other': what a device on a controller is (a disk needs a driver at boot)."""
    if isinstance(device, vim.vm.device.VirtualDisk):
        return "disk"
    return "cdrom" if isinstance(device, vim.vm.device.VirtualCdrom) else "other"


def controller_records(devices):
    """Pure: the SCSI controllers among a VM's devices, each with the devices it holds."""
    controllers = []
    for device in devices or []:
        if not isinstance(device, vim.vm.device.VirtualSCSIController):
            continue
        attached = sorted(
            (dict(label=child.deviceInfo.label if child.deviceInfo else str(child.key), unit=child.unitNumber, kind=device_kind(child))
             for child in devices if child.controllerKey == device.key),
            key=lambda item: item["unit"] if item["unit"] is not None else -1,
        )
        controllers.append(
            dict(
                bus=device.busNumber,
                type=controller_type(device),
                label=device.deviceInfo.label if device.deviceInfo else f"SCSI controller {device.busNumber}",
                key=device.key,
                devices=attached,
            )
        )
    return sorted(controllers, key=lambda item: item["bus"])


def not_lsi(controllers):
    """Pure: the controllers (controller_records) that are neither LSI Logic Parallel nor LSI Logic SAS."""
    return [controller for controller in controllers if controller["type"] not in LSI_TYPES]


def describe_controllers(controllers):
    """Pure: 'SCSI controller 0 (bus 0, paravirtual), ...' for controller_records."""
    return ", ".join(f"{item['label']} (bus {item['bus']}, {item['type']})" for item in controllers)


def not_lsi_message(vm_path, wrong):
    """Pure: why a VM with controllers `wrong` (not LSI Logic) cannot be a master target, and the fix."""
    return (
        f"VM {vm_path} has SCSI controllers that are not LSI Logic: {describe_controllers(wrong)}. Azure Site Recovery reprotect fails "
        "with a ParaVirtual controller. Power the VM off and run again with convert: true (type: lsilogic or lsilogicsas)."
    )


# ---- the retention disk: found by the marker (vm_retention_disk writes it with the disk) ----------


def marker_option(extra_config):
    """Pure: (key as stored, value or None) of the marker in a VM's extraConfig; keys compare without case."""
    option = find_option(extra_config, MARKER_KEY)
    return (option.key, option_value(extra_config, MARKER_KEY)) if option is not None else (MARKER_KEY, None)


def disks_with_uuid(devices, uuid):
    """Pure: the virtual disks whose backing UUID is `uuid` (none for an empty uuid)."""
    wanted = uuid_hex(uuid)
    return [
        d for d in devices or [] if isinstance(d, vim.vm.device.VirtualDisk) and wanted and uuid_hex(getattr(d.backing, "uuid", None)) == wanted
    ]


def guest_ids(uuid):
    """Pure: how a Linux guest names the disk when disk.EnableUUID=TRUE: by-id name and SCSI WWID."""
    digits = uuid_hex(uuid)
    if len(digits) != 32:
        return dict(by_id=None, wwid=None)
    return dict(by_id=f"wwn-0x{digits}", wwid=f"3{digits}")


def gib(nbytes):
    """Pure: a byte count in GiB, as an int when whole, else rounded to 2 decimals."""
    value = nbytes / GIB
    return int(value) if value == int(value) else round(value, 2)


def provisioning_of(backing):
    if getattr(backing, "thinProvisioned", False):
        return "thin"
    return "eager_zeroed" if getattr(backing, "eagerlyScrub", False) else "thick"


def datastore_of_path(path):
    """Pure: 'vmfs-mt-01' from '[vmfs-mt-01] asr-mt-01/asr-mt-01.vmx'."""
    match = re.match(r"\s*\[([^\]]+)\]", path or "")
    return match.group(1) if match else None


def disk_record(disk, devices, ds_names):
    """Pure: the returned description of a disk; `ds_names` maps datastore moids to names."""
    controller = next((d for d in devices if d.key == disk.controllerKey), None)
    backing = disk.backing
    ds_ref = getattr(backing, "datastore", None)
    ds_moid = ds_ref._moId if ds_ref is not None else None  # pylint: disable=protected-access
    uuid = getattr(backing, "uuid", None) or None
    return dict(
        label=disk.deviceInfo.label if disk.deviceInfo else None,
        key=disk.key,
        controller_bus=controller.busNumber if controller is not None else None,
        unit_number=disk.unitNumber,
        file_name=getattr(backing, "fileName", None),
        datastore=ds_names.get(ds_moid) or datastore_of_path(getattr(backing, "fileName", None)),
        uuid=uuid,
        **guest_ids(uuid),
        size_gb=gib(disk_bytes(disk)),
        provisioning=provisioning_of(backing),
    )
