"""vm_power against the simulator: check mode, power off/on, guest shutdown, force, timeout, bad input.

The harness gives the scene's VMs VMware Tools running while powered on (tools.go) and makes
ShutdownGuest answer like vCenter, with a guest that can take its time or hang (guestshutdown.go).
"""

from __future__ import annotations

from pyVmomi import vim

from support.ansible import run_module
from support.vsphere import find_vm_object, vm_state, wait

MODULE = "vm_power"


def power_state(si, name):
    return vm_state(si, name, ["runtime.powerState"])["runtime.powerState"]


def set_extra_config(si, name, key, value):
    """Harness controls: harness.tools (running, notRunning, ...), harness.guestShutdown (after:<s>, ignore)."""
    spec = vim.vm.ConfigSpec(extraConfig=[vim.option.OptionValue(key=key, value=value)])
    wait(find_vm_object(si, name).ReconfigVM_Task(spec))


def test_check_mode_changes_nothing(vcsim, si):
    env = vcsim.env()
    off = run_module(MODULE, dict(name="asr-mt-01", state="powered_off"), env=env, check=True, diff=True)
    assert off["changed"] and not off.get("failed"), off.debug
    assert off["diff"] == dict(before={"power_state": "poweredOn"}, after={"power_state": "poweredOff"})
    assert (off["power_action"], off["previous_power_state"], off["power_state"]) == ("power_off", "poweredOn", "poweredOff")
    assert off["vm"]["path"] == "/DC0/vm/asr/asr-mt-01"

    shutdown = run_module(MODULE, dict(name="asr-mt-01", state="shutdown_guest"), env=env, check=True)
    assert shutdown["changed"] and shutdown["power_action"] == "shutdown_guest", shutdown.debug
    assert power_state(si, "asr-mt-01") == "poweredOn", "check mode changed the VM"

    on = run_module(MODULE, dict(name="asr-mt-02", state="powered_on"), env=env, check=True)
    assert on["changed"] and on["power_action"] == "power_on" and on["power_state"] == "poweredOn", on.debug
    assert power_state(si, "asr-mt-02") == "poweredOff", "check mode changed the VM"


def test_powered_off_then_idempotent_then_powered_on(vcsim, si):
    env = vcsim.env()
    first = run_module(MODULE, dict(name="asr-mt-01", state="powered_off"), env=env, diff=True)
    assert first["changed"] and first["power_action"] == "power_off", first.debug
    assert (first["previous_power_state"], first["power_state"]) == ("poweredOn", "poweredOff")
    assert first["diff"]["after"] == {"power_state": "poweredOff"}
    assert power_state(si, "asr-mt-01") == "poweredOff"

    again = run_module(MODULE, dict(name="asr-mt-01", state="powered_off"), env=env)
    assert not again["changed"] and again["power_action"] is None and again["power_state"] == "poweredOff", again.debug

    on = run_module(MODULE, dict(name="asr-mt-01", state="powered_on"), env=env)
    assert on["changed"] and on["power_action"] == "power_on", on.debug
    assert (on["previous_power_state"], on["power_state"]) == ("poweredOff", "poweredOn")
    assert power_state(si, "asr-mt-01") == "poweredOn"

    on_again = run_module(MODULE, dict(name="asr-mt-01", state="powered_on"), env=env)
    assert not on_again["changed"] and on_again["power_action"] is None, on_again.debug


def test_shutdown_guest_powers_off_then_is_idempotent(vcsim, si):
    env = vcsim.env()
    result = run_module(MODULE, dict(name="asr-mt-01", state="shutdown_guest"), env=env)
    assert result["changed"] and result["power_action"] == "shutdown_guest", result.debug
    assert (result["previous_power_state"], result["power_state"]) == ("poweredOn", "poweredOff")
    assert not result.get("warnings")
    assert power_state(si, "asr-mt-01") == "poweredOff"
    again = run_module(MODULE, dict(name="asr-mt-01", state="shutdown_guest"), env=env)
    assert not again["changed"] and again["power_action"] is None, again.debug


def test_shutdown_guest_waits_for_a_slow_guest(vcsim, si):
    set_extra_config(si, "asr-mt-01", "harness.guestShutdown", "after:2")
    result = run_module(MODULE, dict(name="asr-mt-01", state="shutdown_guest", timeout=60), env=vcsim.env())
    assert result["changed"] and result["power_action"] == "shutdown_guest", result.debug
    assert result["power_state"] == "poweredOff"
    assert result.duration >= 2
    assert power_state(si, "asr-mt-01") == "poweredOff"


