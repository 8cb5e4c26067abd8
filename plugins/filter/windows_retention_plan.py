# -*- coding: utf-8 -*-
# Copyright: (c) 2026, siterecovery.master_target contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: windows_retention_plan
short_description: Decide what the retention volume of a Windows master target needs
version_added: 0.1.0
author:
  - siterecovery.master_target contributors (@siterecovery)
description:
  - Takes the disks that M(community.windows.win_disk_facts) reports for a Windows master target,
    selects the retention disk by VMware disk UUID or by disk number, and decides what must be
    done so it holds one retention volume (a whole-disk partition with the given drive letter,
    file system and label).
  - Never decides to touch a disk that holds data. It refuses (returns RV(_value.error)) the system
    or boot disk, a clustered disk, a disk with data partitions that are not the retention volume, a
    disk holding the master target's install (cache) drive, an offline or read-only disk (unless
    O(bring_online=true) and the disk is still RAW), a drive letter held by another volume, a CD-ROM
    drive or a network drive, and a disk of size zero.
  - A new retention volume goes only on a disk proven empty - RAW (no partition table) and with its
    first and last MiB all zeros, as read from the disk itself (O(disk_sectors)). Before it has those
    bytes, the plan for such a disk is RV(_value.action=read).
  - Used by the role C(siterecovery.master_target.windows); a pure function, so it runs on the
    controller and is unit-tested without Windows.
options:
  _input:
    description: The C(ansible_facts.ansible_disks) list returned by M(community.windows.win_disk_facts).
    type: list
    elements: dict
    required: true
  disk_uuid:
    description:
      - The VMware disk UUID (C(backing.uuid)) of the retention disk. With C(disk.EnableUUID=TRUE)
        Windows shows it as the disk's serial number and unique id, without dashes. Compared without
        regard to case, dashes, spaces and braces.
      - Mutually exclusive with O(disk_number); one of them is required.
    type: str
  disk_number:
    description: The Windows disk number of the retention disk.
    type: int
  drive_letter:
    description: The drive letter of the retention volume, one letter without colon.
    type: str
    default: R
  label:
    description: The file system label of the retention volume; with the drive letter and the file system it marks the volume as ours.
    type: str
    default: Retention
  filesystem:
    description: The file system of the retention volume.
    type: str
    choices: [ntfs, refs]
    default: ntfs
  install_drive:
    description: The drive of the master target / process server installation (a cache volume), for example C(C:).
    type: str
    default: "C:"
  bring_online:
    description: Whether an offline or read-only RAW disk may be brought online and made writable.
    type: bool
    default: false
  letter_holder:
    description:
      - What Windows reports for the drive letter in C(Win32_LogicalDisk) (a dict with C(drive_type)),
        or nothing when the letter is free. Catches a CD-ROM or network drive on the letter, which
        M(community.windows.win_disk_facts) does not list.
    type: dict
  disk_sectors:
    description:
      - What the role read from the selected disk (C(\\.\PhysicalDrive<number>), read only) when the plan
        was RV(_value.action=read) - a dict with C(number), C(size) (bytes), C(sector_size) and
        C(regions), a list of dicts with C(offset) and C(length) (bytes read there) and C(first_nonzero)
        (the offset on the disk of the first byte that is not zero, or none / -1 when all are zeros) and
        C(sample) (hex of the bytes from there, for the message); or C(error) when the disk could not be read.
      - Ignored when its C(number) is not the selected disk's.
    type: dict
"""

EXAMPLES = r"""
- name: Read the disks
  community.windows.win_disk_facts:
    filter: [partitions, volumes]
  register: disks

- name: Plan the retention volume
  ansible.builtin.set_fact:
    retention_plan: >-
      {{ disks.ansible_facts.ansible_disks
         | siterecovery.master_target.windows_retention_plan(disk_uuid='6000C29a-1b2c-3d4e-5f60-718293a4b5c6') }}

- name: Refuse an unusable disk
  ansible.builtin.fail:
    msg: "{{ retention_plan.error }}"
  when: retention_plan.error
