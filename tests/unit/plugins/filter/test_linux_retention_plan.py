"""The retention-disk decisions of the Linux role, on what lsblk, wipefs, blkid, findmnt, /proc/swaps
and /etc/fstab show (the outputs below have the shapes util-linux 2.38 prints)."""

from __future__ import annotations

import json

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.siterecovery.master_target.plugins.filter.linux_retention_plan import (
    FilterModule,
    first_nonzero_byte,
    linux_retention_plan,
    parse_export,
    parse_fstab,
    parse_swaps,
)

GIB = 1024**3
DISK = "/dev/sdb"
PART = "/dev/sdb1"
UUID = "113f3122-45db-47e1-8546-082eadcff230"
SWAPS_HEADER = "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n"


def lsblk(children=(), *, name=DISK, kind="disk", size=1024 * GIB, ro=False, mountpoint=None):
    device = dict(name=name, type=kind, size=size, ro=ro, mountpoint=mountpoint)
    if children:
        device["children"] = list(children)
    return json.dumps({"blockdevices": [device]})


def part(name=PART, size=1024 * GIB - 2 * 1024**2, mountpoint=None, kind="part"):
    return dict(name=name, type=kind, size=size, ro=False, mountpoint=mountpoint)


def wipefs(*signatures):
    # wipefs --json prints nothing at all when it finds no signature.
    return json.dumps({"signatures": list(signatures)}) if signatures else ""


def signature(kind, offset="0x438", label=None, uuid=None):
    return dict(device=DISK.rsplit("/", 1)[1], offset=offset, type=kind, uuid=uuid, label=label)


GPT = [signature("gpt", "0x200"), signature("gpt", "0xffffffffe00"), signature("PMBR", "0x1fe")]


def blkid_ours(fstype="ext4", label="asr-retention", partname="asr-retention", uuid=UUID):
    lines = [f"LABEL={label}", f"UUID={uuid}", "VERSION=1.0", f"TYPE={fstype}", "USAGE=filesystem"] if fstype else []
    lines += ["PART_ENTRY_SCHEME=gpt", f"PART_ENTRY_NAME={partname}", "PART_ENTRY_NUMBER=1"]
    return "\n".join(lines) + "\n"


MIB = 1024**2
LAST_MIB = 1024 * GIB - MIB


def cmp_same(offset):
    # cmp --bytes=1048576 --ignore-initial=<offset>:0 <disk> /dev/zero, registered in a loop over the offsets.
    return dict(item=offset, rc=0, stdout="", stderr="")


def cmp_differ(offset, byte, word="byte"):
    return dict(item=offset, rc=1, stdout=f"{DISK} /dev/zero differ: {word} {byte}, line 1\n", stderr="")


def observed(lsblk_out, wipefs_out="", blkid=None, findmnt="", swaps=SWAPS_HEADER, fstab="", source=None, zeros=None):
    # By default the first and the last MiB read as zeros, as on a new VMware disk.
    return dict(device=DISK, source=source or DISK, lsblk=lsblk_out, wipefs=wipefs_out, blkid=blkid or {},
                findmnt=findmnt, swaps=swaps, fstab=fstab, zeros=zeros if zeros is not None else [cmp_same(0), cmp_same(LAST_MIB)])


def plan(obs, fstype="ext4", label="asr-retention", path="/mnt/retention"):
    return linux_retention_plan(obs, label=label, fstype=fstype, path=path)


def findmnt(source, fstype="ext4"):
    return json.dumps({"filesystems": [{"source": source, "fstype": fstype}]})


# --- An empty disk ----------------------------------------------------------------------------------

def test_empty_disk_is_created():
    result = plan(observed(lsblk()))
    assert result["action"] == "create"
    assert result["error"] == ""
    assert result["device"] == DISK
    assert result["found"] == "nothing (empty)"


def test_empty_disk_without_the_zero_reads_is_created():
    # Callers that do not read the first and last MiB get the signature checks only.
    obs = observed(lsblk())
    del obs["zeros"]
    assert plan(obs)["action"] == "create"


def test_empty_disk_with_an_empty_signature_list_is_created():
    assert plan(observed(lsblk(), wipefs_out=json.dumps({"signatures": []})))["action"] == "create"


def test_empty_disk_refused_when_the_path_is_taken():
    result = plan(observed(lsblk(), findmnt=findmnt("/dev/sdc1")))
    assert result["action"] == "refuse"
    assert "/dev/sdc1 (ext4) is mounted at /mnt/retention" in result["error"]
    assert "linux_retention_path" in result["error"]


