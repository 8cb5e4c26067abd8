"""Ten master targets prepared all at once (forks=10): nothing lost, nothing failed, then nothing to do.

The scene is sized with Vcsim(master_targets=10): asr-mt-03..asr-mt-10 are copies of asr-mt-01 (folder asr,
ParaVirtual controller, disks of 100 GB + 1 TB on vmfs-mt-01, two snapshots, powered on, no disk.EnableUUID)
spread over the cluster's three hosts (asr-mt-NN on host NN % 3); asr-mt-02 is the scene's LSI Logic SAS,
powered-off one. All of them share what parallel runs can trip over:
  * the cluster DC0_C0, whose DRS VM overrides (configurationEx.drsVmConfig) every run reconfigures
    (ReconfigureComputeResource_Task),
  * the datastore cluster dsc-failback (every VM's files are on its vmfs-mt-01), whose Storage DRS VM
    overrides every run reconfigures (ConfigureStorageDrsForPod_Task),
  * the datastore vmfs-mt-01, on which every run adds a retention disk,
  * host 0, on which every master target there mounts the same unmounted datastore vmfs-unmounted.
A read-modify-write of a shared list would lose overrides; the modules send one add/edit per VM
(vSphere's ArrayUpdateSpec), which vCenter applies to the current list, so every VM must end with its own.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import yaml
from pyVmomi import vim
from support.ansible import run_playbook
from support.statedump import dump
from support.vcsim import read_props, read_props_list, start_vcsim

REPO = Path(__file__).resolve().parents[2]
PLAYBOOK = REPO / "playbooks" / "prepare_master_target.yml"
COUNT = 10  # as many as forks: every task runs for all of them at the same time
FORKS = 10
MASTER_TARGETS = [f"asr-mt-{number:02d}" for number in range(1, COUNT + 1)]
RETENTION_GB = 10
MARKER = "siterecovery.retentionDisk.uuid"
GB = 1 << 30


@pytest.fixture
def sim():
    with start_vcsim(scene="default", master_targets=COUNT) as started:
        yield started


def host_zero_vms(si):
    """The master targets on the first host (by name): the ones that can mount vmfs-unmounted."""
    hosts = sorted(read_props(si, vim.HostSystem, []))
    on = {entry["name"]: entry["runtime.host"].name for entry in read_props_list(si, vim.VirtualMachine, ["runtime.host"])}
    return {name for name in MASTER_TARGETS if on[name] == hosts[0]}


def write_inventory(tmp_path, on_host_zero):
    hosts = {}
    for name in MASTER_TARGETS:
        datastores = ["vmfs-prod-01", "vmfs-prod-02"] + (["vmfs-unmounted"] if name in on_host_zero else [])
        hosts[name] = dict(vsphere_datastores=datastores)
    inventory = {"all": {"children": {
        "master_targets": {"hosts": hosts, "vars": dict(
            ansible_connection="local", ansible_python_interpreter=sys.executable, vsphere_vm_folder="asr",
            vsphere_scsi_convert=True, vsphere_scsi_type="lsilogicsas", vsphere_scsi_guest_ready=True, vsphere_power_off_allowed=True,
            vsphere_retention_disk_datastore="vmfs-mt-01", vsphere_retention_disk_size_gb=RETENTION_GB,
            vsphere_tools_timeout=60)},
        "master_target_guests": {"hosts": {}}, "linux": {"hosts": {}}, "windows": {"hosts": {}}}}}
    path = tmp_path / "inventory.yml"
    path.write_text(yaml.safe_dump(inventory))
    return path


def master_target_facts(si):
    """What the vsphere role must leave on each master target, read with the PropertyCollector."""
    props = read_props(si, vim.VirtualMachine, ["config.extraConfig", "config.hardware.device", "snapshot", "runtime.powerState"],
                       names=MASTER_TARGETS)
    facts = {}
    for name, state in props.items():
        options = {option.key: option.value for option in state.get("config.extraConfig") or []}
        devices = state["config.hardware.device"]
        disks = [device for device in devices if isinstance(device, vim.vm.device.VirtualDisk)]
        marked = [disk for disk in disks if disk.backing.uuid and disk.backing.uuid.lower() == (options.get(MARKER) or "").lower()]
        facts[name] = dict(
            enable_uuid=options.get("disk.EnableUUID"),
            controllers=sorted(type(device).__name__.rsplit(".", 1)[-1] for device in devices
                               if isinstance(device, vim.vm.device.VirtualSCSIController)),
            disks=len(disks),
            retention_disks=[(disk.capacityInBytes // GB, disk.backing.fileName.split("]")[0] + "]") for disk in marked],
            snapshots=state.get("snapshot") is not None,
            power=state["runtime.powerState"],
        )
    return facts


def overrides(si):
    """({vm name: enabled} of the cluster's DRS overrides, {vm name: enabled} of the pod's Storage DRS overrides)."""
    names = {entry["obj"]._moId: entry["name"] for entry in read_props_list(si, vim.VirtualMachine, [])}  # pylint: disable=protected-access
    cluster = read_props(si, vim.ClusterComputeResource, ["configurationEx"])["DC0_C0"]["configurationEx"]
    pod = read_props(si, vim.StoragePod, ["podStorageDrsEntry"])["dsc-failback"]["podStorageDrsEntry"]
    drs = [(names[entry.key._moId], entry.enabled) for entry in cluster.drsVmConfig]  # pylint: disable=protected-access
    sdrs = [(names[entry.vm._moId], entry.enabled) for entry in pod.storageDrsConfig.vmConfig]  # pylint: disable=protected-access
    return drs, sdrs


def free_space(si, datastore):
    return read_props(si, vim.Datastore, ["summary.freeSpace"], names=[datastore])[datastore]["summary.freeSpace"]


def mounted_on(si, datastore):
    hosts = {entry["obj"]._moId: entry["name"] for entry in read_props_list(si, vim.HostSystem, [])}  # pylint: disable=protected-access
    mounts = read_props(si, vim.Datastore, ["host"], names=[datastore])[datastore]["host"]
    return {hosts[mount.key._moId]: bool(mount.mountInfo.mounted) for mount in mounts}  # pylint: disable=protected-access


@pytest.mark.vcsim
@pytest.mark.slow
def test_ten_master_targets_in_parallel_all_prepared_nothing_lost_then_idempotent(sim, tmp_path):
    si = sim.connect()
    on_host_zero = host_zero_vms(si)
    assert len(on_host_zero) >= 2, "the scene no longer puts several master targets on one host"
    before = master_target_facts(si)
    assert sorted(before) == MASTER_TARGETS
    assert overrides(si) == ([], [])
    free_before = free_space(si, "vmfs-mt-01")

    inventory = write_inventory(tmp_path, on_host_zero)
    env = dict(sim.env(), ANSIBLE_FORKS=str(FORKS))
    extra_vars = dict(readiness_report_dir=str(tmp_path / "reports"), readiness_fail_on_error=False)

    first = run_playbook(PLAYBOOK, env=env, inventory=inventory, extra_vars=extra_vars, timeout=1800)
    assert not first.failed_hosts, first.debug
    assert sorted(first["stats"]) == MASTER_TARGETS, first.debug
    assert all(first["stats"][name]["changed"] > 0 for name in MASTER_TARGETS), first.debug

    after = master_target_facts(si)
    wrong = {}
    for name in MASTER_TARGETS:
        expected = dict(enable_uuid="TRUE", controllers=["VirtualLsiLogicSASController"], disks=before[name]["disks"] + 1,
                        retention_disks=[(RETENTION_GB, "[vmfs-mt-01]")], snapshots=False,
                        # vsphere_power_off_allowed: the role leaves every master target running
                        power="poweredOn")
        if after[name] != expected:
            wrong[name] = dict(expected=expected, found=after[name])
    assert not wrong, f"master targets not fully prepared: {wrong}{first.debug}"

    drs, sdrs = overrides(si)
    assert sorted(drs) == [(name, False) for name in MASTER_TARGETS], f"DRS overrides lost or doubled: {sorted(drs)}"
    assert sorted(sdrs) == [(name, False) for name in MASTER_TARGETS], f"Storage DRS overrides lost or doubled: {sorted(sdrs)}"
    assert mounted_on(si, "vmfs-unmounted") == {sorted(read_props(si, vim.HostSystem, []))[0]: True}
    assert free_before - free_space(si, "vmfs-mt-01") == COUNT * RETENTION_GB * GB, "a retention disk's space was lost or counted twice"

    settled = dump(si)
    second = run_playbook(PLAYBOOK, env=env, inventory=inventory, extra_vars=extra_vars, timeout=1800)
    assert not second.failed_hosts, second.debug
    changed = {name: stat["changed"] for name, stat in second["stats"].items() if stat["changed"]}
    assert not changed, f"second run changed {changed}{second.debug}"
    assert dump(si) == settled, "the second run changed the simulator's state"


# ---- the one race the parallel run can lose: two master targets on one host mount the same datastore ----


def mount_behind_the_modules_back(si, datastore, host_name):
    """What a parallel run does in the window between this run's read and its MountVmfsVolume call."""
    host = read_props_list(si, vim.HostSystem, ["configManager.storageSystem"])
    storage = next(entry["configManager.storageSystem"] for entry in host if entry["name"] == host_name)
    uuid = read_props(si, vim.Datastore, ["info"], names=[datastore])[datastore]["info"].vmfs.uuid
    storage.MountVmfsVolume(vmfsUuid=uuid)


