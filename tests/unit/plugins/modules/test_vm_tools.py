from __future__ import annotations

from types import SimpleNamespace

import pytest
from pyVmomi import vim
from support.clock import FakeClock, reader

from ansible_collections.siterecovery.master_target.plugins.module_utils._vsphere_client import VSphereError
from ansible_collections.siterecovery.master_target.plugins.module_utils._vsphere_lookup import ManagedObject
from ansible_collections.siterecovery.master_target.plugins.module_utils._vsphere_tools import (
    TOOLS_PATHS,
    guest_facts,
    is_windows,
    requirement_met,
    tools_facts,
    tools_problem,
    version_text,
)
from ansible_collections.siterecovery.master_target.plugins.modules import vm_tools
from ansible_collections.siterecovery.master_target.plugins.modules.vm_tools import (
    has_cdrom,
    mount_refusal,
    not_running_message,
    wait_is_over,
)

# What vCenter reports for a Linux guest with open-vm-tools from the distribution, powered on.
LINUX_RUNNING = {
    "guest.toolsRunningStatus": "guestToolsRunning",
    "guest.toolsStatus": "toolsOk",
    "summary.guest.toolsStatus": "toolsOk",
    "guest.toolsVersion": "12389",
    "config.tools.toolsVersion": 12389,
    "guest.toolsVersionStatus2": "guestToolsUnmanaged",
    "guest.toolsInstallType": "guestToolsTypeOpenVMTools",
    "guest.guestFamily": "linuxGuest",
    "guest.guestState": "running",
    "guest.hostName": "asr-mt-01",
    "guest.ipAddress": "192.0.2.10",
    "config.guestId": "ubuntu64Guest",
    "runtime.powerState": "poweredOn",
    "runtime.toolsInstallerMounted": False,
}
# The same VM powered off: vCenter keeps the version it knows.
LINUX_OFF = dict(
    LINUX_RUNNING,
    **{
        "guest.toolsRunningStatus": "guestToolsNotRunning",
        "guest.toolsStatus": "toolsNotRunning",
        "summary.guest.toolsStatus": "toolsNotRunning",
        "guest.guestState": "notRunning",
        "guest.hostName": "",
        "guest.ipAddress": "",
        "runtime.powerState": "poweredOff",
    },
)
# A powered-on VM that never had Tools (vcsim's own default for every VM).
NOT_INSTALLED = {
    "guest.toolsRunningStatus": "guestToolsNotRunning",
    "guest.toolsStatus": "toolsNotInstalled",
    "summary.guest.toolsStatus": "toolsNotInstalled",
    "guest.toolsVersion": "0",
    "config.tools.toolsVersion": 0,
    "guest.guestFamily": "linuxGuest",
    "config.guestId": "ubuntu64Guest",
    "runtime.powerState": "poweredOn",
    "runtime.toolsInstallerMounted": False,
}
WINDOWS_STOPPED = dict(
    LINUX_OFF,
    **{
        "guest.toolsVersion": "12416",
        "guest.toolsVersionStatus2": "guestToolsCurrent",
        "guest.toolsInstallType": "guestToolsTypeMSI",
        "guest.guestFamily": "windowsGuest",
        "config.guestId": "windows9Server64Guest",
        "runtime.powerState": "poweredOn",
    },
)


def test_tools_paths_cover_every_property_read():
    # tools_facts/guest_facts read nothing the module does not ask vCenter for.
    assert set(LINUX_RUNNING) <= set(TOOLS_PATHS)


def test_tools_facts_running_linux():
    assert tools_facts(LINUX_RUNNING) == dict(
        installed=True,
        running=True,
        running_status="guestToolsRunning",
        status="toolsOk",
        version="12389",
        version_text="12.3.5",
        version_status="guestToolsUnmanaged",
        install_type="guestToolsTypeOpenVMTools",
        installer_mounted=False,
    )
    assert requirement_met(tools_facts(LINUX_RUNNING))


def test_tools_facts_powered_off_vm_keeps_installed():
    tools = tools_facts(LINUX_OFF)
    assert tools["installed"] and not tools["running"]
    assert tools["status"] == "toolsNotRunning" and tools["version"] == "12389"
    assert not requirement_met(tools)


def test_tools_facts_not_installed():
    tools = tools_facts(NOT_INSTALLED)
    assert not tools["installed"] and not tools["running"]
    assert tools["version"] is None and tools["version_text"] is None
    assert tools["version_status"] is None and tools["install_type"] is None


