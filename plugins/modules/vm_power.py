#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, siterecovery.master_target contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: vm_power
short_description: Power a virtual machine on or off, or shut its guest down
description:
  - Ensures a virtual machine is powered on or powered off.
  - Preparing a master target for Azure Site Recovery sometimes needs the VM powered off, for example
    to convert a ParaVirtual SCSI controller to LSI Logic, and powered on again afterwards, for
    example for C(disk.EnableUUID) to take effect (a reboot inside the guest is not enough for that).
  - O(state=powered_on) powers the VM on (a suspended VM is resumed); nothing is done when it is
    already powered on.
  - O(state=powered_off) powers the VM off at once, without asking the guest (like pulling the plug);
    a suspended VM is powered off too (its suspended state is discarded). Nothing is done when it is
    already powered off.
  - O(state=shutdown_guest) asks the guest operating system to shut down through VMware Tools and
    waits until the VM is powered off, for at most O(timeout) seconds. Nothing is done when the VM is
    already powered off. When VMware Tools are not running in the guest (or the VM is suspended) the
    module fails before changing anything, unless O(force=true).
  - A VM waiting for the answer to a question in vCenter (C(runtime.question), for example
    "This virtual machine might have been moved or copied") does not power on until the question is
    answered. The module reads the question with the power state and fails at once, before changing
    anything, with the question's text and its answers. While it waits for a power task or a guest
    shutdown, it also fails as soon as the VM asks a question (the task then waits in vCenter for the
    answer). Answer the question in the vSphere Client, or with the API call C(AnswerVM), then run again.
    A VM already in the wanted state only gets a warning about its question.
version_added: 0.1.0
author:
  - siterecovery.master_target contributors (@siterecovery)
extends_documentation_fragment:
  - siterecovery.master_target.vsphere
  - siterecovery.master_target.vsphere.vm
  - siterecovery.master_target.vsphere.attributes
options:
  state:
    description:
      - The power state the VM must end in.
      - V(powered_on) powers on (or resumes) the VM.
      - V(powered_off) powers off the VM at once, without a guest shutdown.
      - V(shutdown_guest) shuts the guest down cleanly through VMware Tools and waits until the VM is
        powered off.
    type: str
    required: true
    choices: [powered_on, powered_off, shutdown_guest]
  force:
    description:
      - With O(state=shutdown_guest), whether to power the VM off hard when a guest shutdown is not
        possible (VMware Tools not running, VM suspended, the request refused) or the VM is still
        powered on after O(timeout) seconds. A warning says so when it happens.
      - When V(false), each of those cases fails with a message naming the VM and the fix.
      - Ignored with the other states.
    type: bool
    default: false
  timeout:
    description:
      - How many seconds to wait for the power change.
      - With O(state=shutdown_guest), how long the guest has to power off after the shutdown request.
      - With the other states (and the hard power-off of O(force=true)), how long the vCenter power-on
        or power-off task may take. A question the VM asks in vCenter fails the module at once, without
        waiting for this timeout.
    type: int
    default: 300
notes:
  - A hard power-off can lose data the guest has not written yet; prefer O(state=shutdown_guest).
  - >-
    Privileges: all on the VM. C(VirtualMachine.Interact.PowerOn) for O(state=powered_on) (C(PowerOnVM_Task), which also
    resumes a suspended VM); C(VirtualMachine.Interact.PowerOff) for O(state=powered_off) (C(PowerOffVM_Task)) and for
    O(state=shutdown_guest) (C(ShutdownGuest), and C(PowerOffVM_Task) for the hard power-off of O(force=true)).
    Otherwise read-only (C(System.Read), as in the Read-only role) on the VM and its tasks. The module never answers a
    question; answering one (C(AnswerVM)) needs C(VirtualMachine.Interact.AnswerQuestion).
seealso:
  - module: siterecovery.master_target.vm_scsi_controller
    description: Converts the SCSI controllers, with the VM powered off.
  - module: siterecovery.master_target.vm_disk_uuid
    description: Sets C(disk.EnableUUID), which takes effect at the next power-on.
  - module: siterecovery.master_target.vm_tools
    description: Waits for VMware Tools to run after a power-on; a guest shutdown needs them running.
"""

EXAMPLES = r"""
- name: Shut the master target down cleanly (fails if VMware Tools are not running)
  siterecovery.master_target.vm_power:
    name: asr-mt-01
    state: shutdown_guest
  delegate_to: localhost
  register: shutdown

- name: Convert its ParaVirtual SCSI controller to LSI Logic while it is off
  siterecovery.master_target.vm_scsi_controller:
    name: asr-mt-01
    convert: true
  delegate_to: localhost

- name: Power it on again, if it was running before
  siterecovery.master_target.vm_power:
    name: asr-mt-01
    state: powered_on
  delegate_to: localhost
  when: shutdown.previous_power_state == 'poweredOn'

- name: Shut down, and power off hard if the guest has not stopped within 10 minutes
  siterecovery.master_target.vm_power:
    name: asr-mt-01
    folder: /DC0/vm/asr
    state: shutdown_guest
    timeout: 600
    force: true
  delegate_to: localhost
"""

RETURN = r"""
power_state:
  description:
    - The VM's power state (C(runtime.powerState)) after the run, read back from vCenter.
    - In check mode, the power state the run would leave.
  returned: always
  type: str
  sample: poweredOff
previous_power_state:
  description: The VM's power state before the run.
  returned: always
  type: str
  sample: poweredOn
