"""linux_retention_disk_info: finding the disk, the read-only commands it runs and the plan it returns,
with the guest's /dev/disk/by-id, /etc/fstab and /proc/swaps in a temporary directory and the commands
answered by a stand-in (the real guest: the linux role's molecule scenario)."""

from __future__ import annotations

import json

import pytest
from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.testing import patch_module_args

from ansible_collections.siterecovery.master_target.plugins.filter.linux_retention_plan import linux_retention_plan
from ansible_collections.siterecovery.master_target.plugins.modules import linux_retention_disk_info as module_under_test

GIB = 1024**3
MIB = 1024**2
UUID = "6000C29a-b1b5-1bf8-40d7-a2e2c43fb182"
DIGITS = "6000c29ab1b51bf840d7a2e2c43fb182"
SWAPS_HEADER = "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n"
READ_ONLY_COMMANDS = {"lsblk", "wipefs", "cmp", "blkid", "findmnt"}


class Guest:
    """The guest's disk as the tools show it; answers the module's commands and records them."""

    def __init__(self, tmp_path, monkeypatch):
        self.dev = tmp_path / "dev"
        self.by_id = self.dev / "disk" / "by-id"
        self.by_id.mkdir(parents=True)
        self.disk = self.dev / "sdb"
        self.disk.write_bytes(b"")
        self.size = 2 * GIB
        self.children = []
        self.wipefs = ""
        self.blkid = {}
        self.nonzero = {}  # cmp offset -> the first differing byte (cmp counts from 1)
        self.cmp_error = None
        self.findmnt = ""
        self.lsblk_error = None
        self.calls = []
        fstab, swaps = tmp_path / "fstab", tmp_path / "swaps"
        fstab.write_text("UUID=0a1b2c3d / ext4 errors=remount-ro 0 1\n")
        swaps.write_text(SWAPS_HEADER)
        self.fstab = fstab
        monkeypatch.setattr(module_under_test, "BY_ID", str(self.by_id))
        monkeypatch.setattr(module_under_test, "FSTAB", str(fstab))
        monkeypatch.setattr(module_under_test, "SWAPS", str(swaps))
        monkeypatch.setattr(AnsibleModule, "run_command", lambda _module, argv, **kwargs: self.run_command(argv, **kwargs))

    def link(self, name, target=None):
        (self.by_id / name).symlink_to(target or self.disk)

    def lsblk(self):
        device = dict(name=str(self.disk), type="disk", size=self.size, ro=False, mountpoint=None)
        if self.children:
            device["children"] = self.children
        return json.dumps({"blockdevices": [device]})

    def run_command(self, argv, **kwargs):
        self.calls.append((list(argv), kwargs.get("environ_update")))
        command = argv[0]
        if command == "lsblk":
            return (32, "", self.lsblk_error) if self.lsblk_error else (0, self.lsblk(), "")
        if command == "wipefs":
            return 0, self.wipefs, ""
        if command == "cmp":
            offset = int(argv[2].split("=", 1)[1].split(":", 1)[0])
            if self.cmp_error:
                return 2, "", self.cmp_error
            if offset in self.nonzero:
                return 1, f"{argv[3]} /dev/zero differ: byte {self.nonzero[offset]}, line 1\n", ""
            return 0, "", ""
        if command == "blkid":
            return self.blkid[argv[-1]]
        if command == "findmnt":
            return (0, self.findmnt, "") if self.findmnt else (1, "", "")
        raise AssertionError(f"the module ran {argv}")

    def commands(self, name):
        return [argv for argv, _env in self.calls if argv[0] == name]


@pytest.fixture()
def guest(tmp_path, monkeypatch):
    return Guest(tmp_path, monkeypatch)


def run(capsys, check=False, **args):
    with patch_module_args(dict(args, _ansible_check_mode=check)), pytest.raises(SystemExit):
        module_under_test.main()
    return json.loads(capsys.readouterr().out)


