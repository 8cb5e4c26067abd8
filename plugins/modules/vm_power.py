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

from ansible_collections.siterecovery.master_target.plugins.module_utils._vsphere_client import VSphereError
from ansible_collections.siterecovery.master_target.plugins.module_utils._vsphere_lookup import find_vm, reread
from ansible_collections.siterecovery.master_target.plugins.module_utils._vsphere_module import (
    Changes,
    run_module,
    vsphere_module,
)
from ansible_collections.siterecovery.master_target.plugins.module_utils._vsphere_power import (
    ACTION_RESULT,
    ACTIONS,
    WANTED_STATE,
    power_plan,
    question_facts,
    question_plan,
)


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
        action = ACTIONS[action](client, vm, params["timeout"], params["force"], module.warn)
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
