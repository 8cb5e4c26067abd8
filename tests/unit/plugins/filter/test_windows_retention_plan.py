"""The retention-volume decisions of the Windows role, on disks as community.windows.win_disk_facts reports them."""

from __future__ import annotations

import copy

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.siterecovery.master_target.plugins.filter.windows_retention_plan import (
    FilterModule,
    select_disk,
    windows_retention_plan,
)

GIB = 1024**3
MIB = 1024**2
UUID = "6000C29a-b1b5-1bf8-40d7-a2e2c43fb182"
MSR = "{e3c9e316-0b5c-4db8-817d-f92df00215ae}"
BASIC = "{ebd0a0a2-b9e5-4433-87c0-68b6b72699c7}"


def volume(fs="NTFS", label="", size=100 * GIB):
    return dict(type=fs, label=label, size=size, size_remaining=size, health_status="Healthy", drive_type="Fixed",
                allocation_unit_size=4096, object_id="\\\\?\\Volume{x}\\", path="\\\\?\\Volume{x}\\")


def partition(number, letter="\x00", size=100 * GIB, ptype="Basic", gpt_type=BASIC, volumes=None):
    return dict(number=number, size=size, type=ptype, gpt_type=gpt_type, drive_letter=letter, transition_state=1,
                offset=1048576, hidden=False, shadow_copy=False, volumes=volumes or [])


def msr(number=1):
    return partition(number, size=16 * 1024**2, ptype="Reserved", gpt_type=MSR)


def disk(number, *, size=100 * GIB, style="GPT", partitions=None, serial="", unique_id="", status="Online", **extra):
    partitions = partitions or []
    facts = dict(number=number, size=size, bus_type="SAS", friendly_name="VMware Virtual disk", partition_style=style,
                 partition_count=len(partitions), operational_status=status, sector_size=512, read_only=False,
                 bootable=False, system_disk=False, clustered=False, manufacturer="VMware", model="Virtual disk",
                 serial_number=serial, unique_id=unique_id, location="", path="", partitions=partitions)
    facts.update(extra)
    return facts


def system_disk():
    return disk(0, style="GPT", serial="6000c2911111111111111111111111111", unique_id="6000C2911111111111111111111111111",
                bootable=True, system_disk=True,
                partitions=[partition(1, size=100 * 1024**2, ptype="System", volumes=[volume("FAT32", size=100 * 1024**2)]),
                            msr(2), partition(3, "C", volumes=[volume("NTFS")])])


def new_disk(number=1, **extra):
    defaults = dict(size=1024 * GIB, style="RAW", serial="6000c29ab1b51bf840d7a2e2c43fb182", unique_id="6000C29AB1B51BF840D7A2E2C43FB182")
    defaults.update(extra)
    return disk(number, **defaults)


def retention_volume(letter="R", fs="NTFS", label="Retention", size=1024 * GIB):
    return partition(2, letter, size=size, volumes=[volume(fs, label, size)])


def sectors(number=1, size=1024 * GIB, head=None, tail=None, **extra):
    """What the role's reader returns for the first and last MiB of a disk; head/tail: first non-zero offset."""
    regions = [
        dict(offset=0, length=min(MIB, size), first_nonzero=-1 if head is None else head, sample="" if head is None else "EB-52-90-4E"),
        dict(offset=size - min(MIB, size), length=min(MIB, size), first_nonzero=tail, sample="" if tail is None else "45-46-49-20"),
    ]
    result = dict(number=number, size=size, sector_size=512, regions=regions, error="")
    result.update(extra)
    return result


def plan(disks, **kwargs):
    kwargs.setdefault("disk_uuid", UUID)
    return windows_retention_plan(copy.deepcopy(disks), **kwargs)


def plan_read(disks, **kwargs):
    """The role's two steps: plan, and when the plan asks for them, read the disk's ends and plan again."""
    first = plan(disks, **kwargs)
    if first["action"] != "read":
        return first
    kwargs.setdefault("disk_sectors", sectors(first["disk_number"]))
    return plan(disks, **kwargs)


