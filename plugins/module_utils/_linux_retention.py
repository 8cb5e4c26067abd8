# -*- coding: utf-8 -*-
# Copyright: (c) 2026, siterecovery.master_target contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the retention disk of a Linux master target needs, decided from what the guest's tools show.

Pure functions, shared by the module linux_retention_disk_info (which runs the read-only commands in
the guest) and the filter linux_retention_plan (the same decision on outputs gathered elsewhere).
No I/O here: the unit tests feed them the outputs util-linux prints.
"""

from __future__ import annotations

import json
import re

from ansible_collections.siterecovery.master_target.plugins.module_utils._sizes import human_size

# Signatures that only describe a partition table (wipefs lists the GPT header and its protective MBR).
PARTITION_TABLES = ("gpt", "PMBR", "dos")
FSTYPES = ("ext4", "xfs")
# GNU cmp (diffutils) and busybox cmp: "<a> <b> differ: byte 5, line 1" ("char 5" before diffutils 3.9).
CMP_DIFFER = re.compile(r"differ: (?:byte|char) (\d+)")
# The first and the last MiB of the disk are compared with zeros (where partition tables and file
# system headers live).
MIB = 1024**2


class LinuxRetentionError(Exception):
    """Input that cannot be judged (output that is not what the tool prints, a disk that cannot be read)."""


def _json(text, what):
    text = str(text or "").strip()
    if not text:
        return {}
    try:
        return json.loads(text)
    except ValueError as exc:
        raise LinuxRetentionError(f"the {what} output is not JSON ({exc}): {text[:200]}") from exc


# --- Finding the disk ---------------------------------------------------------------------------

def uuid_digits(uuid):
    """A VMware disk UUID (6000C29a-b1b5-1bf8-40d7-a2e2c43fb182) -> its 32 hex digits, lower case.

    Linux shows the same digits, without dashes, in /dev/disk/by-id/wwn-0x<digits> and scsi-3<digits>.
    """
    text = str(uuid or "").strip()
    digits = re.sub("[^0-9a-f]", "", text.lower())
    if not re.match(r"^[0-9A-Fa-f -]+$", text) or len(digits) != 32:
        raise LinuxRetentionError(
            f"linux_retention_disk_uuid '{uuid}' is not a VMware disk UUID (32 hex digits, dashes allowed, e.g. "
            "6000C29a-b1b5-1bf8-40d7-a2e2c43fb182): give the uuid that siterecovery.master_target.vm_retention_disk returns."
        )
    return digits


def disk_by_uuid(uuid, links):
    """(disk, link): the one disk that carries the VMware disk UUID, and the by-id link that names it.

    links maps each link in /dev/disk/by-id to the path it resolves to. udev writes the digits in lower
    case; they are compared without regard to case all the same. A wwn-0x link is named in preference to
    its scsi-3 twin (both name the same disk).
    """
    digits = uuid_digits(uuid)
    wanted = re.compile(f"^(wwn-0x|scsi-3){digits}$", re.IGNORECASE)
    found = sorted(
        (link for link in links if wanted.match(link.rsplit("/", 1)[-1])),
        key=lambda link: (not link.rsplit("/", 1)[-1].lower().startswith("wwn-"), link),
    )
    disks = sorted({links[link] for link in found})
    if not disks:
        raise LinuxRetentionError(
            f"No disk of this host has the VMware disk UUID {uuid} (linux_retention_disk_uuid): neither "
            f"/dev/disk/by-id/wwn-0x{digits} nor /dev/disk/by-id/scsi-3{digits} exists. Check that the disk is attached "
            "to this VM (siterecovery.master_target.vm_retention_disk), that the VM has disk.EnableUUID=TRUE "
            "(siterecovery.master_target.vm_disk_uuid) and was powered off and on since, and that udev runs; or give "
            "the disk's path in linux_retention_device."
        )
    if len(disks) > 1:
        raise LinuxRetentionError(
            f"Several devices carry the VMware disk UUID {uuid}: {', '.join(disks)} (disks cloned from one template "
            "share UUIDs, which also breaks Azure Site Recovery reprotect). Give the disks distinct UUIDs, or name the "
            "disk with linux_retention_device."
        )
    return disks[0], found[0]


def name_disk(device, source):
    """The disk for messages: its path, and how it was found when that differs."""
    return f"{device} ({source})" if source and source != device else device


def disk_size(lsblk):
    """The disk's size in bytes from `lsblk --json --bytes` (0 when lsblk does not list it)."""
    devices = _json(lsblk, "lsblk").get("blockdevices") or [{}]
    return int(devices[0].get("size") or 0)


