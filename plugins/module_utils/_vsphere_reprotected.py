# -*- coding: utf-8 -*-
# Copyright: (c) 2026, siterecovery.master_target contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The checks of failback_readiness_info after reprotect (phase after_reprotect), as pure functions.

Reprotect turns each protected on-premises VM off and attaches its disks, the very files the VM's own
configuration names, to one master target, which writes the data replicated from Azure into them. Failback
detaches them from the master target and starts the VM from them. So after reprotect each protected VM
is off, each of its disks is attached to one master target at the path the VM's configuration names (a
Storage vMotion of the master target moves them, and failback then cannot detach them), and no master
target holds more than 60 disks. Rows as _vsphere_readiness.row makes them.
"""

from __future__ import annotations

import re

from ansible_collections.siterecovery.master_target.plugins.module_utils._vsphere_devices import uuid_hex
from ansible_collections.siterecovery.master_target.plugins.module_utils._vsphere_readiness import DISK_LIMIT, listing, row, selection

try:
    from pyVmomi import vim
except ImportError:  # pragma: no cover - reported when connecting
    pass


def disk_files(devices):
    """Pure: {device key: backing fileName} of a VM's virtual disks (None for a disk without a file)."""
    return {d.key: getattr(d.backing, "fileName", None) or None for d in devices or [] if isinstance(d, vim.vm.device.VirtualDisk)}


def file_key(path):
    """Pure: a datastore path ('[vmfs-prod-02] prod-db-01/prod-db-01.vmdk') as (datastore, path) to compare; None for none."""
    match = re.match(r"\s*\[([^\]]*)\]\s*(.*?)\s*$", path or "")
    if match:
        return match.group(1), match.group(2).lstrip("/")
    return (None, path.strip()) if path and path.strip() else None


def attachments(vm, mts):
    """Pure: where the master targets hold each disk of a protected VM: [{disk, at_path, moved}], each a list of
    (master target, its disk). `at_path`: backed by the file the VM's configuration names; `moved`: a disk with the same
    disk uuid at another path (a Storage vMotion of the master target moved the file). Disks as vm_facts gives them, with
    `file` (disk_files)."""
    found = []
    for disk in vm["disks"]:
        wanted, uuid = file_key(disk.get("file")), uuid_hex(disk["uuid"])
        at_path, moved = [], []
        for mt in mts:
            for held in mt["disks"]:
                if wanted is not None and file_key(held.get("file")) == wanted:
                    at_path.append((mt, held))
                elif uuid and uuid_hex(held["uuid"]) == uuid:
                    moved.append((mt, held))
        found.append(dict(disk=disk, at_path=at_path, moved=moved))
    return found


def holders(found, mts):
    """Pure: the master targets of `mts` (in their order) that hold any disk of the VM, from its attachments."""
    held = {mt["moid"] for item in found for mt, _disk in item["at_path"] + item["moved"]}
    return [mt for mt in mts if mt["moid"] in held]


def check_powered_off(vm):
    """protected_vm.powered_off: reprotect turns the on-premises VM off, and it must stay off until failback."""
    name, state = vm["name"], vm["power_state"]
    if state == "poweredOff":
        return row("protected_vm.powered_off", "pass", None, [name], f"{name} is powered off, as reprotect leaves it until failback.")
    return row("protected_vm.powered_off", "fail", None, [name],
               f"{name} is {state or 'in an unknown power state'} after reprotect: reprotect turns the on-premises VM off to keep the "
               "replicated data consistent, and Microsoft says not to turn it on again before failback.",
               f"Shut it down (siterecovery.master_target.vm_power, {selection(vm)}, state: shutdown_guest) and keep it off until failback. "
               "It may have written to the disks that replication from Azure writes: check its replication health in the Azure portal "
               "(Replicated items) before failing back.")


def moved_text(vm, item):
    disk = item["disk"]
    return "; ".join(f"{disk['label']} of {vm['name']} (uuid {disk['uuid']}) is attached to {mt['name']} as {held['label']} at {held['file']}, "
                     f"but {vm['name']}'s configuration names {disk['file']}" for mt, held in item["moved"])


