#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, siterecovery.master_target contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: vm_preparation
short_description: Prepare a master target VM in one call, with one power cycle and one reconfiguration
description:
  - Does, for one virtual machine, the preparation steps that change the VM itself, in the fewest vCenter tasks
    that are safe. First it removes every snapshot (while the VM still runs). Then it powers the VM off once,
    when a step needs it. Then it makes every change to the VM in one C(ReconfigVM_Task). That is the SCSI controller
    conversion to LSI Logic, C(disk.EnableUUID=TRUE), the retention disk, and the records of each. Then it powers
    the VM on once, and waits for the guest to boot from converted controllers.
  - Each step is decided with the same functions as the module that does that step alone. These modules are
    M(siterecovery.master_target.vm_snapshots), M(siterecovery.master_target.vm_scsi_controller),
    M(siterecovery.master_target.vm_disk_uuid), M(siterecovery.master_target.vm_retention_disk) and
    M(siterecovery.master_target.vm_power). The results, the records in the VM's advanced settings and the
    errors are theirs. A step that is not needed is not done, so a second run changes nothing.
  - Everything that could stop the run is checked before anything changes, for example a controller that may not
    be converted, a guest that cannot be shut down, or a retention disk that does not fit. When the reconfiguration
    fails, nothing of it is applied (vCenter applies a reconfiguration whole or not at all), and a VM this module
    powered off is powered on again.
  - A new retention disk goes on the LSI Logic controller that the same reconfiguration creates. vCenter may
    give the new disk a UUID other than the one supplied. So the disk is read back, and its UUID is recorded in
    one more reconfiguration that needs no power-off. When the guest's boot from converted controllers is
    confirmed, the same reconfiguration also records the boot. When the guest does not boot, the controllers are
    put back as M(siterecovery.master_target.vm_scsi_controller) does it, and the module fails.
  - A run that was cut off is finished by the next run. This covers a VM left powered off (with O(power_cycle=true)),
    a conversion whose boot is not yet confirmed, and a retention disk whose UUID is not yet recorded.
  - The P(siterecovery.master_target.vsphere#role) role runs this module for each master target for which
    M(siterecovery.master_target.vm_preparation_info) found a step of it needed.
version_added: 0.1.0
author:
  - siterecovery.master_target contributors (@siterecovery)
extends_documentation_fragment:
  - siterecovery.master_target.vsphere
  - siterecovery.master_target.vsphere.vm
  - siterecovery.master_target.vsphere.attributes
options:
  snapshots:
    description: Whether to remove every snapshot (and consolidate the disks when vCenter says they need it), as
      M(siterecovery.master_target.vm_snapshots) with O(siterecovery.master_target.vm_snapshots#module:state=absent).
    type: bool
    default: true
  disk_uuid:
    description: Whether to set C(disk.EnableUUID=TRUE), as M(siterecovery.master_target.vm_disk_uuid).
    type: bool
    default: true
  scsi_convert:
    description:
      - Whether to convert SCSI controllers that are not LSI Logic, as
        O(siterecovery.master_target.vm_scsi_controller#module:convert=true). A conversion needs O(power_cycle=true)
        when the VM is not powered off.
      - With V(false), a controller that is not LSI Logic fails the module before anything changes.
    type: bool
    default: false
  scsi_type:
    description: As O(siterecovery.master_target.vm_scsi_controller#module:type).
    type: str
    choices: [auto, lsilogic, lsilogicsas]
    default: auto
  scsi_guest_drivers:
    description: As O(siterecovery.master_target.vm_scsi_controller#module:guest_drivers).
    type: list
    elements: str
    choices: [lsilogic, lsilogicsas]
    default: []
  scsi_guest_ready:
    description: As O(siterecovery.master_target.vm_scsi_controller#module:guest_ready).
    type: bool
    default: false
  boot_timeout:
    description: As O(siterecovery.master_target.vm_scsi_controller#module:boot_timeout).
    type: int
    default: 600
  retention_disk_size_gb:
    description:
      - The size of the retention disk in GiB, as O(siterecovery.master_target.vm_retention_disk#module:size_gb).
      - When not set, the retention disk is left alone.
    type: int
  retention_disk_datastore:
    description: As O(siterecovery.master_target.vm_retention_disk#module:datastore); empty means the datastore of the VM's
      configuration file.
    type: str
  retention_disk_grow:
    description: As O(siterecovery.master_target.vm_retention_disk#module:grow).
    type: bool
    default: false
  power_cycle:
    description:
      - Whether the module may power the VM off and on again. It does so once, when a controller is converted or when
        C(disk.EnableUUID) changes (or changed after the VM's last power-on) on a VM that runs.
      - It also powers on a VM it finds powered off, which a run cut off after the power-off leaves behind (with O(power_on)).
      - With V(false), C(disk.EnableUUID) is set all the same and C(power_cycle_required) in RV(state) says that a power cycle is
        still needed.
    type: bool
    default: false
  power_off_state:
    description: How to power the VM off, as O(siterecovery.master_target.vm_power#module:state).
    type: str
    choices: [shutdown_guest, powered_off]
    default: shutdown_guest
  power_off_force:
    description: As O(siterecovery.master_target.vm_power#module:force).
    type: bool
    default: false
  power_timeout:
    description: As O(siterecovery.master_target.vm_power#module:timeout), for the power-off and for the power-on.
    type: int
    default: 300
  power_on:
    description: Whether to power the VM on again after the changes (with O(power_cycle=true)).
    type: bool
    default: true
  task_timeout:
    description: As O(siterecovery.master_target.vm_retention_disk#module:task_timeout), for the snapshot removal and the
      reconfigurations.
    type: int
    default: 3600
notes:
  - >-
    Privileges: those of the step modules, for the steps that are needed, all on the VM. C(VirtualMachine.State.RemoveSnapshot)
    (snapshots, as M(siterecovery.master_target.vm_snapshots)); C(VirtualMachine.Interact.PowerOff) and
    C(VirtualMachine.Interact.PowerOn) (the power cycle, and a rollback); C(VirtualMachine.Config.AddRemoveDevice),
    C(VirtualMachine.Config.EditDevice) and C(VirtualMachine.Config.AdvancedConfig) (the conversion, C(disk.EnableUUID) and the
    records); C(VirtualMachine.Config.AddNewDisk) or C(VirtualMachine.Config.DiskExtend) (the retention disk), with
    C(Datastore.AllocateSpace) on the disk's datastore. Otherwise read-only (C(System.Read), as in the Read-only role) on the
    VM, its host and the datastores; reading the guest OS's controller list and vCenter's time needs C(System.View), which
    every role has.
seealso:
  - module: siterecovery.master_target.vm_preparation_info
    description: Says in one call which steps would change the VM, for any number of VMs.
  - module: siterecovery.master_target.vm_snapshots
    description: Removes the snapshots alone.
  - module: siterecovery.master_target.vm_scsi_controller
    description: Converts the SCSI controllers alone, and confirms the boot.
  - module: siterecovery.master_target.vm_disk_uuid
    description: Sets C(disk.EnableUUID) alone.
  - module: siterecovery.master_target.vm_retention_disk
    description: Adds, grows or removes the retention disk alone.
  - module: siterecovery.master_target.vm_power
    description: Powers the VM off or on alone.
"""

EXAMPLES = r"""
- name: Prepare the master target, powering it off and on once when needed
  siterecovery.master_target.vm_preparation:
    name: asr-mt-01
    scsi_convert: true
    scsi_guest_ready: true
    retention_disk_size_gb: 1024
    power_cycle: true
  delegate_to: localhost
  register: prepared

- name: Say what it did
  ansible.builtin.debug:
    msg: "{{ prepared.tasks | join(', ') or 'Nothing to do.' }}"
"""

RETURN = r"""
steps:
  description:
    - One entry per step this module does, by name, with C(changed). Each step also returns what
      the step's own module returns.
  returned: always
  type: dict
  contains:
    snapshots:
      description: C(removed) (snapshot paths) and C(consolidated), as M(siterecovery.master_target.vm_snapshots).
      returned: when O(snapshots=true)
      type: dict
      sample: {changed: true, removed: [before-patch, before-patch/after-patch], consolidated: false}
    scsi_controllers:
      description: C(controllers), C(converted), C(type) and C(boot), as M(siterecovery.master_target.vm_scsi_controller).
      returned: always
      type: dict
      sample: {changed: true, converted: [{bus: 0, from: paravirtual, to: lsilogicsas}], type: lsilogicsas, boot: confirmed}
    disk_uuid:
      description: C(before), C(after) and C(removed_keys), as M(siterecovery.master_target.vm_disk_uuid).
      returned: when O(disk_uuid=true)
      type: dict
      sample: {changed: true, before: null, after: "TRUE", removed_keys: []}
    retention_disk:
      description: C(operation), C(disk), C(marker) and C(overcommit), as M(siterecovery.master_target.vm_retention_disk).
      returned: when O(retention_disk_size_gb) is set
      type: dict
      sample: {changed: true, operation: added, disk: {label: Hard disk 3, size_gb: 1024, datastore: vmfs-mt-01}}
power:
  description:
    - C(previous_power_state), C(actions) (the power actions taken, in order), and C(cycled) (whether the VM was powered
      off and on again in this run).
  returned: always
  type: dict
  sample: {previous_power_state: poweredOn, actions: [shutdown_guest, power_on], cycled: true}
tasks:
  description: The vCenter tasks this run started, in order (a rollback's included). Empty in check mode and when nothing changed.
  returned: always
  type: list
  elements: str
  sample: [RemoveAllSnapshots_Task, ShutdownGuest, ReconfigVM_Task, PowerOnVM_Task, ReconfigVM_Task]
state:
  description:
    - The VM after this run (in check mode, as it would be), in the shape the P(siterecovery.master_target.vsphere#role)
      role publishes as C(vsphere_master_target). C(snapshots_removed), C(controllers), C(disk_uuid), C(power_cycle_required),
      C(retention_disk) (the disk's record, empty when there is none), C(datastores) (always empty here), C(tools)
      (the VMware Tools state, read at the end) and C(vm) (as RV(vm)).
  returned: always
  type: dict
awaited_tasks:
  description: Tasks of an earlier run still running on the VM that this run waited for before it started.
  returned: always
  type: list
  elements: dict
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
    power_state:
      description: The VM's power state at the end.
      type: str
      sample: poweredOn
"""

from ansible_collections.siterecovery.master_target.plugins.module_utils._vsphere_client import VSphereError
from ansible_collections.siterecovery.master_target.plugins.module_utils._vsphere_devices import (
    LSI_TYPES,
    controller_records,
    datastore_of_path,
    disk_record,
    enable_uuid_option_values,
    enable_uuid_writes,
    not_lsi_message,
)
from ansible_collections.siterecovery.master_target.plugins.module_utils._vsphere_lookup import find_vm, reread
from ansible_collections.siterecovery.master_target.plugins.module_utils._vsphere_module import Changes, run_module, vsphere_module
from ansible_collections.siterecovery.master_target.plugins.module_utils._vsphere_power import ACTIONS, power_plan, question_facts, question_plan
from ansible_collections.siterecovery.master_target.plugins.module_utils._vsphere_preparation import (
    VM_PATHS,
    host_record,
    judge,
    read_surroundings,
)
from ansible_collections.siterecovery.master_target.plugins.module_utils._vsphere_retention import (
    add_disk_spec,
    diff_view,
    find_retention_disk,
    grow_spec,
    new_disk_uuid,
    overcommit_warning,
    plan_existing_disk,
    plan_new_disk,
    planned_record,
    read_added_disk,
    record_options,
    recorded_uuid,
    refuse_stale_marker,
    retention_datastores,
)
from ansible_collections.siterecovery.master_target.plugins.module_utils._vsphere_scsi import (
    CONVERSION_KEY,
    PENDING,
    confirm_conversion_boot,
    conversion_changes,
    conversion_record,
    format_conversion,
)
from ansible_collections.siterecovery.master_target.plugins.module_utils._vsphere_snapshots import SNAPSHOT_TASKS, removal_plan, remove_snapshots, vm_snapshots
from ansible_collections.siterecovery.master_target.plugins.module_utils._vsphere_tasks import (
    RECONFIGURE,
    TASK_PATHS,
    TaskRefused,
    await_earlier_task,
    check_task_timeout,
    run_task,
    task_timeout_argument_spec,
    with_awaited,
)
from ansible_collections.siterecovery.master_target.plugins.module_utils._vsphere_tools import TOOLS_PATHS, tools_facts

try:
    from pyVmomi import vim
except ImportError:  # pragma: no cover - reported when connecting
    pass

# A task of an earlier run still running on the VM is waited for before the VM is read.
EARLIER_TASKS = dict(SNAPSHOT_TASKS, **{RECONFIGURE: "Reconfiguring"})
POWER_PATHS = ["guest.toolsRunningStatus", "runtime.question"]


def judged_steps(client, vm, params):
    """The plan of vm_preparation_info for the steps this module does (the very functions it judges with)."""
    around = read_surroundings(client, [vm], overrides=False)
    options = dict(
        disk_uuid=params["disk_uuid"], snapshots=params["snapshots"], scsi_controllers=True, scsi_type=params["scsi_type"],
        scsi_guest_drivers=params["scsi_guest_drivers"], scsi_guest_ready=params["scsi_guest_ready"],
        retention_disk_size_gb=params["retention_disk_size_gb"], retention_disk_datastore=params["retention_disk_datastore"],
        datastores=[], migration_exclusion=False,
    )
    return around, judge(client, vm, around, options)["steps"]


class Work:
    """What this run will do to the VM, decided before anything changes."""

    def __init__(self):
        self.remove = self.consolidate = False
        self.power_off = None  # the power action, when the VM must be powered off
        self.new_types = {}  # controller key -> LSI type
        self.converted = []  # [{bus, from, to}] of this run's conversion
        self.uuid_writes = []
        self.disk = None  # retention disk: dict(operation, spec parts, record)
        self.devices_after = None


def plan_work(module, vm, around, steps):
    """Decide every change, or raise the error that stops the run before anything changes."""
    params = module.params
    work = Work()
    devices = vm.get("config.hardware.device") or []
    extra_config = vm.get("config.extraConfig")
    power_state = vm.get("runtime.powerState")
    work.devices_after = devices

    if params["snapshots"]:
        work.remove, work.consolidate = removal_plan(vm_snapshots(vm), vm.get("runtime.consolidationNeeded"), True)

    scsi = steps["scsi_controllers"]
    if scsi["not_lsi"]:
        if not params["scsi_convert"]:
            advice = f" For this guest OS the type is {scsi['type']}." if scsi["type"] else ""
            raise VSphereError(not_lsi_message(vm.path, scsi["not_lsi"]) + advice + " Set scsi_convert: true to convert it. Nothing was changed.")
        if scsi["refusal"]:
            raise VSphereError(scsi["refusal"])
        work.new_types = {item["key"]: scsi["type"] for item in scsi["not_lsi"]}
        work.converted = [dict(bus=item["bus"], **{"from": item["type"], "to": scsi["type"]}) for item in scsi["not_lsi"]]
        if power_state != "poweredOff" and not params["power_cycle"]:
            raise VSphereError(
                f"VM {vm.path} is {power_state}: converting {len(work.converted)} SCSI controller(s) to {scsi['type']} needs it powered off. "
                "Set power_cycle: true to let the module power it off and on again, or power it off first. Nothing was changed."
            )
        _changes, work.devices_after = conversion_changes(devices, work.new_types)

    if params["disk_uuid"]:
        work.uuid_writes = enable_uuid_writes(extra_config, True)
    uuid_cycle = params["disk_uuid"] and steps["disk_uuid"]["power_cycle_required"]
    if params["power_cycle"] and power_state != "poweredOff" and (work.new_types or uuid_cycle):
        action, error = power_plan(power_state, params["power_off_state"], vm.get("guest.toolsRunningStatus") == "guestToolsRunning",
                                   params["power_off_force"])
        refusal, _warning = question_plan(vm.path, power_state, question_facts(vm.get("runtime.question")), action or error)
        if refusal or error:
            raise VSphereError(refusal or f"VM {vm.path} {error} Nothing was changed.")
        work.power_off = action

    if params["retention_disk_size_gb"] is not None:
        work.disk = plan_disk(module, vm, around, work.devices_after, extra_config)
    return work


def plan_disk(module, vm, around, devices, extra_config):
    """The retention disk's change, decided as vm_retention_disk decides it, on the controllers as they will be."""
    params = module.params
    size_gb, datastore = params["retention_disk_size_gb"], params["retention_disk_datastore"]
    datastores = retention_datastores(around.datastores)
    found = find_retention_disk(devices, extra_config, vm.path)
    refuse_stale_marker(found, vm.path)
    if found.disk is None:
        plan = plan_new_disk(devices, datastores, host_record(around.host_of(vm)), vm.path, size_gb,
                             datastore or datastore_of_path(vm.get("config.files.vmPathName")), "thin", None)
        if plan["overcommit"]:
            module.warn(overcommit_warning(plan["overcommit"], f"The new retention disk of VM {vm.path} ({size_gb} GB, thin)"))
        return dict(operation="added", found=found, plan=plan, record=None, datastores=datastores, size_gb=size_gb,
                    ds_refs={ds.moid: ds.obj for ds in around.datastores})
    record = disk_record(found.disk, devices, {ds["moid"]: ds["name"] for ds in datastores})
    what = f"The retention disk of VM {vm.path} ({record['label']}, {record['file_name']})"
    plan = plan_existing_disk(found.disk, record, datastores, size_gb, params["retention_disk_grow"], datastore, what)
    to_record = found.to_record or found.leftover_pending
    operation = "grown" if plan["grow"] else "recorded" if to_record else "none"
    uuid = recorded_uuid(found.disk, what) if to_record else None
    return dict(operation=operation, found=found, plan=plan, record=record, datastores=datastores, uuid=uuid, size_gb=size_gb)


def reconfiguration(client, devices, work):
    """The one ConfigSpec of every change that needs (or may have) the VM off, on the VM's `devices` as they are now
    (a snapshot removal changes the disks' backings); None when there is nothing to change."""
    spec = vim.vm.ConfigSpec(deviceChange=[], extraConfig=[])
    if work.new_types:
        changes, _after = conversion_changes(devices, work.new_types)
        spec.deviceChange.extend(changes)
        spec.extraConfig.append(vim.option.OptionValue(key=CONVERSION_KEY, value=format_conversion(PENDING, work.converted)))
    if work.uuid_writes:
        spec.extraConfig.extend(enable_uuid_option_values(work.uuid_writes, client.service_instance.CurrentTime()))
    disk = work.disk
    if disk is not None and disk["operation"] == "added":
        plan, found = disk["plan"], disk["found"]
        ds_refs = disk["ds_refs"]
        added = add_disk_spec(plan["controller"]["key"], plan["controller"]["bus"], plan["unit"], disk["size_gb"], ds_refs[plan["datastore"]["moid"]],
                              plan["datastore"]["name"], "thin", new_disk_uuid(), found.marker_key, found.pending_key)
        spec.deviceChange.extend(added.deviceChange)
        spec.extraConfig.extend(added.extraConfig)
    elif disk is not None and disk["operation"] == "grown":
        current = next(device for device in devices if device.key == disk["found"].disk.key)
        spec.deviceChange.extend(grow_spec(current, disk["size_gb"]).deviceChange)
    if disk is not None and disk.get("uuid"):
        spec.extraConfig.extend(record_options(disk["uuid"], disk["found"].marker_key, disk["found"].pending_key))
    return spec if spec.deviceChange or spec.extraConfig else None


def prepare(module, client):
    params = module.params
    vm = find_vm(client, params, VM_PATHS + POWER_PATHS + TASK_PATHS)
    vm, awaited = await_earlier_task(module, client, vm, EARLIER_TASKS, VM_PATHS + POWER_PATHS)
    around, steps = judged_steps(client, vm, params)
    work = plan_work(module, vm, around, steps)
    first_state = vm.get("runtime.powerState")
    target = f"VM {vm.path}"
    tasks, actions = [], []
    before_uuid = steps.get("disk_uuid", {}).get("before")
    record_opts = []
    boot = None

    power_on_wanted = params["power_cycle"] and params["power_on"] and (work.power_off or first_state != "poweredOn")
    converted = work.converted or (conversion_record(vm.get("config.extraConfig"))[1] if steps["scsi_controllers"]["boot_pending"] else [])
    if not module.check_mode:
        if work.remove or work.consolidate:
            remove_snapshots(client, vm, work.remove, work.consolidate, True, params["task_timeout"])
            tasks.append("RemoveAllSnapshots_Task" if work.remove else "ConsolidateVMDisks_Task")
        if work.power_off:
            actions.append(ACTIONS[work.power_off](client, vm, params["power_timeout"], params["power_off_force"], module.warn))
            tasks.append("ShutdownGuest" if actions[-1] == "shutdown_guest" else "PowerOffVM_Task")
        devices = vm.get("config.hardware.device") or []
        if work.remove or work.consolidate:
            devices = reread(client, vm, ["config.hardware.device"]).get("config.hardware.device") or []
        spec = reconfiguration(client, devices, work)
        if spec is not None:
            try:
                run_task(client, lambda: vm.obj.ReconfigVM_Task(spec=spec), "Preparing the VM (one reconfiguration)", target, params["task_timeout"])
            except TaskRefused as error:
                if actions:
                    ACTIONS["power_on"](client, vm, params["power_timeout"])
                    raise VSphereError(f"{error.msg} The VM was powered on again; none of the reconfiguration was applied.") from None
                raise
            tasks.append("ReconfigVM_Task")
        if work.disk is not None and work.disk["operation"] == "added":
            record, uuid = read_added_disk(client, vm, work.disk["plan"]["controller"]["bus"], work.disk["plan"]["unit"], work.disk["datastores"])
            work.disk.update(record=record, uuid=uuid)
            record_opts = record_options(uuid, work.disk["found"].marker_key, work.disk["found"].pending_key)
        if power_on_wanted:
            actions.append(ACTIONS["power_on"](client, vm, params["power_timeout"]))
            tasks.append("PowerOnVM_Task")
        if converted and reread(client, vm, ["runtime.powerState"]).get("runtime.powerState") == "poweredOn":
            details = dict(vm=vm.describe(), tasks=tasks)
            boot = confirm_conversion_boot(client, vm, converted, params["boot_timeout"], details, record_opts)
            tasks.append("ReconfigVM_Task")
            record_opts = []
        if record_opts:
            run_task(client, lambda: vm.obj.ReconfigVM_Task(spec=vim.vm.ConfigSpec(extraConfig=record_opts)),
                     "Recording the retention disk's UUID", target, params["task_timeout"])
            tasks.append("ReconfigVM_Task")
    if module.check_mode:  # what a real run would do
        actions = [action for action in (work.power_off, "power_on" if power_on_wanted else None) if action]
    return with_awaited(result(module, client, vm, steps, work, converted, boot, tasks, actions, before_uuid), awaited)


def result(module, client, vm, steps, work, converted, boot, tasks, actions, before_uuid):
    """The module's result: each step's own result, the power actions, the VM's state after the run, the diff."""
    check = module.check_mode
    scsi = steps["scsi_controllers"]
    snapshots = vm_snapshots(vm)
    fresh = reread(client, vm, ["config.hardware.device", "runtime.powerState", *TOOLS_PATHS]) if tasks else vm
    changes = Changes()
    out = {}
    if module.params["snapshots"]:
        changes.compare("snapshots", [snap["path"] for snap in snapshots], [])
        out["snapshots"] = dict(changed=work.remove or work.consolidate, removed=[snap["path"] for snap in snapshots], consolidated=work.consolidate)
    controllers_after = [dict(item, type=scsi["type"], key=None) if item in scsi["not_lsi"] else item for item in scsi["controllers"]]
    if not check and tasks:
        controllers_after = controller_records(fresh.get("config.hardware.device"))
    changes.compare("controllers", [dict(bus=item["bus"], type=item["type"]) for item in scsi["controllers"]],
                    [dict(bus=item["bus"], type=item["type"]) for item in controllers_after])
    pending = bool(converted) and boot is None
    out["scsi_controllers"] = dict(changed=bool(work.new_types) or boot is not None, converted=converted, type=scsi["type"],
                                   boot=boot or ("pending" if pending else "none"), controllers=controllers_after, guest_os=scsi["guest_os"])
    if module.params["disk_uuid"]:
        after = "TRUE" if work.uuid_writes else before_uuid
        changes.compare("disk.EnableUUID", before_uuid, after)
        out["disk_uuid"] = dict(changed=bool(work.uuid_writes), before=before_uuid, after=after,
                                removed_keys=[key for key, value in work.uuid_writes if value == ""])
    disk = work.disk
    if disk is not None:
        out["retention_disk"] = retention_result(disk, check, changes)
    cycled = "power_on" in actions and len(actions) > 1
    uuid_cycle = module.params["disk_uuid"] and steps["disk_uuid"]["power_cycle_required"] and not cycled
    power_state = fresh.get("runtime.powerState")
    if check and actions:  # as the real run would leave it
        power_state = "poweredOn" if "power_on" in actions else "poweredOff"
    changes.compare("power_state", vm.get("runtime.powerState"), power_state)
    state = dict(
        snapshots_removed=out["snapshots"]["removed"] if work.remove else [],
        controllers=controllers_after,
        disk_uuid=out.get("disk_uuid", {}).get("after"),
        power_cycle_required=bool(uuid_cycle) and power_state != "poweredOff",
        retention_disk=out.get("retention_disk", {}).get("disk") or {},
        datastores=[],
        tools=tools_facts(fresh.props),
        vm=dict(vm.describe(), power_state=power_state),
    )
    return dict(
        changes.result(module), changed=bool(tasks) or (check and (changes.changed or bool(actions))),
        steps=out, power=dict(previous_power_state=vm.get("runtime.powerState"), actions=actions, cycled=cycled),
        tasks=tasks, state=state, vm=dict(vm.describe(), power_state=power_state),
    )


def retention_result(disk, check, changes):
    """The retention disk step's result, as vm_retention_disk (state: present) returns it, with its --diff fields."""
    found, plan, operation = disk["found"], disk["plan"], disk["operation"]
    if operation == "added":
        record = disk["record"] or planned_record(plan["controller"], plan["unit"], disk["size_gb"], plan["datastore"]["name"], "thin")
        changes.compare("retention_disk", None, diff_view(record))
        return dict(changed=True, operation=operation, disk=record, marker=dict(key=found.marker_key, value=disk.get("uuid")), overcommit=plan["overcommit"])
    record = disk["record"]
    after = dict(record, size_gb=disk["size_gb"]) if operation == "grown" else record
    changes.compare("retention_disk", diff_view(record), diff_view(after))
    if disk.get("uuid"):
        changes.compare("marker", found.marker, disk["uuid"])
        changes.compare("pending_slot", found.pending, None)
    return dict(changed=operation != "none", operation=operation, disk=after, marker=dict(key=found.marker_key, value=record["uuid"]),
                overcommit=plan["overcommit"])


def main():
    module = vsphere_module(
        dict(
            snapshots=dict(type="bool", default=True),
            disk_uuid=dict(type="bool", default=True),
            scsi_convert=dict(type="bool", default=False),
            scsi_type=dict(type="str", choices=["auto", *LSI_TYPES], default="auto"),
            scsi_guest_drivers=dict(type="list", elements="str", choices=list(LSI_TYPES), default=[]),
            scsi_guest_ready=dict(type="bool", default=False),
            boot_timeout=dict(type="int", default=600),
            retention_disk_size_gb=dict(type="int"),
            retention_disk_datastore=dict(type="str"),
            retention_disk_grow=dict(type="bool", default=False),
            power_cycle=dict(type="bool", default=False),
            power_off_state=dict(type="str", choices=["shutdown_guest", "powered_off"], default="shutdown_guest"),
            power_off_force=dict(type="bool", default=False),
            power_timeout=dict(type="int", default=300),
            power_on=dict(type="bool", default=True),
            **task_timeout_argument_spec(),
        )
    )
    if module.params["retention_disk_size_gb"] is not None and module.params["retention_disk_size_gb"] < 1:
        module.fail_json(msg=f"retention_disk_size_gb must be at least 1 (GiB), got {module.params['retention_disk_size_gb']}.")
    check_task_timeout(module)
    run_module(module, prepare)


if __name__ == "__main__":
    main()
