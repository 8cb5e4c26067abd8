# -*- coding: utf-8 -*-
# Copyright: (c) 2026, siterecovery.master_target contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A VM's snapshot tree as plain data, shared by vm_snapshots and vm_snapshots_info; removing every snapshot,
shared by vm_snapshots and vm_preparation."""

from __future__ import annotations

from ansible_collections.siterecovery.master_target.plugins.module_utils._vsphere_lookup import reread
from ansible_collections.siterecovery.master_target.plugins.module_utils._vsphere_tasks import CONSOLIDATE_DISKS, REMOVE_ALL_SNAPSHOTS, run_task

# The VM properties the snapshot modules read, in one round trip.
SNAPSHOT_PATHS = ["snapshot", "runtime.consolidationNeeded"]


def flatten_snapshots(tree_list, current=None, parent_path=""):
    """Pure: a VM's rootSnapshotList as a flat list, parents before children."""
    flat = []
    for node in tree_list or []:
        path = f"{parent_path}/{node.name}" if parent_path else node.name
        created = getattr(node, "createTime", None)
        flat.append(
            dict(
                name=node.name,
                path=path,
                description=node.description or "",
                id=node.id,
                moid=node.snapshot._moId if node.snapshot is not None else None,
                created=created.isoformat() if created is not None else None,
                power_state=str(node.state) if node.state is not None else None,
                current=current is not None and node.snapshot is not None and node.snapshot._moId == current._moId,
            )
        )
        flat.extend(flatten_snapshots(node.childSnapshotList, current, path))
    return flat


def vm_snapshots(vm):
    """The flat snapshot list of a VM record read with SNAPSHOT_PATHS."""
    info = vm.get("snapshot")
    return flatten_snapshots(info.rootSnapshotList if info else [], info.currentSnapshot if info else None)


def removal_plan(snapshots, consolidation_needed, consolidate):
    """Pure: (remove all snapshots?, consolidate disks?) for state=absent."""
    return bool(snapshots), bool(consolidate and consolidation_needed)


REMOVING = "Removing all snapshots"
CONSOLIDATING = "Consolidating the disks"
# The tasks remove_snapshots starts, which a re-run waits for when an earlier run left them running.
SNAPSHOT_TASKS = {REMOVE_ALL_SNAPSHOTS: REMOVING, CONSOLIDATE_DISKS: CONSOLIDATING}


def remove_snapshots(client, vm, remove, consolidate, consolidate_wanted, timeout):
    """Do what removal_plan decided: remove every snapshot, then consolidate the disks when vCenter still says they
    need it (and `consolidate_wanted`). Returns whether the disks were consolidated."""
    target = f"VM {vm.path}"
    if remove:
        # consolidate=True makes vCenter merge the deltas into the base disks as part of the removal.
        run_task(client, lambda: vm.obj.RemoveAllSnapshots_Task(consolidate=True), REMOVING, target, timeout)
        consolidate = consolidate_wanted and bool(reread(client, vm, ["runtime.consolidationNeeded"]).get("runtime.consolidationNeeded"))
    if consolidate:
        run_task(client, vm.obj.ConsolidateVMDisks_Task, CONSOLIDATING, target, timeout)
    return consolidate
