# -*- coding: utf-8 -*-
# Copyright: (c) 2026, siterecovery.master_target contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What preparing a master target would change, step by step, as pure functions (vm_preparation_info).

Each step is judged with the very functions the module that makes the change uses to decide it
(vm_disk_uuid, vm_snapshots, vm_scsi_controller, vm_retention_disk, host_datastore_access,
vm_migration_exclusion), so "not needed" here means that module would report changed=false. A
step is "needed" also when its module would fail (a stale retention disk marker, an unknown or NFS
datastore): running the module then gives its one clear error.
"""

from __future__ import annotations

from ansible_collections.siterecovery.master_target.plugins.module_utils._vsphere_client import VSphereError
from ansible_collections.siterecovery.master_target.plugins.module_utils._vsphere_datastores import (
    UNMOUNTED,
    datastore_problem,
    datastore_state,
    host_access,
    pick_for_host,
)
from ansible_collections.siterecovery.master_target.plugins.module_utils._vsphere_devices import (
    controller_records,
    describe_controllers,
    describe_enable_uuid,
    disk_record,
    enable_uuid_power_cycle,
    enable_uuid_setting,
    enable_uuid_writes,
    not_lsi,
    not_lsi_message,
)
from ansible_collections.siterecovery.master_target.plugins.module_utils._vsphere_overrides import (
    ENABLE_OVERRIDES_OPTION,
    complies,
    overrides_switch,
)
from ansible_collections.siterecovery.master_target.plugins.module_utils._vsphere_retention import (
    find_retention_disk,
    plan_existing_disk,
    plan_new_disk,
    refuse_stale_marker,
    slot_text,
)
from ansible_collections.siterecovery.master_target.plugins.module_utils._vsphere_scsi import PENDING, conversion_record, plan_conversion
from ansible_collections.siterecovery.master_target.plugins.module_utils._vsphere_snapshots import removal_plan

# The steps in the order the vsphere role runs them.
STEPS = ("disk_uuid", "snapshots", "scsi_controllers", "retention_disk", "datastores", "migration_exclusion")


def step(needed, reason, **facts):
    return dict(facts, needed=bool(needed), reason=reason)


def disk_uuid_step(extra_config, power_state, boot_time=None):
    """disk.EnableUUID=TRUE, as vm_disk_uuid (enabled: true) decides it.

    `power_cycle_required` says, on every run, whether the VM runs with another value than its
    configuration holds: the step would change it now, or vm_disk_uuid changed it after the VM's last
    power-on (`boot_time`, runtime.bootTime), as enable_uuid_power_cycle decides it.
    """
    _key, current = enable_uuid_setting(extra_config)
    writes = enable_uuid_writes(extra_config, True)
    strays = [key for key, value in writes if value == ""]
    power_cycle = enable_uuid_power_cycle(extra_config, power_state, boot_time, changing=bool(writes))
    if not writes:
        reason = "disk.EnableUUID is TRUE." + (
            " It was set after the VM's last power-on, so it is not in effect until a power cycle (a power-off and power-on)."
            if power_cycle else ""
        )
        return step(False, reason, before=current, after=current, stray_keys=[], power_cycle_required=power_cycle)
    reason = f"disk.EnableUUID is {describe_enable_uuid(extra_config)}: it must be TRUE."
    if strays:
        keys = f"The key {strays[0]} differs" if len(strays) == 1 else f"The keys {', '.join(strays)} differ"
        reason += f" {keys} from disk.EnableUUID only in case and would be removed."
    return step(True, reason, before=current, after="TRUE", stray_keys=strays, power_cycle_required=power_cycle)


def snapshots_step(snapshots, consolidation_needed):
    """No snapshot and no disk to consolidate, as vm_snapshots (state: absent) decides it."""
    remove, consolidate = removal_plan(snapshots, consolidation_needed, True)
    paths = [snap["path"] for snap in snapshots]
    reasons = []
    if remove:
        reasons.append(f"{len(paths)} snapshot(s) to remove: {', '.join(paths)}.")
    if consolidate:
        reasons.append("vCenter reports that the disks need consolidation.")
    return step(remove or consolidate, " ".join(reasons) or "No snapshots.", snapshots=paths, consolidation_needed=bool(consolidation_needed))


def scsi_controllers_step(vm_path, devices, extra_config=None, guest_os=None, guest_id=None, requested="auto", guest_drivers=(), guest_ready=False):
    """Every SCSI controller LSI Logic and proven by a boot, as vm_scsi_controller decides it.

    `type` is the LSI type a conversion would use and `refusal` why it must not run (both from
    plan_conversion); `boot_pending` says that a conversion still waits for the guest to boot from it.
    """
    controllers = controller_records(devices)
    wrong = not_lsi(controllers)
    state, _converted = record = conversion_record(extra_config)
    new_type, refusal = plan_conversion(vm_path, controllers, requested, guest_os, guest_id, guest_drivers, guest_ready, record)
    facts = dict(controllers=controllers, not_lsi=wrong, type=new_type, refusal=refusal, boot_pending=state == PENDING, guest_os=guest_os)
    if wrong:
        reason = f"{not_lsi_message(vm_path, wrong)} " + (refusal or f"For this guest OS the type is {new_type}.")
        return step(True, reason, **facts)
    if state == PENDING:
        return step(True, "The SCSI controllers were converted, but the guest has not yet been seen booting from them.", **facts)
    return step(False, f"Every SCSI controller is LSI Logic: {describe_controllers(controllers) or 'none'}.", **facts)


def retention_disk_step(vm_path, devices, extra_config, datastores, host, size_gb, datastore=None, home_datastore=None):
    """One retention disk of exactly size_gb (on `datastore` when given), as vm_retention_disk decides it: with
    its own functions (find_retention_disk, refuse_stale_marker, plan_new_disk, plan_existing_disk).

    `datastores` are the datastore_facts of every datastore, `host` {name, moid} of the VM's host (None
    when it has none), `home_datastore` the one holding the VM's .vmx (where a new disk goes by default).
    A smaller disk is needed whatever the role's grow: the module grows it (grow: true) or fails.
    """
    record = None
    try:
        found = find_retention_disk(devices, extra_config, vm_path)
        refuse_stale_marker(found, vm_path)
        if found.disk is None:
            new = plan_new_disk(devices, datastores, host, vm_path, size_gb, datastore or home_datastore, "thin", None)
            where = f"on {new['datastore']['name']} at {slot_text(new['controller']['bus'], new['unit'])}"
            return step(True, f"No retention disk: a {size_gb} GB disk would be added {where}.", disk=None)
        record = disk_record(found.disk, devices, {ds["moid"]: ds["name"] for ds in datastores})
        plan = plan_existing_disk(found.disk, record, datastores, size_gb, True, datastore, f"The retention disk ({record['label']})")
    except VSphereError as error:
        return step(True, error.msg, disk=record)
    reasons = []
    if plan["grow"]:
        reasons.append(f"The retention disk is {record['size_gb']} GB, not {size_gb} GB: vm_retention_disk grows it with grow: true, and fails without.")
    if found.to_record:
        reasons.append(f"The retention disk ({record['label']}) added by an interrupted run is found by its pending slot: its UUID "
                       f"{record['uuid']} would be recorded in the marker.")
    if found.leftover_pending:
        reasons.append(f"The pending slot {found.pending_key}={found.pending} that an interrupted run left next to the marker would be removed.")
    if reasons:
        return step(True, " ".join(reasons), disk=record)
    return step(False, f"The retention disk ({record['label']}, {record['size_gb']} GB on {record['datastore']}) is in place.", disk=record)


def datastores_step(wanted, facts_by_name, host):
    """Each wanted datastore mounted read/write on the VM's host, as host_access decides it.

    `facts_by_name` maps a datastore name to the datastore_facts of every datastore of that name;
    `host` is {name, moid} of the VM's host.
    """
    states, reasons = [], []
    for name in dict.fromkeys(wanted):
        candidates = facts_by_name.get(name)
        if not candidates:
            reasons.append(f"Datastore '{name}' does not exist.")
            continue
        ds = pick_for_host(candidates, host["moid"])
        problem = datastore_problem(ds, host["moid"])
        if problem is not None:
            action = "would be mounted" if problem.code == UNMOUNTED else "cannot be used"
            reasons.append(f"Datastore '{name}' {action} on host '{host['name']}': {problem.problem}.")
        states.append(datastore_state(ds, host_access(ds, host["moid"])))
    text = " ".join(reasons) or f"Every datastore is mounted read/write on host '{host['name']}'."
    return step(reasons, text, host=host, datastores=states)


def migration_exclusion_step(pods, cluster, storage_drs_behavior, drs_behavior, enable_cluster_vm_overrides=False, vm="the VM"):
    """The VM overrides in place, as vm_migration_exclusion (state: present) decides it.

    `pods` are the pod_facts of the datastore clusters holding the VM's files; `cluster` the
    cluster_facts of its host's cluster, or None. A cluster with VM overrides switched off makes the
    step needed: the module would switch them on (enable_cluster_vm_overrides) or fail with the
    refusal given here (`vm` names the VM in it), as overrides_switch decides it.
    """
    reasons = [
        f"Datastore cluster '{pod['name']}' has no Storage DRS override {storage_drs_behavior} for the VM."
        for pod in pods
        if not complies(pod["override"], storage_drs_behavior)
    ]
    if cluster is not None:
        switch_on, refusal = overrides_switch(cluster, "present", enable_cluster_vm_overrides, vm)
        if refusal:
            reasons.append(f"vm_migration_exclusion would fail: {refusal}")
        if switch_on:
            reasons.append(f"VM overrides in cluster '{cluster['name']}' would be switched on ({ENABLE_OVERRIDES_OPTION}; a cluster-wide change).")
        if not complies(cluster["override"], drs_behavior):
            reasons.append(f"Cluster '{cluster['name']}' has no DRS override {drs_behavior} for the VM.")
    text = " ".join(reasons) or "The VM overrides exclude the VM from Storage DRS and DRS migrations."
    return step(
        reasons,
        text,
        storage_drs=[dict(name=pod["name"], override=pod["override"]) for pod in pods],
        drs=dict(name=cluster["name"], vm_overrides_enabled=cluster["vm_overrides_enabled"], override=cluster["override"]) if cluster is not None else None,
    )
