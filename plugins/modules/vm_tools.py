#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, siterecovery.master_target contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: vm_tools
short_description: Report VMware Tools of a virtual machine, wait for them, or mount their installer
description:
  - Reports the VMware Tools state of a virtual machine as vCenter knows it, whether they are
    installed, running, their version and version status. Without O(state), that is all it does; it
    never changes anything then.
  - Azure Site Recovery needs VMware Tools (open-vm-tools on Linux) installed and running on the
    master target, else the datastores of its ESXi host are not listed in the portal during reprotect
    and failback. RV(requirement_met) tells whether that holds.
  - With O(state=running), waits until the Tools run, up to O(timeout) seconds, for example after the
    VM was powered on or the Tools were installed. A VM that is not powered on fails at once.
  - With O(state=installer_mounted), mounts the VMware Tools installer ISO in the guest's CD/DVD drive
    (what the vSphere Client calls Install VMware Tools), so that VMware Tools can be installed in a
    Windows guest. With O(state=installer_unmounted), unmounts it.
  - The installer is for Windows guests. On Linux, VMware supports open-vm-tools from the distribution
    only, so the module refuses to mount the installer in a guest that is not Windows unless
    O(force=true).
  - Reads the VM with the vSphere PropertyCollector only.
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
      - Leave it unset to only report.
      - V(running) waits until VMware Tools run in the guest (C(guest.toolsRunningStatus) is
        C(guestToolsRunning)), polling vCenter every few seconds, and fails after O(timeout) seconds.
        It changes nothing, and waits in check mode as well. A VM that is not powered on fails at once.
      - V(installer_mounted) mounts the VMware Tools installer in the guest's CD/DVD drive, unless it
        is mounted already. The VM must be powered on and have a CD/DVD drive.
      - V(installer_unmounted) unmounts the VMware Tools installer, if it is mounted.
    type: str
    choices: [running, installer_mounted, installer_unmounted]
  timeout:
    description:
      - How many seconds O(state=running) waits for VMware Tools to run.
      - V(0) checks once without waiting.
    type: int
    default: 300
  force:
    description:
      - Whether O(state=installer_mounted) mounts the installer in a guest that is not Windows.
      - Without it, such a guest is refused, because open-vm-tools from the distribution is the way
        VMware supports for Linux guests. With it, the installer is mounted and a warning is given.
    type: bool
    default: false
notes:
  - >-
    Privileges: C(VirtualMachine.Interact.ToolsInstall) on the VM, to mount and unmount the installer
    (C(MountToolsInstaller), C(UnmountToolsInstaller)). Reporting and O(state=running) need read-only (C(System.Read), as
    in the Read-only role) on the VM.
  - Mounting the installer does not install anything. Run the installer in the guest (C(setup64.exe)
    on Windows), or install open-vm-tools from the distribution on Linux.
  - To give the guest time to start its Tools after a power-on, use O(state=running) rather than a
    fixed pause.
seealso:
  - module: siterecovery.master_target.vm_power
    description: Powers the VM on (O(state=running) then waits for its Tools), or shuts its guest down through VMware Tools.
"""

EXAMPLES = r"""
- name: Report VMware Tools of the master target
  siterecovery.master_target.vm_tools:
    name: asr-mt-01
  delegate_to: localhost
  register: mt_tools

- name: Show whether Azure Site Recovery's Tools requirement is met
  ansible.builtin.debug:
    msg: "Tools installed={{ mt_tools.tools.installed }} running={{ mt_tools.tools.running }} met={{ mt_tools.requirement_met }}"

- name: Wait up to 10 minutes for the Tools to run after a power-on
  siterecovery.master_target.vm_tools:
    name: asr-mt-01
    state: running
    timeout: 600
  delegate_to: localhost

- name: Mount the VMware Tools installer in a Windows master target
  siterecovery.master_target.vm_tools:
    name: asr-mt-win-01
    folder: /DC0/vm/asr
    state: installer_mounted
  delegate_to: localhost

- name: Unmount it once VMware Tools are installed
  siterecovery.master_target.vm_tools:
    name: asr-mt-win-01
    folder: /DC0/vm/asr
    state: installer_unmounted
  delegate_to: localhost