def test_filter_is_registered():
    assert FilterModule().filters()["windows_retention_plan"] is windows_retention_plan


@pytest.mark.parametrize(
    "serial, unique_id",
    [
        ("6000c29ab1b51bf840d7a2e2c43fb182", ""),  # SerialNumber, as Windows shows it with disk.EnableUUID=TRUE
        ("", "6000C29AB1B51BF840D7A2E2C43FB182"),  # UniqueId only
        ("", "60:00:C2:9A:B1:B5:1B:F8:40:D7:A2:E2:C4:3F:B1:82"),  # separators are ignored
        ("", "naa.6000C29AB1B51BF840D7A2E2C43FB182"),  # a prefixed unique id
    ],
)
def test_select_by_uuid_matches_serial_or_unique_id(serial, unique_id):
    disks = [system_disk(), new_disk(serial=serial, unique_id=unique_id)]
    selected, error = select_disk(disks, disk_uuid=UUID.upper())
    assert error is None and selected["number"] == 1


def test_select_by_uuid_not_found_lists_disks_and_hints_enable_uuid():
    disks = [disk(0, serial="", bootable=True, system_disk=True), new_disk(serial="", unique_id="{1234}")]
    result = plan(disks)
    assert result["action"] == "refuse"
    assert "windows_retention_disk_uuid" in result["error"]
    assert "disk.EnableUUID is probably not TRUE" in result["error"]
    assert "disk 1 (1.0 TiB" in result["error"]


def test_select_by_uuid_refuses_duplicates():
    result = plan([new_disk(1), new_disk(2)])
    assert "Disks 1, 2 all carry the uuid" in result["error"]


def test_select_by_uuid_refuses_malformed_uuid():
    assert "is not a VMware disk UUID" in plan([new_disk()], disk_uuid="not-a-uuid")["error"]


def test_select_by_number():
    result = plan([system_disk(), new_disk(1), new_disk(2, serial="x", unique_id="y")], disk_uuid=None, disk_number=2)
    assert result["error"] == "" and result["disk_number"] == 2
    missing = plan([system_disk()], disk_uuid=None, disk_number=5)
    assert "no disk number 5 (windows_retention_disk_number)" in missing["error"]


def test_nothing_selected():
    assert "windows_retention_disk_uuid or windows_retention_disk_number" in plan([new_disk()], disk_uuid=None)["error"]


def test_raw_disk_is_read_first_then_initialized_partitioned_and_formatted():
    disks = [system_disk(), new_disk()]
    first = plan(disks)
    # A RAW disk is only a candidate: the plan asks for its first and last MiB before it decides.
    assert (first["error"], first["action"], first["disk_number"]) == ("", "read", 1)
    result = plan(disks, disk_sectors=sectors(1))
    assert result == dict(
        result,
        error="",
        action="create",
        initialize=True,
        partition_style="gpt",
        disk_number=1,
    )
    assert "no partitions" in result["before"]
    assert result["after"].endswith(
        "a GPT partition table and one partition on the whole disk, R: with an NTFS file system labelled 'Retention'"
    )
    assert "a ReFS file system labelled 'ASR'" in plan(disks, disk_sectors=sectors(1), filesystem="refs", label="ASR")["after"]


def test_sectors_of_another_disk_are_not_taken_for_this_one():
    assert plan([system_disk(), new_disk()], disk_sectors=sectors(number=2))["action"] == "read"


@pytest.mark.parametrize(
    "head, tail, offset, place",
    [
        (1024, None, 1024, "in the first MiB"),  # an ext4 superblock
        (0, 1024 * GIB - 512, 0, "in the first MiB"),  # a boot sector, and a backup GPT header at the end
        (None, 1024 * GIB - 4096, 1024 * GIB - 4096, "in the last MiB, 4096 bytes before the end"),  # RAID metadata
    ],
)
def test_raw_disk_with_non_zero_bytes_at_either_end_holds_data(head, tail, offset, place):
    result = plan([system_disk(), new_disk()], disk_sectors=sectors(1, head=head, tail=tail))
    assert result["action"] == "refuse"
    error = result["error"]
    assert error.startswith("disk 1 (1.0 TiB, SAS, serial 6000c29ab1b51bf840d7a2e2c43fb182, RAW, Online) holds data:")
    assert f"the byte at offset {offset} ({place}) is not zero" in error
    assert "the retention volume needs a new, empty disk" in error
    assert "select disk 1, then clean all" in error