def test_shutdown_guest_on_powered_off_vm_changes_nothing(vcsim, si):
    result = run_module(MODULE, dict(name="asr-mt-02", state="shutdown_guest"), env=vcsim.env())
    assert not result.get("failed") and not result["changed"], result.debug
    assert result["power_state"] == "poweredOff" and result["power_action"] is None
    assert power_state(si, "asr-mt-02") == "poweredOff"


def test_shutdown_guest_without_tools_fails_unless_forced(vcsim, si):
    env = vcsim.env()
    set_extra_config(si, "asr-mt-01", "harness.tools", "notRunning")
    refused = run_module(MODULE, dict(name="asr-mt-01", state="shutdown_guest"), env=env)
    assert refused["failed"], refused.debug
    assert "/DC0/vm/asr/asr-mt-01" in refused["msg"] and "VMware Tools are not running" in refused["msg"]
    assert "force: true" in refused["msg"] and "Nothing was changed" in refused["msg"]
    assert refused["tools_running_status"] == "guestToolsNotRunning"
    assert power_state(si, "asr-mt-01") == "poweredOn"

    forced = run_module(MODULE, dict(name="asr-mt-01", state="shutdown_guest", force=True), env=env)
    assert forced["changed"] and forced["power_action"] == "power_off", forced.debug
    assert forced["power_state"] == "poweredOff"
    assert any("powered off hard" in warning for warning in forced.get("warnings", [])), forced.debug
    assert power_state(si, "asr-mt-01") == "poweredOff"


def test_shutdown_guest_timeout_fails_clearly_or_forces(vcsim, si):
    env = vcsim.env()
    set_extra_config(si, "asr-mt-01", "harness.guestShutdown", "ignore")  # a hung guest
    hung = run_module(MODULE, dict(name="asr-mt-01", state="shutdown_guest", timeout=2), env=env)
    assert hung["failed"], hung.debug
    assert "VM /DC0/vm/asr/asr-mt-01 is still powered on 2 s after the guest shutdown request" in hung["msg"]
    assert "longer timeout" in hung["msg"] and "force: true" in hung["msg"]
    assert power_state(si, "asr-mt-01") == "poweredOn"

    forced = run_module(MODULE, dict(name="asr-mt-01", state="shutdown_guest", timeout=2, force=True), env=env)
    assert forced["changed"] and forced["power_action"] == "power_off", forced.debug
    assert any("still powered on 2 s" in warning for warning in forced.get("warnings", [])), forced.debug
    assert power_state(si, "asr-mt-01") == "poweredOff"


def test_suspended_vm(vcsim, si):
    env = vcsim.env()
    wait(find_vm_object(si, "asr-mt-01").SuspendVM_Task())
    refused = run_module(MODULE, dict(name="asr-mt-01", state="shutdown_guest"), env=env)
    assert refused["failed"] and "is suspended" in refused["msg"] and "force: true" in refused["msg"], refused.debug
    assert power_state(si, "asr-mt-01") == "suspended"

    resumed = run_module(MODULE, dict(name="asr-mt-01", state="powered_on"), env=env)
    assert resumed["changed"] and resumed["power_action"] == "power_on", resumed.debug
    assert (resumed["previous_power_state"], resumed["power_state"]) == ("suspended", "poweredOn")

    wait(find_vm_object(si, "asr-mt-01").SuspendVM_Task())
    off = run_module(MODULE, dict(name="asr-mt-01", state="powered_off"), env=env)
    assert off["changed"] and (off["previous_power_state"], off["power_state"]) == ("suspended", "poweredOff"), off.debug
    assert power_state(si, "asr-mt-01") == "poweredOff"


def test_unknown_vm(vcsim):
    result = run_module(MODULE, dict(name="no-such-vm", state="powered_off"), env=vcsim.env())
    assert result["failed"] and "No virtual machine named 'no-such-vm'" in result["msg"], result.debug


def test_timeout_must_be_positive(vcsim):
    result = run_module(MODULE, dict(name="asr-mt-01", state="shutdown_guest", timeout=0), env=vcsim.env())
    assert result["failed"] and "timeout must be at least 1" in result["msg"], result.debug