def partition_names(lsblk):
    """The paths of the disk's partitions from `lsblk --json --paths`."""
    devices = _json(lsblk, "lsblk").get("blockdevices") or [{}]
    return [child.get("name") for child in devices[0].get("children") or [] if child.get("type") == "part"]


def zero_offsets(size):
    """Where the first and the last MiB of a disk of this size start (one offset for a disk of 1 MiB or less)."""
    return sorted({0, max(int(size or 0) - MIB, 0)})


# --- Reading the outputs ------------------------------------------------------------------------

def parse_export(text):
    """`blkid -p -o export` output -> dict (KEY=value lines).

    Also takes a command's result (a dict with rc and stdout): blkid returns 8 when it finds more than
    one signature it cannot choose between, marked here as _ambivalent.
    """
    if isinstance(text, dict):
        result = parse_export(text.get("stdout"))
        if text.get("rc") == 8:
            result["_ambivalent"] = "1"
        return result
    result = {}
    for line in str(text or "").splitlines():
        key, sep, value = line.partition("=")
        if sep:
            result[key.strip()] = value.strip()
    return result


def first_nonzero_byte(results):
    """The offset of the first non-zero byte that `cmp` found comparing ranges of the disk with /dev/zero.

    Each result is a `cmp --bytes=N --ignore-initial=OFFSET:0 <disk> /dev/zero` (rc, stdout, stderr) with
    its OFFSET as `item`: rc 0, the range is all zeros; rc 1 with "differ: byte K", the first difference
    is at OFFSET + K - 1 (cmp counts from 1, after the skipped bytes); rc 1 with "EOF on <disk>", the
    disk ended first and every byte read was zero. None when no range holds a non-zero byte.
    """
    found = []
    for result in results or []:
        rc = result.get("rc")
        if rc == 0:
            continue
        match = CMP_DIFFER.search(str(result.get("stdout") or ""))
        if rc == 1 and match:
            found.append(int(result.get("item") or 0) + int(match.group(1)) - 1)
        elif rc == 1 and "EOF on" in str(result.get("stderr") or ""):
            continue
        else:
            raise LinuxRetentionError(
                f"cmp could not read the disk at offset {result.get('item')} "
                f"(rc {rc}): {str(result.get('stderr') or result.get('stdout') or '').strip()[:200]}"
            )
    return min(found) if found else None


def parse_fstab(text):
    """/etc/fstab -> list of dicts (source, target, fstype); comments and blank lines skipped."""
    entries = []
    for line in str(text or "").splitlines():
        fields = line.split("#", 1)[0].split()
        if len(fields) >= 3:
            # fstab escapes a space in a path as \040.
            entries.append(dict(source=fields[0], target=fields[1].replace("\\040", " ").rstrip("/") or "/", fstype=fields[2]))
    return entries


def parse_swaps(text):
    """/proc/swaps -> the active swap devices and files."""
    return [line.split()[0] for line in str(text or "").splitlines()[1:] if line.strip()]


# --- The decision -------------------------------------------------------------------------------

def describe_signature(signature):
    kind = signature.get("type") or "unknown"
    words = "a partition table" if kind in PARTITION_TABLES else "a signature"
    extra = f", label '{signature['label']}'" if signature.get("label") else ""
    extra += f", UUID {signature['uuid']}" if signature.get("uuid") else ""
    return f"{words} {kind} at offset {signature.get('offset', '?')}{extra}"