@pytest.mark.parametrize(
    "props, installed, running",
    [
        ({}, False, False),
        # still starting: running only once guestToolsRunning is reported
        ({"guest.toolsRunningStatus": "guestToolsExecutingScripts", "guest.toolsStatus": "toolsOk"}, True, False),
        # no running status: toolsOk/toolsOld mean running
        ({"guest.toolsStatus": "toolsOld"}, True, True),
        # guest.toolsStatus unset: summary.guest.toolsStatus is used
        ({"summary.guest.toolsStatus": "toolsNotRunning"}, True, False),
        ({"summary.guest.toolsStatus": "toolsNotInstalled", "guest.toolsVersion": "12389"}, False, False),
        # no status at all: the version status, then a known version, decide
        ({"guest.toolsVersionStatus2": "guestToolsNotInstalled"}, False, False),
        ({"guest.toolsVersionStatus2": "guestToolsNeedUpgrade"}, True, False),
        ({"config.tools.toolsVersion": 11269}, True, False),
        ({"guest.toolsVersion": "0", "config.tools.toolsVersion": 0}, False, False),
    ],
)
def test_tools_facts_installed_and_running_rules(props, installed, running):
    tools = tools_facts(props)
    assert (tools["installed"], tools["running"]) == (installed, running)
    assert requirement_met(tools) == (installed and running)


def test_tools_facts_version_falls_back_to_config():
    assert tools_facts({"guest.toolsVersion": "", "config.tools.toolsVersion": 11269})["version"] == "11269"


@pytest.mark.parametrize(
    "version, expected",
    [("12389", "12.3.5"), (12416, "12.4.0"), ("10346", "10.3.10"), ("11269", "11.0.5"), ("0", None), (None, None), ("abc", None)],
)
def test_version_text(version, expected):
    assert version_text(version) == expected


def test_guest_facts_turns_empty_values_into_none():
    assert guest_facts(LINUX_OFF) == dict(
        power_state="poweredOff", guest_id="ubuntu64Guest", guest_family="linuxGuest", guest_state="notRunning", host_name=None, ip_address=None
    )


@pytest.mark.parametrize(
    "guest, expected",
    [
        (dict(guest_family="windowsGuest", guest_id="otherGuest64"), True),
        (dict(guest_family="linuxGuest", guest_id="windows9Server64Guest"), False),  # the Tools know better
        (dict(guest_family=None, guest_id="windows2019srv_64Guest"), True),
        (dict(guest_family=None, guest_id="ubuntu64Guest"), False),
        (dict(guest_family=None, guest_id=None), False),
    ],
)
def test_is_windows(guest, expected):
    assert is_windows(guest) == expected


def problem(props, name="asr-mt-01"):
    return tools_problem(name, tools_facts(props), guest_facts(props))


def test_tools_problem():
    assert problem(LINUX_RUNNING) is None
    off = problem(LINUX_OFF)
    assert "asr-mt-01 is poweredOff" in off and "Power it on" in off
    missing = problem(NOT_INSTALLED)
    assert "not installed" in missing and "open-vm-tools" in missing and "toolsNotInstalled" in missing
    windows_missing = problem(dict(NOT_INSTALLED, **{"guest.guestFamily": "windowsGuest"}), "win-01")
    assert "win-01" in windows_missing and "installer_mounted" in windows_missing
    stopped = problem(WINDOWS_STOPPED, "win-01")
    assert "installed in VM win-01 but not running" in stopped and "VMTools" in stopped


# --- state: running, the wait (poll's schedule itself: test_vsphere_tasks.py) -----------------------

def wait_for_tools(monkeypatch, *states, name="asr-mt-01", timeout=300):
    """Run ensure_tools (state: running) on VM `name` whose TOOLS_PATHS read `states` in turn (the last one forever),
    on a fake clock: (the result or the VSphereError raised, the clock, when each read was)."""
    fake = FakeClock()
    read = reader(states, fake)
    vm = ManagedObject(vim.VirtualMachine("vm-42"), dict(states[0]))
    vm.path = name
    monkeypatch.setattr(vm_tools, "poll", fake.poll)
    monkeypatch.setattr(vm_tools, "find_vm", lambda client, params, paths: vm)
    monkeypatch.setattr(vm_tools, "reread", lambda client, found, paths: ManagedObject(found.obj, read()))
    module = SimpleNamespace(params=dict(state="running", timeout=timeout, force=False), check_mode=False, _diff=False, warn=None)
    try:
        return vm_tools.ensure_tools(module, None), fake, read.reads
    except VSphereError as error:
        return error, fake, read.reads