@pytest.mark.vcsim
def test_datastore_mounted_by_a_parallel_run_in_the_window_is_not_an_error(vcsim, si, monkeypatch):
    """Deterministic form of the race: the module's own code against the simulator, with the other run's mount made
    to happen right after the module has read the datastores (the only way to hit a window of milliseconds every time).
    Everything else is real: the module's lookups, the MountVmfsVolume call, the simulator's answer."""
    from types import SimpleNamespace  # pylint: disable=import-outside-toplevel

    from ansible_collections.siterecovery.master_target.plugins.module_utils._vsphere_client import (  # pylint: disable=import-outside-toplevel
        connect,
    )
    from ansible_collections.siterecovery.master_target.plugins.modules import (  # pylint: disable=import-outside-toplevel
        host_datastore_access,
    )

    host0 = sorted(read_props(si, vim.HostSystem, []))[0]
    assert mounted_on(si, "vmfs-unmounted") == {host0: False}
    real_read_facts = host_datastore_access.read_facts
    calls = []

    def read_then_lose_the_race(client, objects):
        facts = real_read_facts(client, objects)
        if not calls:
            mount_behind_the_modules_back(si, "vmfs-unmounted", host0)
        calls.append(1)
        return facts

    monkeypatch.setattr(host_datastore_access, "read_facts", read_then_lose_the_race)
    params = dict(hostname=vcsim.host, port=vcsim.port, username=vcsim.username, password=vcsim.password, validate_certs=False,
                  proxy_host=None, proxy_port=None, name="asr-mt-01", uuid=None, use_instance_uuid=False, moid=None, folder=None,
                  datacenter=None, esxi_hostname=None, datastores=["vmfs-unmounted"])
    module = SimpleNamespace(params=params, check_mode=False, _diff=False)
    client = connect(params)
    try:
        result = host_datastore_access.ensure_datastore_access(module, client)
    finally:
        client.disconnect()
    assert mounted_on(si, "vmfs-unmounted") == {host0: True}
    state = next(item for item in result["datastores"] if item["name"] == "vmfs-unmounted")
    assert state["mounted"] and state["accessible"], result