def test_empty_disk_found_by_uuid_gets_create_with_only_reading_commands(guest, capsys):
    guest.link(f"wwn-0x{DIGITS}")
    guest.link(f"scsi-3{DIGITS}")
    guest.link("wwn-0x6000c290000000000000000000000001", guest.dev / "sdc")
    result = run(capsys, disk_uuid=UUID)
    assert not result.get("failed"), result
    assert result["changed"] is False
    link = str(guest.by_id / f"wwn-0x{DIGITS}")
    assert (result["device"], result["source"], result["name"]) == (str(guest.disk), link, f"{guest.disk} ({link})")
    assert result["plan"] == dict(action="create", error="", device=str(guest.disk), partition=None, uuid=None,
                                  found="nothing (empty)", nonzero_offset=None)
    # Every command only reads, in the C locale (cmp's "differ: byte N" is what the plan reads).
    assert {argv[0] for argv, _env in guest.calls} == READ_ONLY_COMMANDS - {"blkid"}
    assert all(env["LC_ALL"] == "C" for _argv, env in guest.calls)
    assert guest.commands("wipefs") == [["wipefs", "--json", str(guest.disk)]]
    assert guest.commands("cmp") == [["cmp", "--bytes=1048576", f"--ignore-initial={offset}:0", str(guest.disk), "/dev/zero"]
                                     for offset in (0, 2 * GIB - MIB)]
    assert guest.commands("findmnt") == [["findmnt", "--json", "--mountpoint", "/mnt/retention", "--output", "SOURCE,FSTYPE"]]


def test_check_mode_reads_and_answers_the_same(guest, capsys):
    guest.link(f"scsi-3{DIGITS}")
    result = run(capsys, check=True, disk_uuid=UUID.lower())
    assert result["changed"] is False and result["plan"]["action"] == "create", result
    assert result["source"] == str(guest.by_id / f"scsi-3{DIGITS}")


def test_the_plan_is_the_filters_on_what_the_guest_showed(guest, capsys):
    # Our file system, mounted at the path and in fstab: the module's plan is the filter's, field for field.
    part = str(guest.dev / "sdb1")
    guest.children = [dict(name=part, type="part", size=2 * GIB - 2 * MIB, ro=False, mountpoint="/mnt/retention")]
    guest.wipefs = json.dumps({"signatures": [dict(device="sdb", offset="0x200", type="gpt")]})
    export = "LABEL=asr-retain\nUUID=113f3122-45db-47e1-8546-082eadcff230\nTYPE=xfs\nPART_ENTRY_NAME=asr-retain\n"
    guest.blkid = {part: (0, export, "")}
    guest.findmnt = json.dumps({"filesystems": [{"source": part, "fstype": "xfs"}]})
    guest.nonzero = {0: 511, 2 * GIB - MIB: 1}
    result = run(capsys, device=str(guest.disk), fstype="xfs", label="asr-retain", path="/mnt/retention/")
    assert result["plan"]["action"] == "mount" and result["plan"]["partition"] == part, result
    assert guest.commands("blkid") == [["blkid", "-p", "-o", "export", part]]
    assert guest.commands("findmnt")[0][3] == "/mnt/retention"
    observed = dict(device=str(guest.disk), source=str(guest.disk), lsblk=guest.lsblk(), wipefs=guest.wipefs,
                    blkid={part: dict(rc=0, stdout=export)}, findmnt=guest.findmnt, fstab=guest.fstab.read_text(), swaps=SWAPS_HEADER,
                    zeros=[dict(item=0, rc=1, stdout="x /dev/zero differ: byte 511, line 1"), dict(item=2 * GIB - MIB, rc=1, stdout="differ: byte 1")])
    assert result["plan"] == linux_retention_plan(observed, label="asr-retain", fstype="xfs", path="/mnt/retention")


def test_a_disk_with_unrecognised_data_is_a_refusal_not_a_failure(guest, capsys):
    guest.nonzero = {2 * GIB - MIB: 17}
    result = run(capsys, device=str(guest.disk))
    assert not result.get("failed"), result
    plan = result["plan"]
    assert plan["action"] == "refuse" and plan["nonzero_offset"] == 2 * GIB - MIB + 16
    assert plan["error"].startswith(f"The retention disk {guest.disk} (2.0 GiB) holds data: data that wipefs and blkid do not recognise")


