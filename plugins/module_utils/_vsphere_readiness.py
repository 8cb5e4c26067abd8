# -*- coding: utf-8 -*-
# Copyright: (c) 2026, siterecovery.master_target contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The checks of failback_readiness_info as pure functions: plain facts in, report rows out.

A row is {check, status, master_target, objects, message, fix}; status is pass, info, warn or fail.
"""

from __future__ import annotations

from ansible_collections.siterecovery.master_target.plugins.module_utils._vsphere_datastores import datastore_problem
from ansible_collections.siterecovery.master_target.plugins.module_utils._vsphere_devices import (
    LSI_TYPES,
    describe_enable_uuid,
    enable_uuid_changed_at,
    enable_uuid_is_true,
    enable_uuid_power_cycle,
    moment_text,
    uuid_hex,
)
from ansible_collections.siterecovery.master_target.plugins.module_utils._vsphere_overrides import drs_verdict, storage_drs_verdict
from ansible_collections.siterecovery.master_target.plugins.module_utils._vsphere_scsi import LSI_MAX_UNIT, LSI_OWN_UNIT
from ansible_collections.siterecovery.master_target.plugins.module_utils._vsphere_tools import is_windows, requirement_met

DISK_LIMIT = 60  # disks attached to one master target: its own plus those of the VMs reprotected to it
MAX_SCSI_CONTROLLERS = 4  # SCSI controllers a VM can have (buses 0-3)
LSI_UNITS = LSI_MAX_UNIT  # devices an LSI Logic controller takes: units 0-15 but its own, 7
MIN_CPUS, MIN_MEMORY_MB, MIN_OS_DISK_GB = 4, 6 * 1024, 100  # ASR's minimum for a (Linux) master target
SUPPORTED_VERSIONS = ("6.5", "6.7", "7.0", "8.0")  # vCenter and ESXi, as ASR lists them
POLICY = dict(rpo_threshold_minutes=15, recovery_point_retention_hours=24, app_consistent_snapshot_frequency_minutes=60)
STATUSES = ("pass", "info", "warn", "fail")

# What reprotect and failback need of the vCenter account (Microsoft's "Azure Site Recovery" role for
# failback), each group with the kind of object vCenter checks it on ("Required On" in the vSphere Security
# guide's privilege tables; HasPrivilegeOnEntities answers per object, from the roles granted on it or
# inherited). "Virtual machine > Configuration (all)" is mapped to the configuration privileges that exist
# in every supported version. None of the list is checked on a host: creating or registering a VM is checked
# on its folder, placing it on the resource pool. A read-only account is enough for discovery only.
PRIVILEGE_KINDS = dict(vm="VM", vm_folder="VM folder", datastore="datastore", network="network", resource_pool="resource pool",
                       vcenter="vCenter root folder")
PRIVILEGE_GROUPS = (
    ("write the replicated disks to the datastores", "datastore", ["Datastore.AllocateSpace", "Datastore.Browse", "Datastore.FileManagement",
                                                                   "Datastore.DeleteFile", "Datastore.UpdateVirtualMachineFiles"]),
    ("connect the failed-back VM to its networks", "network", ["Network.Assign"]),
    ("place the VM in its resource pool", "resource_pool", ["Resource.AssignVMToPool"]),
    ("migrate the VMs", "vm", ["Resource.ColdMigrate", "Resource.HotMigrate"]),
    ("track its operations as vCenter tasks", "vcenter", ["Task.Create", "Task.Update"]),
    ("attach and detach the protected disks on the master target", "vm", [
        "VirtualMachine.Config." + name for name in (
            "AddExistingDisk", "AddNewDisk", "AddRemoveDevice", "AdvancedConfig", "Annotation", "CPUCount", "ChangeTracking",
            "DiskExtend", "EditDevice", "Memory", "QueryUnownedFiles", "RawDevice", "ReloadFromPath", "RemoveDisk", "Rename",
            "ResetGuestInfo", "Resource", "Settings", "SwapPlacement", "Unlock", "UpgradeVirtualHardware")]),
    ("power, answer and equip the VMs", "vm", ["VirtualMachine.Interact." + name for name in (
        "AnswerQuestion", "DeviceConnection", "SetCDMedia", "SetFloppyMedia", "PowerOff", "PowerOn", "ToolsInstall")]),
    ("create and register the failed-back VM in its folder", "vm_folder", ["VirtualMachine.Inventory." + name for name in (
        "Create", "CreateFromExisting", "Register")]),
    ("unregister the VMs", "vm", ["VirtualMachine.Inventory.Unregister"]),
    ("move VM files", "vcenter", ["VirtualMachine.Provisioning.GetVmFiles", "VirtualMachine.Provisioning.PutVmFiles"]),
    ("merge the protected VMs' snapshots", "vm", ["VirtualMachine.State.RemoveSnapshot"]),
)
REQUIRED_PRIVILEGES = [privilege for _why, _kind, ids in PRIVILEGE_GROUPS for privilege in ids]


def privileges_for(kind):
    """Pure: the privilege ids of PRIVILEGE_GROUPS that vCenter checks on an object of this kind (a PRIVILEGE_KINDS key)."""
    return [privilege for _why, group_kind, ids in PRIVILEGE_GROUPS if group_kind == kind for privilege in ids]


def row(check, status, master_target, objects, message, fix=""):
    return dict(check=check, status=status, master_target=master_target, objects=list(objects), message=message,
                fix="" if status == "pass" else fix)


def guest_family(guest):
    """Pure: 'windows', 'linux' or 'other' from guest_facts (the family Tools report, else the guest id)."""
    if is_windows(guest):
        return "windows"
    family, guest_id = guest.get("guest_family") or "", (guest.get("guest_id") or "").lower()
    linux_ids = ("linux", "ubuntu", "debian", "rhel", "centos", "sles", "suse", "oracle", "fedora", "rocky", "alma", "amazon", "photon")
    if family == "linuxGuest" or (not family and any(word in guest_id for word in linux_ids)):
        return "linux"
    return "other"


def selection(vm):
    """Pure: how this collection's modules select the VM in a fix: 'name: x', with 'folder: ...' when its name is not unique."""
    return vm.get("selection") or f"name: {vm['name']}"