power_action:
  description:
    - What was done (or would be done, in check mode). V(power_on), V(power_off) (a hard power-off,
      also when O(force=true) replaced a guest shutdown), V(shutdown_guest), or null when the VM was
      already in the wanted state.
  returned: always
  type: str
  sample: shutdown_guest
question:
  description:
    - The question the VM waits on in vCenter (C(runtime.question)), or null when none.
    - Returned also when the module fails because of it.
  returned: always
  type: dict
  contains:
    id:
      description: The question's id, the C(questionId) of C(AnswerVM).
      type: str
      sample: _vmx1
    text:
      description: The question as vCenter shows it.
      type: str
      sample: This virtual machine might have been moved or copied.
    choices:
      description: The possible answers, each with its C(key) (the C(answerChoice) of C(AnswerVM)) and C(label).
      type: list
      elements: dict
      sample: [{key: "0", label: Cancel}, {key: "1", label: I Moved It}, {key: "2", label: I Copied It}]
    default:
      description: The key of the default answer, or null.
      type: str
      sample: "2"
vm:
  description: The virtual machine worked on.
  returned: always
  type: dict
  contains:
    name:
      description: The VM's name.
      type: str
      sample: asr-mt-01
    moid:
      description: The VM's managed object id.
      type: str
      sample: vm-42
    path:
      description: The VM's inventory path (when selected by name), else its name and moid.
      type: str
      sample: /DC0/vm/asr/asr-mt-01
"""

from ansible_collections.siterecovery.master_target.plugins.module_utils._vsphere_client import (
    CONNECTION_ERRORS,
    VSphereError,
)
from ansible_collections.siterecovery.master_target.plugins.module_utils._vsphere_lookup import find_vm, reread
from ansible_collections.siterecovery.master_target.plugins.module_utils._vsphere_module import (
    Changes,
    run_module,
    vsphere_module,
)
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


def run_power_task(module, client, vm, action):
    """Start PowerOnVM_Task or PowerOffVM_Task and wait for it, reading the task and the VM's question in one round trip each time.

    Unlike waiting on the task alone, a question the VM asks fails the module at once instead of after the timeout.
    """
    target, timeout = f"VM {vm.path}", module.params["timeout"]
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


def power_on(module, client, vm):
    return run_power_task(module, client, vm, "power_on")


def power_off(module, client, vm):
    return run_power_task(module, client, vm, "power_off")


def shutdown_guest(module, client, vm):
    """Ask the guest to shut down and wait for poweredOff; with force, a hard power-off when that fails."""
    timeout, force = module.params["timeout"], module.params["force"]
    try:
        vm.obj.ShutdownGuest()
    except vmodl.MethodFault as fault:
        # Tools can stop between our read and the request (ToolsUnavailable), or vCenter may refuse it.
        if not force:
            raise VSphereError(
                f"Guest shutdown of VM {vm.path} was refused by vCenter: {fault_text(fault)}. "
                f"Check that VMware Tools run in the guest and run again, {HARD_OFF_HINT}. Nothing was changed."
            ) from None
        module.warn(f"Guest shutdown of VM {vm.path} was refused by vCenter ({fault_text(fault)}): powering it off hard (force: true).")
        return power_off(module, client, vm)

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
    module.warn(f"VM {vm.path} was still powered on {timeout} s after the guest shutdown request: powering it off hard (force: true).")
    return power_off(module, client, vm)


ACTIONS = dict(power_on=power_on, power_off=power_off, shutdown_guest=shutdown_guest)


def ensure_power_state(module, client):
    params = module.params
    vm = find_vm(client, params, ["runtime.powerState", "guest.toolsRunningStatus", "runtime.question"])
    current = vm.get("runtime.powerState")
    tools_status = vm.get("guest.toolsRunningStatus")
    question = question_facts(vm.get("runtime.question"))
    action, error = power_plan(current, params["state"], tools_status == "guestToolsRunning", params["force"])
    refusal, warning = question_plan(vm.path, current, question, action or error)
    if refusal:
        raise VSphereError(refusal, power_state=current, previous_power_state=current, question=question, vm=vm.describe())
    if warning:
        module.warn(warning)
    if error:
        raise VSphereError(
            f"VM {vm.path} {error} Nothing was changed.",
            power_state=current,
            previous_power_state=current,
            tools_running_status=tools_status,
            vm=vm.describe(),
        )
    if params["state"] == "shutdown_guest" and action == "power_off":
        # force: true turned the guest shutdown into a hard power-off; say so even in check mode.
        reason = "is suspended" if current == "suspended" else f"has VMware Tools not running ({tools_status})"
        module.warn(
            f"VM {vm.path} {reason}: it {'would be' if module.check_mode else 'is'} powered off hard (force: true), without a guest shutdown."
        )

    changes = Changes()
    changes.compare("power_state", current, ACTION_RESULT[action] if action else current)
    after = changes.after["power_state"]
    if action and not module.check_mode:
        action = ACTIONS[action](module, client, vm)
        after = reread(client, vm, ["runtime.powerState"]).get("runtime.powerState")
    return dict(changes.result(module), power_state=after, previous_power_state=current, power_action=action, question=question,
                vm=vm.describe())


def main():
    module = vsphere_module(
        dict(
            state=dict(type="str", required=True, choices=list(WANTED_STATE)),
            force=dict(type="bool", default=False),
            timeout=dict(type="int", default=300),
        )
    )
    if module.params["timeout"] < 1:
        module.fail_json(msg=f"timeout must be at least 1 (seconds), got {module.params['timeout']}.")
    run_module(module, ensure_power_state)


if __name__ == "__main__":
    main()
