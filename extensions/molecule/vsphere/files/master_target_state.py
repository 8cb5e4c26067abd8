"""Print, as one JSON document, the vCenter state that the vsphere role may change for one VM.

    VMWARE_HOST=... VMWARE_PORT=... VMWARE_USER=... VMWARE_PASSWORD=... \
        python master_target_state.py asr-mt-01

Run by prepare.yml (the scene's problems must be there before the role runs) and by converge.yml
(check mode must leave this document exactly as it was). It covers every object the role touches:
the VM's advanced settings, devices, snapshots and power state, the mounts of every datastore on the
VM's host, the Storage DRS VM overrides of every datastore cluster and the DRS VM overrides of every
cluster. Read with the PropertyCollector only (tests/support/vcsim.py read_props): property
accessors are slow and make the simulator panic on unset properties.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

# The collection's test helpers (tests/support), four levels up: extensions/molecule/vsphere/files.
sys.path.insert(0, str(Path(__file__).resolve().parents[4] / "tests"))

from pyVim.connect import Disconnect, SmartConnect  # noqa: E402 pylint: disable=wrong-import-position
from pyVmomi import vim  # noqa: E402 pylint: disable=wrong-import-position

from support.vcsim import read_props, read_props_list  # noqa: E402 pylint: disable=wrong-import-position

VM_PATHS = ["config.extraConfig", "config.hardware.device", "snapshot", "runtime.powerState", "runtime.host"]


def type_name(obj):
    """vim.vm.device.VirtualLsiLogicSASController -> VirtualLsiLogicSASController."""
    return type(obj).__name__.rsplit(".", 1)[-1]


def moid(ref):
    return ref._moId  # pylint: disable=protected-access


def device_view(device):
    backing = device.backing
    return dict(
        type=type_name(device),
        key=device.key,
        controller=device.controllerKey,
        unit=device.unitNumber,
        bus=getattr(device, "busNumber", None),
        capacity_kb=getattr(device, "capacityInKB", None),
        file=getattr(backing, "fileName", None),
        uuid=getattr(backing, "uuid", None),
    )


def snapshot_names(trees):
    return [[tree.name, snapshot_names(tree.childSnapshotList)] for tree in trees or []]


def override_views(entries, key):
    """The VM overrides of a pod or a cluster, by VM moid (key: `vm` for Storage DRS, `key` for DRS)."""
    return {moid(getattr(entry, key)): dict(enabled=entry.enabled, behavior=entry.behavior) for entry in entries or []}


def master_target_state(si, name):
    vms = read_props_list(si, vim.VirtualMachine, VM_PATHS)
    matches = [entry for entry in vms if entry["name"] == name]
    if len(matches) != 1:
        sys.exit(f"{len(matches)} VMs are called {name!r} in this vCenter: expected exactly one.")
    vm = matches[0]
    host = vm["runtime.host"]
    snapshot = vm.get("snapshot")
    mounts = {}
    for ds_name, ds in read_props(si, vim.Datastore, ["host"]).items():
        for mount in ds.get("host") or []:
            if moid(mount.key) == moid(host):
                info = mount.mountInfo
                mounts[ds_name] = dict(access_mode=info.accessMode, mounted=info.mounted, accessible=info.accessible)
    pods = read_props(si, vim.StoragePod, ["podStorageDrsEntry.storageDrsConfig.vmConfig"])
    clusters = read_props(si, vim.ClusterComputeResource, ["configurationEx"])
    return dict(
        vm=name,
        moid=moid(vm["obj"]),
        extra_config={option.key: option.value for option in vm.get("config.extraConfig") or []},
        devices=sorted((device_view(device) for device in vm["config.hardware.device"]), key=lambda view: view["key"]),
        snapshots=snapshot_names(snapshot.rootSnapshotList if snapshot else []),
        power_state=vm["runtime.powerState"],
        host=moid(host),
        datastore_mounts=mounts,
        storage_drs_overrides={
            pod: override_views(props.get("podStorageDrsEntry.storageDrsConfig.vmConfig"), "vm") for pod, props in pods.items()
        },
        drs_overrides={
            cluster: override_views(getattr(props.get("configurationEx"), "drsVmConfig", None), "key")
            for cluster, props in clusters.items()
        },
    )


def main(argv):
    if len(argv) != 2:
        sys.exit(f"usage: {argv[0]} VM_NAME (connection from VMWARE_HOST, VMWARE_PORT, VMWARE_USER, VMWARE_PASSWORD)")
    si = SmartConnect(
        host=os.environ["VMWARE_HOST"],
        port=int(os.environ.get("VMWARE_PORT") or 443),
        user=os.environ["VMWARE_USER"],
        pwd=os.environ["VMWARE_PASSWORD"],
        # The simulator's certificate is made for the run; only the scenario uses this script.
        disableSslCertValidation=True,
    )
    try:
        print(json.dumps(master_target_state(si, argv[1]), indent=1, sort_keys=True))
    finally:
        Disconnect(si)


if __name__ == "__main__":
    main(sys.argv)
