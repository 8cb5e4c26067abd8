# -*- coding: utf-8 -*-
# Copyright: (c) 2026, siterecovery.master_target contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A VM's snapshot tree as plain data, shared by vm_snapshots and vm_snapshots_info."""

from __future__ import annotations

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