"""

RETURN = r"""
tools:
  description: VMware Tools of the VM after the run (as they would be, in check mode).
  returned: always
  type: dict
  contains:
    installed:
      description: Whether VMware Tools (or open-vm-tools) are installed in the guest.
      type: bool
      sample: true
    running:
      description: Whether VMware Tools run in the guest now.
      type: bool
      sample: true
    running_status:
      description:
        - C(guest.toolsRunningStatus) as vCenter reports it.
        - V(guestToolsRunning), V(guestToolsNotRunning) or V(guestToolsExecutingScripts) (starting).
      type: str
      sample: guestToolsRunning
    status:
      description:
        - C(guest.toolsStatus) (else C(summary.guest.toolsStatus)) as vCenter reports it.
        - V(toolsOk), V(toolsOld), V(toolsNotRunning) or V(toolsNotInstalled).
      type: str
      sample: toolsOk
    version:
      description: The Tools version number vCenter reports (C(guest.toolsVersion), else C(config.tools.toolsVersion)); null when none is known.
      type: str
      sample: "12389"
    version_text:
      description: RV(tools.version) as major.minor.patch; null when no version is known.
      type: str
      sample: 12.3.5
    version_status:
      description:
        - C(guest.toolsVersionStatus2) as vCenter reports it, for example V(guestToolsCurrent),
          V(guestToolsNeedUpgrade), V(guestToolsUnmanaged) (open-vm-tools from the distribution) or
          V(guestToolsNotInstalled).
      type: str
      sample: guestToolsUnmanaged
    install_type:
      description: C(guest.toolsInstallType), for example V(guestToolsTypeOpenVMTools) or V(guestToolsTypeMSI).
      type: str
      sample: guestToolsTypeOpenVMTools
    installer_mounted:
      description: Whether the VMware Tools installer is mounted in the guest's CD/DVD drive (C(runtime.toolsInstallerMounted)).
      type: bool
      sample: false
requirement_met:
  description: Whether Azure Site Recovery's requirement holds, VMware Tools installed and running.
  returned: always
  type: bool
  sample: true
vm:
  description: The virtual machine, with what vCenter and its Tools report about the guest.
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
    power_state:
      description: C(runtime.powerState), V(poweredOn), V(poweredOff) or V(suspended).
      type: str
      sample: poweredOn
    guest_id:
      description: The guest operating system configured for the VM (C(config.guestId)).
      type: str
      sample: ubuntu64Guest
    guest_family:
      description: The guest family (C(guest.guestFamily)), for example V(linuxGuest) or V(windowsGuest); null when unknown.
      type: str
      sample: linuxGuest
    guest_state:
      description: The guest's state as its Tools report it (C(guest.guestState)), for example V(running) or V(notRunning); null when unknown.
      type: str
      sample: running
    host_name:
      description: The guest's host name as its Tools report it (C(guest.hostName)); null when unknown.
      type: str
      sample: asr-mt-01.example.com
    ip_address:
      description: The guest's primary IP address as its Tools report it (C(guest.ipAddress)); null when unknown.
      type: str
      sample: 192.0.2.10
