from __future__ import annotations

import itertools
from types import SimpleNamespace

import pytest
from pyVmomi import vim
from support.clock import FakeClock, reader

from ansible_collections.siterecovery.master_target.plugins.module_utils._vsphere_client import VSphereError
from ansible_collections.siterecovery.master_target.plugins.module_utils._vsphere_lookup import ManagedObject
from ansible_collections.siterecovery.master_target.plugins.module_utils import _vsphere_power as vm_power
from ansible_collections.siterecovery.master_target.plugins.module_utils._vsphere_power import (
    POWER_STATES,
    WANTED_STATE,
    power_plan,
    power_task_error,
    question_facts,
    question_message,
    question_plan,
)

ON, OFF, SUSPENDED = "poweredOn", "poweredOff", "suspended"
TOOLS_ERROR = "VMware Tools are not running"
SUSPENDED_ERROR = "is suspended, so its guest cannot shut down"

# Every (current state, wanted, tools running, force): the action, or a fragment of the error.
PLAN = [
    # powered_on: PowerOn from off, and from suspended (it resumes); Tools and force do not matter.
    (ON, "powered_on", True, True, None, None),
    (ON, "powered_on", True, False, None, None),
    (ON, "powered_on", False, True, None, None),
    (ON, "powered_on", False, False, None, None),
    (OFF, "powered_on", True, True, "power_on", None),
    (OFF, "powered_on", True, False, "power_on", None),
    (OFF, "powered_on", False, True, "power_on", None),
    (OFF, "powered_on", False, False, "power_on", None),
    (SUSPENDED, "powered_on", True, True, "power_on", None),
    (SUSPENDED, "powered_on", True, False, "power_on", None),
    (SUSPENDED, "powered_on", False, True, "power_on", None),
    (SUSPENDED, "powered_on", False, False, "power_on", None),
    # powered_off: always the hard PowerOff, never a guest shutdown.
    (ON, "powered_off", True, True, "power_off", None),
    (ON, "powered_off", True, False, "power_off", None),
    (ON, "powered_off", False, True, "power_off", None),
    (ON, "powered_off", False, False, "power_off", None),
    (OFF, "powered_off", True, True, None, None),
    (OFF, "powered_off", True, False, None, None),
    (OFF, "powered_off", False, True, None, None),
    (OFF, "powered_off", False, False, None, None),
    (SUSPENDED, "powered_off", True, True, "power_off", None),
    (SUSPENDED, "powered_off", True, False, "power_off", None),
    (SUSPENDED, "powered_off", False, True, "power_off", None),
    (SUSPENDED, "powered_off", False, False, "power_off", None),
    # shutdown_guest: needs a running guest with Tools; force falls back to a hard power-off.
    (ON, "shutdown_guest", True, True, "shutdown_guest", None),
    (ON, "shutdown_guest", True, False, "shutdown_guest", None),
    (ON, "shutdown_guest", False, True, "power_off", None),
    (ON, "shutdown_guest", False, False, None, TOOLS_ERROR),
    (OFF, "shutdown_guest", True, True, None, None),
    (OFF, "shutdown_guest", True, False, None, None),
    (OFF, "shutdown_guest", False, True, None, None),
    (OFF, "shutdown_guest", False, False, None, None),
    # A suspended guest cannot answer, whatever Tools last reported.
    (SUSPENDED, "shutdown_guest", True, True, "power_off", None),
    (SUSPENDED, "shutdown_guest", True, False, None, SUSPENDED_ERROR),
    (SUSPENDED, "shutdown_guest", False, True, "power_off", None),
    (SUSPENDED, "shutdown_guest", False, False, None, SUSPENDED_ERROR),
]


def test_the_table_covers_every_combination_once():
    combinations = [row[:4] for row in PLAN]
    assert sorted(combinations) == sorted(itertools.product(POWER_STATES, WANTED_STATE, [True, False], [True, False]))


@pytest.mark.parametrize("current, wanted, tools_running, force, action, error", PLAN)
def test_power_plan(current, wanted, tools_running, force, action, error):
    planned, message = power_plan(current, wanted, tools_running, force)
    assert planned == action
    if error is None:
        assert message is None
    else:
        assert error in message
        assert "force: true" in message  # every refusal names the way out


def test_power_plan_error_for_tools_names_the_fix():
    message = power_plan(ON, "shutdown_guest", False, False)[1]
    assert "Start VMware Tools" in message and "power it off hard" in message


@pytest.mark.parametrize("wanted", list(WANTED_STATE))
def test_power_plan_refuses_an_unknown_power_state(wanted):
    action, message = power_plan("unknown", wanted, True, True)
    assert action is None
    assert "'unknown'" in message


# --- the wait for a guest shutdown (poll's schedule itself: test_vsphere_tasks.py) -------------------

def shut_down(monkeypatch, states, timeout=300):
    """Run shutdown_guest on a VM whose runtime.powerState reads `states` in turn (the last one forever), on a fake clock."""
    fake = FakeClock()
    read_state = reader(states, fake)
    monkeypatch.setattr(vm_power, "poll", fake.poll)
    monkeypatch.setattr(vm_power, "reread", lambda client, vm, paths: ManagedObject(vm.obj, {"runtime.powerState": read_state()}))
    vm = SimpleNamespace(obj=SimpleNamespace(ShutdownGuest=lambda: None), path="/DC0/vm/asr/asr-mt-01")
    return (lambda: vm_power.shutdown_guest(None, vm, timeout, False, None)), fake, read_state


