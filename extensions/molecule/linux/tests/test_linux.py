"""The state the linux role left on the test master target, read over SSH (testinfra), and the cases
it must refuse, run through ansible-playbook against the same inventory.

Run by molecule (verifier testinfra) after converge and idempotence: bash scripts/molecule test -s linux.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import tempfile
from pathlib import Path
from typing import NamedTuple

import pytest

RETENTION_PATH = "/mnt/retention"
LABEL = "asr-retention"
SCENARIO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def guest(host):
    """The inventory variables create.yml wrote for the guest (its disks, addresses, checksums)."""
    return host.ansible.get_variables()


def partition_of(device):
    # Loop devices name their partitions <device>p<n> (like nvme), sd disks <device><n>.
    return f"{device}p1" if device[-1].isdigit() else f"{device}1"


def blkid(host, device):
    result = host.run(f"blkid -p -o export {device}")
    return dict(line.split("=", 1) for line in result.stdout.splitlines() if "=" in line)


class RoleRun(NamedTuple):
    rc: int
    messages: list  # the failed tasks' messages in order: the last is the failure that stopped the run
    output: str
    stats: dict
    results: dict  # task name -> the host's result (the last one of that name)


def run_role(guest, *, check=False, **role_vars):
    """Run the role through role.yml with these variables (with --check --diff when check)."""
    inventory = Path(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"]) / "inventory"
    env = dict(os.environ, ANSIBLE_STDOUT_CALLBACK="ansible.posix.json", ANSIBLE_NOCOLOR="1")
    with tempfile.NamedTemporaryFile("w", suffix=".json") as extra:
        json.dump(role_vars, extra)
        extra.flush()
        proc = subprocess.run(
            ["ansible-playbook", "-i", str(inventory), "-e", f"@{extra.name}", str(SCENARIO / "role.yml")]
            + (["--check", "--diff"] if check else []),
            env=env, capture_output=True, text=True, timeout=300, check=False,
        )
    try:
        report = json.loads(proc.stdout)
    except ValueError:
        return RoleRun(proc.returncode, [], proc.stdout + proc.stderr, {}, {})
    results = [
        # Role tasks are named "<role> : <name>".
        (task["task"]["name"].split(" : ", 1)[-1], result)
        for play in report.get("plays", [])
        for task in play.get("tasks", [])
        for result in task.get("hosts", {}).values()
    ]
    messages = [result.get("msg", "") for _name, result in results if result.get("failed")]
    stats = report.get("stats", {}).get("asr-mt-linux", {})
    return RoleRun(proc.returncode, messages, proc.stdout[-4000:] + proc.stderr, stats, dict(results))


def sha256(host, *paths):
    return host.check_output(f"sha256sum {' '.join(paths)}")


def default_kernel(host):
    # Debian keeps the default boot kernel's link in / (/vmlinuz), Ubuntu in /boot.
    return host.check_output("readlink -f /vmlinuz").rsplit("/vmlinuz-", 1)[1]


# --- The host --------------------------------------------------------------------------------------

def test_the_host_is_a_real_debian_reached_over_ssh(host, guest):
    assert host.system_info.distribution == "debian"
    assert host.check_output("hostname") == "asr-mt-linux"
    # Reached at its own veth address, inside its network namespace.
    assert guest["ansible_host"] in host.check_output("ip -4 -o addr show")
    assert host.check_output("echo $SSH_CONNECTION").split()[2] == guest["ansible_host"]


# --- open-vm-tools and the packages ----------------------------------------------------------------

@pytest.mark.parametrize("package", ["open-vm-tools", "multipath-tools", "lsscsi", "python3-pyasn1", "lvm2", "kpartx", "parted", "e2fsprogs"])
def test_package_installed(host, package):
    assert host.package(package).is_installed


def test_open_vm_tools_not_started_without_systemd(host):
    # The test host has no systemd as PID 1: the role must not have started vmtoolsd.
    assert not host.file("/run/systemd/system").exists
    assert host.run("pgrep -x vmtoolsd").rc == 1


# --- OS settings -----------------------------------------------------------------------------------

def test_automatic_updates_are_off(host):
    dump = host.check_output("apt-config dump APT::Periodic")
    for key in ("Enable", "Update-Package-Lists", "Download-Upgradeable-Packages", "Unattended-Upgrade"):
        assert f'APT::Periodic::{key} "0";' in dump


def test_hold_is_set(host):
    holds = host.check_output("apt-mark showhold").split()
    # The installed kernel's meta package, and what converge.yml adds (linux_kernel_hold_extra_packages).
    assert "linux-image-amd64" in holds
    assert "multipath-tools" in holds


# --- The LSI Logic driver ---------------------------------------------------------------------------

def test_running_kernel_is_not_installed_here(host):
    # The test host runs the machine's kernel: the role must have prepared the default boot kernel only.
    running = host.check_output("uname -r")
    assert running != default_kernel(host)
    assert not host.file(f"/lib/modules/{running}").exists


def test_lsi_module_is_in_the_default_kernels_initramfs(host):
    kernel = default_kernel(host)
    listing = host.check_output(f"lsinitramfs /boot/initrd.img-{kernel}").splitlines()
    assert any(re.search(r"/mptspi\.ko(\.(xz|zst|gz))?$", path) for path in listing), listing
    # Its dependencies came with it (modprobe loads them from the initramfs).
    assert any(path.endswith("/scsi_transport_spi.ko") or "/scsi_transport_spi.ko." in path for path in listing)


def test_lsi_module_is_named_for_initramfs_tools(host):
    block = host.file("/etc/initramfs-tools/modules").content_string.split("# BEGIN siterecovery.master_target", 1)[1]
    assert block.splitlines()[1] == "mptspi"


def test_lsi_driver_alone_changes_nothing_and_publishes_the_fact(guest):
    # As a play that prepares only the driver runs it: include_role with tasks_from: lsi_driver.
    run = run_role(guest, srmt_tasks_from="lsi_driver", linux_lsi_driver_type="lsilogic")
    assert run.rc == 0, run.output
    assert run.stats["changed"] == 0, run.output
    fact = run.results["Show the LSI Logic driver fact"]["linux_lsi_driver"]
    assert fact["type"] == "lsilogic" and fact["module"] == "mptspi" and fact["ready"] is True
    assert fact["check_mode"] is False and len(fact["kernels"]) == 1
    note = run.results["Note that the running kernel is not installed in this system"]["msg"]
    assert "is not installed in this system" in note and "only the default boot kernel" in note


def test_lsi_driver_alone_needs_its_type(guest):
    run = run_role(guest, srmt_tasks_from="lsi_driver")
    assert run.rc != 0, run.output
    assert any("linux_lsi_driver_type" in m and "lsilogic, lsilogicsas" in m for m in run.messages), run.output


def test_host_name_resolves_to_the_nic_address(host, guest):
    assert host.check_output("getent ahostsv4 asr-mt-linux").splitlines()[0].split()[0] == guest["ansible_host"]
    assert "127.0.1.1" not in host.file("/etc/hosts").content_string


# --- The retention volume --------------------------------------------------------------------------

def test_retention_disk_has_one_gpt_partition_with_ext4(host, guest):
    device = guest["srmt_retention_device"]
    children = host.check_output(f"lsblk --noheadings --list --output NAME,TYPE {device}").splitlines()
    assert [line.split()[1] for line in children] == ["loop", "part"]
    disk = blkid(host, device)
    assert disk.get("PTTYPE") == "gpt"
    part = blkid(host, partition_of(device))
    assert part["TYPE"] == "ext4"
    assert part["LABEL"] == LABEL
    assert part["PART_ENTRY_NAME"] == LABEL


def test_found_by_the_vmware_uuid(host, guest):
    digits = guest["srmt_retention_disk_uuid"].replace("-", "").lower()
    link = host.file(f"/dev/disk/by-id/wwn-0x{digits}")
    assert link.is_symlink
    assert host.check_output(f"readlink -f {link.path}") == guest["srmt_retention_device"]


def test_retention_is_mounted_read_write(host, guest):
    mount = host.mount_point(RETENTION_PATH)
    assert mount.exists
    assert mount.filesystem == "ext4"
    assert mount.device == partition_of(guest["srmt_retention_device"])
    assert "rw" in mount.options


def test_fstab_entry_by_uuid(host, guest):
    uuid = blkid(host, partition_of(guest["srmt_retention_device"]))["UUID"]
    entries = [line.split() for line in host.file("/etc/fstab").content_string.splitlines() if line.strip() and not line.startswith("#")]
    assert [f"UUID={uuid}", RETENTION_PATH, "ext4", "defaults", "0", "2"] in entries
    assert sum(1 for entry in entries if entry[1] == RETENTION_PATH) == 1


def test_mount_survives_umount_and_mount_all(host):
    host.check_output(f"echo kept > {RETENTION_PATH}/remount-test")
    host.check_output(f"umount {RETENTION_PATH}")
    assert not host.mount_point(RETENTION_PATH).exists
    host.check_output("mount -a")
    assert host.mount_point(RETENTION_PATH).exists
    assert host.file(f"{RETENTION_PATH}/remount-test").content_string == "kept\n"
    host.check_output(f"rm {RETENTION_PATH}/remount-test")


# --- What the role must refuse, and must leave untouched -------------------------------------------

def test_disk_with_data_is_refused(guest):
    device = guest["srmt_data_device"]
    run = run_role(guest, linux_retention_device=device)
    assert run.rc != 0, run.output
    assert len(run.messages) == 1, run.output
    message = run.messages[-1]
    assert f"The retention disk {device}" in message
    assert "holds data" in message and "ext4" in message and "'asr-data'" in message
    assert "never formats a disk with data" in message


def test_disk_with_data_is_untouched(host, guest):
    device = guest["srmt_data_device"]
    # Byte for byte what create.yml wrote.
    assert host.check_output(f"sha256sum {device}").split()[0] == guest["srmt_data_sha256"]
    assert host.check_output(f"lsblk --noheadings --list --output TYPE {device}").split() == ["loop"]
    assert blkid(host, device)["LABEL"] == "asr-data"
    assert host.check_output(f"debugfs -R 'cat /keep-me.txt' {device}") == "Data that the linux role must never format."


@pytest.mark.parametrize("disk", ["noise_head", "noise_tail"])
def test_disk_with_unrecognised_data_is_refused_and_untouched(host, guest, disk):
    # Data that wipefs and blkid do not recognise, in the first MiB (at offset 0) or in the last MiB.
    device = guest[f"srmt_{disk}_device"]
    offset = 0 if disk == "noise_head" else guest["srmt_noise_tail_offset"]
    run = run_role(guest, linux_retention_device=device)
    assert run.rc != 0, run.output
    assert len(run.messages) == 1, run.output
    message = run.messages[-1]
    # Named once: the device was given by its path.
    assert message.startswith(f"asr-mt-linux: The retention disk {device} (64.0 MiB) holds data:"), message
    assert f"data that wipefs and blkid do not recognise (no signature), the first non-zero byte at offset {offset:#x}." in message
    assert "never formats a disk with data" in message
    # Byte for byte what create.yml wrote, and still no partition.
    assert host.check_output(f"sha256sum {device}").split()[0] == guest[f"srmt_{disk}_sha256"]
    assert host.check_output(f"lsblk --noheadings --list --output TYPE {device}").split() == ["loop"]


def test_fat_is_refused_at_argument_validation(guest):
    run = run_role(guest, linux_retention_device=guest["srmt_retention_device"], linux_retention_fstype="vfat")
    assert run.rc != 0, run.output
    assert any("linux_retention_fstype" in m and "ext4, xfs" in m and "vfat" in m for m in run.messages), run.output


def test_unknown_uuid_is_refused(guest):
    run = run_role(guest, linux_retention_disk_uuid="6000C290-0000-0000-0000-000000000001")
    assert run.rc != 0, run.output
    assert any("wwn-0x6000c290000000000000000000000001" in m and "disk.EnableUUID=TRUE" in m for m in run.messages), run.output


def test_unreachable_process_server_is_reported(guest):
    # The configuration server: the guest's own sshd (reachable). The process server: a closed port
    # on the host's end of the veth pair (the only other address the guest can reach).
    run = run_role(
        guest,
        linux_retention_disk_uuid=guest["srmt_retention_disk_uuid"],
        linux_configuration_server_address=guest["ansible_host"],
        linux_configuration_server_port=22,
        linux_process_server_address=guest["srmt_host_address"],
        linux_process_server_port=9,
        linux_connectivity_timeout=3,
    )
    assert run.rc != 0, run.output
    message = run.messages[-1]
    assert f"process server {guest['srmt_host_address']} on port 9" in message
    assert "configuration server" not in message.split("Azure Site Recovery failback")[0]
    assert "TCP 443" in message and "9443" in message and "VPN or ExpressRoute" in message


# --- xfs ---------------------------------------------------------------------------------------------

XFS = dict(
    linux_retention_fstype="xfs", linux_retention_label="asr-retain", linux_retention_path="/mnt/retention-xfs",
    # Only the retention volume this time (every other part switched off; it is tested above).
    linux_open_vm_tools_manage=False, linux_asr_packages_manage=False, linux_auto_updates="unmanaged",
    linux_kernel_hold=False, linux_etc_hosts_manage=False, linux_sizing_check=False,
)


def test_xfs_label_longer_than_12_is_refused(guest):
    params = dict(XFS)
    params.update(linux_retention_device=guest["srmt_xfs_device"], linux_retention_label=LABEL)
    run = run_role(guest, **params)
    assert run.rc != 0, run.output
    assert "xfs labels hold at most 12" in run.messages[-1], run.output


def test_check_mode_reports_the_planned_xfs_volume_and_changes_nothing(host, guest):
    device = guest["srmt_xfs_device"]
    fstab = sha256(host, "/etc/fstab")
    run = run_role(guest, check=True, linux_retention_device=device, **XFS)
    assert run.rc == 0, run.output
    # Check mode tells the truth: the volume it would create is a change...
    assert run.stats["changed"] >= 1, run.output
    report = run.results["Report the retention volume a real run would create (check mode; --diff shows its /etc/fstab line)"]
    assert report["changed"] is True, report
    # ...and --diff shows the line the real run writes to /etc/fstab.
    diff = report["diff"][0] if isinstance(report["diff"], list) else report["diff"]
    assert "UUID=<new-xfs-file-system> /mnt/retention-xfs xfs defaults 0 0" in diff["after"]
    assert "/mnt/retention-xfs" not in diff["before"]
    plan = run.results["Report the plan"]["msg"]
    # Named once (given by its path), with the right article.
    assert plan.startswith(f"Retention disk {device} holds nothing (empty); it will get one GPT partition with a new xfs"), plan
    note = run.results["Report what check mode left out"]["msg"]
    assert "one GPT partition and an xfs file system labelled asr-retain" in note, note
    # Nothing changed: fstab, and the new disk still reads as zeros at both ends, without a partition.
    assert sha256(host, "/etc/fstab") == fstab
    size = int(host.check_output(f"blockdev --getsize64 {device}"))
    for offset in (0, size - 2**20):
        assert host.run(f"cmp --bytes=1048576 --ignore-initial={offset}:0 {device} /dev/zero").rc == 0
    assert host.check_output(f"lsblk --noheadings --list --output TYPE {device}").split() == ["loop"]


def test_xfs_retention_volume_and_second_run_changes_nothing(host, guest):
    device = guest["srmt_xfs_device"]
    run = run_role(guest, linux_retention_device=device, **XFS)
    assert run.rc == 0, run.output
    part = blkid(host, partition_of(device))
    assert (part["TYPE"], part["LABEL"], part["PART_ENTRY_NAME"]) == ("xfs", "asr-retain", "asr-retain")
    mount = host.mount_point("/mnt/retention-xfs")
    assert mount.exists and mount.filesystem == "xfs" and "rw" in mount.options
    assert f"UUID={part['UUID']} /mnt/retention-xfs xfs defaults 0 0" in host.file("/etc/fstab").content_string
    run = run_role(guest, linux_retention_device=device, **XFS)
    assert run.rc == 0, run.output
    assert run.stats["changed"] == 0, run.output


# --- A default boot kernel without the LSI Logic driver ----------------------------------------------

@pytest.fixture()
def cloud_kernel(host):
    """Debian's cloud kernel (vmw_pvscsi, but no mptspi or mptsas), installed from the guest's local
    repository: installing it makes it the default boot kernel (/vmlinuz). Purged afterwards, which
    makes the first kernel the default again."""
    apt = "DEBIAN_FRONTEND=noninteractive apt-get --quiet --yes --no-install-recommends"
    host.check_output(f"{apt} install linux-image-cloud-amd64")
    try:
        kernel = default_kernel(host)
        assert kernel.endswith("-cloud-amd64"), kernel
        yield kernel
    finally:
        packages = host.check_output("dpkg-query --show --showformat='${Package}\\n' 'linux-image-*cloud-amd64'").split()
        host.check_output(f"{apt} purge {' '.join(packages)}")
        assert not default_kernel(host).endswith("-cloud-amd64")


def test_kernel_without_the_lsi_module_is_refused_before_any_change(host, guest, cloud_kernel):
    assert host.run(f"modinfo -k {cloud_kernel} -n mptspi").rc == 1
    before = sha256(host, "/etc/initramfs-tools/modules", "/boot/initrd.img-*")
    run = run_role(guest, srmt_tasks_from="lsi_driver", linux_lsi_driver_type="lsilogic")
    assert run.rc != 0, run.output
    assert len(run.messages) == 1, run.output
    message = run.messages[-1]
    assert f"the kernel {cloud_kernel} (the default boot kernel) has no mptspi module" in message
    assert "LSI Logic Parallel" in message and "Nothing was changed" in message
    assert "install a kernel that ships mptspi" in message and "keep the ParaVirtual SCSI controller" in message
    assert sha256(host, "/etc/initramfs-tools/modules", "/boot/initrd.img-*") == before