def test_wait_returns_at_once_when_running(monkeypatch):
    result, clock, reads = wait_for_tools(monkeypatch, LINUX_RUNNING)
    assert result["tools"] == tools_facts(LINUX_RUNNING) and result["requirement_met"]
    assert len(reads) == 1 and clock.sleeps == []


def test_wait_fails_at_once_when_powered_off(monkeypatch):
    error, clock, reads = wait_for_tools(monkeypatch, LINUX_OFF, name="asr-mt-02")
    assert "asr-mt-02 is poweredOff" in error.msg and "Power the VM on" in error.msg
    assert clock.sleeps == [] and len(reads) == 1 and error.details["requirement_met"] is False


def test_wait_polls_until_tools_start(monkeypatch):
    stopped = dict(LINUX_RUNNING, **{"guest.toolsRunningStatus": "guestToolsNotRunning", "guest.toolsStatus": "toolsNotRunning"})
    result, clock, reads = wait_for_tools(monkeypatch, stopped, stopped, stopped, LINUX_RUNNING)
    assert result["tools"] == tools_facts(LINUX_RUNNING)
    assert clock.sleeps == [0.05, 0.1, 0.2] and len(reads) == 4


def test_wait_times_out_with_bounded_sleeps_and_a_clear_message(monkeypatch):
    error, clock, reads = wait_for_tools(monkeypatch, NOT_INSTALLED, timeout=30)
    msg = error.msg
    assert "did not start in VM asr-mt-01 within 30 s" in msg
    assert "toolsNotInstalled" in msg and "open-vm-tools" in msg and "Azure Site Recovery" in msg
    assert max(clock.sleeps) == 5.0 and sum(clock.sleeps) == pytest.approx(30)
    assert reads[-1] == pytest.approx(130)  # one last read at the deadline


def test_wait_with_timeout_zero_checks_once(monkeypatch):
    error, clock, reads = wait_for_tools(monkeypatch, NOT_INSTALLED, timeout=0)
    assert isinstance(error, VSphereError)
    assert len(reads) == 1 and clock.sleeps == []


def test_wait_fails_when_the_vm_is_powered_off_meanwhile(monkeypatch):
    stopped = dict(LINUX_RUNNING, **{"guest.toolsRunningStatus": "guestToolsNotRunning"})
    error, clock, reads = wait_for_tools(monkeypatch, stopped, LINUX_OFF)
    assert "poweredOff" in error.msg and len(clock.sleeps) == 1 and len(reads) == 2


@pytest.mark.parametrize(
    "props, over, message",
    [
        (LINUX_RUNNING, True, None),
        (LINUX_OFF, True, "VM asr-mt-01 is poweredOff: VMware Tools cannot run in it."),
        (NOT_INSTALLED, False, "VMware Tools did not start in VM asr-mt-01 within 30 s."),
    ],
)
def test_the_wait_is_over_when_tools_run_or_the_vm_is_not_on(props, over, message):
    assert wait_is_over(props) is over
    said = not_running_message("asr-mt-01", props, 30)
    if message is None:
        assert said is None
    else:
        assert said.startswith(message)


CDROM = [vim.vm.device.VirtualCdrom(key=3000, controllerKey=200, unitNumber=0)]
DISK_ONLY = [vim.vm.device.VirtualDisk(key=2000, controllerKey=1000, unitNumber=0)]


def test_has_cdrom():
    assert has_cdrom(DISK_ONLY + CDROM)
    assert not has_cdrom(DISK_ONLY) and not has_cdrom(None)


def test_mount_refusal():
    windows = guest_facts(WINDOWS_STOPPED)
    linux = guest_facts(LINUX_RUNNING)
    assert mount_refusal("win-01", windows, CDROM, force=False) is None
    assert mount_refusal("asr-mt-01", linux, CDROM, force=True) is None
    refused = mount_refusal("asr-mt-01", linux, CDROM, force=False)
    assert "not a Windows guest" in refused and "open-vm-tools" in refused and "force: true" in refused
    no_drive = mount_refusal("win-01", windows, DISK_ONLY, force=False)
    assert "no CD/DVD drive" in no_drive
    off = mount_refusal("asr-mt-02", guest_facts(LINUX_OFF), CDROM, force=True)
    assert "asr-mt-02 is poweredOff" in off and "Power it on" in off