def test_shutdown_returns_at_once_when_already_off(monkeypatch):
    run, fake, read_state = shut_down(monkeypatch, [OFF])
    assert run() == "shutdown_guest"
    assert not fake.sleeps and len(read_state.reads) == 1


def test_shutdown_waits_until_the_vm_is_off_with_growing_sleeps(monkeypatch):
    run, fake, read_state = shut_down(monkeypatch, [ON, ON, ON, ON, OFF])
    assert run() == "shutdown_guest"
    assert fake.sleeps == [0.05, 0.1, 0.2, 0.4]
    assert len(read_state.reads) == 5


def test_shutdown_wait_sleeps_at_most_2_seconds_and_stops_at_the_timeout(monkeypatch):
    run, fake, read_state = shut_down(monkeypatch, [ON], timeout=30)
    with pytest.raises(VSphereError) as error:
        run()
    assert "VM /DC0/vm/asr/asr-mt-01 is still powered on 30 s after the guest shutdown request" in error.value.msg
    assert max(fake.sleeps) == 2.0
    assert sum(fake.sleeps) == pytest.approx(30)  # never sleeps past the deadline
    assert read_state.reads[-1] == pytest.approx(130)  # one last read at the deadline


# --- questions (runtime.question) ------------------------------------------------------------------

VM_PATH = "/DC0/vm/asr/asr-mt-02"


def moved_or_copied(default_index=2):
    return vim.vm.QuestionInfo(
        id="_vmx1",
        text="This virtual machine might have been moved or copied.\nIn order to configure certain management and networking features,\n"
             "VMware ESX needs to know if this virtual machine was moved or copied.",
        choice=vim.option.ChoiceOption(
            choiceInfo=[vim.ElementDescription(key=key, label=label, summary=label)
                        for key, label in (("0", "Cancel"), ("1", "I Moved It"), ("2", "I Copied It"))],
            defaultIndex=default_index,
        ),
    )


def test_question_facts_are_plain_data_on_one_line():
    assert question_facts(None) is None
    assert question_facts(moved_or_copied()) == dict(
        id="_vmx1",
        text="This virtual machine might have been moved or copied. In order to configure certain management and networking features, "
             "VMware ESX needs to know if this virtual machine was moved or copied.",
        choices=[dict(key="0", label="Cancel"), dict(key="1", label="I Moved It"), dict(key="2", label="I Copied It")],
        default="2",
    )
    assert question_facts(vim.vm.QuestionInfo(id="7", text="Retry?", choice=vim.option.ChoiceOption()))["choices"] == []


def test_a_question_found_first_fails_with_its_text_its_answers_and_the_fix():
    message = question_message(VM_PATH, question_facts(moved_or_copied()))
    assert message.startswith(f"VM {VM_PATH} is waiting for the answer to a question in vCenter, and until it is answered its power state cannot change: ")
    assert '"This virtual machine might have been moved or copied. In order' in message
    assert "(question id _vmx1; answers: 0 = Cancel, 1 = I Moved It, 2 = I Copied It (the default))" in message
    assert "vSphere Client" in message and "AnswerVM (questionId: _vmx1, answerChoice: the key of the answer)" in message
    assert message.endswith("then run again. Nothing was changed.")


def test_a_question_asked_while_waiting_names_what_was_started():
    message = question_message(VM_PATH, question_facts(moved_or_copied()), "the power-on task task-12")
    assert message.startswith(f"VM {VM_PATH} asked a question in vCenter while this module was waiting for the power-on task task-12, "
                              "which waits for the answer: ")
    assert "AnswerVM" in message and message.endswith("vCenter goes on once it is answered; nothing else was changed.")


def test_a_question_refuses_any_change_and_only_warns_when_none_is_needed():
    question = question_facts(moved_or_copied())
    assert question_plan(VM_PATH, OFF, None, "power_on") == (None, None)
    refusal, warning = question_plan(VM_PATH, OFF, question, "power_on")
    assert refusal == question_message(VM_PATH, question) and warning is None
    # Also instead of another refusal (the question is what blocks the VM first).
    assert question_plan(VM_PATH, SUSPENDED, question, "is suspended, so its guest cannot shut down.")[0] == refusal
    refusal, warning = question_plan(VM_PATH, OFF, question, None)
    assert refusal is None and warning.startswith(f"VM {VM_PATH} is poweredOff, as asked, but it waits for the answer to a question")


def test_power_task_error():
    assert power_task_error(VM_PATH, "power_on", "task-12", "success", None, 300) is None
    fault = vim.fault.InvalidPowerState(msg="The attempted operation cannot be performed in the current state (Powered on).")
    assert power_task_error(VM_PATH, "power_off", "task-12", "error", fault, 300) == (
        f"Power-off of VM {VM_PATH} failed in vCenter: The attempted operation cannot be performed in the current state (Powered on). "
        "(InvalidPowerState). Fix that cause, then run again."
    )
    assert power_task_error(VM_PATH, "power_on", "task-12", "running", None, 30) == (
        f"Power-on of VM {VM_PATH} did not finish within 30 s; check the task in vCenter (task-12)."
    )
