# -*- coding: utf-8 -*-
# Copyright: (c) 2026, siterecovery.master_target contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What preparing a master target would change, step by step, as pure functions, and the one read they need
(vm_preparation_info plans with them, vm_preparation applies).

Each step is judged with the very functions the module that makes the change uses to decide it
(vm_disk_uuid, vm_snapshots, vm_scsi_controller, vm_retention_disk, host_datastore_access,
vm_migration_exclusion), so "not needed" here means that module would report changed=false. A
step is "needed" also when its module would fail (a stale retention disk marker, an unknown or NFS
datastore): running the module then gives its one clear error.

read_surroundings reads the hosts, datastores and clusters of any number of VMs in a constant number
of round trips, so that one call can plan every master target of a play.
"""

from __future__ import annotations

from ansible_collections.siterecovery.master_target.plugins.module_utils._vsphere_client import VSphereError
from ansible_collections.siterecovery.master_target.plugins.module_utils._vsphere_datastores import (
    DATASTORE_PATHS,
    UNMOUNTED,
    datastore_facts,
    datastore_problem,
    datastore_state,
    host_access,
    pick_for_host,
)
from ansible_collections.siterecovery.master_target.plugins.module_utils._vsphere_devices import (
    controller_records,
    datastore_of_path,
    describe_controllers,
    describe_enable_uuid,
    disk_record,
    enable_uuid_power_cycle,
    enable_uuid_setting,
    enable_uuid_writes,
    not_lsi,
    not_lsi_message,
)
from ansible_collections.siterecovery.master_target.plugins.module_utils._vsphere_lookup import read_inventory, read_objects
from ansible_collections.siterecovery.master_target.plugins.module_utils._vsphere_overrides import (
    CLUSTER_PATHS,
    ENABLE_OVERRIDES_OPTION,
    POD_PATHS,
    cluster_facts,
    complies,
    overrides_switch,
    pod_facts,
    pods_of,
)
from ansible_collections.siterecovery.master_target.plugins.module_utils._vsphere_retention import (
    find_retention_disk,
    plan_existing_disk,
    plan_new_disk,
    refuse_stale_marker,
    retention_datastores,
    slot_text,
)
from ansible_collections.siterecovery.master_target.plugins.module_utils._vsphere_scsi import (
    PENDING,
    VM_DESCRIPTOR_PATHS,
    conversion_record,
    plan_conversion,
    read_guest_os,
)
from ansible_collections.siterecovery.master_target.plugins.module_utils._vsphere_snapshots import SNAPSHOT_PATHS, removal_plan, vm_snapshots
from ansible_collections.siterecovery.master_target.plugins.module_utils._vsphere_tools import TOOLS_PATHS, tools_facts

try:
    from pyVmomi import vim
except ImportError:  # pragma: no cover - connect() reports the missing library
    pass

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


# What is read of each VM to judge every step.
VM_PATHS = sorted(
    {"config.extraConfig", "config.hardware.device", "config.files.vmPathName", "runtime.powerState", "runtime.bootTime", "runtime.host", "datastore"}
    .union(VM_DESCRIPTOR_PATHS, SNAPSHOT_PATHS, TOOLS_PATHS)
)
# Every datastore's shared facts (without `info`: large, and needed only to mount), what its thin disks may still
# grow to (the retention disk's overcommit warning) and its parent (its datastore cluster).
DATASTORE_READ = [path for path in DATASTORE_PATHS if path != "info"] + ["summary.uncommitted", "parent"]


class Surroundings:
    """What is read around a set of VMs: their hosts, every datastore, their datastore clusters and clusters."""

    def __init__(self, hosts, datastores, pods, clusters):
        self.hosts = hosts  # host moid -> ManagedObject (name, parent)
        self.datastores = datastores  # every Datastore, read with DATASTORE_READ
        self.pods = pods  # StoragePod moid -> ManagedObject (POD_PATHS)
        self.clusters = clusters  # ClusterComputeResource moid -> ManagedObject (CLUSTER_PATHS)

    def host_of(self, vm):
        ref = vm.get("runtime.host")
        return self.hosts.get(ref._moId) if ref is not None else None  # pylint: disable=protected-access

    def pods_of(self, vm):
        """The pod_facts of the datastore clusters holding the VM's files, by name."""
        mine = {ref._moId for ref in vm.get("datastore") or []}  # pylint: disable=protected-access
        refs = pods_of([ds for ds in self.datastores if ds.moid in mine])
        return sorted((pod_facts(self.pods[moid], vm.moid) for moid in refs if moid in self.pods), key=lambda pod: pod["name"])

    def cluster_of(self, vm):
        host = self.host_of(vm)
        parent = host.get("parent") if host is not None else None
        cluster = self.clusters.get(parent._moId) if isinstance(parent, vim.ClusterComputeResource) else None  # pylint: disable=protected-access
        return cluster_facts(cluster, vm.moid) if cluster is not None else None