def test_several_signatures_on_the_partition_are_refused(guest, capsys):
    part = str(guest.dev / "sdb1")
    guest.children = [dict(name=part, type="part", size=GIB, ro=False, mountpoint=None)]
    guest.blkid = {part: (8, "", "")}
    result = run(capsys, device=str(guest.disk))
    assert result["plan"]["action"] == "refuse" and "more than one signature" in result["plan"]["error"], result


def test_a_link_given_as_the_device_is_resolved(guest, capsys):
    guest.link(f"wwn-0x{DIGITS}")
    given = str(guest.by_id / f"wwn-0x{DIGITS}")
    result = run(capsys, device=f" {given} ")
    assert (result["device"], result["source"]) == (str(guest.disk), given), result
    assert guest.commands("lsblk")[0][-1] == str(guest.disk)
    assert result["plan"]["action"] == "create"


@pytest.mark.parametrize(
    "links, message",
    [
        ([], f"No disk of this host has the VMware disk UUID {UUID} (linux_retention_disk_uuid): neither /dev/disk/by-id/wwn-0x{DIGITS} nor"),
        ([f"wwn-0x{DIGITS}", f"scsi-3{DIGITS}"], f"Several devices carry the VMware disk UUID {UUID}: "),
    ],
    ids=["no-disk", "several-disks"],
)
def test_uuid_not_found_once_fails_before_any_command(guest, capsys, links, message):
    for number, name in enumerate(links):
        guest.link(name, guest.dev / f"sd{'bc'[number]}")
    result = run(capsys, disk_uuid=UUID)
    assert result["failed"] and result["msg"].startswith(message), result
    assert guest.calls == []


def test_missing_device_fails_before_any_command(guest, capsys):
    missing = str(guest.dev / "sdz")
    result = run(capsys, device=missing)
    assert result["failed"], result
    assert result["msg"] == (f"linux_retention_device {missing} does not exist on this host: give the path of the retention disk "
                             "(lsblk lists the disks), or its VMware disk UUID in linux_retention_disk_uuid.")
    assert guest.calls == []


def test_not_a_block_device_fails_with_lsblks_words(guest, capsys):
    guest.lsblk_error = f"lsblk: {guest.disk}: not a block device\n"
    guest.link(f"wwn-0x{DIGITS}")
    result = run(capsys, disk_uuid=UUID)
    assert result["failed"], result
    assert result["msg"] == (f"The retention disk {guest.disk} ({guest.by_id}/wwn-0x{DIGITS}) is not a block device that lsblk can read: "
                             f"lsblk: {guest.disk}: not a block device. Give the path of a disk.")
    assert [argv[0] for argv, _env in guest.calls] == ["lsblk"]


def test_an_unreadable_disk_fails(guest, capsys):
    guest.cmp_error = f"cmp: {guest.disk}: Input/output error"
    result = run(capsys, device=str(guest.disk))
    assert result["failed"], result
    assert result["msg"] == f"cmp --bytes=1048576 --ignore-initial=0:0 {guest.disk} /dev/zero failed (rc 2): cmp: {guest.disk}: Input/output error"


@pytest.mark.parametrize(
    "args, message",
    [
        (dict(), "one of the following is required: disk_uuid, device"),
        (dict(disk_uuid=UUID, device="/dev/sdb"), "parameters are mutually exclusive: disk_uuid|device"),
        (dict(disk_uuid="not-a-uuid"), "linux_retention_disk_uuid 'not-a-uuid' is not a VMware disk UUID"),
        (dict(device="/dev/sdb", fstype="vfat"), "value of fstype must be one of: ext4, xfs, got: vfat"),
    ],
    ids=["no-disk", "both", "bad-uuid", "fat"],
)
def test_arguments_are_checked_before_any_command(guest, capsys, args, message):
    result = run(capsys, **args)
    assert result["failed"] and message in result["msg"], result
    assert guest.calls == []
