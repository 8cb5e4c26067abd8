# -*- coding: utf-8 -*-
# Copyright: (c) 2026, siterecovery.master_target contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The checks of failback_readiness_info as pure functions: plain facts in, report rows out.

A row is {check, status, master_target, objects, message, fix}; status is pass, info, warn or fail.
"""

from __future__ import annotations

import math

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
from ansible_collections.siterecovery.master_target.plugins.module_utils._vsphere_tools import is_windows, requirement_met

DISK_LIMIT = 60  # disks attached to one master target: its own plus those of the VMs reprotected to it
MIN_CPUS, MIN_MEMORY_MB, MIN_OS_DISK_GB = 4, 6 * 1024, 100  # ASR's minimum for a (Linux) master target
SUPPORTED_VERSIONS = ("6.5", "6.7", "7.0", "8.0")  # vCenter and ESXi, as ASR lists them
POLICY = dict(rpo_threshold_minutes=15, recovery_point_retention_hours=24, app_consistent_snapshot_frequency_minutes=60)
STATUSES = ("pass", "info", "warn", "fail")

# What reprotect and failback need of the vCenter account (Microsoft's "Azure Site Recovery" role for
# failback, at the datacenter with propagation). "Virtual machine > Configuration (all)" is mapped to the
# configuration privileges that exist in every supported version. A read-only account is enough for
# discovery only.
PRIVILEGE_GROUPS = (
    ("write the replicated disks to the datastores", ["Datastore.AllocateSpace", "Datastore.Browse", "Datastore.FileManagement",
                                                      "Datastore.DeleteFile", "Datastore.UpdateVirtualMachineFiles"]),
    ("connect the failed-back VM to its network", ["Network.Assign"]),
    ("place and move the VM", ["Resource.AssignVMToPool", "Resource.ColdMigrate", "Resource.HotMigrate"]),
    ("track its operations as vCenter tasks", ["Task.Create", "Task.Update"]),
    ("attach and detach the protected disks on the master target", [
        "VirtualMachine.Config." + name for name in (
            "AddExistingDisk", "AddNewDisk", "AddRemoveDevice", "AdvancedConfig", "Annotation", "CPUCount", "ChangeTracking",
            "DiskExtend", "EditDevice", "Memory", "QueryUnownedFiles", "RawDevice", "ReloadFromPath", "RemoveDisk", "Rename",
            "ResetGuestInfo", "Resource", "Settings", "SwapPlacement", "Unlock", "UpgradeVirtualHardware")]),
    ("power, answer and equip the VMs", ["VirtualMachine.Interact." + name for name in (
        "AnswerQuestion", "DeviceConnection", "SetCDMedia", "SetFloppyMedia", "PowerOff", "PowerOn", "ToolsInstall")]),
    ("create and register the failed-back VM", ["VirtualMachine.Inventory." + name for name in (
        "Create", "CreateFromExisting", "Register", "Unregister")]),
    ("move VM files", ["VirtualMachine.Provisioning.GetVmFiles", "VirtualMachine.Provisioning.PutVmFiles"]),
    ("merge the protected VMs' snapshots", ["VirtualMachine.State.RemoveSnapshot"]),
)
REQUIRED_PRIVILEGES = [privilege for _why, ids in PRIVILEGE_GROUPS for privilege in ids]


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
                   f"Set it to TRUE with siterecovery.master_target.vm_disk_uuid (name: {name}), then power-cycle the VM.")
    if enable_uuid_power_cycle(mt["extra_config"], mt["power_state"], mt.get("boot_time")):
        changed, boot = enable_uuid_changed_at(mt["extra_config"]), mt.get("boot_time")
        since = f"it was set at {moment_text(changed)}" + (f", after the VM's last power-on at {moment_text(boot)}" if boot else "")
        return row("master_target.disk_uuid", "fail", name, [name],
                   f"disk.EnableUUID is set but not in effect until a power cycle on {name}: {since}, and ESXi reads it only at power-on "
                   "(a restart of the guest or a resume is not enough).",
                   f"Power {name} off and on again: siterecovery.master_target.vm_power (name: {name}, state: shutdown_guest, then "
                   "state: powered_on), or run the vsphere role with vsphere_power_off_allowed: true.")
    return row("master_target.disk_uuid", "pass", name, [name], f"disk.EnableUUID is {describe_enable_uuid(mt['extra_config'])} on {name}.")


def check_snapshots(mt):
    if not mt["snapshots"]:
        return row("master_target.snapshots", "pass", mt["name"], [mt["name"]], f"{mt['name']} has no snapshots.")
    return row("master_target.snapshots", "fail", mt["name"], [mt["name"]],
               f"{mt['name']} has {len(mt['snapshots'])} snapshot(s) ({listing(mt['snapshots'])}): reprotect and failback fail on a "
               "master target with snapshots.",
               f"Remove them with siterecovery.master_target.vm_snapshots (name: {mt['name']}, state: absent).")


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
               f"power the VM off and convert them with siterecovery.master_target.vm_scsi_controller (name: {mt['name']}, convert: true), "
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
               f"Exclude it with siterecovery.master_target.vm_migration_exclusion (name: {mt['name']}): a Storage vMotion after reprotect "
               "moves the attached disks and breaks failback.")


def check_retention_disk(mt, min_gb=None):
    marker = mt["marker"]
    fix = f"Add it with siterecovery.master_target.vm_retention_disk (name: {mt['name']}, size_gb: 1024, datastore: a VMFS datastore)."
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


def plan_disks(mts, vms):
    """Pure: spread the protected VMs over the master targets by disk count.

    Each VM goes whole to the master target with the most room left (DISK_LIMIT minus its disks), the
    VMs with most disks first. Returns ({mt name: [vm names]}, [vm names that fit nowhere]).
    """
    room = {mt["name"]: DISK_LIMIT - len(mt["disks"]) for mt in mts}
    plan, unplaced = {mt["name"]: [] for mt in mts}, []
    for vm in sorted(vms, key=lambda item: (-len(item["disks"]), item["name"])):
        best = max(room, key=lambda name: room[name], default=None)
        if best is None or room[best] < len(vm["disks"]):
            unplaced.append(vm["name"])
            continue
        plan[best].append(vm["name"])
        room[best] -= len(vm["disks"])
    return plan, unplaced


def masters_needed(mts, vms):
    """Pure: how many master targets (each with as many own disks as the smallest listed) the VMs need, at least."""
    protected = sum(len(vm["disks"]) for vm in vms)
    own = min((len(mt["disks"]) for mt in mts), default=2)
    return max(1, math.ceil(protected / max(1, DISK_LIMIT - own)))


def check_disk_limit(mts, vms):
    """One row per master target. All protected VMs are weighed against all master targets together (see plan_disks)."""
    plan, unplaced = plan_disks(mts, vms)
    disks = {vm["name"]: len(vm["disks"]) for vm in vms}
    protected = sum(disks.values())
    rows = []
    for mt in mts:
        share = plan[mt["name"]]
        total = len(mt["disks"]) + sum(disks[name] for name in share)
        taken = sum(disks[name] for name in share)
        text = f"{mt['name']}: {len(mt['disks'])} own disks + {taken} of {listing(share) or 'no protected VM'} = {total} of {DISK_LIMIT}"
        if unplaced:
            needed = max(masters_needed(mts, vms), len(mts) + 1)
            rows.append(row("master_target.disk_limit", "fail", mt["name"], [mt["name"]] + share,
                            f"{text}; the {len(vms)} protected VMs have {protected} disks in total and {listing(unplaced)} fit on no master target "
                            f"within the {DISK_LIMIT}-disk limit: at least {needed} master targets are needed.",
                            f"Add master targets (at least {needed} in all) and list them in master_targets, or reprotect fewer VMs at a time."))
        else:
            rows.append(row("master_target.disk_limit", "pass", mt["name"], [mt["name"]] + share, text + "."))
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


def check_os_family(vm, mt, families):
    """`families`: the guest family of every protected VM, for the one-family rule."""
    mixed = sorted(set(families)) if len(set(families)) > 1 else []
    note = f" The protected VMs mix {' and '.join(mixed)}: one replication group holds one OS family." if mixed else ""
    if vm["guest_family"] == mt["guest_family"]:
        return row("protected_vm.os_family", "pass", mt["name"], [vm["name"], mt["name"]],
                   f"{vm['name']} and {mt['name']} are both {vm['guest_family']} ({vm['guest_id']}, {mt['guest_id']}).")
    return row("protected_vm.os_family", "fail", mt["name"], [vm["name"], mt["name"]],
               f"{vm['name']} is {vm['guest_family']} ({vm['guest_id']}) and {mt['name']} is {mt['guest_family']} ({mt['guest_id']}).{note}",
               f"Fail {vm['name']} back through a {vm['guest_family']} master target of the same or a later OS version, in a replication "
               "group of its own OS family.")


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


def check_license(host, license_info):
    """`license_info`: {edition_key, name} assigned to the host, or None when vCenter reported none."""
    if license_info is None:
        return row("host.license", "warn", None, [host], f"vCenter reported no licence assigned to host {host}.",
                   "Check the host's licence in vCenter (Licensing > Assets > Hosts).")
    found = f"Host {host} is licensed {license_info['name']} ({license_info['edition_key']})"
    if is_free_edition(license_info):
        return row("host.license", "fail", None, [host], f"{found}, a free ESXi edition: failover works, failback does not.",
                   f"Assign a paid vSphere licence to {host}.")
    if (license_info.get("edition_key") or "").lower() == "eval":
        return row("host.license", "warn", None, [host], f"{found}: evaluation mode ends after 60 days, and failback with it.",
                   f"Assign a paid vSphere licence to {host}.")
    return row("host.license", "pass", None, [host], found + ".")


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


def check_privileges(user, missing_by_entity):
    """`missing_by_entity`: {entity name: [missing privilege ids]} for the entities checked."""
    entities = sorted(missing_by_entity)
    missing = sorted({privilege for ids in missing_by_entity.values() for privilege in ids})
    if not missing:
        return row("vcenter.privileges", "pass", None, entities,
                   f"The vCenter account {user} holds the {len(REQUIRED_PRIVILEGES)} privileges reprotect and failback need on {listing(entities)}.")
    lacking = sorted(name for name, ids in missing_by_entity.items() if ids)
    whys = [why for why, ids in PRIVILEGE_GROUPS if set(ids) & set(missing)]
    return row("vcenter.privileges", "fail", None, lacking,
               f"The vCenter account {user} lacks {len(missing)} of the {len(REQUIRED_PRIVILEGES)} privileges failback needs on {listing(lacking)}: "
               f"{', '.join(compact_privileges(missing))} (to {'; '.join(whys)}). A read-only account is enough for discovery only.",
               f"Give {user} a role with these privileges (Microsoft's 'Azure Site Recovery' role) on the datacenter, with Propagate to children.")


def not_found_row(kind, name, matches, near):
    """`kind`: 'master target' or 'protected VM'; `matches`: paths when the name is ambiguous; `near`: similar names."""
    if matches:
        return row("vm.found", "fail", None, [name], f"The {kind} '{name}' matches {len(matches)} VMs: {listing(matches)}.",
                   "Give its inventory path instead (for example /DC0/vm/folder/name).")
    hint = f" Similar names: {listing(near)}." if near else ""
    return row("vm.found", "fail", None, [name], f"No VM named '{name}' (the {kind}) was found.{hint}",
               "Fix the name (it is case-sensitive) or the datacenter option.")


def summary(rows):
    counts = {status: sum(1 for item in rows if item["status"] == status) for status in STATUSES}
    return dict(counts, total=len(rows))