"""

from ansible_collections.siterecovery.master_target.plugins.module_utils._vsphere_client import VSphereError
from ansible_collections.siterecovery.master_target.plugins.module_utils._vsphere_lookup import find_vm, reread
from ansible_collections.siterecovery.master_target.plugins.module_utils._vsphere_module import (
    Changes,
    run_module,
    vsphere_module,
)
from ansible_collections.siterecovery.master_target.plugins.module_utils._vsphere_tasks import fault_text, poll
from ansible_collections.siterecovery.master_target.plugins.module_utils._vsphere_tools import (
    ASR_REASON,
    TOOLS_PATHS,
    guest_facts,
    is_windows,
    requirement_met,
    tools_facts,
    tools_problem,
)

try:
    from pyVmomi import vim, vmodl
except ImportError:  # pragma: no cover - reported when connecting
    pass


def wait_is_over(props):
    """Pure: whether waiting for the Tools (props: TOOLS_PATHS) is over: they run, or the VM is not powered on,
    so nothing can start them."""
    return tools_facts(props)["running"] or guest_facts(props)["power_state"] != "poweredOn"


def not_running_message(name, props, timeout):
    """Pure: why the Tools of VM `name` do not run once the wait is over (props: the last read); None when they run."""
    tools, guest = tools_facts(props), guest_facts(props)
    if guest["power_state"] != "poweredOn":
        return f"VM {name} is {guest['power_state']}: VMware Tools cannot run in it. Power the VM on, then wait for its Tools again."
    if tools["running"]:
        return None
    return f"VMware Tools did not start in VM {name} within {timeout} s. {tools_problem(name, tools, guest)} {ASR_REASON}"


def has_cdrom(devices):
    """Pure: whether the VM has a CD/DVD drive to mount the installer in."""
    return any(isinstance(device, vim.vm.device.VirtualCdrom) for device in devices or [])


def mount_refusal(name, guest, devices, force):
    """Pure: why the installer cannot (or should not) be mounted in VM `name`; None when it can."""
    if guest.get("power_state") != "poweredOn":
        return f"VM {name} is {guest.get('power_state')}: vCenter mounts the VMware Tools installer only in a powered-on VM. Power it on and run again."
    if not has_cdrom(devices):
        return f"VM {name} has no CD/DVD drive to mount the VMware Tools installer in. Add a CD/DVD drive to the VM and run again."
    if not is_windows(guest) and not force:
        return (
            f"VM {name} is not a Windows guest (guestId {guest.get('guest_id')}, family {guest.get('guest_family')}): the VMware Tools "
            "installer is for Windows; for Linux VMware supports open-vm-tools from the distribution. Install open-vm-tools in the guest "
            "(the linux role of this collection does it), or set force: true to mount the installer anyway."
        )
    return None


def set_installer(vm, mount):
    """Mount or unmount the installer (no task: the call returns when done); vCenter's refusal becomes VSphereError."""
    action = "Mounting" if mount else "Unmounting"
    try:
        if mount:
            vm.obj.MountToolsInstaller()
        else:
            vm.obj.UnmountToolsInstaller()
    except vmodl.MethodFault as fault:
        raise VSphereError(
            f"{action} the VMware Tools installer in VM {vm.path} was refused by vCenter: {fault_text(fault)}. "
            "Check the VM's power state and CD/DVD drive, and that the account has VirtualMachine.Interact.ToolsInstall."
        ) from None


def ensure_tools(module, client):
    state, timeout = module.params["state"], module.params["timeout"]
    if timeout < 0:
        raise VSphereError(f"timeout must be 0 or more seconds, got {timeout}. Fix the timeout option.")
    paths = TOOLS_PATHS + (("config.hardware.device",) if state == "installer_mounted" else ())
    vm = find_vm(client, module.params, paths)
    props = vm.props

    def read():
        return reread(client, vm, TOOLS_PATHS).props

    if state == "running":
        props = poll(read, wait_is_over, timeout)
        message = not_running_message(vm.path, props, timeout)
        if message:
            raise VSphereError(message, tools=tools_facts(props), requirement_met=False)

    tools, guest = tools_facts(props), guest_facts(props)
    mounted = tools["installer_mounted"]
    # Reporting and running leave the installer as it is; the diff still shows what was checked.
    wanted = {"installer_mounted": True, "installer_unmounted": False}.get(state, mounted)
    changes = Changes()
    changes.compare("installer_mounted", mounted, wanted)

    if changes.changed:
        refusal = mount_refusal(vm.path, guest, props.get("config.hardware.device"), module.params["force"]) if wanted else None
        if refusal:
            raise VSphereError(f"{refusal} Nothing was changed.", tools=tools, requirement_met=requirement_met(tools), vm=dict(vm.describe(), **guest))
        if wanted and not is_windows(guest):
            module.warn(
                f"Mounting the VMware Tools installer in VM {vm.path}, which is not a Windows guest (force: true). "
                "For Linux VMware supports open-vm-tools from the distribution."
            )
        if module.check_mode:
            tools = dict(tools, installer_mounted=wanted)
        else:
            set_installer(vm, wanted)
            props = read()
            tools, guest = tools_facts(props), guest_facts(props)

    return dict(
        changes.result(module),
        tools=tools,
        requirement_met=requirement_met(tools),
        vm=dict(vm.describe(), **guest),
    )


def main():
    module = vsphere_module(
        dict(
            state=dict(type="str", choices=["running", "installer_mounted", "installer_unmounted"]),
            timeout=dict(type="int", default=300),
            force=dict(type="bool", default=False),
        )
    )
    run_module(module, ensure_tools)


if __name__ == "__main__":
    main()