def listing(items, limit=8):
    items = list(items)
    shown = ", ".join(items[:limit])
    return shown + (f" and {len(items) - limit} more" if len(items) > limit else "")


# ---- the master target ---------------------------------------------------------------------------


def check_disk_uuid(mt):
    """disk.EnableUUID TRUE, as vm_disk_uuid and vm_preparation_info judge it, and in effect: not changed since the last power-on."""
    name = mt["name"]
    if not enable_uuid_is_true(mt["extra_config"]):
        return row("master_target.disk_uuid", "fail", name, [name],
                   f"disk.EnableUUID is {describe_enable_uuid(mt['extra_config'])} on {name}, not TRUE: the guest does not see stable disk ids "
                   "for the disks reprotect attaches.",
                   f"Set it to TRUE with siterecovery.master_target.vm_disk_uuid ({selection(mt)}), then power-cycle the VM.")
    if enable_uuid_power_cycle(mt["extra_config"], mt["power_state"], mt.get("boot_time")):
        changed, boot = enable_uuid_changed_at(mt["extra_config"]), mt.get("boot_time")
        since = f"it was set at {moment_text(changed)}" + (f", after the VM's last power-on at {moment_text(boot)}" if boot else "")
        return row("master_target.disk_uuid", "fail", name, [name],
                   f"disk.EnableUUID is set but not in effect until a power cycle on {name}: {since}, and ESXi reads it only at power-on "
                   "(a restart of the guest or a resume is not enough).",
                   f"Power {name} off and on again: siterecovery.master_target.vm_power ({selection(mt)}, state: shutdown_guest, then "
                   "state: powered_on), or run the vsphere role with vsphere_power_off_allowed: true.")
    return row("master_target.disk_uuid", "pass", name, [name], f"disk.EnableUUID is {describe_enable_uuid(mt['extra_config'])} on {name}.")


def check_snapshots(mt):
    if not mt["snapshots"]:
        return row("master_target.snapshots", "pass", mt["name"], [mt["name"]], f"{mt['name']} has no snapshots.")
    return row("master_target.snapshots", "fail", mt["name"], [mt["name"]],
               f"{mt['name']} has {len(mt['snapshots'])} snapshot(s) ({listing(mt['snapshots'])}): reprotect and failback fail on a "
               "master target with snapshots.",
               f"Remove them with siterecovery.master_target.vm_snapshots ({selection(mt)}, state: absent).")


def check_scsi_controller(mt):
    controllers = mt["controllers"]
    text = listing(f"{c['label']} ({c['type']})" for c in controllers)
    wrong = [c for c in controllers if c["type"] not in LSI_TYPES]
    if not controllers:
        return row("master_target.scsi_controller", "warn", mt["name"], [mt["name"]],
                   f"{mt['name']} has no SCSI controller: reprotect attaches the protected disks to LSI Logic SCSI controllers.",
                   "Add an LSI Logic (Parallel or SAS) SCSI controller to the VM.")
    if not wrong:
        return row("master_target.scsi_controller", "pass", mt["name"], [mt["name"]], f"Every SCSI controller of {mt['name']} is LSI Logic: {text}.")
    return row("master_target.scsi_controller", "fail", mt["name"], [mt["name"]],
               f"{mt['name']} has SCSI controllers that are not LSI Logic Parallel or SAS: "
               f"{listing(c['label'] + ' (' + c['type'] + ')' for c in wrong)}; reprotect fails with ParaVirtual or BusLogic controllers.",
               "Make the guest load the LSI Logic driver at boot first (the linux or windows role's lsi_driver step), then "
               f"power the VM off and convert them with siterecovery.master_target.vm_scsi_controller ({selection(mt)}, convert: true), "
               "or run playbooks/prepare_master_target.yml with vsphere_scsi_convert: true, which does both and checks the boot.")


