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
        or power-off task may take; a task that waits, for example on a question the VM asks in
        vCenter, fails the module after that time.
    type: int
    default: 300
notes:
  - A hard power-off can lose data the guest has not written yet; prefer O(state=shutdown_guest).
  - The vCenter account needs the privileges VirtualMachine.Interact.PowerOn and
    VirtualMachine.Interact.PowerOff (a guest shutdown uses PowerOff too).
seealso:
  - module: siterecovery.master_target.vm_scsi_controller
  - module: siterecovery.master_target.vm_disk_uuid
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

import time

from ansible_collections.siterecovery.master_target.plugins.module_utils._vsphere_client import VSphereError
from ansible_collections.siterecovery.master_target.plugins.module_utils._vsphere_lookup import find_vm, read_object
from ansible_collections.siterecovery.master_target.plugins.module_utils._vsphere_module import (
    Changes,
    run_module,
    vsphere_module,
)
from ansible_collections.siterecovery.master_target.plugins.module_utils._vsphere_tasks import fault_text, run_task

try:
    from pyVmomi import vmodl
except ImportError:  # pragma: no cover - reported when connecting
    pass

POWER_STATES = ("poweredOn", "poweredOff", "suspended")
# The runtime.powerState each state option ends in.
WANTED_STATE = dict(powered_on="poweredOn", powered_off="poweredOff", shutdown_guest="poweredOff")
# The runtime.powerState each action leaves.
ACTION_RESULT = dict(power_on="poweredOn", power_off="poweredOff", shutdown_guest="poweredOff")

HARD_OFF_HINT = "or set force: true to power it off hard (like pulling the plug)"


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


def wait_for_power_state(read_state, wanted, timeout, sleep=time.sleep, clock=time.monotonic):
    """Poll `read_state()` until it returns `wanted`; False if it has not after `timeout` seconds.

    Short sleeps first (a simulator or a quick guest is done at once), growing to 2 s, never
    sleeping past the deadline; one last read at the deadline.
    """
    deadline = clock() + timeout
    delay = 0.05
    while True:
        if read_state() == wanted:
            return True
        remaining = deadline - clock()
        if remaining <= 0:
            return False
        sleep(min(delay, remaining))
        delay = min(delay * 2, 2.0)


def power_on(module, client, vm):
    run_task(client, vm.obj.PowerOnVM_Task, "Power-on", f"VM {vm.path}", timeout=module.params["timeout"])
    return "power_on"


def power_off(module, client, vm):
    run_task(client, vm.obj.PowerOffVM_Task, "Power-off", f"VM {vm.path}", timeout=module.params["timeout"])
    return "power_off"


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
        return read_object(client, vm.obj, ["runtime.powerState"], what=f"VM {vm.path}").get("runtime.powerState")

    if wait_for_power_state(read_state, "poweredOff", timeout):
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
    vm = find_vm(client, params, ["runtime.powerState", "guest.toolsRunningStatus"])
    current = vm.get("runtime.powerState")
    tools_status = vm.get("guest.toolsRunningStatus")
    action, error = power_plan(current, params["state"], tools_status == "guestToolsRunning", params["force"])
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
        after = read_object(client, vm.obj, ["runtime.powerState"], what=f"VM {vm.path}").get("runtime.powerState")
    return dict(changes.result(module), power_state=after, previous_power_state=current, power_action=action, vm=vm.describe())


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
