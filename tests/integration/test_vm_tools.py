"""vm_tools against the simulator: report, wait for running Tools, mount and unmount the installer.

The harness (tests/vcsim/tools.go) gives the scene's VMs Tools that run while the VM is powered on
(open-vm-tools on Linux, VMware Tools on Windows), and lets a test change them with the extraConfig
key ``harness.tools`` (running, notRunning, notInstalled, startsAfter:<seconds>).
"""

from __future__ import annotations

from pyVmomi import vim

from support.ansible import run_module
from support.vsphere import find_vm_object, vm_state, wait

MODULE = "vm_tools"


def set_harness_tools(si, name, mode):
    spec = vim.vm.ConfigSpec(extraConfig=[vim.option.OptionValue(key="harness.tools", value=mode)])
    wait(find_vm_object(si, name).ReconfigVM_Task(spec=spec))


def installer_mounted(si, name):
    return vm_state(si, name, ["runtime.toolsInstallerMounted"]).get("runtime.toolsInstallerMounted", False)


def add_cdrom(si, name):
    drive = vim.vm.device.VirtualCdrom(
        key=-1,
        controllerKey=200,
        unitNumber=0,
        backing=vim.vm.device.VirtualCdrom.RemotePassthroughBackingInfo(deviceName="", exclusive=False),
        connectable=vim.vm.device.VirtualDevice.ConnectInfo(allowGuestControl=True, startConnected=False, connected=False),
    )
    spec = vim.vm.ConfigSpec(deviceChange=[vim.vm.device.VirtualDeviceSpec(operation="add", device=drive)])
    wait(find_vm_object(si, name).ReconfigVM_Task(spec=spec))


def test_info_on_powered_on_vm(vcsim):
    result = run_module(MODULE, dict(name="asr-mt-01"), env=vcsim.env())
    assert not result.get("failed") and not result["changed"], result.debug
    tools = result["tools"]
    assert tools["installed"] and tools["running"] and result["requirement_met"], result.debug
    assert tools["running_status"] == "guestToolsRunning" and tools["status"] == "toolsOk"
    assert tools["version"] == "12389" and tools["version_text"] == "12.3.5"
    assert tools["version_status"] == "guestToolsUnmanaged" and tools["install_type"] == "guestToolsTypeOpenVMTools"
    assert tools["installer_mounted"] is False
    vm = result["vm"]
    assert vm["name"] == "asr-mt-01" and vm["path"] == "/DC0/vm/asr/asr-mt-01"
    assert (vm["power_state"], vm["guest_id"], vm["guest_family"], vm["guest_state"]) == ("poweredOn", "ubuntu64Guest", "linuxGuest", "running")


def test_info_on_powered_off_vm(vcsim):
    result = run_module(MODULE, dict(name="asr-mt-02"), env=vcsim.env(), diff=True)
    assert not result.get("failed") and not result["changed"], result.debug
    assert result["tools"]["installed"] and not result["tools"]["running"], result.debug
    assert result["tools"]["status"] == "toolsNotRunning" and result["requirement_met"] is False
    assert result["vm"]["power_state"] == "poweredOff" and result["vm"]["guest_state"] == "notRunning"
    assert result["diff"] == {"before": {"installer_mounted": False}, "after": {"installer_mounted": False}}


def test_info_on_vm_without_tools(vcsim, si):
    set_harness_tools(si, "prod-db-01", "notInstalled")
    result = run_module(MODULE, dict(name="prod-db-01"), env=vcsim.env())
    assert not result.get("failed") and not result["changed"], result.debug
    assert not result["tools"]["installed"] and result["tools"]["version"] is None and not result["requirement_met"]


def test_running_on_running_vm_returns_at_once(vcsim):
    result = run_module(MODULE, dict(name="asr-mt-01", state="running", timeout=300), env=vcsim.env())
    assert not result.get("failed") and not result["changed"], result.debug
    assert result["tools"]["running"] and result["requirement_met"]


def test_running_on_powered_off_vm_fails_at_once(vcsim):
    result = run_module(MODULE, dict(name="asr-mt-02", state="running", timeout=300), env=vcsim.env())
    assert result["failed"], result.debug
    assert "asr-mt-02 is poweredOff" in result["msg"] and "Power the VM on" in result["msg"], result.debug
    assert result.duration < 60, "it waited for Tools in a powered-off VM"