def test_empty_disk_refused_when_fstab_has_another_entry_for_the_path():
    fstab = "# comment\nUUID=aaaa /mnt/retention/ xfs defaults 0 0\n"
    result = plan(observed(lsblk(), fstab=fstab))
    assert result["action"] == "refuse"
    assert "/etc/fstab mounts UUID=aaaa (xfs) at /mnt/retention" in result["error"]


# --- Disks with data --------------------------------------------------------------------------------

def test_whole_disk_file_system_is_refused_naming_device_and_contents():
    data = signature("ext4", label="asr-data", uuid="e08ffeb4-806d-476c-b408-0bd137185bfa")
    result = plan(observed(lsblk(), wipefs(data), source="/dev/disk/by-id/wwn-0x6000c29b"))
    assert result["action"] == "refuse"
    error = result["error"]
    assert error.startswith("The retention disk /dev/sdb (/dev/disk/by-id/wwn-0x6000c29b, 1.0 TiB) holds data:")
    assert "a signature ext4 at offset 0x438, label 'asr-data', UUID e08ffeb4" in error
    assert "never formats a disk with data" in error
    assert "wipefs --all /dev/sdb" in error


@pytest.mark.parametrize(
    "zeros, offset",
    [
        ([cmp_differ(0, 1), cmp_same(LAST_MIB)], "0x0"),
        ([cmp_differ(0, 4097), cmp_same(LAST_MIB)], "0x1000"),
        ([cmp_same(0), cmp_differ(LAST_MIB, 513)], hex(LAST_MIB + 512)),
        ([cmp_differ(0, 17, word="char"), cmp_differ(LAST_MIB, 1)], "0x10"),
    ],
)
def test_unrecognised_data_in_the_first_or_last_mib_is_refused(zeros, offset):
    result = plan(observed(lsblk(), zeros=zeros, source="/dev/disk/by-id/wwn-0x6000c29b"))
    assert result["action"] == "refuse"
    error = result["error"]
    assert error.startswith("The retention disk /dev/sdb (/dev/disk/by-id/wwn-0x6000c29b, 1.0 TiB) holds data:")
    assert f"data that wipefs and blkid do not recognise (no signature), the first non-zero byte at offset {offset}." in error
    assert "never formats a disk with data" in error
    assert "first and last MiB" in error
    assert result["nonzero_offset"] == int(offset, 16)
    assert result["found"].startswith("data that wipefs and blkid do not recognise")


def test_signature_is_named_before_unrecognised_data():
    result = plan(observed(lsblk(), wipefs(signature("xfs", "0x0")), zeros=[cmp_differ(0, 1), cmp_same(LAST_MIB)]))
    assert result["action"] == "refuse"
    assert "a signature xfs at offset 0x0" in result["error"]
    assert "do not recognise" not in result["error"]


def test_non_zero_bytes_on_our_partitioned_disk_are_expected():
    # The GPT headers and the file system are ours: only an unpartitioned disk must read as zeros.
    blkid = {PART: blkid_ours()}
    zeros = [cmp_differ(0, 1), cmp_differ(LAST_MIB, 1)]
    assert plan(observed(lsblk([part()]), wipefs(*GPT), blkid, zeros=zeros))["action"] == "mount"


@pytest.mark.parametrize("kind", ["LVM2_member", "swap", "linux_raid_member", "crypto_LUKS", "vfat", "xfs"])
def test_any_signature_is_refused(kind):
    assert plan(observed(lsblk(), wipefs(signature(kind))))["action"] == "refuse"


def test_partition_table_without_partitions_is_refused():
    result = plan(observed(lsblk(), wipefs(*GPT)))
    assert result["action"] == "refuse"
    assert "a partition table gpt at offset 0x200" in result["error"]


def test_data_partition_is_refused():
    blkid = {PART: "UUID=1234\nTYPE=ext4\nLABEL=data\nPART_ENTRY_NAME=primary\n"}
    result = plan(observed(lsblk([part(mountpoint="/data")]), wipefs(*GPT), blkid))
    assert result["action"] == "refuse"
    assert "/dev/sdb1 (1024.0 GiB, ext4, label 'data', partition name 'primary', mounted at /data)" in result["error"]