def check_tools(mt):
    tools, guest = mt["tools"], mt["guest"]
    seen = f"installed: {tools['installed']}, running status: {tools['running_status'] or tools['status'] or 'unknown'}"
    if requirement_met(tools):
        return row("master_target.tools", "pass", mt["name"], [mt["name"]], f"VMware Tools run in {mt['name']} ({seen}, version {tools['version_text']}).")
    if guest.get("power_state") != "poweredOn":
        fix = "Power the VM on: VMware Tools run only in a powered-on VM (siterecovery.master_target.vm_power)."
    elif not tools["installed"]:
        fix = ("Install VMware Tools in the guest (siterecovery.master_target.vm_tools mounts the installer)." if is_windows(guest)
               else "Install open-vm-tools in the guest (the linux role of this collection does).")
    else:
        fix = "Start the VMware Tools service in the guest and set it to start at boot."
    return row("master_target.tools", "fail", mt["name"], [mt["name"]],
               f"VMware Tools do not run in {mt['name']} ({guest.get('power_state')}, {seen}): without them the ESXi host's datastores "
               "are not listed for failback.", fix)


def check_vmfs_datastore(mt, host_datastores):
    """`host_datastores`: datastore_facts of every datastore attached to the master target's host."""
    host = mt["host"] or "its host"
    usable = sorted(ds["name"] for ds in host_datastores if (ds["type"] or "").upper() == "VMFS" and datastore_problem(ds, mt["host_moid"]) is None)
    objects = [mt["name"], host] + usable
    if usable:
        return row("master_target.vmfs_datastore", "pass", mt["name"], objects,
                   f"Host {host} of {mt['name']} has VMFS datastores mounted read/write: {listing(usable)}.")
    vmfs = [ds for ds in host_datastores if (ds["type"] or "").upper() == "VMFS"]
    why = listing(f"{ds['name']} ({datastore_problem(ds, mt['host_moid']).problem})" for ds in vmfs) if vmfs else "none is attached"
    return row("master_target.vmfs_datastore", "fail", mt["name"], objects + [ds["name"] for ds in vmfs],
               f"Host {host} of {mt['name']} has no VMFS datastore mounted read/write ({why}): the portal's Datastore list stays empty.",
               f"Present a VMFS datastore to {host} and mount it read/write (siterecovery.master_target.host_datastore_access mounts one that is attached).")


def check_migration_exclusion(mt, pods, cluster):
    """`pods`: pod_facts of the datastore clusters holding the VM's files; `cluster`: cluster_facts of its host's cluster or None."""
    verdicts = [storage_drs_verdict(pod) for pod in pods]
    if not pods:
        verdicts.append(("pass", "none of its datastores is in a datastore cluster, so Storage DRS cannot move it"))
    if cluster is None:
        verdicts.append(("pass", f"its host {mt['host']} is not in a cluster, so DRS cannot migrate it"))
    else:
        verdicts.append(drs_verdict(cluster))
    status = max((status for status, _text in verdicts), key=STATUSES.index)
    objects = [mt["name"]] + [pod["name"] for pod in pods] + ([cluster["name"]] if cluster else [])
    return row("master_target.migration_exclusion", status, mt["name"], objects,
               f"{mt['name']}: " + "; ".join(text for _status, text in verdicts) + ".",
               f"Exclude it with siterecovery.master_target.vm_migration_exclusion ({selection(mt)}): a Storage vMotion after reprotect "
               "moves the attached disks and breaks failback.")


def check_retention_disk(mt, min_gb=None):
    marker = mt["marker"]
    fix = f"Add it with siterecovery.master_target.vm_retention_disk ({selection(mt)}, size_gb: 1024, datastore: a VMFS datastore)."
    if marker is None:
        return row("master_target.retention_disk", "fail", mt["name"], [mt["name"]],
                   f"{mt['name']} has no retention disk (no advanced setting siterecovery.retentionDisk.uuid names one).", fix)
    disk = next((d for d in mt["disks"] if uuid_hex(d["uuid"]) == uuid_hex(marker)), None)
    if disk is None:
        return row("master_target.retention_disk", "fail", mt["name"], [mt["name"]],
                   f"The retention disk marker of {mt['name']} names disk {marker}, which the VM no longer has.",
                   "Clear the stale marker with siterecovery.master_target.vm_retention_disk (state: absent), then add the disk (state: present).")
    found = f"{mt['name']} has its retention disk: {disk['label']}, {disk['size_gb']:g} GB"
    if min_gb and disk["size_gb"] < min_gb:
        return row("master_target.retention_disk", "warn", mt["name"], [mt["name"]], f"{found}, less than the {min_gb} GB asked for.",
                   f"Grow it with siterecovery.master_target.vm_retention_disk (size_gb: {min_gb}, grow: true), then the file system in the guest.")
    return row("master_target.retention_disk", "pass", mt["name"], [mt["name"]], found + ".")