def test_raw_disk_that_could_not_be_read_is_refused():
    unreadable = plan([new_disk()], disk_sectors=dict(number=1, error="Access is denied"))
    assert "could not read its first and last MiB to make sure it is empty (Access is denied)" in unreadable["error"]
    short = sectors(1)
    short["regions"][1]["length"] = 512
    result = plan([new_disk()], disk_sectors=short)
    assert result["action"] == "refuse"
    assert f"could not read bytes {1024 * GIB - MIB} to {1024 * GIB - 1}" in result["error"]
    assert "read: 1048576 bytes at offset 0, 512 bytes at offset" in result["error"]
    assert "could not read bytes 0 to" in plan([new_disk()], disk_sectors=dict(number=1, regions=[]))["error"]


def test_small_raw_disk_is_read_whole():
    small = sectors(1, size=MIB // 2)
    assert [region["offset"] for region in small["regions"]] == [0, 0]
    assert plan([new_disk(size=MIB // 2)], disk_sectors=small)["action"] == "create"


@pytest.mark.parametrize(
    "style, partitions, table",
    [
        ("GPT", [msr(1)], "a GPT partition table with only the Microsoft Reserved partition"),
        ("GPT", [], "a GPT partition table and no partitions"),
        ("MBR", [], "an MBR partition table and no partitions"),
    ],
)
def test_initialized_disk_without_data_partitions_is_not_raw_and_refused(style, partitions, table):
    # A partition table may hide the data of deleted partitions: only a RAW disk counts as empty.
    result = plan([system_disk(), new_disk(style=style, partitions=partitions)], disk_sectors=sectors(1))
    assert result["action"] == "refuse"
    assert result["error"].startswith(f"disk 1 (1.0 TiB, SAS, serial 6000c29ab1b51bf840d7a2e2c43fb182, {style}, Online) is not RAW: it has {table}")
    assert "Clear-Disk -Number 1 -RemoveData -RemoveOEM -Confirm:$false" in result["error"]


def test_numeric_enumerations_from_windows():
    result = plan_read([new_disk(style=0, status=53264)])
    assert (result["action"], result["initialize"]) == ("create", True)
    offline = plan([new_disk(style=0, status=53267)])
    assert "is offline" in offline["error"]


def test_our_volume_is_left_alone():
    existing = new_disk(style="GPT", partitions=[msr(1), retention_volume()])
    result = plan([system_disk(), existing])
    assert result["error"] == "" and result["action"] == "none"
    assert result["before"] == result["after"]
    # The label compares without regard to case, the file system too.
    assert plan([existing], label="RETENTION")["action"] == "none"
    refs = new_disk(style="GPT", partitions=[msr(1), retention_volume(fs="ReFS")])
    assert plan([refs], filesystem="refs")["action"] == "none"


def test_our_volume_with_another_label_or_fs_is_refused_never_reformatted():
    existing = new_disk(style="GPT", partitions=[msr(1), retention_volume(label="Data")])
    result = plan([existing])
    assert result["action"] == "refuse"
    assert "never reformats" in result["error"] and "'Data'" in result["error"]
    refs = plan([new_disk(style="GPT", partitions=[msr(1), retention_volume()])], filesystem="refs")
    assert "never reformats" in refs["error"]


def test_unformatted_partition_of_a_stopped_run_is_formatted():
    half = new_disk(style="GPT", partitions=[msr(1), partition(2, "R", size=1024 * GIB, volumes=[volume("", "", 0)])])
    result = plan([half])
    assert (result["action"], result["partition_number"]) == ("format", 2)
    assert result["after"].endswith("partition 2 on R: formatted with an NTFS file system labelled 'Retention'")
    no_volume = new_disk(style="GPT", partitions=[msr(1), partition(2, "R", size=1024 * GIB)])
    assert plan([no_volume])["action"] == "format"


def test_our_volume_without_letter_gets_it_back_and_with_another_letter_is_refused():
    lost = new_disk(style="GPT", partitions=[msr(1), retention_volume(letter="\x00")])
    result = plan([lost])
    assert (result["action"], result["partition_number"]) == ("letter", 2)
    moved = plan([new_disk(style="GPT", partitions=[msr(1), retention_volume(letter="S")])])
    assert "windows_retention_drive_letter: S" in moved["error"]


def test_disk_with_data_is_refused():
    data = new_disk(style="GPT", partitions=[msr(1), partition(2, "E", volumes=[volume("NTFS", "Backups")])])
    result = plan([system_disk(), data])
    assert result["action"] == "refuse"
    assert "already holds data partitions" in result["error"]
    assert "partition 2 (E:, 100.0 GiB, Basic, NTFS 'Backups')" in result["error"]
    assert "Clear-Disk -Number 1" in result["error"]


def test_system_disk_is_refused():
    result = plan([system_disk()], disk_uuid=None, disk_number=0)
    assert "system or boot disk" in result["error"]


def test_install_drive_disk_is_refused():
    install = new_disk(style="GPT", partitions=[msr(1), partition(2, "D", volumes=[volume("NTFS", "ASR")])])
    result = plan([system_disk(), install], install_drive="D:")
    assert "install (cache) volume (windows_install_drive)" in result["error"]


def test_zero_size_and_clustered_disks_are_refused():
    assert "size zero" in plan([new_disk(size=0)])["error"]
    assert "clustered" in plan([new_disk(clustered=True)])["error"]


def test_letter_used_on_another_disk_is_refused():
    other = disk(2, partitions=[partition(1, "R", volumes=[volume("NTFS", "Other")])])
    result = plan([system_disk(), new_disk(), other])
    assert "R: (windows_retention_drive_letter) is already used by partition 1" in result["error"]
    assert "on disk 2" in result["error"]


def test_letter_held_by_a_cdrom_drive_is_refused():
    result = plan([system_disk(), new_disk()], letter_holder={"drive_type": 5, "volume_name": ""})
    assert "held by a CD-ROM drive" in result["error"]
    # The letter held by our own volume is fine.
    ours = new_disk(style="GPT", partitions=[msr(1), retention_volume()])
    assert plan([ours], letter_holder={"drive_type": 3})["action"] == "none"


@pytest.mark.parametrize("read_only, status, word", [(False, "Offline", "offline"), (True, "Online", "read-only")])
def test_offline_or_read_only_raw_disk(read_only, status, word):
    disks = [new_disk(read_only=read_only, status=status)]
    refused = plan(disks)
    assert f"is {word}" in refused["error"]
    assert "Set-Disk -Number 1 -IsOffline $false" in refused["error"]
    assert "windows_retention_bring_online: true" in refused["error"]
    allowed = plan_read(disks, bring_online=True)
    assert (allowed["action"], allowed["initialize"]) == ("create", True)


def test_offline_initialized_disk_is_refused_even_with_bring_online():
    result = plan([new_disk(style="GPT", partitions=[msr(1)], status="Offline")], bring_online=True)
    assert "is not RAW" in result["error"]


def test_offline_disk_with_unlisted_partitions_is_refused():
    hidden = new_disk(style="GPT", status="Offline")
    hidden["partition_count"] = 3
    result = plan([hidden], bring_online=True)
    assert "3 partition(s) that Windows does not list" in result["error"]


def test_failed_disk_is_refused():
    assert "not usable (operational status No Media)" in plan([new_disk(status="No Media")])["error"]


def test_bad_filter_input_raises():
    with pytest.raises(AnsibleFilterError):
        windows_retention_plan({"not": "a list"})
    with pytest.raises(AnsibleFilterError):
        windows_retention_plan([], drive_letter="1")
    with pytest.raises(AnsibleFilterError):
        windows_retention_plan([], filesystem="fat32")
