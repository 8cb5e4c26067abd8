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
  - The same decision as the module M(siterecovery.master_target.linux_retention_disk_info), which runs the
    commands in the guest itself and is what the role C(siterecovery.master_target.linux) uses. The filter
    is a pure function, for outputs gathered some other way; it runs on the controller.
seealso:
  - module: siterecovery.master_target.linux_retention_disk_info
    description: Finds the retention disk in the guest, reads it and returns this plan, in one read-only task.
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

import functools

from ansible.errors import AnsibleFilterError

from ansible_collections.siterecovery.master_target.plugins.module_utils import _linux_retention
# The pure parsers, importable from here as before (the unit tests and any user of the filter file).
from ansible_collections.siterecovery.master_target.plugins.module_utils._linux_retention import (  # noqa: F401 pylint: disable=unused-import
    FSTYPES,
    PARTITION_TABLES,
    parse_export,
    parse_fstab,
    parse_swaps,
)


def _filter_errors(function):
    """The shared function, raising Ansible's filter error (named after the filter) for input it cannot judge."""

    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        try:
            return function(*args, **kwargs)
        except _linux_retention.LinuxRetentionError as exc:
            raise AnsibleFilterError(f"linux_retention_plan: {exc}") from exc

    return wrapper


# The decision lives in module_utils/_linux_retention.py, shared with the module
# siterecovery.master_target.linux_retention_disk_info, which gathers the outputs in the guest itself.
linux_retention_plan = _filter_errors(_linux_retention.retention_plan)
first_nonzero_byte = _filter_errors(_linux_retention.first_nonzero_byte)


class FilterModule:
    def filters(self):
        return {"linux_retention_plan": linux_retention_plan}