def attach_room(mt):
    """Pure: how many protected disks reprotect can attach to a master target.

    DISK_LIMIT minus its own disks, and no more than it can attach to LSI Logic controllers: the free
    units of those it has, plus LSI_UNITS for each of the MAX_SCSI_CONTROLLERS buses without a
    controller (reprotect can add one there). A ParaVirtual or BusLogic controller takes a bus and
    no protected disk. `mt["controllers"]` as controller_records gives them (with their devices).
    """
    free_units = 0
    for controller in mt["controllers"]:
        if controller["type"] not in LSI_TYPES:
            continue
        devices = controller.get("devices", [d for d in mt["disks"] if d["bus"] == controller["bus"]])
        used = {d["unit"] for d in devices if d["unit"] is not None and d["unit"] != LSI_OWN_UNIT and d["unit"] <= LSI_MAX_UNIT}
        free_units += LSI_UNITS - len(used)
    free_buses = max(0, MAX_SCSI_CONTROLLERS - len({controller["bus"] for controller in mt["controllers"]}))
    return max(0, min(DISK_LIMIT - len(mt["disks"]), free_units + LSI_UNITS * free_buses))


def placement_units(vms, groups=()):
    """Pure: the protected VMs as reprotect places them: each replication group (a list of VM moids) together, each
    other VM alone. [{moids, disks, families}], groups first, in the order given."""
    by_moid = {vm["moid"]: vm for vm in vms}
    grouped = [[key for key in group if key in by_moid] for group in groups]
    in_group = {key for group in grouped for key in group}
    units = [group for group in grouped if group] + [[vm["moid"]] for vm in vms if vm["moid"] not in in_group]
    return [dict(moids=unit, disks=sum(len(by_moid[key]["disks"]) for key in unit),
                 families=sorted({by_moid[key]["guest_family"] for key in unit})) for unit in units]


def plan_disks(mts, vms, groups=()):
    """Pure: what reprotect will do with the protected disks, keyed by moid.

    Each protected VM goes whole to one master target of its OS family, and the VMs of a replication
    group all to the same one. Greedy, as an admin would: the units with most disks first, each to
    the master target of its family with most room left (attach_room). Returns dict(room={mt moid:
    room before}, plan={mt moid: [vm moids]}, unplaced=[unit with its reason]); the reasons:
    mixed_family (a group of several OS families), no_master_target (none of its family listed),
    too_big (more disks than any master target of its family can take, even alone), full (it would
    fit alone, but not in what is left).
    """
    room = {mt["moid"]: attach_room(mt) for mt in mts}
    left, plan, unplaced = dict(room), {mt["moid"]: [] for mt in mts}, []
    for unit in sorted(placement_units(vms, groups), key=lambda item: -item["disks"]):
        fitting = [mt["moid"] for mt in mts if [mt["guest_family"]] == unit["families"]]
        if len(unit["families"]) > 1 or not fitting:
            unplaced.append(dict(unit, reason="mixed_family" if len(unit["families"]) > 1 else "no_master_target"))
            continue
        best = max(fitting, key=lambda key: left[key])
        if left[best] >= unit["disks"]:
            plan[best] += unit["moids"]
            left[best] -= unit["disks"]
        else:
            unplaced.append(dict(unit, reason="too_big" if unit["disks"] > max(room[key] for key in fitting) else "full"))
    return dict(room=room, plan=plan, unplaced=unplaced)


def master_targets_needed(family_mts, room, full_units):
    """Pure: how many master targets of one family the plan needs: those listed, plus new ones (each with the room of the
    roomiest listed) filled first-fit with the units that found no room, most disks first."""
    size = max(room[mt["moid"]] for mt in family_mts)
    new = []
    for unit in sorted(full_units, key=lambda item: -item["disks"]):
        spare = next((index for index, free in enumerate(new) if free >= unit["disks"]), None)
        if spare is None:
            new.append(size - unit["disks"])
        else:
            new[spare] -= unit["disks"]
    return len(family_mts) + len(new)


