"""The state the vsphere role left in vCenter (the simulator create.yml started), read with pyVmomi.

Run by molecule (verifier testinfra) after converge and idempotence: bash scripts/molecule test -s vsphere.
The master target is the inventory host (ansible_connection: local); its variables give the vCenter
connection and the role's settings. Everything is read through the PropertyCollector
(tests/support/vcsim.py read_props), never through property accessors.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest
from pyVim.connect import Disconnect, SmartConnect
from pyVmomi import vim

# The collection's test helpers (tests/support), four levels up: extensions/molecule/vsphere/tests.
sys.path.insert(0, str(Path(__file__).resolve().parents[4] / "tests"))

from support.vcsim import read_props, read_props_list  # noqa: E402 pylint: disable=wrong-import-position

MARKER = "siterecovery.retentionDisk.uuid"
GB_IN_KB = 1024 * 1024
POD = "dsc-failback"
VM_PATHS = [
    "config.extraConfig",
    "config.hardware.device",
    "snapshot",
    "runtime.powerState",
    "runtime.host",
    "guest.toolsRunningStatus",
]


def moid(ref):
    return ref._moId  # pylint: disable=protected-access


@pytest.fixture(scope="module")
def target(host):
    """The master target's inventory variables (create.yml wrote them)."""
    return host.ansible.get_variables()


@pytest.fixture(scope="module")
def si(target):
    connection = SmartConnect(
        host=target["vsphere_hostname"],
        port=int(target["vsphere_port"]),
        user=target["vsphere_username"],
        pwd=target["vsphere_password"],
        # The harness makes a self-signed certificate per run.
        disableSslCertValidation=True,
    )
    yield connection
    Disconnect(connection)


@pytest.fixture(scope="module")
def vm(si, target):
    """The VM's properties (VM_PATHS) and its managed object under "obj", in one read."""
    found = [entry for entry in read_props_list(si, vim.VirtualMachine, VM_PATHS) if entry["name"] == target["inventory_hostname"]]
    assert len(found) == 1, f"expected one VM called {target['inventory_hostname']}, found {len(found)}"
    return found[0]


@pytest.fixture(scope="module")
def initial():
    """The VM's state that prepare.yml read before the role ran (files/master_target_state.py)."""
    path = Path(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"]) / "vcsim" / "initial-state.json"
    return json.loads(path.read_text(encoding="utf-8"))


def disks(vm):
    return [device for device in vm["config.hardware.device"] if isinstance(device, vim.vm.device.VirtualDisk)]


def scsi_controllers(vm):
    return [device for device in vm["config.hardware.device"] if isinstance(device, vim.vm.device.VirtualSCSIController)]


def extra_config(vm):
    return {option.key: option.value for option in vm.get("config.extraConfig") or []}


# --- The VM ------------------------------------------------------------------------------------------

def test_disk_enable_uuid_is_true(vm):
    assert extra_config(vm).get("disk.EnableUUID") == "TRUE"


def test_no_snapshots(vm):
    # Unset when the VM has no snapshot (read_props leaves unset paths out).
    assert "snapshot" not in vm


def test_every_scsi_controller_is_lsi_logic_sas(vm, initial):
    controllers = scsi_controllers(vm)
    assert controllers, "the VM has no SCSI controller"
    assert all(isinstance(c, vim.vm.device.VirtualLsiLogicSASController) for c in controllers), [type(c).__name__ for c in controllers]
    assert not any(isinstance(c, vim.vm.device.ParaVirtualSCSIController) for c in controllers)
    # The conversion kept the buses: one controller per bus the VM had.
    before = sorted(d["bus"] for d in initial["devices"] if d["type"].endswith("SCSIController"))
    assert sorted(c.busNumber for c in controllers) == before


def test_every_disk_is_on_an_lsi_logic_sas_controller(vm):
    keys = {c.key for c in scsi_controllers(vm)}
    assert all(disk.controllerKey in keys for disk in disks(vm))


def test_the_disks_the_vm_had_are_kept(vm, initial):
    now = {disk.backing.uuid: (disk.backing.fileName, disk.capacityInKB, disk.unitNumber) for disk in disks(vm)}
    for disk in (d for d in initial["devices"] if d["type"] == "VirtualDisk"):
        assert now.get(disk["uuid"]) == (disk["file"], disk["capacity_kb"], disk["unit"]), disk


def test_exactly_one_retention_disk_with_the_marker(vm, initial, target):
    marker = extra_config(vm).get(MARKER)
    assert marker, f"no {MARKER} in the VM's advanced settings"
    marked = [disk for disk in disks(vm) if disk.backing.uuid == marker]
    assert len(marked) == 1, f"{len(marked)} disks have the marker's UUID {marker}"
    disk = marked[0]
    # A new disk (never one the VM had), of at least the size asked, on the datastore asked.
    assert marker not in {d["uuid"] for d in initial["devices"] if d["type"] == "VirtualDisk"}
    assert len(disks(vm)) == sum(1 for d in initial["devices"] if d["type"] == "VirtualDisk") + 1
    assert disk.capacityInKB >= target["vsphere_retention_disk_size_gb"] * GB_IN_KB
    assert disk.backing.fileName.startswith(f"[{target['vsphere_retention_disk_datastore']}] ")
    # Only one marker key (keys compare without case in vCenter).
    assert [key for key in extra_config(vm) if key.lower() == MARKER.lower()] == [MARKER]


def test_powered_on_with_vmware_tools_running(vm):
    assert vm["runtime.powerState"] == "poweredOn"
    assert vm.get("guest.toolsRunningStatus") == "guestToolsRunning"


# --- The host's datastores ---------------------------------------------------------------------------

@pytest.mark.parametrize("datastore", ["vmfs-prod-01", "vmfs-prod-02"])
def test_datastore_mounted_read_write_on_the_vm_host(si, vm, target, datastore):
    assert datastore in target["vsphere_datastores"]
    ds = read_props(si, vim.Datastore, ["host"], names=[datastore])[datastore]
    mounts = [mount.mountInfo for mount in ds.get("host") or [] if moid(mount.key) == moid(vm["runtime.host"])]
    assert len(mounts) == 1, f"{datastore} is not attached to the VM's host {moid(vm['runtime.host'])}"
    assert (mounts[0].accessMode, mounts[0].mounted, mounts[0].accessible) == ("readWrite", True, True)


# --- Migration exclusion -----------------------------------------------------------------------------

def test_storage_drs_override_disabled_in_the_datastore_cluster(si, vm):
    pod = read_props(si, vim.StoragePod, ["podStorageDrsEntry.storageDrsConfig.vmConfig"], names=[POD])[POD]
    entries = [e for e in pod.get("podStorageDrsEntry.storageDrsConfig.vmConfig") or [] if moid(e.vm) == moid(vm["obj"])]
    assert len(entries) == 1, f"{len(entries)} Storage DRS overrides for the VM in {POD}"
    assert entries[0].enabled is False


def test_drs_override_disabled_in_the_cluster(si, vm):
    clusters = read_props(si, vim.ClusterComputeResource, ["configurationEx", "host"])
    holding = [props for props in clusters.values() if moid(vm["runtime.host"]) in {moid(h) for h in props.get("host") or []}]
    assert len(holding) == 1, "the VM's host is in no cluster"
    entries = [e for e in holding[0]["configurationEx"].drsVmConfig or [] if moid(e.key) == moid(vm["obj"])]
    assert len(entries) == 1, f"{len(entries)} DRS overrides for the VM"
    assert entries[0].enabled is False