def describe_unknown_data(offset):
    return f"data that wipefs and blkid do not recognise (no signature), the first non-zero byte at offset {offset:#x}"


def describe_partition(partition, probe):
    words = [human_size(partition.get("size"))]
    if probe.get("TYPE"):
        words.append(probe["TYPE"])
        if probe.get("LABEL"):
            words.append(f"label '{probe['LABEL']}'")
    elif probe.get("_ambivalent"):
        words.append("more than one signature")
    else:
        words.append("no file system")
    if probe.get("PART_ENTRY_NAME"):
        words.append(f"partition name '{probe['PART_ENTRY_NAME']}'")
    if partition.get("mountpoint"):
        words.append(f"mounted at {partition['mountpoint']}")
    return f"{partition.get('name')} ({', '.join(words)})"


def _is_ours(entry, partition, uuid, label):
    """Whether an fstab source names our retention file system."""
    source = entry["source"]
    key, sep, value = source.partition("=")
    if sep:
        value = value.strip('"')
        return (key.upper() == "UUID" and uuid and value.lower() == uuid.lower()) or (key.upper() in ("LABEL", "PARTLABEL") and value == label)
    return source == partition or (uuid and source == f"/dev/disk/by-uuid/{uuid}")


def _path_users(observed, path, partition=None, uuid=None, label=None):
    """What else uses the retention path: a mounted file system or an fstab entry that is not ours."""
    users = []
    for fs in _json(observed.get("findmnt"), "findmnt").get("filesystems") or []:
        if not partition or fs.get("source") != partition:
            users.append(f"{fs.get('source')} ({fs.get('fstype')}) is mounted at {path}")
    for entry in parse_fstab(observed.get("fstab")):
        if entry["target"] == path.rstrip("/") and not (partition and _is_ours(entry, partition, uuid, label)):
            users.append(f"/etc/fstab mounts {entry['source']} ({entry['fstype']}) at {path}")
    return users