def unplaced_texts(unit, names, mts, room):
    """Pure: (message, fix) for a unit plan_disks could not place (not `full`, which check_disk_limit words for all at once)."""
    who = names[unit["moids"][0]] if len(unit["moids"]) == 1 else f"the replication group ({listing(names[key] for key in unit['moids'])})"
    if unit["reason"] == "mixed_family":
        return (f"{who} mixes OS families ({' and '.join(unit['families'])}): a replication group goes to one master target, of its OS family",
                "Put the VMs of each OS family in a replication group of their own, failed back through a master target of that family.")
    fitting = [mt for mt in mts if mt["guest_family"] == unit["families"][0]]
    best = max(fitting, key=lambda mt: room[mt["moid"]])
    most = room[best["moid"]]
    found = f"{who} has {unit['disks']} disks, more than any {unit['families'][0]} master target listed can take ({most} on {best['name']})"
    if len(unit["moids"]) > 1:
        return (f"{found}: a replication group goes whole to one master target",
                f"Split the replication group into groups of at most {most} disks each, or fail it back through a master target with "
                "fewer own disks.")
    if unit["disks"] < DISK_LIMIT:
        another = f"through a master target with at most {DISK_LIMIT - unit['disks']} own disks and LSI Logic room for {unit['disks']} disks"
    else:
        another = f"another way than reprotect through a master target: none holds more than {DISK_LIMIT} disks"
    return (f"{found}: a VM goes whole to one master target, so more master targets do not help",
            f"Split the disks of {who} across VMs of at most {most} disks each before reprotect, or fail it back {another}.")


def check_disk_limit(mts, vms, groups=()):
    """One row per master target, from plan_disks: the protected VMs planned on it and, failing it, each VM or replication
    group of its OS family that fits nowhere. `groups`: the replication groups as lists of VM moids."""
    result = plan_disks(mts, vms, groups)
    names = {vm["moid"]: vm["name"] for vm in vms}
    disks = {vm["moid"]: len(vm["disks"]) for vm in vms}
    rows = []
    for mt in mts:
        share = result["plan"][mt["moid"]]
        own, taken, room = len(mt["disks"]), sum(disks[key] for key in share), result["room"][mt["moid"]]
        text = f"{mt['name']}: {own} own disks + {taken} of {listing(names[key] for key in share) or 'no protected VM'} = {own + taken} of {DISK_LIMIT}"
        if room < DISK_LIMIT - own:
            text += f" (its LSI Logic controllers and free SCSI buses take only {room} disks more)"
        problems = [unit for unit in result["unplaced"] if mt["guest_family"] in unit["families"] and unit["reason"] != "no_master_target"]
        objects = [mt["name"]] + [names[key] for key in share] + [names[key] for unit in problems for key in unit["moids"]]
        if not problems:
            rows.append(row("master_target.disk_limit", "pass", mt["name"], objects, text + "."))
            continue
        texts = [unplaced_texts(unit, names, mts, result["room"]) for unit in problems if unit["reason"] != "full"]
        full = [unit for unit in problems if unit["reason"] == "full"]
        if full:
            family_mts = [item for item in mts if item["guest_family"] == mt["guest_family"]]
            needed = master_targets_needed(family_mts, result["room"], full)
            total = sum(disks[vm["moid"]] for vm in vms if vm["guest_family"] == mt["guest_family"])
            texts.append((f"the {mt['guest_family']} protected VMs have {total} disks in total and "
                          f"{listing(names[key] for unit in full for key in unit['moids'])} fit on no master target left within the "
                          f"{DISK_LIMIT}-disk limit: at least {needed} master targets are needed",
                          f"Add master targets ({mt['guest_family']}, at least {needed} in all) and list them in master_targets, or reprotect "
                          "fewer VMs at a time."))
        rows.append(row("master_target.disk_limit", "fail", mt["name"], objects, f"{text}; " + "; ".join(message for message, _fix in texts) + ".",
                        " ".join(dict.fromkeys(fix for _message, fix in texts))))
    return rows


def check_sizing(mt):
    os_disk = mt["disks"][0]["size_gb"] if mt["disks"] else 0
    found = f"{mt['num_cpu']} vCPU, {mt['memory_mb'] / 1024:g} GB RAM, OS disk {os_disk:g} GB"
    short = []
    if (mt["num_cpu"] or 0) < MIN_CPUS:
        short.append(f"{MIN_CPUS} vCPU")
    if (mt["memory_mb"] or 0) < MIN_MEMORY_MB:
        short.append(f"{MIN_MEMORY_MB // 1024} GB RAM")
    if os_disk < MIN_OS_DISK_GB:
        short.append(f"a {MIN_OS_DISK_GB} GB OS disk")
    if not short:
        return row("master_target.sizing", "pass", mt["name"], [mt["name"]], f"{mt['name']} has {found}.")
    return row("master_target.sizing", "warn", mt["name"], [mt["name"]],
               f"{mt['name']} has {found}, below Azure Site Recovery's minimum of {', '.join(short)}.",
               f"Give {mt['name']} at least {MIN_CPUS} vCPU, {MIN_MEMORY_MB // 1024} GB RAM and a {MIN_OS_DISK_GB} GB OS disk.")


# ---- the protected VMs ---------------------------------------------------------------------------