"""

RETURN = r"""
_value:
  description: The plan.
  type: dict
  contains:
    error:
      description: Why the disk cannot be used and how to fix it; empty when it can.
      type: str
    disk_number:
      description: The selected disk's number, or none when no disk was selected.
      type: int
    partition_number:
      description: The retention partition's number for the actions V(format) and V(letter), else none.
      type: int
    disk:
      description: A one-line description of the selected disk.
      type: str
    action:
      description:
        - V(none) the retention volume is there; V(create) initialize (when RV(_value.initialize)),
          partition and format; V(format) format the existing, unformatted retention partition (a run
          that stopped half way); V(letter) give the retention volume, which has lost its drive letter,
          the letter back; V(read) the disk looks empty, so read its first and last MiB and plan again with
          O(disk_sectors); V(refuse) when RV(_value.error) is set.
      type: str
      choices: [none, create, format, letter, read, refuse]
    initialize:
      description: Whether the disk is RAW and needs initializing (GPT); always true with V(create).
      type: bool
    partition_style:
      description: The partition style to give M(community.windows.win_initialize_disk) (V(gpt) for a RAW disk, else the disk's own).
      type: str
    before:
      description: The retention disk's state now, for reports and diffs.
      type: str
    after:
      description: The retention disk's state once the plan is applied.
      type: str
"""

import re

from ansible.errors import AnsibleFilterError

from ansible_collections.siterecovery.master_target.plugins.module_utils._sizes import human_size

# Microsoft Reserved Partition: Windows creates it by itself when it initializes a GPT disk; it holds
# no data, so a disk with only this partition is still an empty disk.
MSR_GPT_TYPE = "{e3c9e316-0b5c-4db8-817d-f92df00215ae}"
# MSFT_Disk enumerations, used when Windows returns numbers instead of names.
PARTITION_STYLES = {"0": "RAW", "1": "MBR", "2": "GPT"}
OPERATIONAL_STATUS = {"53264": "Online", "53267": "Offline"}
# Win32_LogicalDisk.DriveType
DRIVE_TYPES = {2: "a removable drive", 3: "a local disk volume", 4: "a network drive", 5: "a CD-ROM drive", 6: "a RAM disk"}
FILESYSTEMS = {"ntfs": "NTFS", "refs": "ReFS"}
# With the article they are read with ("an NTFS", "a ReFS"), for the plan's before/after texts.
FILESYSTEM_PHRASES = {"ntfs": "an NTFS file system", "refs": "a ReFS file system"}
STYLE_PHRASES = {"GPT": "a GPT partition table", "MBR": "an MBR partition table"}
# How much of each end of a RAW disk must read as zeros before the role initializes it: partition
# tables, file systems, LVM and RAID keep their signatures in the first or the last MiB.
EDGE = 1024**2


def _norm_id(value):
    """Lower-case letters and digits only: UUIDs and serials compare this way."""
    return re.sub(r"[^0-9a-z]", "", str(value or "").lower())


def _carries_uuid(disk, wanted):
    """Whether a disk's serial number or unique id is the VMware disk uuid `wanted` (normalized)."""
    unique_id = _norm_id(disk.get("unique_id"))
    return wanted in (_norm_id(disk.get("serial_number")), unique_id) or unique_id.endswith(wanted)


def _letter(value):
    """A drive letter as Windows reports it ('R', 'R:', or the NUL char when none) -> 'R' or ''."""
    text = str(value or "").replace("\x00", "").strip().rstrip(":").upper()
    return text if len(text) == 1 and text.isalpha() else ""


def _style(disk):
    style = str(disk.get("partition_style") or "RAW")
    return PARTITION_STYLES.get(style, style.upper())


def _status(disk):
    status = disk.get("operational_status")
    if isinstance(status, list):
        status = ", ".join(str(item) for item in status)
    status = str(status or "")
    return OPERATIONAL_STATUS.get(status, status)


def _is_reserved(partition):
    return str(partition.get("type") or "").lower() == "reserved" or str(partition.get("gpt_type") or "").lower() == MSR_GPT_TYPE


def _volume(partition):
    volumes = partition.get("volumes") or []
    return volumes[0] if volumes else {}


def describe_partition(partition):
    volume = _volume(partition)
    letter = _letter(partition.get("drive_letter"))
    parts = [f"{letter}:"] if letter else []
    parts.append(human_size(partition.get("size")))
    parts.append(str(partition.get("type") or "unknown type"))
    filesystem = str(volume.get("type") or "")
    parts.append(f"{filesystem} '{volume.get('label') or ''}'" if filesystem else "not formatted")
    return f"partition {partition.get('number')} ({', '.join(parts)})"


def describe_disk(disk):
    serial = str(disk.get("serial_number") or "").strip() or "no serial number"
    bus = disk.get("bus_type") or "unknown bus"
    return f"disk {disk.get('number')} ({human_size(disk.get('size'))}, {bus}, serial {serial}, {_style(disk)}, {_status(disk) or 'status unknown'})"


def short_disk(disk):
    serial = str(disk.get("serial_number") or "").strip() or "no serial number"
    return f"disk {disk.get('number')} ({human_size(disk.get('size'))}, serial {serial})"


def select_disk(disks, disk_uuid=None, disk_number=None):
    """Return (disk, error): the one disk named by UUID or number."""
    seen = "; ".join(describe_disk(disk) for disk in disks) or "none"
    if disk_uuid not in (None, ""):
        wanted = _norm_id(disk_uuid)
        if not re.fullmatch(r"[0-9a-f]{32}", wanted):
            return None, (
                f"windows_retention_disk_uuid '{disk_uuid}' is not a VMware disk UUID (32 hex digits, dashes allowed): "
                "give the uuid that siterecovery.master_target.vm_retention_disk returns, or use windows_retention_disk_number."
            )
        matches = [disk for disk in disks if _carries_uuid(disk, wanted)]
        if not matches:
            hint = ""
            if not any(str(disk.get("serial_number") or "").strip() for disk in disks):
                hint = " No disk has a serial number: disk.EnableUUID is probably not TRUE on the VM."
            return None, (
                f"No disk of this Windows host has the serial number or unique id {wanted} "
                f"(windows_retention_disk_uuid).{hint} Set disk.EnableUUID=TRUE on the VM "
                "(siterecovery.master_target.vm_disk_uuid) and power-cycle it, check that the disk is attached to "
                f"this VM, or select the disk with windows_retention_disk_number. Disks seen: {seen}."
            )
        if len(matches) > 1:
            numbers = ", ".join(str(disk.get("number")) for disk in matches)
            return None, (
                f"Disks {numbers} all carry the uuid {wanted} (windows_retention_disk_uuid): disks cloned from one template "
                "share uuids, which also breaks Azure Site Recovery reprotect. Give the disks distinct uuids, "
                "or select the disk with windows_retention_disk_number."
            )
        return matches[0], None
    if disk_number not in (None, ""):
        try:
            wanted_number = int(disk_number)
        except (TypeError, ValueError):
            return None, f"windows_retention_disk_number '{disk_number}' is not a disk number."
        for disk in disks:
            if disk.get("number") is not None and int(disk["number"]) == wanted_number:
                return disk, None
        return None, f"This Windows host has no disk number {wanted_number} (windows_retention_disk_number). Disks seen: {seen}."
    return None, "Select the retention disk with windows_retention_disk_uuid or windows_retention_disk_number."


def _first_nonzero(region):
    """The disk offset of the region's first byte that is not zero, or None (the reader says -1 or nothing)."""
    value = region.get("first_nonzero")
    if value in (None, ""):
        return None
    return int(value) if int(value) >= 0 else None


def edges_error(where, number, size, sectors):
    """Why the first and last MiB read from a RAW disk do not prove it empty; '' when they are all zeros."""
    if sectors.get("error"):
        return (
            f"{where} is RAW, but the role could not read its first and last MiB to make sure it is empty "
            f"({sectors['error']}); it formats only a disk it has read as empty. Check that the disk is attached "
            "and that the account is a local administrator, then run the role again."
        )
    span = min(EDGE, size)
    regions = [region for region in sectors.get("regions") or [] if isinstance(region, dict)]
    covered = [(int(region.get("offset") or 0), int(region.get("offset") or 0) + int(region.get("length") or 0)) for region in regions]
    for start, end in ((0, span), (size - span, size)):
        if not any(first <= start and last >= end for first, last in covered):
            read = ", ".join(f"{last - first} bytes at offset {first}" for first, last in covered) or "nothing"
            return (
                f"{where} is RAW, but the role could not read bytes {start} to {end - 1} of it (read: {read}); it "
                "formats only a disk whose first and last MiB it has read as zeros. Run the role again; if this "
                "persists, check the disk in Disk Management and the VM's disk in vSphere."
            )
    nonzero = sorted((offset, region) for region in regions for offset in [_first_nonzero(region)] if offset is not None)
    if not nonzero:
        return ""
    offset, region = nonzero[0]
    place = "in the first MiB" if offset < span else f"in the last MiB, {size - offset} bytes before the end"
    sample = str(region.get("sample") or "").replace("-", " ").strip()
    sample = f" ({sample} ...)" if sample else ""
    return (
        f"{where} holds data: Windows shows it as RAW, but the byte at offset {offset} ({place}) is not zero{sample}, "
        "and partition tables, file systems, LVM and RAID keep their signatures there; the retention volume needs "
        "a new, empty disk. Select another disk, or, only if the data on it is not needed, replace it with a new "
        f"virtual disk (which reads as zeros) or zero it (diskpart: select disk {number}, then clean all; slow, and it "
        "inflates a thin disk), and run the role again."
    )


def _letter_users(disks, letter):
    """(disk, partition) pairs that carry the drive letter."""
    return [
        (disk, partition)
        for disk in disks
        for partition in disk.get("partitions") or []
        if _letter(partition.get("drive_letter")) == letter
    ]


def windows_retention_plan(
    disks,
    disk_uuid=None,
    disk_number=None,
    drive_letter="R",
    label="Retention",
    filesystem="ntfs",
    install_drive="C:",
    bring_online=False,
    letter_holder=None,
    disk_sectors=None,
):
    if not isinstance(disks, list):
        raise AnsibleFilterError(f"windows_retention_plan expects the list of disks of win_disk_facts, got {type(disks).__name__}")
    letter = _letter(drive_letter)
    install_letter = _letter(install_drive)
    filesystem = str(filesystem or "ntfs").lower()
    if not letter:
        raise AnsibleFilterError(f"windows_retention_plan: drive_letter '{drive_letter}' is not a drive letter")
    if filesystem not in FILESYSTEMS:
        raise AnsibleFilterError(f"windows_retention_plan: filesystem '{filesystem}' is not one of {', '.join(FILESYSTEMS)}")
    wanted_volume = f"{letter}: with {FILESYSTEM_PHRASES[filesystem]} labelled '{label}'"
    plan = dict(error="", disk_number=None, partition_number=None, disk="", action="refuse", initialize=False, partition_style=None, before="", after="")

    def refuse(message):
        plan["error"] = message
        plan["action"] = "refuse"
        return plan

    disk, error = select_disk(disks, disk_uuid, disk_number)
    if error:
        return refuse(error)
    number = disk.get("number")
    where = describe_disk(disk)
    short = short_disk(disk)
    partitions = disk.get("partitions") or []
    data = [partition for partition in partitions if not _is_reserved(partition)]
    style = _style(disk)
    status = _status(disk)
    plan.update(
        disk_number=number,
        disk=where,
        before=f"{where}: " + ("; ".join(describe_partition(partition) for partition in partitions) or "no partitions"),
        partition_style="gpt" if style == "RAW" else style.lower(),
    )

    if disk.get("system_disk") or disk.get("bootable"):
        return refuse(f"The retention disk must not be the Windows system or boot disk, and {where} is. Select the new, empty disk added for retention.")
    if disk.get("clustered"):
        return refuse(f"{where} is a clustered (shared) disk; the retention volume needs a local disk of this VM alone.")
    if not disk.get("size") or int(disk.get("size") or 0) <= 0:
        return refuse(f"{where} has size zero; Azure Site Recovery needs retention capacity above zero. Select the retention disk.")

    # A drive letter held elsewhere: by another disk's partition, or (not in win_disk_facts) a CD-ROM or network drive.
    elsewhere = [(other, partition) for other, partition in _letter_users(disks, letter) if other.get("number") != number]
    if elsewhere:
        other, partition = elsewhere[0]
        return refuse(
            f"The drive letter {letter}: (windows_retention_drive_letter) is already used by {describe_partition(partition)} "
            f"on disk {other.get('number')}. Choose a free letter, or free {letter}: first."
        )
    holder_type = (letter_holder or {}).get("drive_type")
    on_disk = _letter_users([disk], letter)
    if holder_type not in (None, "") and not on_disk:
        try:
            holder = DRIVE_TYPES.get(int(holder_type), f"a drive of type {holder_type}")
        except (TypeError, ValueError):
            holder = f"a drive of type {holder_type}"
        return refuse(
            f"The drive letter {letter}: (windows_retention_drive_letter) is held by {holder}. Choose a free letter, or move "
            f"that drive to another letter (for a CD-ROM drive: Disk Management > Change Drive Letter and Paths)."
        )

    if install_letter and any(_letter(partition.get("drive_letter")) == install_letter for partition in partitions):
        return refuse(
            f"{where} holds {install_letter}:, the master target's install (cache) volume (windows_install_drive); the "
            "retention volume must be on a separate, new disk."
        )

    status_text = status.lower()
    offline = "offline" in status_text
    read_only = bool(disk.get("read_only"))
    partition_count = max(int(disk.get("partition_count") or 0), len(partitions))
    fix_online = (
        f"Check that it is the retention disk, then bring it online: Set-Disk -Number {number} -IsOffline $false; "
        f"Set-Disk -Number {number} -IsReadOnly $false"
    )
    if status_text not in ("", "online") and not offline:
        return refuse(f"{where} is not usable (operational status {status}); check the disk in Disk Management and the VM's disk in vSphere.")
    if partition_count > len(partitions):
        # Windows counts partitions it does not list (an offline disk): never guess what they hold.
        return refuse(
            f"{where} has {partition_count} partition(s) that Windows does not list (an offline disk lists them only once online). "
            f"{fix_online}; then run the role again."
        )

    if not data:
        # Only a RAW disk counts as empty: deleted partitions leave their data behind, so an initialized
        # disk (even one with nothing but the reserved partition) cannot be proven empty.
        if style != "RAW":
            table = STYLE_PHRASES.get(style, f"a {style} partition table")
            only = " with only the Microsoft Reserved partition" if partitions else " and no partitions"
            return refuse(
                f"{where} is not RAW: it has {table}{only}, and a disk that was ever initialized may still hold the data "
                "of deleted partitions, so the role treats it as holding data; the retention volume needs a new, empty "
                f"disk. Select another disk, or, only if the data on it is not needed, clear it (Clear-Disk -Number {number} "
                "-RemoveData -RemoveOEM -Confirm:$false) and run the role again."
            )
        if (offline or read_only) and not bring_online:
            what = " and ".join(word for word, flag in (("offline", offline), ("read-only", read_only)) if flag)
            return refuse(
                f"{where} is {what}; Windows does not let the role partition it. {fix_online}, or set "
                "windows_retention_bring_online: true to let the role do it."
            )
        # Windows also shows as RAW a disk with a file system, LVM or RAID on the whole disk, or with a
        # damaged partition table: only its own bytes tell. They are read once the plan asks for them.
        if not isinstance(disk_sectors, dict) or str(disk_sectors.get("number")) != str(number):
            plan.update(action="read")
            return plan
        error = edges_error(where, number, int(disk.get("size")), disk_sectors)
        if error:
            return refuse(error)
        plan.update(action="create", initialize=True)
        plan["after"] = f"{short}: a GPT partition table and one partition on the whole disk, {wanted_volume}"
        return plan

    if len(data) == 1:
        partition = data[0]
        volume = _volume(partition)
        current_fs = str(volume.get("type") or "").strip()
        current_label = str(volume.get("label") or "")
        current_letter = _letter(partition.get("drive_letter"))
        ours = current_fs.lower() == filesystem and current_label.lower() == str(label).lower()
        if ours or current_letter == letter:
            if offline or read_only:
                return refuse(f"{where} holds the retention volume but is offline or read-only. {fix_online}.")
        if ours and current_letter == letter:
            if int(volume.get("size") or 0) <= 0:
                return refuse(f"The retention volume {letter}: on {where} has size zero; Azure Site Recovery needs capacity above zero.")
            plan.update(action="none", after=plan["before"])
            return plan
        if ours and not current_letter:
            # Our volume lost its letter (moved between VMs, or a letter removed by hand): give it back.
            after = f"{short}: {describe_partition(partition)} gets the drive letter {letter}:"
            plan.update(action="letter", partition_number=partition.get("number"), after=after)
            return plan
        if ours:
            return refuse(
                f"{where} holds the retention volume ({describe_partition(partition)}) on {current_letter}:, not on "
                f"{letter}:. Set windows_retention_drive_letter: {current_letter} to keep it, or change its letter by hand "
                "(only if nothing uses the current one)."
            )
        if current_letter == letter and current_fs in ("", "RAW", "Unknown") and int(volume.get("size") or 0) == 0:
            # Our partition without a file system: a run stopped between partitioning and formatting.
            after = f"{short}: partition {partition.get('number')} on {letter}: formatted with {FILESYSTEM_PHRASES[filesystem]} labelled '{label}'"
            plan.update(action="format", partition_number=partition.get("number"), after=after)
            return plan
        if current_letter == letter:
            return refuse(
                f"{describe_partition(partition)} on {where} is not the retention volume {wanted_volume}; the role never "
                "reformats a volume that holds a file system. Use a new disk, or set windows_retention_label / "
                "windows_retention_filesystem to match that volume if it is the retention volume."
            )

    listed = "; ".join(describe_partition(partition) for partition in data)
    return refuse(
        f"{where} already holds data partitions ({listed}); the retention volume needs a new, empty disk. Select "
        f"another disk, or, only if the data on it is not needed, clear it (Clear-Disk -Number {number} -RemoveData "
        "-RemoveOEM -Confirm:$false) and run the role again."
    )


class FilterModule:
    def filters(self):
        return {"windows_retention_plan": windows_retention_plan}
