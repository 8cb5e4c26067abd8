#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, siterecovery.master_target contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: linux_retention_disk_info
short_description: Find the retention disk of a Linux master target and decide what it needs
description:
  - Runs in the Linux guest of a master target. Finds the retention disk by its VMware disk UUID
    (O(disk_uuid), the links C(/dev/disk/by-id/wwn-0x<digits>) and C(scsi-3<digits>) that udev makes
    for a VM with C(disk.EnableUUID=TRUE)) or by its path (O(device)), reads what it holds with
    C(lsblk), C(wipefs), C(blkid -p), C(cmp) against C(/dev/zero) (its first and last MiB),
    C(findmnt), C(/proc/swaps) and C(/etc/fstab), and decides what must be done so that it holds one
    retention file system (one GPT partition on the whole disk, ext4 or xfs, with a label) mounted at
    O(path). Changes nothing.
  - Never decides to format a disk that holds data. It returns RV(plan.action=refuse), with the reason
    in RV(plan.error), for a disk with any partition table or file system signature that is not the
    retention file system, a disk without a signature whose first or last MiB does not read as zeros
    (data that C(wipefs) and C(blkid) do not know; a new VMware disk reads as zeros), a disk that is
    mounted, used as swap or held by device-mapper (LVM, multipath, dm-crypt, RAID), a partition
    instead of a whole disk, a read-only disk, a disk of size zero, and a retention path that another
    file system already uses (mounted there, or in C(/etc/fstab)). A refusal is a result, not a
    failure; the role C(siterecovery.master_target.linux) fails on it before it changes anything.
  - Fails when it cannot find the disk (no disk or several disks with the UUID, a path that does not
    exist, a path that is not a block device) or cannot read it.
  - The decision is the one of the filter P(siterecovery.master_target.linux_retention_plan#filter)
    (the same functions, in C(module_utils/_linux_retention.py)).
version_added: 0.1.0
author:
  - siterecovery.master_target contributors (@siterecovery)
options:
  disk_uuid:
    description:
      - The VMware disk UUID of the retention disk, as M(siterecovery.master_target.vm_retention_disk)
        returns it, for example V(6000C29a-b1b5-1bf8-40d7-a2e2c43fb182) (32 hex digits, dashes allowed,
        any case).
      - The VM needs C(disk.EnableUUID=TRUE) (M(siterecovery.master_target.vm_disk_uuid)) and a power
        cycle since, so that udev makes the C(/dev/disk/by-id) links.
      - Exactly one of O(disk_uuid) and O(device) is required.
    type: str
  device:
    description:
      - The path of the retention disk, for example V(/dev/sdb) or a link under C(/dev/disk/by-id)
        (links are resolved).
    type: str
  label:
    description:
      - The label of the retention file system (also the GPT partition name); with O(fstype) it marks the
        disk as the retention disk, which is then only mounted.
    type: str
    default: asr-retention
  fstype:
    description:
      - The file system of the retention volume.
    type: str
    choices: [ext4, xfs]
    default: ext4
  path:
    description:
      - The mount point of the retention volume (a trailing C(/) is ignored).
    type: str
    default: /mnt/retention
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
    details: This module only reads, so it runs the same in check mode.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: N/A
    details: This module changes nothing.
  idempotent:
    description: When run twice in a row outside check mode, with the same arguments, the second invocation indicates no change.
    support: full
  platform:
    description: Target OS/families that can be operated against.
    support: full
    platforms: posix
requirements:
  - util-linux (C(lsblk), C(wipefs), C(blkid), C(findmnt)) and C(cmp) (diffutils or busybox) in the guest.
notes:
  - "Privileges: root in the guest (C(become: true)), to read the disk's blocks. No vCenter access: it runs
    on the guest, so it is not in the action group C(siterecovery.master_target.vmware)."
  - Its messages name the variables of the role C(siterecovery.master_target.linux) (C(linux_retention_disk_uuid)
    for O(disk_uuid), C(linux_retention_device) for O(device), C(linux_retention_fstype) for O(fstype),
    C(linux_retention_path) for O(path)), since the role is what runs it.
seealso:
  - module: siterecovery.master_target.vm_retention_disk
    description: Adds the retention disk in vCenter and returns the uuid to give as O(disk_uuid).
  - module: siterecovery.master_target.vm_disk_uuid
    description: Sets C(disk.EnableUUID=TRUE), without which the guest sees no disk UUID.
"""

EXAMPLES = r"""
- name: Read the retention disk and plan what it needs
  siterecovery.master_target.linux_retention_disk_info:
    disk_uuid: 6000C29a-b1b5-1bf8-40d7-a2e2c43fb182
    fstype: xfs
    label: asr-retain
  become: true
  register: retention

- name: Refuse an unusable disk before changing anything
  ansible.builtin.assert:
    quiet: true
    that: retention.plan.action != 'refuse'
    fail_msg: "{{ inventory_hostname }}: {{ retention.plan.error }}"

- name: Name the disk by its path instead
  siterecovery.master_target.linux_retention_disk_info:
    device: /dev/sdb
  become: true
  register: retention
"""

RETURN = r"""
device:
  description: The retention disk's path, links resolved.
  returned: always
  type: str
  sample: /dev/sdb
source:
  description: How the disk was found, the C(/dev/disk/by-id) link or the path given in O(device).
  returned: always
  type: str
  sample: /dev/disk/by-id/wwn-0x6000c29ab1b51bf840d7a2e2c43fb182
name:
  description: The disk for messages, RV(device) followed by RV(source) in brackets when they differ.
  returned: always
  type: str
  sample: /dev/sdb (/dev/disk/by-id/wwn-0x6000c29ab1b51bf840d7a2e2c43fb182)
plan:
  description: What the disk needs.
  returned: always
  type: dict
  contains:
    action:
      description:
        - V(create) partition the empty disk, make the file system and mount it; V(format) make the file
          system on our partition, which has none yet (a run that stopped half way), and mount it;
          V(mount) the retention file system is there, make sure it is mounted and in C(/etc/fstab);
          V(refuse) the disk cannot be used, RV(plan.error) says why.
      type: str
      choices: [create, format, mount, refuse]
      sample: create
    error:
      description: Why the disk cannot be used and what to do; empty unless RV(plan.action=refuse).
      type: str
      sample: ""
    device:
      description: The disk's path (as RV(device)).
      type: str
      sample: /dev/sdb
    partition:
      description: The retention partition's path for V(format) and V(mount), else none.
      type: str
      sample: /dev/sdb1
    uuid:
      description: The retention file system's UUID for V(mount), else none.
      type: str
      sample: 113f3122-45db-47e1-8546-082eadcff230
    found:
      description: What the disk holds now, in words (for reports).
      type: str
      sample: nothing (empty)
    nonzero_offset:
      description: The offset in bytes of the first non-zero byte in the first or last MiB of the disk, else none.
      type: int
"""

import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.siterecovery.master_target.plugins.module_utils._linux_retention import (
    LinuxRetentionError,
    disk_by_uuid,
    disk_size,
    name_disk,
    partition_names,
    retention_plan,
    zero_offsets,
)

BY_ID = "/dev/disk/by-id"
FSTAB = "/etc/fstab"
SWAPS = "/proc/swaps"
# The tools' words as the plan reads them (cmp's "differ: byte N"), whatever the guest's locale.
C_LOCALE = dict(LANG="C", LC_ALL="C", LC_MESSAGES="C")


def find_disk(params):
    """(device, source): the disk's path with links resolved, and how it was found."""
    if params["disk_uuid"]:
        names = sorted(os.listdir(BY_ID)) if os.path.isdir(BY_ID) else []
        links = {path: os.path.realpath(path) for path in (os.path.join(BY_ID, name) for name in names) if os.path.islink(path)}
        return disk_by_uuid(params["disk_uuid"], links)
    given = (params["device"] or "").strip()
    if not os.path.lexists(given):
        raise LinuxRetentionError(
            f"linux_retention_device {params['device']} does not exist on this host: give the path of the retention disk "
            "(lsblk lists the disks), or its VMware disk UUID in linux_retention_disk_uuid."
        )
    return (os.path.realpath(given) if os.path.islink(given) else given), given


def run(module, argv, ok=(0,)):
    """A read-only command -> dict(rc, stdout, stderr); a return code outside ok (None: any) is an error."""
    rc, stdout, stderr = module.run_command(argv, environ_update=C_LOCALE)
    if ok is not None and rc not in ok:
        raise LinuxRetentionError(f"{' '.join(argv)} failed (rc {rc}): {(stderr or stdout).strip()[:400]}")
    return dict(rc=rc, stdout=stdout, stderr=stderr)


def read_text(path):
    """A small system file's text ('' when it cannot be read: no fstab is no fstab entry)."""
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            return handle.read()
    except OSError:
        return ""


def observe(module, device, source, path):
    """What the guest shows about the disk, in the shape the plan reads. Only reads."""
    lsblk = run(module, ["lsblk", "--json", "--bytes", "--paths", "--output", "NAME,TYPE,SIZE,RO,MOUNTPOINT", device], ok=None)
    if lsblk["rc"] != 0:
        raise LinuxRetentionError(
            f"The retention disk {name_disk(device, source)} is not a block device that lsblk can read: "
            f"{lsblk['stderr'].strip()}. Give the path of a disk."
        )
    return dict(
        device=device,
        source=source,
        lsblk=lsblk["stdout"],
        # Partition tables, file systems, LVM, RAID, swap.
        wipefs=run(module, ["wipefs", "--json", device])["stdout"],
        # A new VMware disk reads as zeros. Data that no signature names is still data: the first and
        # the last MiB, where partition tables and file system headers live, must be all zeros for the
        # disk to count as empty. cmp rc 1: a byte differs, or a disk smaller than a MiB ended first
        # (the plan tells them apart).
        zeros=[
            dict(run(module, ["cmp", "--bytes=1048576", f"--ignore-initial={offset}:0", device, "/dev/zero"], ok=(0, 1)), item=offset)
            for offset in zero_offsets(disk_size(lsblk["stdout"]))
        ],
        # blkid rc 2: nothing found; 8: several signatures (the plan refuses that).
        blkid={name: run(module, ["blkid", "-p", "-o", "export", name], ok=(0, 2, 8)) for name in partition_names(lsblk["stdout"])},
        # findmnt rc 1: nothing mounted there.
        findmnt=run(module, ["findmnt", "--json", "--mountpoint", path, "--output", "SOURCE,FSTYPE"], ok=(0, 1))["stdout"],
        fstab=read_text(FSTAB),
        swaps=read_text(SWAPS),
    )


def main():
    module = AnsibleModule(
        argument_spec=dict(
            disk_uuid=dict(type="str"),
            device=dict(type="str"),
            label=dict(type="str", default="asr-retention"),
            fstype=dict(type="str", choices=["ext4", "xfs"], default="ext4"),
            path=dict(type="str", default="/mnt/retention"),
        ),
        mutually_exclusive=[("disk_uuid", "device")],
        required_one_of=[("disk_uuid", "device")],
        supports_check_mode=True,
    )
    params = module.params
    path = params["path"].strip().rstrip("/") or "/"
    try:
        device, source = find_disk(params)
        plan = retention_plan(observe(module, device, source, path), label=params["label"], fstype=params["fstype"], path=path)
        module.exit_json(changed=False, device=device, source=source, name=name_disk(device, source), plan=plan)
    except LinuxRetentionError as exc:
        module.fail_json(msg=str(exc))


if __name__ == "__main__":
    main()