def check_protected_datastore(vm, mt, datastores):
    """`datastores`: datastore_facts of the protected VM's datastores; judged from the master target's host."""
    problems = [(ds, datastore_problem(ds, mt["host_moid"])) for ds in datastores]
    bad = [(ds, problem) for ds, problem in problems if problem is not None]
    objects = [vm["name"]] + [ds["name"] for ds in datastores] + [mt["host"] or "?"]
    if not datastores:
        return row("protected_vm.datastore", "warn", mt["name"], [vm["name"]], f"{vm['name']} lists no datastore.", "Check the VM in vCenter.")
    if not bad:
        return row("protected_vm.datastore", "pass", mt["name"], objects,
                   f"The datastores of {vm['name']} ({listing(ds['name'] + ' ' + str(ds['type']) for ds in datastores)}) are mounted read/write "
                   f"on host {mt['host']} of {mt['name']}.")
    fixes = {"unmounted": f"mount it on {mt['host']} (siterecovery.master_target.host_datastore_access does)",
             "not_attached": f"present the datastore's LUN to host {mt['host']} and rescan its storage",
             # A protected VM's datastore is not ours to pick: the VM must move before reprotect.
             "unsupported_type": f"Storage vMotion {vm['name']} to a VMFS or vSAN datastore mounted on {mt['host']} before reprotect, "
                                 "or fail it back to an alternate location on such a datastore"}
    first = bad[0][1]
    return row("protected_vm.datastore", "fail", mt["name"], objects,
               " ".join(f"Datastore {ds['name']} of {vm['name']} cannot be used from host {mt['host']} of {mt['name']}: {problem.problem}."
                        for ds, problem in bad),
               f"Datastore {bad[0][0]['name']}: {fixes.get(first.code, first.fix)}.")


def check_uuid_clash(vm, mt):
    clashes = []
    if vm["bios_uuid"] and uuid_hex(vm["bios_uuid"]) == uuid_hex(mt["bios_uuid"]):
        clashes.append(f"BIOS uuid {vm['bios_uuid']}")
    mt_disks = {uuid_hex(d["uuid"]): d["label"] for d in mt["disks"] if d["uuid"]}
    for disk in vm["disks"]:
        if disk["uuid"] and uuid_hex(disk["uuid"]) in mt_disks:
            clashes.append(f"disk uuid {disk['uuid']} ({disk['label']} of {vm['name']}, {mt_disks[uuid_hex(disk['uuid'])]} of {mt['name']})")
    if not clashes:
        return row("protected_vm.uuid_clash", "pass", mt["name"], [vm["name"], mt["name"]],
                   f"{vm['name']} shares no BIOS or disk uuid with {mt['name']}.")
    return row("protected_vm.uuid_clash", "fail", mt["name"], [vm["name"], mt["name"]],
               f"{vm['name']} and {mt['name']} share {'; '.join(clashes)} (clones of one template): reprotect fails.",
               f"Use a master target that is not a clone of the template {vm['name']} came from, or give {mt['name']} new uuids.")


def check_os_family(vm, mts, families):
    """One row per protected VM, judged against every master target listed: it passes when one of them has its OS family
    (the disk plan places it only on those, check_disk_limit). `families`: the guest family of each VM of its replication
    group (itself alone when in none), for the one-family rule."""
    mixed = sorted(set(families)) if len(set(families)) > 1 else []
    note = f" The VMs of its replication group mix {' and '.join(mixed)}: one replication group holds one OS family." if mixed else ""
    same = [mt for mt in mts if mt["guest_family"] == vm["guest_family"]]
    found = f"{vm['name']} is {vm['guest_family']} ({vm['guest_id']})"
    if same:
        return row("protected_vm.os_family", "pass", None, [vm["name"]] + [mt["name"] for mt in same],
                   f"{found}, as master target{'s' if len(same) > 1 else ''} {listing(mt['name'] + ' (' + str(mt['guest_id']) + ')' for mt in same)}.")
    return row("protected_vm.os_family", "fail", None, [vm["name"]] + [mt["name"] for mt in mts],
               f"{found} and no master target listed is: {listing(mt['name'] + ' is ' + mt['guest_family'] + ' (' + str(mt['guest_id']) + ')' for mt in mts)}."
               f"{note}",
               f"Fail {vm['name']} back through a {vm['guest_family']} master target of the same or a later OS version (add it to master_targets), "
               "in a replication group of its own OS family.")


def check_protected_snapshots(vm):
    if not vm["snapshots"]:
        return row("protected_vm.snapshots", "pass", None, [vm["name"]], f"{vm['name']} has no snapshots.")
    return row("protected_vm.snapshots", "info", None, [vm["name"]],
               f"{vm['name']} has {len(vm['snapshots'])} snapshot(s) ({listing(vm['snapshots'])}); reprotect merges them.",
               "Nothing to do; remove them first if you want to keep the merge out of the reprotect window.")