def test_two_partitions_are_refused_even_if_one_is_ours():
    second = part("/dev/sdb2", size=GIB)
    blkid = {PART: blkid_ours(), "/dev/sdb2": ""}
    result = plan(observed(lsblk([part(), second]), wipefs(*GPT), blkid))
    assert result["action"] == "refuse"
    assert "/dev/sdb2 (1.0 GiB, no file system)" in result["error"]


def test_file_system_next_to_a_partition_table_is_refused():
    blkid = {PART: blkid_ours()}
    result = plan(observed(lsblk([part()]), wipefs(*GPT, signature("ext4", "0x438")), blkid))
    assert result["action"] == "refuse"


def test_ambivalent_partition_is_refused():
    blkid = {PART: {"rc": 8, "stdout": ""}}
    result = plan(observed(lsblk([part()]), wipefs(*GPT), blkid))
    assert result["action"] == "refuse"
    assert "more than one signature" in result["error"]


def test_foreign_file_system_with_our_partition_name_is_refused():
    blkid = {PART: blkid_ours(label="other")}
    assert plan(observed(lsblk([part()]), wipefs(*GPT), blkid))["action"] == "refuse"


# --- Disks in use -----------------------------------------------------------------------------------

@pytest.mark.parametrize("kind", ["lvm", "mpath", "crypt", "raid1", "dm"])
def test_disk_held_by_device_mapper_is_refused(kind):
    result = plan(observed(lsblk([part("/dev/mapper/holder", kind=kind)])))
    assert result["action"] == "refuse"
    assert f"in use by /dev/mapper/holder ({kind})" in result["error"]


def test_swap_is_refused():
    swaps = SWAPS_HEADER + "/dev/sdb                                partition\t1048572\t\t0\t\t-2\n"
    result = plan(observed(lsblk(), swaps=swaps))
    assert result["action"] == "refuse"
    assert "in use as swap (/dev/sdb)" in result["error"]


def test_mounted_whole_disk_is_refused():
    result = plan(observed(lsblk(mountpoint="/srv")))
    assert result["action"] == "refuse"
    assert "is mounted at /srv" in result["error"]


def test_partition_given_instead_of_disk_is_refused():
    result = plan(observed(lsblk(name=PART, kind="part")))
    assert result["action"] == "refuse"
    assert "is a part device, not a whole disk" in result["error"]


def test_read_only_disk_is_refused():
    assert "read-only" in plan(observed(lsblk(ro=True)))["error"]


def test_disk_of_size_zero_is_refused():
    assert "size 0" in plan(observed(lsblk(size=0)))["error"]


def test_loop_device_is_a_disk():
    obs = observed(lsblk(name="/dev/loop0", kind="loop"))
    obs["device"] = "/dev/loop0"
    assert plan(obs)["action"] == "create"


# --- Our retention disk -----------------------------------------------------------------------------

def test_our_partition_without_file_system_is_formatted():
    blkid = {PART: blkid_ours(fstype=None)}
    result = plan(observed(lsblk([part()]), wipefs(*GPT), blkid))
    assert result["action"] == "format"
    assert result["partition"] == PART


def test_our_mounted_file_system_is_kept():
    blkid = {PART: blkid_ours()}
    fstab = f"UUID={UUID} /mnt/retention ext4 defaults 0 2\n"
    result = plan(observed(lsblk([part(mountpoint="/mnt/retention")]), wipefs(*GPT), blkid, findmnt=findmnt(PART), fstab=fstab))
    assert result["action"] == "mount"
    assert result["partition"] == PART
    assert result["uuid"] == UUID
    assert result["error"] == ""


def test_our_unmounted_file_system_is_mounted():
    blkid = {PART: blkid_ours()}
    result = plan(observed(lsblk([part()]), wipefs(*GPT), blkid))
    assert result["action"] == "mount"


@pytest.mark.parametrize("source", [f"UUID={UUID.upper()}", 'LABEL="asr-retention"', "PARTLABEL=asr-retention", PART, f"/dev/disk/by-uuid/{UUID}"])
def test_fstab_entries_naming_our_file_system_are_ours(source):
    blkid = {PART: blkid_ours()}
    fstab = f"{source} /mnt/retention ext4 rw 0 0\n"
    assert plan(observed(lsblk([part()]), wipefs(*GPT), blkid, fstab=fstab))["action"] == "mount"


def test_our_file_system_refused_when_fstab_mounts_something_else_there():
    blkid = {PART: blkid_ours()}
    fstab = "UUID=0000 /mnt/retention ext4 defaults 0 2\n"
    result = plan(observed(lsblk([part()]), wipefs(*GPT), blkid, fstab=fstab))
    assert result["action"] == "refuse"
    assert "/etc/fstab mounts UUID=0000" in result["error"]


