# -*- coding: utf-8 -*-
# Copyright: (c) 2026, siterecovery.master_target contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Powering a VM on and off: what to do (pure functions), and doing it while watching for a question the VM asks.

Shared by vm_power and vm_preparation (which powers the VM off and on once for every change that needs it).
"""

from __future__ import annotations

from ansible_collections.siterecovery.master_target.plugins.module_utils._vsphere_client import (
    CONNECTION_ERRORS,
    VSphereError,
)
from ansible_collections.siterecovery.master_target.plugins.module_utils._vsphere_lookup import reread
from ansible_collections.siterecovery.master_target.plugins.module_utils._vsphere_tasks import (
    fault_text,
    lost_while_waiting,
    poll,
    start_task,
)

try:
    from pyVmomi import vim, vmodl
except ImportError:  # pragma: no cover - reported when connecting
    pass

POWER_STATES = ("poweredOn", "poweredOff", "suspended")
# The runtime.powerState each state option ends in.
WANTED_STATE = dict(powered_on="poweredOn", powered_off="poweredOff", shutdown_guest="poweredOff")
# The runtime.powerState each action leaves.
ACTION_RESULT = dict(power_on="poweredOn", power_off="poweredOff", shutdown_guest="poweredOff")

HARD_OFF_HINT = "or set force: true to power it off hard (like pulling the plug)"
# What each power task is called in messages.
ACTION_TEXT = dict(power_on="Power-on", power_off="Power-off")
TASK_PATHS = ["info.state", "info.error"]


def power_plan(current_state, wanted, tools_running, force):
    """Pure: (action, None) to reach `wanted` from `current_state`, (None, None) when already there,
    or (None, error) when it cannot be done; `error` continues a sentence that starts with the VM.

    PowerOn resumes a suspended VM, and PowerOff powers it off, so both need nothing special. A guest
    shutdown needs the guest running with VMware Tools: a suspended guest cannot answer either.
    """
    target = WANTED_STATE[wanted]
    if current_state == target:
        return None, None
    if current_state not in POWER_STATES:
        return None, (
            f"reports the power state '{current_state}', which this module does not know. Check the VM and its host in vCenter."
        )
    if wanted == "powered_on":
        return "power_on", None
    if wanted == "powered_off":
        return "power_off", None
    if current_state == "poweredOn" and tools_running:
        return "shutdown_guest", None
    if force:
        return "power_off", None
    if current_state == "suspended":
        return None, (
            "is suspended, so its guest cannot shut down. Resume it with state: powered_on and run again, "
            "or set force: true to power it off hard (its suspended state is discarded)."
        )
    return None, (
        "is powered on but VMware Tools are not running in it, so the guest cannot be asked to shut down. "
        f"Start VMware Tools (open-vm-tools on Linux) in the guest, {HARD_OFF_HINT}."
    )


def question_facts(question):
    """Pure: a VM's runtime.question (VirtualMachineQuestionInfo) as {id, text, choices: [{key, label}], default}; None for None."""
    if question is None:
        return None
    choice = getattr(question, "choice", None)
    choices = [dict(key=str(info.key), label=info.label) for info in getattr(choice, "choiceInfo", None) or []]
    index = getattr(choice, "defaultIndex", None)
    default = choices[index]["key"] if index is not None and 0 <= index < len(choices) else None
    return dict(id=question.id, text=" ".join(str(question.text or "").split()), choices=choices, default=default)


def question_message(vm_path, question, waiting_for=None):
    """Pure: the failure for a VM that waits on `question` (question_facts): what it asks, its answers and the fix.

    `waiting_for` is None when the question was there before the module changed anything, else what
    the module had started and was waiting for ("the power-on task task-12").
    """
    answers = ", ".join(
        f"{choice['key']} = {choice['label']}" + (" (the default)" if choice["key"] == question["default"] else "")
        for choice in question["choices"]
    ) or "none listed"
    asked = f"\"{question['text']}\" (question id {question['id']}; answers: {answers})"
    fix = (
        "Answer it in the vSphere Client (the VM's Summary shows the question), or with the API call "
        f"AnswerVM (questionId: {question['id']}, answerChoice: the key of the answer), then run again."
    )
    if waiting_for is None:
        return (
            f"VM {vm_path} is waiting for the answer to a question in vCenter, and until it is answered its power state "
            f"cannot change: {asked}. {fix} Nothing was changed."
        )
    return (
        f"VM {vm_path} asked a question in vCenter while this module was waiting for {waiting_for}, which waits for the "
        f"answer: {asked}. {fix} vCenter goes on once it is answered; nothing else was changed."
    )


def question_plan(vm_path, current_state, question, change_needed):
    """Pure: (refusal, warning) for a VM's question (question_facts or None), found before anything changed.

    The question comes first: whatever else would be done or refused, the power state cannot change
    until it is answered. A VM already in the wanted state only gets a warning.
    """
    if question is None:
        return None, None
    if change_needed:
        return question_message(vm_path, question), None
    return None, (
        f"VM {vm_path} is {current_state}, as asked, but it waits for the answer to a question in vCenter: \"{question['text']}\". "
        "Answer it in the vSphere Client or with AnswerVM."
    )