def check_disks_attached(vm, found, mts, group=None):
    """protected_vm.disks_attached: every disk of the VM attached to exactly one master target (one for all its disks) at
    the path its configuration names. `found`: attachments(vm, mts); `group`: {label: [master target labels]} of the other
    VMs of its replication group that have disks attached (they all go through one master target)."""
    name, count = vm["name"], len(vm["disks"])
    on = holders(found, mts)
    where = on[0]["name"] if len(on) == 1 else None
    objects = [name] + [mt["name"] for mt in on]
    moved = [item for item in found if item["moved"]]
    problems, fixes = [], []
    if moved:
        moved_files = " ".join(moved_text(vm, item) + "." for item in moved)
        problems.append(f"{moved_files} A Storage vMotion of the master target moved the file (or the master target was cloned from the template "
                        f"{name} came from): failback cannot detach the disk, since it is not where {name}'s configuration names it")
        fixes.append(f"Exclude {listing(mt['name'] for mt in holders([dict(item, at_path=[]) for item in moved], mts))} from Storage DRS and migrations now "
                     "(siterecovery.master_target.vm_migration_exclusion) so that no more disks move. Failback will not find the disk: as "
                     f"Microsoft describes, attach the file the master target holds to {name} by hand (Edit Settings > Add existing hard "
                     f"disk, in place of the disk at the path its configuration names) before starting {name}.")
    if len(on) > 1:
        problems.append(f"the disks of {name} are attached to {len(on)} master targets ({listing(mt['name'] for mt in on)}): reprotect "
                        "attaches all disks of a VM to one master target")
        fixes.append(f"Find the master target Azure Site Recovery uses for {name} (its replicated item in the portal) and detach the disks "
                     "of the VM from the others (Edit Settings > remove the disk, never 'Delete files from datastore').")
    apart = {other: targets for other, targets in (group or {}).items() if where is not None and set(targets) != {where}}
    if apart:
        problems.append(f"its replication group is split: {name} is on {where}, "
                        f"{listing(other + ' on ' + ' and '.join(targets) for other, targets in apart.items())}; Azure Site Recovery "
                        "reprotects a replication group through one master target")
        fixes.append("Reprotect the VMs of the replication group through one master target (Microsoft: the same master target for every "
                     "VM of a replication group).")
    if problems:
        return row("protected_vm.disks_attached", "fail", where, objects, "; ".join(problems) + ".", " ".join(fixes))
    attached = [item for item in found if item["at_path"]]
    if not attached:
        return row("protected_vm.disks_attached", "fail", None, [name],
                   f"None of the {count} disk(s) of {name} is attached to a master target listed: reprotect has not run for {name}, or it "
                   "went through a master target that is not in master_targets.",
                   f"If {name} was reprotected, add the master target holding its disks to master_targets (its replicated item in the Azure "
                   "portal names it); else reprotect it, and until then check it with phase: before_reprotect.")
    files = listing(f"{item['disk']['label']} ({item['disk']['file']})" for item in attached)
    if len(attached) < count:
        missing = [item["disk"]["label"] for item in found if not item["at_path"]]
        return row("protected_vm.disks_attached", "warn", where, objects,
                   f"{where} holds {len(attached)} of the {count} disks of {name} at the paths its configuration names ({files}); "
                   f"{listing(missing)} is attached to no master target listed: a disk excluded from replication is not reprotected.",
                   f"If {listing(missing)} was not excluded from replication, reprotect {name} again.")
    return row("protected_vm.disks_attached", "pass", where, objects,
               f"{where} holds the {count} disk(s) of {name} at the paths {name}'s configuration names: {files}.")


def check_attached_disk_count(mt, vms):
    """master_target.disk_limit after reprotect: the disks the master target has now, its own and those reprotect attached
    (matched by path or disk uuid to the protected VMs `vms`), at most DISK_LIMIT. Replaces the plan of check_disk_limit."""
    name, total = mt["name"], len(mt["disks"])
    per_vm = {}
    for vm in vms:
        held = sum(1 for item in attachments(vm, [mt]) if item["at_path"] or item["moved"])
        if held:
            per_vm[vm["name"]] = held
    others = total - sum(per_vm.values())
    text = (f"{name} has {total} disks attached, {DISK_LIMIT} at most: {others} of its own (or of VMs not listed) and "
            f"{sum(per_vm.values())} of {listing(f'{vm} ({held})' for vm, held in per_vm.items()) or 'no protected VM listed'}")
    objects = [name] + list(per_vm)
    if total <= DISK_LIMIT:
        return row("master_target.disk_limit", "pass", name, objects, text + ".")
    return row("master_target.disk_limit", "fail", name, objects,
               f"{text}: {total - DISK_LIMIT} too many. Azure Site Recovery allows at most {DISK_LIMIT} disks attached to a master target "
               "at any time; beyond that, reprotects to it fail.",
               f"Detach from {name} any disk that is neither its own OS or retention disk nor one reprotect attached; else reprotect some of "
               f"these VMs through another master target (prepared as {name} was) so that each holds at most {DISK_LIMIT} disks.")
