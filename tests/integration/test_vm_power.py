"""vm_power against the simulator: check mode, power off/on, guest shutdown, force, timeout, bad input.

The harness gives the scene's VMs VMware Tools running while powered on (tools.go) and makes
ShutdownGuest answer like vCenter, with a guest that can take its time or hang (guestshutdown.go).
"""

from __future__ import annotations


from support.ansible import run_module
from support.vsphere import find_vm_object, set_extra_config, vm_state, wait

MODULE = "vm_power"


def power_state(si, name):
    return vm_state(si, name, ["runtime.powerState"])["runtime.powerState"]


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
    set_extra_config(si, "asr-mt-01", {"harness.guestShutdown": "after:2"})
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
    set_extra_config(si, "asr-mt-01", {"harness.tools": "notRunning"})
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
    set_extra_config(si, "asr-mt-01", {"harness.guestShutdown": "ignore"})  # a hung guest
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


MOVED_OR_COPIED = "This virtual machine might have been moved or copied."


def state_of(si, name):
    state = vm_state(si, name, ["runtime.powerState", "config.extraConfig", "runtime.bootTime"])
    return dict(state, **{"config.extraConfig": {option.key: option.value for option in state["config.extraConfig"]}})


def question_of(si, name):
    return vm_state(si, name, ["runtime.question"]).get("runtime.question")


def test_a_question_at_power_on_fails_at_once_then_answered_the_next_run_completes(vcsim, si):
    """A VM copied to another place asks at power-on; the power-on task waits for the answer (harness.question)."""
    env = vcsim.env()
    set_extra_config(si, "asr-mt-02", {"harness.question": MOVED_OR_COPIED})

    # The question comes while the module waits for its power-on task: it fails at once, not after the timeout.
    asked = run_module(MODULE, dict(name="asr-mt-02", state="powered_on", timeout=120), env=env)
    assert asked["failed"], asked.debug
    # The message below is the question's, not the 120 s timeout's: it did not wait the timeout out.
    assert asked["msg"].startswith("VM /DC0/vm/asr/asr-mt-02 asked a question in vCenter while this module was waiting for the power-on task ")
    assert f'"{MOVED_OR_COPIED}" (question id _vmx1; answers: 0 = Cancel, 1 = I Moved It, 2 = I Copied It (the default))' in asked["msg"]
    assert "vSphere Client" in asked["msg"] and "AnswerVM (questionId: _vmx1" in asked["msg"], asked["msg"]
    assert asked["question"] == dict(id="_vmx1", text=MOVED_OR_COPIED, default="2", choices=[
        dict(key="0", label="Cancel"), dict(key="1", label="I Moved It"), dict(key="2", label="I Copied It")])
    assert power_state(si, "asr-mt-02") == "poweredOff"

    # The question is still open: the next run reads it with the power state and fails before changing anything.
    before = state_of(si, "asr-mt-02")
    again = run_module(MODULE, dict(name="asr-mt-02", state="powered_on"), env=env)
    assert again["failed"] and again["msg"].startswith(
        "VM /DC0/vm/asr/asr-mt-02 is waiting for the answer to a question in vCenter, and until it is answered its power state cannot change: "
    ), again.debug
    assert again["msg"].endswith("Nothing was changed.") and again["question"]["id"] == "_vmx1"
    assert state_of(si, "asr-mt-02") == before
    # Check mode too; a VM already in the wanted state only gets a warning.
    assert run_module(MODULE, dict(name="asr-mt-02", state="powered_on"), env=env, check=True)["failed"]
    off = run_module(MODULE, dict(name="asr-mt-02", state="powered_off"), env=env)
    assert not off.get("failed") and not off["changed"] and off["question"]["id"] == "_vmx1", off.debug
    assert any("waits for the answer to a question" in warning for warning in off.get("warnings", [])), off.debug

    # Answered (as the message says), the waiting power-on goes on; the next run has nothing left to do.
    find_vm_object(si, "asr-mt-02").AnswerVM(questionId="_vmx1", answerChoice="2")
    assert question_of(si, "asr-mt-02") is None and power_state(si, "asr-mt-02") == "poweredOn"
    done = run_module(MODULE, dict(name="asr-mt-02", state="powered_on"), env=env)
    assert not done.get("failed") and not done["changed"] and done["question"] is None, done.debug


def test_a_question_found_first_stops_a_power_off_too(vcsim, si):
    env = vcsim.env()
    wait(find_vm_object(si, "asr-mt-01").SuspendVM_Task())
    set_extra_config(si, "asr-mt-01", {"harness.question": MOVED_OR_COPIED})
    pending = find_vm_object(si, "asr-mt-01").PowerOnVM_Task()  # a resume started elsewhere, waiting for the answer
    assert question_of(si, "asr-mt-01") is not None

    refused = run_module(MODULE, dict(name="asr-mt-01", state="powered_off"), env=env)
    assert refused["failed"] and "is waiting for the answer to a question" in refused["msg"], refused.debug
    assert refused["msg"].endswith("Nothing was changed.") and refused["power_state"] == "suspended"
    assert power_state(si, "asr-mt-01") == "suspended"

    # Answered Cancel: the waiting task fails, the VM stays as it was, and the power-off goes through.
    find_vm_object(si, "asr-mt-01").AnswerVM(questionId="_vmx1", answerChoice="0")
    assert pending.info.state == "error" and power_state(si, "asr-mt-01") == "suspended"
    off = run_module(MODULE, dict(name="asr-mt-01", state="powered_off"), env=env)
    assert off["changed"] and off["power_state"] == "poweredOff", off.debug


def test_unknown_vm(vcsim):
    result = run_module(MODULE, dict(name="no-such-vm", state="powered_off"), env=vcsim.env())
    assert result["failed"] and "No virtual machine named 'no-such-vm'" in result["msg"], result.debug


def test_timeout_must_be_positive(vcsim):
    result = run_module(MODULE, dict(name="asr-mt-01", state="shutdown_guest", timeout=0), env=vcsim.env())
    assert result["failed"] and "timeout must be at least 1" in result["msg"], result.debug
