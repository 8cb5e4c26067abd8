# -*- coding: utf-8 -*-
# Copyright: (c) 2026, siterecovery.master_target contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Datastores as Azure Site Recovery failback sees them: facts and problems, as pure functions.

Shared by host_datastore_access (which mounts what it can), vm_retention_disk (which places a disk),
vm_preparation_info (which plans) and failback_readiness_info (which reports): every module judges a
datastore with the one datastore_problem, maintenance mode (summary.maintenanceMode) included.
"""

from __future__ import annotations

from typing import NamedTuple

# What datastore_facts() needs. "info" is read whole, and only for the datastores asked for: a
# path into it (info.vmfs.uuid) is not valid on NFS datastores.
DATASTORE_PATHS = [
    "name",
    "summary.type",
    "summary.capacity",
    "summary.freeSpace",
    "summary.accessible",
    "summary.maintenanceMode",
    "host",
    "info",
]
FAILBACK_TYPES = ("VMFS", "VSAN")  # summary.type, compared in upper case (vSAN reports "vsan")


class DatastoreProblem(NamedTuple):
    """Why a datastore cannot serve failback from a host: a short code, the cause and the fix."""

    code: str
    problem: str
    fix: str


# The one problem host_datastore_access fixes itself (it mounts); every other code is left to the administrator.
UNMOUNTED = "unmounted"


def datastore_facts(ds):
    """Pure: the facts of a Datastore read with DATASTORE_PATHS, as plain data.

    `mounts` maps each host's moid to its mount: {mounted, accessible, access_mode}.
    """
    mounts = {}
    for mount in ds.get("host") or []:
        info = mount.mountInfo
        mounts[mount.key._moId] = dict(  # pylint: disable=protected-access
            # Both are optional in the API: unset means mounted, with the datastore's overall accessibility.
            mounted=info.mounted is not False,
            accessible=bool(info.accessible) if info.accessible is not None else bool(ds.get("summary.accessible")),
            access_mode=info.accessMode,
        )
    vmfs = getattr(ds.get("info"), "vmfs", None)
    return dict(
        name=ds.name,
        moid=ds.moid,
        type=ds.get("summary.type"),
        capacity=ds.get("summary.capacity"),
        free_space=ds.get("summary.freeSpace"),
        maintenance_mode=ds.get("summary.maintenanceMode"),
        vmfs_uuid=vmfs.uuid if vmfs is not None else None,
        mounts=mounts,
    )


def datastore_problem(ds, host_moid):
    """Pure: why datastore `ds` (datastore_facts) cannot serve ASR failback from host `host_moid`.

    None when the host has it mounted, accessible and read/write; else a DatastoreProblem whose
    `problem` and `fix` read after "Datastore X cannot be used from host Y: ". Checked in the order
    an administrator would fix them, so the first problem is the one to act on.
    """
    kind = ds["type"] or "unknown"
    is_vsan = kind.upper() == "VSAN"
    if kind.upper() not in FAILBACK_TYPES:
        if kind.upper() == "NFS":
            what = "an NFS datastore"
        elif kind.upper().startswith("NFS"):
            what = f"an NFS datastore (type {kind})"
        else:
            what = f"a datastore of type {kind}"
        return DatastoreProblem(
            "unsupported_type",
            f"it is {what}, and Azure Site Recovery cannot fail back to NFS: it fails back only to VMFS or vSAN datastores",
            "list a VMFS or vSAN datastore instead",
        )
    mount = ds["mounts"].get(host_moid)
    if mount is None:
        if is_vsan:
            return DatastoreProblem(
                "not_attached",
                "it is not attached to that host: the host is not a member of the datastore's vSAN cluster",
                "add the host to that vSAN cluster, or list a datastore the host already has",
            )
        return DatastoreProblem(
            "not_attached",
            "it is not attached to that host: the host has no path to the datastore's device",
            "present the datastore's LUN to the host on the storage array (masking, zoning), rescan the host's storage "
            "adapters in vCenter, then run again (siterecovery.master_target.host_datastore_access mounts it then, and never "
            "creates or formats a VMFS volume)",
        )
    if mount["access_mode"] != "readWrite":
        return DatastoreProblem(
            "read_only",
            f"the host has it read-only (access mode {mount['access_mode']}), and the master target needs read/write access",
            "make the LUN writable for the host on the storage array (a replica or snapshot LUN is often presented read-only), "
            "rescan the host's storage and mount the datastore again",
        )
    if ds["maintenance_mode"] and ds["maintenance_mode"] != "normal":
        return DatastoreProblem(
            "maintenance",
            f"the datastore is in maintenance mode ({ds['maintenance_mode']})",
            "take the datastore out of maintenance mode in vCenter",
        )
    if not mount["mounted"]:
        if is_vsan:
            return DatastoreProblem(
                "inaccessible",
                "the vSAN datastore is not mounted on that host",
                "check the host's vSAN cluster membership and vSAN network (Skyline Health for vSAN in vCenter)",
            )
        return DatastoreProblem(
            UNMOUNTED,
            "it is attached to that host but not mounted",
            "mount it on the host with siterecovery.master_target.host_datastore_access (in the vSphere Client: Datastore > Mount Datastore)",
        )
    if not mount["accessible"]:
        return DatastoreProblem(
            "inaccessible",
            "it is mounted on that host but not accessible (all paths down, or the device is lost)",
            "restore the host's paths to the datastore's device (Storage Adapters and Paths in vCenter) and rescan the host's storage",
        )
    return None


def host_access(ds, host_moid):
    """Pure: the host's mount of `ds` as {mounted, accessible, access_mode}; not attached reads as unmounted."""
    mount = ds["mounts"].get(host_moid)
    if mount is None:
        return dict(mounted=False, accessible=False, access_mode=None)
    return dict(mount)


def datastore_state(ds, access, mounted_now=False):
    """Pure: one entry of the `datastores` return value."""
    return dict(
        name=ds["name"],
        moid=ds["moid"],
        type=ds["type"],
        capacity=ds["capacity"],
        free_space=ds["free_space"],
        mounted_now=mounted_now,
        **access,
    )


def pick_for_host(candidates, host_moid):
    """Pure: of the datastores sharing one name (in different datacenters), the one the host has."""
    attached = [ds for ds in candidates if host_moid in ds["mounts"]]
    return (attached or candidates)[0]