# ---- vCenter, hosts, account ---------------------------------------------------------------------


def is_free_edition(license_info):
    """Pure: whether a licence (editionKey, name) is a free ESXi edition (vSphere Hypervisor, ESXi free)."""
    edition, name = (license_info.get("edition_key") or "").lower(), (license_info.get("name") or "").lower()
    return "free" in edition or edition.startswith("esx.hypervisor") or edition == "esxbasic" or "hypervisor" in name or "free" in name


def check_license(host, license_info, direct=False):
    """`license_info`: {edition_key, name} of the host's licence, or None when none was reported; `direct`: read from the ESXi
    host itself (a direct connection: LicenseManager.licenses), else what vCenter assigned it (QueryAssignedLicenses).

    vCenter cannot manage a host with a free ESXi edition (it refuses to assign one), so only a direct connection can
    find one; should vCenter report one all the same, the row is info, pointing at a direct check.
    """
    where = "the VMware Host Client (Manage > Licensing)" if direct else "vCenter (Licensing > Assets > Hosts)"
    if license_info is None:
        source = f"ESXi host {host} reported no licence" if direct else f"vCenter reported no licence assigned to host {host}"
        return row("host.license", "warn", None, [host], source + ".", f"Check the host's licence in {where}.")
    found = f"Host {host} is licensed {license_info['name']} ({license_info['edition_key']})"
    assign = f"Assign a paid vSphere licence to {host} in {where}."
    if is_free_edition(license_info) and direct:
        return row("host.license", "fail", None, [host], f"{found}, a free ESXi edition: failover works, failback does not.", assign)
    if is_free_edition(license_info):
        return row("host.license", "info", None, [host],
                   f"{found} as vCenter reports it, a free ESXi edition, which vCenter cannot manage (it refuses that licence for a host "
                   "it manages): the report does not match the host.",
                   f"Check the host's licence in {where}, or run this check connected to {host} directly, which reads the licence the "
                   "host runs (a free edition fails there: failover works, failback does not).")
    if (license_info.get("edition_key") or "").lower() == "eval":
        return row("host.license", "warn", None, [host], f"{found}: evaluation mode ends after 60 days, and failback with it.", assign)
    return row("host.license", "pass", None, [host], found + ".")


def check_host_state(host, connection_state, in_maintenance, vms):
    """host.state: `host` (its label) holds the VMs `vms` (their labels) of the report. Reprotect and failback detach and
    attach their disks through vCenter, which needs the host connected (runtime.connectionState) and out of maintenance
    mode (runtime.inMaintenanceMode)."""
    of = f"Host {host} of {listing(vms)}"
    problems, fixes = [], []
    if connection_state != "connected":
        problems.append(f"is {connection_state or 'in an unknown connection state'}")
        fixes.append(f"Reconnect {host} in vCenter (right-click the host > Connection > Connect)." if connection_state == "disconnected"
                     else f"Bring {host} back (it is down or its management network is cut) until vCenter shows it connected.")
    if in_maintenance:
        problems.append("is in maintenance mode")
        fixes.append(f"Take {host} out of maintenance mode (right-click the host > Maintenance Mode > Exit Maintenance Mode).")
    if not problems:
        return row("host.state", "pass", None, [host], f"{of} is connected and not in maintenance mode.")
    return row("host.state", "fail", None, [host] + list(vms),
               f"{of} {' and '.join(problems)}: reprotect and failback detach and attach disks through vCenter on this host, "
               "which they cannot do now.",
               " ".join(fixes) + " Or move the VMs to a connected host out of maintenance mode before reprotect and failback.")


def major_minor(version):
    parts = (str(version or "").split(".") + ["0"])[:2]
    try:
        return int(parts[0]), int(parts[1])
    except ValueError:
        return None


def check_version(check, what, name, version):
    """`check`: vcenter.version or host.version. Older than 6.5 or in between fails; newer than 8.0 warns."""
    parsed = major_minor(version)
    found = f"{what} {name} runs version {version}"
    if parsed is not None and f"{parsed[0]}.{parsed[1]}" in SUPPORTED_VERSIONS:
        return row(check, "pass", None, [name], found + f", supported ({', '.join(SUPPORTED_VERSIONS)}).")
    if parsed is not None and parsed > (8, 0):
        return row(check, "warn", None, [name], found + f", newer than the versions Azure Site Recovery lists ({', '.join(SUPPORTED_VERSIONS)}).",
                   "Check Microsoft's support matrix for this version before relying on failback.")
    return row(check, "fail", None, [name], found + f", which Azure Site Recovery does not support ({', '.join(SUPPORTED_VERSIONS)}).",
               f"Upgrade {what} {name} to a supported version.")