def retention_plan(observed, label, fstype, path):
    """What the retention disk needs: create, format, mount or refuse (with the reason in error).

    observed: what the guest showed, as a dict with the keys device (the disk's path, links resolved),
    source (how the disk was found), lsblk, wipefs, blkid (partition path -> blkid -p -o export output
    or command result), findmnt, swaps, fstab and zeros (the cmp results, see first_nonzero_byte).
    """
    if not isinstance(observed, dict) or not observed.get("device"):
        raise LinuxRetentionError("the input must be a dict with at least 'device' and 'lsblk'")
    if fstype not in FSTYPES:
        raise LinuxRetentionError(f"fstype must be one of {', '.join(FSTYPES)}, not {fstype!r}")
    device = observed["device"]
    about = [observed["source"]] if observed.get("source") and observed["source"] != device else []
    plan = dict(action="refuse", error="", device=device, partition=None, uuid=None, found="", nonzero_offset=None)

    def refuse(message):
        where = f"The retention disk {device}" + (f" ({', '.join(about)})" if about else "")
        plan.update(action="refuse", error=f"{where} {message}")
        return plan

    devices = _json(observed.get("lsblk"), "lsblk").get("blockdevices") or []
    if not devices:
        return refuse("is not listed by lsblk: give the disk's path or its VMware disk UUID.")
    disk = devices[0]
    children = disk.get("children") or []
    signatures = _json(observed.get("wipefs"), "wipefs").get("signatures") or []
    probes = {name: parse_export(text) for name, text in (observed.get("blkid") or {}).items()}
    swaps = parse_swaps(observed.get("swaps"))
    about.append(human_size(disk.get("size")))
    partitions = [child for child in children if child.get("type") == "part"]
    nonzero = first_nonzero_byte(observed.get("zeros"))
    plan["nonzero_offset"] = nonzero
    plan["found"] = "; ".join(
        [describe_signature(s) for s in signatures] + [describe_partition(p, probes.get(p.get("name"), {})) for p in partitions]
    ) or ("nothing (empty)" if nonzero is None else describe_unknown_data(nonzero))

    # The disk itself.
    if disk.get("type") not in ("disk", "loop"):
        return refuse(
            f"is a {disk.get('type')} device, not a whole disk. Give the disk itself (linux_retention_device) or its "
            "VMware disk UUID (linux_retention_disk_uuid): the role makes the partition."
        )
    if int(disk.get("size") or 0) <= 0:
        return refuse("has no capacity (size 0). Give the disk's real size in vCenter (vm_retention_disk) and rescan.")
    if disk.get("ro") in (True, 1, "1", "true"):
        return refuse("is read-only. Make it writable (in vCenter and in the guest) and run again.")
    if disk.get("mountpoint"):
        return refuse(f"is mounted at {disk['mountpoint']}: it holds a file system in use. The role never formats a disk with data.")
    in_swap = [name for name in [device] + [child.get("name") for child in children] if name in swaps]
    if in_swap:
        return refuse(f"is in use as swap ({', '.join(in_swap)}). The role never formats a disk in use.")
    holders = [child for child in children if child.get("type") != "part"]
    if holders:
        used_by = ", ".join(f"{h.get('name')} ({h.get('type')})" for h in holders)
        return refuse(
            f"is in use by {used_by} (LVM, multipath, dm-crypt or RAID). The role never formats a disk in use; if this "
            "disk must be the retention disk, free it first (for multipath: blacklist it or flush its map)."
        )

    data_advice = (
        "The role partitions and formats only an empty disk (no partition table, no file system signature, its first "
        "and last MiB all zeros, as on a new VMware disk) and never formats a disk with data. Check that "
        "linux_retention_disk_uuid or linux_retention_device names the new retention disk; if the data on this disk "
        f"is really not needed, wipe it yourself (wipefs --all {device}, and zero its first and last MiB for data "
        "without a signature) and run again."
    )

    # An empty disk: create the retention volume. Empty also means zeros where partition tables and
    # file system headers live (the first and last MiB): data no tool recognises is still data.
    if not partitions:
        if signatures or nonzero is not None:
            return refuse(f"holds data: {plan['found']}. {data_advice}")
        users = _path_users(observed, path)
        if users:
            return refuse(f"is empty, but {'; '.join(users)}. Free {path} or choose another linux_retention_path.")
        plan.update(action="create")
        return plan

    # A partitioned disk: only our one retention partition is accepted.
    other_signatures = [s for s in signatures if s.get("type") not in PARTITION_TABLES]
    if other_signatures or len(partitions) != 1:
        return refuse(f"holds data: {plan['found']}. {data_advice}")
    partition = partitions[0]
    name = partition.get("name")
    probe = probes.get(name, {})
    current = probe.get("TYPE", "")
    if probe.get("_ambivalent"):
        return refuse(f"holds data: {plan['found']}. {data_advice}")
    if partition.get("mountpoint") and partition["mountpoint"].rstrip("/") != path.rstrip("/"):
        return refuse(f"holds data: {plan['found']}. {data_advice}")

    if not current and probe.get("PART_ENTRY_NAME") == label:
        # Our partition without a file system: a run that stopped between partitioning and formatting.
        users = _path_users(observed, path)
        if users:
            return refuse(f"holds the empty retention partition {name}, but {'; '.join(users)}. Free {path} or choose another linux_retention_path.")
        plan.update(action="format", partition=name)
        return plan
    if current == fstype and probe.get("LABEL") == label:
        uuid = probe.get("UUID")
        users = _path_users(observed, path, partition=name, uuid=uuid, label=label)
        if users:
            return refuse(f"holds the retention file system on {name}, but {'; '.join(users)}. Free {path} or choose another linux_retention_path.")
        plan.update(action="mount", partition=name, uuid=uuid)
        return plan
    if current in FSTYPES and probe.get("LABEL") == label:
        return refuse(
            f"holds the retention file system as {current} on {name}, but linux_retention_fstype is {fstype}. The role "
            f"never reformats it: set linux_retention_fstype: {current} to keep it."
        )
    return refuse(f"holds data: {plan['found']}. {data_advice}")
