"""Finding the Linux retention disk: the VMware disk UUID among the /dev/disk/by-id links, and the small
readers of lsblk's output the module uses before the plan (the plan itself: tests/unit/plugins/filter/
test_linux_retention_plan.py, through the filter that shares it)."""

from __future__ import annotations

import json

import pytest

from ansible_collections.siterecovery.master_target.plugins.module_utils._linux_retention import (
    LinuxRetentionError,
    disk_by_uuid,
    disk_size,
    name_disk,
    partition_names,
    retention_plan,
    uuid_digits,
    zero_offsets,
)

UUID = "6000C29a-b1b5-1bf8-40d7-a2e2c43fb182"
DIGITS = "6000c29ab1b51bf840d7a2e2c43fb182"
BY_ID = "/dev/disk/by-id"
MIB = 1024**2


@pytest.mark.parametrize("uuid", [UUID, UUID.lower(), DIGITS, DIGITS.upper(), f" {UUID} ", "6000C29a b1b5 1bf8 40d7 a2e2c43fb182"])
def test_uuid_digits_in_any_vmware_spelling(uuid):
    assert uuid_digits(uuid) == DIGITS


@pytest.mark.parametrize("uuid", ["not-a-uuid", DIGITS[:-1], DIGITS + "0", "6000C29a-b1b5-1bf8-40d7-a2e2c43fb18g", ""])
def test_uuid_digits_refuses_what_is_not_a_vmware_disk_uuid(uuid):
    with pytest.raises(LinuxRetentionError, match="is not a VMware disk UUID \\(32 hex digits"):
        uuid_digits(uuid)


def test_disk_by_uuid_follows_the_wwn_link_in_preference():
    links = {
        f"{BY_ID}/scsi-3{DIGITS}": "/dev/sdb",
        f"{BY_ID}/wwn-0x{DIGITS}": "/dev/sdb",
        f"{BY_ID}/wwn-0x{DIGITS}-part1": "/dev/sdb1",
        f"{BY_ID}/ata-VMware_Virtual_SATA_CDRW_Drive_00000000000000000001": "/dev/sr0",
    }
    assert disk_by_uuid(UUID, links) == ("/dev/sdb", f"{BY_ID}/wwn-0x{DIGITS}")
    del links[f"{BY_ID}/wwn-0x{DIGITS}"]
    assert disk_by_uuid(UUID, links) == ("/dev/sdb", f"{BY_ID}/scsi-3{DIGITS}")


def test_disk_by_uuid_ignores_case():
    assert disk_by_uuid(UUID, {f"{BY_ID}/WWN-0x{DIGITS.upper()}": "/dev/sdc"}) == ("/dev/sdc", f"{BY_ID}/WWN-0x{DIGITS.upper()}")


def test_no_disk_with_the_uuid_names_both_links_and_the_fixes():
    with pytest.raises(LinuxRetentionError) as error:
        disk_by_uuid(UUID, {f"{BY_ID}/wwn-0x6000c290000000000000000000000001": "/dev/sdb"})
    message = str(error.value)
    assert message.startswith(f"No disk of this host has the VMware disk UUID {UUID} (linux_retention_disk_uuid): neither ")
    assert f"/dev/disk/by-id/wwn-0x{DIGITS} nor /dev/disk/by-id/scsi-3{DIGITS} exists" in message
    assert "disk.EnableUUID=TRUE" in message and "vm_retention_disk" in message and "linux_retention_device" in message


def test_several_disks_with_the_uuid_are_refused():
    links = {f"{BY_ID}/wwn-0x{DIGITS}": "/dev/sdb", f"{BY_ID}/scsi-3{DIGITS}": "/dev/sdc"}
    with pytest.raises(LinuxRetentionError, match=f"Several devices carry the VMware disk UUID {UUID}: /dev/sdb, /dev/sdc \\(disks cloned"):
        disk_by_uuid(UUID, links)


def test_name_disk_adds_how_it_was_found_when_that_differs():
    assert name_disk("/dev/sdb", "/dev/sdb") == "/dev/sdb"
    assert name_disk("/dev/sdb", None) == "/dev/sdb"
    assert name_disk("/dev/sdb", f"{BY_ID}/wwn-0x{DIGITS}") == f"/dev/sdb ({BY_ID}/wwn-0x{DIGITS})"


def test_disk_size_and_partitions_from_lsblk():
    lsblk = json.dumps({"blockdevices": [{"name": "/dev/sdb", "type": "disk", "size": 2 * 1024**3, "children": [
        {"name": "/dev/sdb1", "type": "part", "size": 1024**3}, {"name": "/dev/mapper/vg-lv", "type": "lvm", "size": 1024**3}]}]})
    assert disk_size(lsblk) == 2 * 1024**3
    assert partition_names(lsblk) == ["/dev/sdb1"]
    assert (disk_size(""), partition_names("")) == (0, [])
    assert (disk_size('{"blockdevices": []}'), partition_names('{"blockdevices": []}')) == (0, [])
    with pytest.raises(LinuxRetentionError, match="the lsblk output is not JSON"):
        disk_size("lsblk: /dev/sdb: not a block device")


@pytest.mark.parametrize("size, offsets", [(2 * 1024**3, [0, 2 * 1024**3 - MIB]), (MIB, [0]), (512 * 1024, [0]), (0, [0]), (None, [0])])
def test_zero_offsets_are_the_first_and_the_last_mib(size, offsets):
    assert zero_offsets(size) == offsets


def test_plan_errors_are_of_the_shared_type():
    # The filter turns these into AnsibleFilterError, the module into its failure message.
    with pytest.raises(LinuxRetentionError, match="^fstype must be one of ext4, xfs, not 'vfat'$"):
        retention_plan(dict(device="/dev/sdb", lsblk=""), label="asr-retention", fstype="vfat", path="/mnt/retention")