def read_surroundings(client, vms, overrides=True):
    """The Surroundings of `vms` (read with VM_PATHS): two to five round trips, whatever the number of VMs and the
    inventory size (the hosts; every datastore; with `overrides`, their datastore clusters and clusters)."""
    host_refs = {ref._moId: ref for ref in (vm.get("runtime.host") for vm in vms) if ref is not None}  # pylint: disable=protected-access
    hosts = {host.moid: host for host in read_objects(client, list(host_refs.values()), ["name", "parent"])}
    datastores = read_inventory(client, [vim.Datastore], {vim.Datastore: DATASTORE_READ})
    pods, clusters = {}, {}
    if overrides:
        used = {ref._moId for vm in vms for ref in vm.get("datastore") or []}  # pylint: disable=protected-access
        pod_refs = [ref for ref, _names in pods_of([ds for ds in datastores if ds.moid in used]).values()]
        pods = {pod.moid: pod for pod in read_objects(client, pod_refs, POD_PATHS)}
        cluster_refs = {ref._moId: ref for ref in (host.get("parent") for host in hosts.values())  # pylint: disable=protected-access
                        if isinstance(ref, vim.ClusterComputeResource)}
        clusters = {cluster.moid: cluster for cluster in read_objects(client, list(cluster_refs.values()), CLUSTER_PATHS)}
    return Surroundings(hosts, datastores, pods, clusters)


def host_record(host):
    return dict(name=host.name, moid=host.moid) if host is not None else None


def judge(client, vm, around, params):
    """Every step of preparing `vm` (read with VM_PATHS) that `params` ask for, judged: vm_preparation_info's result
    for one VM. `params` hold vm_preparation_info's step options. Reads the guest OS descriptor only when a controller
    would be converted."""
    devices = vm.get("config.hardware.device") or []
    extra_config = vm.get("config.extraConfig")
    power_state = vm.get("runtime.powerState")
    host = around.host_of(vm)
    steps = {}
    if params["disk_uuid"]:
        steps["disk_uuid"] = disk_uuid_step(extra_config, power_state, vm.get("runtime.bootTime"))
    if params["snapshots"]:
        steps["snapshots"] = snapshots_step(vm_snapshots(vm), vm.get("runtime.consolidationNeeded"))
    if params["scsi_controllers"]:
        # The guest OS descriptor costs a call: read only when a controller would be converted.
        guest_os = read_guest_os(client, vm) if not_lsi(controller_records(devices)) else None
        steps["scsi_controllers"] = scsi_controllers_step(
            vm.path, devices, extra_config, guest_os, vm.get("config.guestId"),
            params["scsi_type"], params["scsi_guest_drivers"], params["scsi_guest_ready"],
        )
    if params["retention_disk_size_gb"] is not None:
        steps["retention_disk"] = retention_disk_step(
            vm.path, devices, extra_config, retention_datastores(around.datastores), host_record(host),
            params["retention_disk_size_gb"], params["retention_disk_datastore"], datastore_of_path(vm.get("config.files.vmPathName")),
        )
    if params["datastores"]:
        if host is None:
            steps["datastores"] = step(True, f"VM {vm.path} is not on any ESXi host.", host=None, datastores=[])
        else:
            facts_by_name = {}
            for ds in around.datastores:
                facts_by_name.setdefault(ds.name, []).append(datastore_facts(ds))
            steps["datastores"] = datastores_step(params["datastores"], facts_by_name, host_record(host))
    if params["migration_exclusion"]:
        steps["migration_exclusion"] = migration_exclusion_step(around.pods_of(vm), around.cluster_of(vm), params["storage_drs_behavior"],
                                                                params["drs_behavior"], params["enable_cluster_vm_overrides"], vm.path)
    return dict(
        to_change=[name for name in STEPS if name in steps and steps[name]["needed"]],
        steps=steps,
        tools=tools_facts(vm.props),
        vm=dict(vm.describe(), power_state=power_state),
        state=dict(found_state(steps, tools_facts(vm.props)), vm=dict(vm.describe(), power_state=power_state)),
    )


def found_state(steps, tools, power_cycled=False):
    """Pure: the VM as the steps found it (or left it), in the shape the vsphere role publishes as vsphere_master_target."""
    uuid = steps.get("disk_uuid") or {}
    return dict(
        snapshots_removed=[],
        controllers=(steps.get("scsi_controllers") or {}).get("controllers", []),
        disk_uuid=uuid.get("after"),
        power_cycle_required=bool(uuid.get("power_cycle_required")) and not power_cycled,
        retention_disk=(steps.get("retention_disk") or {}).get("disk") or {},
        datastores=(steps.get("datastores") or {}).get("datastores", []),
        tools=tools,
    )