def test_our_file_system_mounted_elsewhere_is_refused():
    blkid = {PART: blkid_ours()}
    result = plan(observed(lsblk([part(mountpoint="/other")]), wipefs(*GPT), blkid))
    assert result["action"] == "refuse"


def test_our_file_system_of_another_type_is_never_reformatted():
    blkid = {PART: blkid_ours(fstype="xfs")}
    result = plan(observed(lsblk([part()]), wipefs(*GPT), blkid), fstype="ext4")
    assert result["action"] == "refuse"
    assert "holds the retention file system as xfs" in result["error"]
    assert "set linux_retention_fstype: xfs" in result["error"]


def test_path_with_trailing_slash_matches():
    blkid = {PART: blkid_ours()}
    result = plan(observed(lsblk([part(mountpoint="/mnt/retention")]), wipefs(*GPT), blkid, findmnt=findmnt(PART)), path="/mnt/retention/")
    assert result["action"] == "mount"


# --- Input errors and parsers -----------------------------------------------------------------------

def test_bad_json_is_an_error():
    with pytest.raises(AnsibleFilterError, match="lsblk output is not JSON"):
        plan(observed("lsblk: /dev/sdb: not a block device"))


def test_missing_device_is_an_error():
    with pytest.raises(AnsibleFilterError, match="must be a dict"):
        plan({"lsblk": lsblk()})


def test_unknown_fstype_is_an_error():
    with pytest.raises(AnsibleFilterError, match="fstype must be one of ext4, xfs"):
        plan(observed(lsblk()), fstype="vfat")


def test_device_not_listed_is_refused():
    assert "is not listed by lsblk" in plan(observed(json.dumps({"blockdevices": []})))["error"]


def test_parse_export():
    assert parse_export("TYPE=ext4\nLABEL=a=b\n\n") == {"TYPE": "ext4", "LABEL": "a=b"}
    assert parse_export({"rc": 8, "stdout": "TYPE=ext4"}) == {"TYPE": "ext4", "_ambivalent": "1"}
    assert parse_export({"rc": 2, "stdout": ""}) == {}


def test_first_nonzero_byte():
    assert first_nonzero_byte(None) is None
    assert first_nonzero_byte([]) is None
    assert first_nonzero_byte([cmp_same(0), cmp_same(LAST_MIB)]) is None
    # cmp counts bytes from 1, after the skipped ones.
    assert first_nonzero_byte([cmp_differ(0, 1)]) == 0
    assert first_nonzero_byte([cmp_same(0), cmp_differ(MIB * 63, 2)]) == MIB * 63 + 1
    # The smallest offset wins, whatever the order of the results.
    assert first_nonzero_byte([cmp_differ(MIB * 63, 1), cmp_differ(0, 7)]) == 6
    # item may come as a string from a template.
    assert first_nonzero_byte([cmp_differ(str(MIB), 1)]) == MIB


def test_first_nonzero_byte_end_of_disk_is_zeros():
    # A disk smaller than the range: cmp reaches its end (rc 1, "EOF on" on stderr) with every byte zero.
    eof = dict(item=0, rc=1, stdout="", stderr=f"cmp: EOF on {DISK} after byte 4096, in line 1\n")
    assert first_nonzero_byte([eof]) is None


def test_first_nonzero_byte_read_error_is_an_error():
    error = dict(item=0, rc=2, stdout="", stderr=f"cmp: {DISK}: Input/output error\n")
    with pytest.raises(AnsibleFilterError, match="cmp could not read the disk at offset 0 \\(rc 2\\): cmp: /dev/sdb: Input/output error"):
        first_nonzero_byte([error])


def test_parse_fstab():
    text = "# /etc/fstab\n\nUUID=1 / ext4 errors=remount-ro 0 1\n/dev/sdc1 /mnt/with\\040space xfs defaults # note\nbroken line\n"
    assert parse_fstab(text) == [
        dict(source="UUID=1", target="/", fstype="ext4"),
        dict(source="/dev/sdc1", target="/mnt/with space", fstype="xfs"),
    ]


def test_parse_swaps():
    assert parse_swaps(SWAPS_HEADER + "/swapfile file 1024 0 -2\n") == ["/swapfile"]
    assert parse_swaps("") == []


def test_filter_is_registered():
    assert FilterModule().filters()["linux_retention_plan"] is linux_retention_plan