def test_running_times_out_when_tools_do_not_run(vcsim, si):
    set_harness_tools(si, "asr-mt-01", "notRunning")
    result = run_module(MODULE, dict(name="asr-mt-01", state="running", timeout=2), env=vcsim.env())
    assert result["failed"], result.debug
    msg = result["msg"]
    assert "VMware Tools did not start in VM /DC0/vm/asr/asr-mt-01 within 2 s" in msg, result.debug
    assert "guestToolsNotRunning" in msg and "toolsNotRunning" in msg and "open-vm-tools" in msg and "Azure Site Recovery" in msg
    assert result["tools"]["installed"] and not result["tools"]["running"]


def test_running_waits_for_tools_that_start_later(vcsim, si):
    # longer than ansible-playbook takes to start the module, so the module sees them stopped first
    set_harness_tools(si, "asr-mt-01", "startsAfter:8")
    assert vm_state(si, "asr-mt-01", ["guest.toolsRunningStatus"])["guest.toolsRunningStatus"] == "guestToolsNotRunning"
    result = run_module(MODULE, dict(name="asr-mt-01", state="running", timeout=120), env=vcsim.env())
    assert not result.get("failed") and not result["changed"], result.debug
    assert result["tools"]["running"] and result["requirement_met"]
    assert result.duration >= 7, "the module returned before the Tools started"


def test_installer_mount_check_mode_then_mount_then_idempotent_then_unmount(vcsim, si):
    env = vcsim.env()
    args = dict(name="prod-win-01", state="installer_mounted")

    no_drive = run_module(MODULE, args, env=env)
    assert no_drive["failed"] and "no CD/DVD drive" in no_drive["msg"] and "prod-win-01" in no_drive["msg"], no_drive.debug
    add_cdrom(si, "prod-win-01")

    check = run_module(MODULE, args, env=env, check=True, diff=True)
    assert not check.get("failed") and check["changed"], check.debug
    assert check["diff"] == {"before": {"installer_mounted": False}, "after": {"installer_mounted": True}}
    assert check["tools"]["installer_mounted"] is True
    assert installer_mounted(si, "prod-win-01") is False, "check mode mounted the installer"

    first = run_module(MODULE, args, env=env, diff=True)
    assert not first.get("failed") and first["changed"], first.debug
    assert first["tools"]["installer_mounted"] is True and installer_mounted(si, "prod-win-01") is True
    assert not first.get("warnings"), first.debug

    second = run_module(MODULE, args, env=env)
    assert not second.get("failed") and not second["changed"], second.debug

    unmount = dict(args, state="installer_unmounted")
    check_off = run_module(MODULE, unmount, env=env, check=True)
    assert check_off["changed"] and installer_mounted(si, "prod-win-01") is True, check_off.debug
    off = run_module(MODULE, unmount, env=env)
    assert not off.get("failed") and off["changed"], off.debug
    assert off["tools"]["installer_mounted"] is False and installer_mounted(si, "prod-win-01") is False
    again = run_module(MODULE, unmount, env=env)
    assert not again.get("failed") and not again["changed"], again.debug


def test_installer_refused_in_linux_guest_unless_forced(vcsim, si):
    env = vcsim.env()
    refused = run_module(MODULE, dict(name="asr-mt-01", state="installer_mounted"), env=env)
    assert refused["failed"], refused.debug
    assert "not a Windows guest" in refused["msg"] and "open-vm-tools" in refused["msg"] and "force: true" in refused["msg"]
    assert installer_mounted(si, "asr-mt-01") is False

    forced = run_module(MODULE, dict(name="asr-mt-01", state="installer_mounted", force=True), env=env)
    assert not forced.get("failed") and forced["changed"], forced.debug
    assert any("not a Windows guest" in warning for warning in forced.get("warnings", [])), forced.debug
    assert installer_mounted(si, "asr-mt-01") is True


def test_installer_mount_on_powered_off_vm_fails_and_changes_nothing(vcsim, si):
    result = run_module(MODULE, dict(name="asr-mt-02", state="installer_mounted", force=True), env=vcsim.env(), check=True)
    assert result["failed"], result.debug
    assert "asr-mt-02 is poweredOff" in result["msg"] and "Power it on" in result["msg"] and "Nothing was changed" in result["msg"]
    assert installer_mounted(si, "asr-mt-02") is False
