# -*- coding: utf-8 -*-
# Copyright: (c) 2026, siterecovery.master_target contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: linux_retention_plan
short_description: Decide what the retention disk of a Linux master target needs
version_added: 0.1.0
author:
  - siterecovery.master_target contributors (@siterecovery)
description:
  - Takes what C(lsblk), C(wipefs), C(blkid -p), C(findmnt), C(/proc/swaps) and C(/etc/fstab) show
    about the retention disk of a Linux master target and decides what must be done so that it holds
    one retention file system (one GPT partition on the whole disk, ext4 or xfs, with a label) mounted
    at the retention path.
  - Never decides to format a disk that holds data. It refuses (RV(_value.action=refuse), with the
    reason in RV(_value.error)) a disk with any partition table or file system signature that is not
    the retention file system, a disk without a signature whose first or last MiB does not read as
    zeros (data that C(wipefs) and C(blkid) do not know; a new VMware disk reads as zeros), a disk
    that is mounted, used as swap or held by device-mapper (LVM,
    multipath, dm-crypt, RAID), a partition instead of a whole disk, a read-only disk, a disk of size
    zero, and a retention path that another file system already uses (mounted there, or in C(/etc/fstab)).
  - Used by the role C(siterecovery.master_target.linux); a pure function, so it runs on the
    controller and is unit-tested without a disk.
options:
  _input:
    description:
      - What the host showed, as a dict with the keys C(device) (the disk's path, links resolved),
        C(lsblk) (the output of C(lsblk --json --bytes --paths --output NAME,TYPE,SIZE,RO,MOUNTPOINT <device>)),
        C(wipefs) (the output of C(wipefs --json <device>), empty when there is no signature), C(blkid)
        (a dict from each partition's path to the output of C(blkid -p -o export <partition>), or to the
        registered result of that command so that its return code 8, several signatures, is seen), C(findmnt)
        (the output of C(findmnt --json --mountpoint <path> --output SOURCE,FSTYPE), empty when nothing is
        mounted there), C(swaps) (the text of C(/proc/swaps)), C(fstab) (the text of C(/etc/fstab)),
        C(source) (how the disk was found, for the messages) and C(zeros).
      - C(zeros) is the list of registered results of C(cmp --bytes=1048576 --ignore-initial=<offset>:0 <device> /dev/zero)
        for the first MiB (offset 0) and the last MiB (offset size - 1 MiB) of the disk, each with its offset
        as C(item) (a C(loop) over the offsets). Without it the first and last MiB are not judged.
    type: dict
    required: true
  label:
    description: The label of the retention file system (also the GPT partition name); with the file system type it marks the disk as ours.
    type: str
    required: true
  fstype:
    description: The file system of the retention volume.
    type: str
    choices: [ext4, xfs]
    required: true
  path:
    description: The mount point of the retention volume.
    type: str
    required: true
"""

EXAMPLES = r"""
- name: Plan the retention volume
  ansible.builtin.set_fact:
    retention_plan: >-
      {{ {'device': '/dev/sdb', 'lsblk': lsblk.stdout, 'wipefs': wipefs.stdout, 'blkid': {},
          'findmnt': findmnt.stdout, 'swaps': swaps_text, 'fstab': fstab_text, 'source': '/dev/sdb'}
         | siterecovery.master_target.linux_retention_plan(label='asr-retention', fstype='ext4', path='/mnt/retention') }}

- name: Refuse an unusable disk
  ansible.builtin.fail:
    msg: "{{ retention_plan.error }}"
  when: retention_plan.action == 'refuse'
"""

RETURN = r"""
_value:
  description: The plan.
  type: dict
  contains:
    action:
      description:
        - V(create) partition the empty disk, make the file system and mount it; V(format) make the
          file system on our partition, which has none yet (a run that stopped half way), and mount it;
          V(mount) the retention file system is there, make sure it is mounted and in C(/etc/fstab);
          V(refuse) the disk cannot be used, RV(_value.error) says why.
      type: str
      choices: [create, format, mount, refuse]
    error:
      description: Why the disk cannot be used and what to do; empty unless RV(_value.action=refuse).
      type: str
    device:
      description: The disk's path.
      type: str
    partition:
      description: The retention partition's path for V(format) and V(mount), else none.
      type: str
    uuid:
      description: The retention file system's UUID for V(mount), else none.
      type: str
    found:
      description: What the disk holds now, in words (for reports).
      type: str
    nonzero_offset:
      description:
        - The offset in bytes of the first non-zero byte found in the first or last MiB of the disk, else none.
      type: int
"""

import json
import re

from ansible.errors import AnsibleFilterError

from ansible_collections.siterecovery.master_target.plugins.module_utils._sizes import human_size

# Signatures that only describe a partition table (wipefs lists the GPT header and its protective MBR).
PARTITION_TABLES = ("gpt", "PMBR", "dos")
FSTYPES = ("ext4", "xfs")
# GNU cmp (diffutils) and busybox cmp: "<a> <b> differ: byte 5, line 1" ("char 5" before diffutils 3.9).
CMP_DIFFER = re.compile(r"differ: (?:byte|char) (\d+)")


def _json(text, what):
    text = str(text or "").strip()
    if not text:
        return {}
    try:
        return json.loads(text)
    except ValueError as exc:
        raise AnsibleFilterError(f"linux_retention_plan: the {what} output is not JSON ({exc}): {text[:200]}") from exc


def parse_export(text):
    """`blkid -p -o export` output -> dict (KEY=value lines).

    Also takes a registered command result (a dict with rc and stdout): blkid returns 8 when it finds
    more than one signature it cannot choose between, marked here as _ambivalent.
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

    Each result is a registered `cmp --bytes=N --ignore-initial=OFFSET:0 <disk> /dev/zero` with its
    OFFSET as `item`: rc 0, the range is all zeros; rc 1 with "differ: byte K", the first difference is
    at OFFSET + K - 1 (cmp counts from 1, after the skipped bytes); rc 1 with "EOF on <disk>", the disk
    ended first and every byte read was zero. None when no range holds a non-zero byte.
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
            raise AnsibleFilterError(
                f"linux_retention_plan: cmp could not read the disk at offset {result.get('item')} "
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


def linux_retention_plan(observed, label, fstype, path):
    if not isinstance(observed, dict) or not observed.get("device"):
        raise AnsibleFilterError("linux_retention_plan: the input must be a dict with at least 'device' and 'lsblk'")
    if fstype not in FSTYPES:
        raise AnsibleFilterError(f"linux_retention_plan: fstype must be one of {', '.join(FSTYPES)}, not {fstype!r}")
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


class FilterModule:
    def filters(self):
        return {"linux_retention_plan": linux_retention_plan}