def compact_privileges(missing):
    """Pure: every missing privilege id, those sharing a prefix written once: 'Task.{Create, Update}'."""
    groups = {}
    for privilege in [item for item in REQUIRED_PRIVILEGES if item in set(missing)] + sorted(set(missing) - set(REQUIRED_PRIVILEGES)):
        prefix, name = privilege.rsplit(".", 1)
        groups.setdefault(prefix, []).append(name)
    return [f"{prefix}.{names[0]}" if len(names) == 1 else f"{prefix}.{{{', '.join(names)}}}" for prefix, names in groups.items()]


def check_privileges(user, checked):
    """`checked`: [{name, kind, missing}], one per object asked about: its label, its kind (a PRIVILEGE_KINDS key) and the
    privilege ids vCenter checks on that kind (privileges_for) that the account lacks there."""
    names = sorted({item["name"] for item in checked})
    lacking = [item for item in checked if item["missing"]]
    if not lacking:
        return row("vcenter.privileges", "pass", None, names,
                   f"The vCenter account {user} holds the privileges reprotect and failback need, each on the objects vCenter checks it "
                   f"on: {listing(names)}.")
    by_kind = {}
    for item in sorted(lacking, key=lambda item: (list(PRIVILEGE_KINDS).index(item["kind"]), item["name"])):
        by_kind.setdefault((item["kind"], tuple(item["missing"])), []).append(item["name"])
    parts = []
    for (kind, missing), objects in by_kind.items():
        whys = [why for why, group_kind, ids in PRIVILEGE_GROUPS if group_kind == kind and set(ids) & set(missing)]
        what = PRIVILEGE_KINDS[kind] + ("s" if len(objects) > 1 else "")
        parts.append(f"{', '.join(compact_privileges(missing))} on {what} {listing(objects)} (to {'; '.join(whys)})")
    distinct = {privilege for item in lacking for privilege in item["missing"]}
    return row("vcenter.privileges", "fail", None, sorted({item["name"] for item in lacking}),
               f"The vCenter account {user} lacks {len(distinct)} of the {len(REQUIRED_PRIVILEGES)} privileges failback needs, where vCenter "
               f"checks them: {'; '.join(parts)}. A read-only account is enough for discovery only.",
               f"Give {user} a role with these privileges (Microsoft's 'Azure Site Recovery' role) on each object named, or on a folder, "
               "cluster or datacenter above it, with Propagate to children; those of the vCenter root folder on the vCenter itself.")


def not_found_row(kind, name, matches, near, escaped=""):
    """`kind`: 'master target' or 'protected VM'; `matches`: paths when the name is ambiguous; `near`: similar names;
    `escaped`: escaped_name_hint's text when the name holds a character vCenter escapes."""
    if matches:
        return row("vm.found", "fail", None, [name], f"The {kind} '{name}' matches {len(matches)} VMs: {listing(matches)}.",
                   "Give its inventory path instead (for example /DC0/vm/folder/name).")
    hint = f" Similar names: {listing(near)}." if near else ""
    return row("vm.found", "fail", None, [name], f"No VM named '{name}' (the {kind}) was found.{escaped}{hint}",
               "Give the name as vCenter stores it ('/' as %2f), or its inventory path." if escaped
               else "Fix the name (it is case-sensitive) or the datacenter option.")


def duplicate_row(kind, wanted, vm, first_kind, first_wanted):
    """vm.found for an entry naming a VM named before: `vm` {name (its label), path, moid}; `first_kind`, `first_wanted`
    the first entry naming it. Given twice in one list: info (it is read once); in both lists: fail."""
    same = f"'{wanted}' is {vm['path']} ({vm['moid']}), already given as '{first_wanted}'"
    if kind == first_kind:
        return row("vm.found", "info", None, [vm["name"]], f"The {kind} {same}: it is read and counted once.",
                   f"Nothing to do; list it once in the {kind} list to silence this.")
    return row("vm.found", "fail", None, [vm["name"]], f"The {kind} {same} (the {first_kind}): a VM cannot fail back through itself.",
               "Remove it from master_targets or from protected_vms.")


def replication_group_problem(groups, protected_vms):
    """Pure: why the option replication_groups does not fit protected_vms (a message), or None."""
    given, seen = set(protected_vms or []), {}
    for number, group in enumerate(groups or [], 1):
        if not group:
            return f"replication_groups: group {number} is empty. List the protected VMs of each replication group, or leave the group out."
        for name in group:
            if name not in given:
                return (f"replication_groups: group {number} names '{name}', which is not in protected_vms. Give each VM of a group "
                        "exactly as protected_vms gives it (name or path).")
            if seen.setdefault(name, number) != number:
                return f"replication_groups: '{name}' is in group {seen[name]} and in group {number}: a VM belongs to one replication group."
    return None


def summary(rows):
    counts = {status: sum(1 for item in rows if item["status"] == status) for status in STATUSES}
    return dict(counts, total=len(rows))