def power_task_error(vm_path, action, task_id, state, error, timeout):
    """Pure: the failure of a power task that is not `success` after polling: its fault, or the timeout; None on success."""
    if state == "success":
        return None
    if state == "error":
        return f"{ACTION_TEXT[action]} of VM {vm_path} failed in vCenter: {fault_text(error)}. Fix that cause, then run again."
    return f"{ACTION_TEXT[action]} of VM {vm_path} did not finish within {timeout} s; check the task in vCenter ({task_id})."


def read_question(client, vm, waiting_for):
    """Read the VM's power state and question in one round trip; raise the question's failure when it asks one."""
    found = reread(client, vm, ["runtime.powerState", "runtime.question"])
    question = question_facts(found.get("runtime.question"))
    if question is not None:
        raise VSphereError(question_message(vm.path, question, waiting_for), question=question, vm=vm.describe())
    return found


def read_task_and_question(client, task, vm, action):
    """({task property: value}, question_facts or None): the task's state and the VM's question in one round trip."""
    spec = vmodl.query.PropertyCollector
    filter_spec = spec.FilterSpec(
        objectSet=[spec.ObjectSpec(obj=task), spec.ObjectSpec(obj=vm.obj)],
        propSet=[spec.PropertySpec(type=vim.Task, pathSet=TASK_PATHS), spec.PropertySpec(type=vim.VirtualMachine, pathSet=["runtime.question"])],
    )
    try:
        result = client.content.propertyCollector.RetrievePropertiesEx([filter_spec], spec.RetrieveOptions())
    except vmodl.fault.ManagedObjectNotFound:
        # As wait_for_task says it (_vsphere_tasks), should the task or the VM be gone.
        raise VSphereError(f"The task '{ACTION_TEXT[action]}' on VM {vm.path} no longer exists in vCenter {client.hostname}.") from None
    info, question = {}, None
    for content in result.objects if result is not None else []:
        props = {prop.name: prop.val for prop in content.propSet or []}
        if isinstance(content.obj, vim.Task):
            info = props
        else:
            question = question_facts(props.get("runtime.question"))
    return info, question


def run_power_task(client, vm, action, timeout):
    """Start PowerOnVM_Task or PowerOffVM_Task and wait for it, reading the task and the VM's question in one round trip each time.

    Unlike waiting on the task alone, a question the VM asks fails the module at once instead of after the timeout.
    """
    target = f"VM {vm.path}"
    start = vm.obj.PowerOnVM_Task if action == "power_on" else vm.obj.PowerOffVM_Task
    task = start_task(client, start, ACTION_TEXT[action], target)
    task_id = task._moId  # pylint: disable=protected-access
    waiting_for = f"the {ACTION_TEXT[action].lower()} task {task_id}"

    def read():
        info, question = read_task_and_question(client, task, vm, action)
        if question is not None:
            raise VSphereError(question_message(vm.path, question, waiting_for), question=question, vm=vm.describe())
        return info.get("info.state"), info.get("info.error")

    try:
        state, error = poll(read, lambda value: value[0] in ("success", "error"), timeout, longest=1.0)
    except CONNECTION_ERRORS as error:
        raise lost_while_waiting(client, task, ACTION_TEXT[action], target, error) from None
    message = power_task_error(vm.path, action, task_id, state, error, timeout)
    if message:
        raise VSphereError(message)
    return action


def power_on(client, vm, timeout, force=False, warn=None):  # pylint: disable=unused-argument
    return run_power_task(client, vm, "power_on", timeout)


def power_off(client, vm, timeout, force=False, warn=None):  # pylint: disable=unused-argument
    return run_power_task(client, vm, "power_off", timeout)


def shutdown_guest(client, vm, timeout, force, warn):
    """Ask the guest to shut down and wait for poweredOff; with force, a hard power-off when that fails (said with `warn`)."""
    try:
        vm.obj.ShutdownGuest()
    except vmodl.MethodFault as fault:
        # Tools can stop between our read and the request (ToolsUnavailable), or vCenter may refuse it.
        if not force:
            raise VSphereError(
                f"Guest shutdown of VM {vm.path} was refused by vCenter: {fault_text(fault)}. "
                f"Check that VMware Tools run in the guest and run again, {HARD_OFF_HINT}. Nothing was changed."
            ) from None
        warn(f"Guest shutdown of VM {vm.path} was refused by vCenter ({fault_text(fault)}): powering it off hard (force: true).")
        return power_off(client, vm, timeout)

    def read_state():
        return read_question(client, vm, "the guest to shut down").get("runtime.powerState")

    if poll(read_state, lambda state: state == "poweredOff", timeout, longest=2.0) == "poweredOff":
        return "shutdown_guest"
    if not force:
        raise VSphereError(
            f"VM {vm.path} is still powered on {timeout} s after the guest shutdown request. The guest may be hung, or "
            "something in it holds the shutdown (an application, pending updates). Check the VM's console, then run "
            f"again with a longer timeout, {HARD_OFF_HINT}."
        )
    warn(f"VM {vm.path} was still powered on {timeout} s after the guest shutdown request: powering it off hard (force: true).")
    return power_off(client, vm, timeout)


ACTIONS = dict(power_on=power_on, power_off=power_off, shutdown_guest=shutdown_guest)
