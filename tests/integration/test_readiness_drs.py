"""failback_readiness_info against the simulator: the master_target.migration_exclusion row when the DRS
cluster has VM overrides switched off.

vSphere API (ClusterDrsConfigInfo.enableVmBehaviorOverrides): with the flag false, the cluster's
defaultVmBehavior applies to every VM, whatever drsVmConfig holds, so a DRS override that disables
DRS for the master target excludes nothing. Scene: asr-mt-01 has its files in the datastore cluster
dsc-failback and runs in the DRS cluster DC0_C0 (fully automated).
"""

from __future__ import annotations

from pyVmomi import vim

from support.ansible import run_module
from support.vcsim import read_props_list
from support.vsphere import find_vm_object, wait_state

MODULE = "failback_readiness_info"
ROW = "master_target.migration_exclusion"


def named(si, obj_type, name):
    return next(entry["obj"] for entry in read_props_list(si, obj_type, []) if entry["name"] == name)


def exclude(si, vm_name):
    """The overrides vm_migration_exclusion sets (automation disabled in dsc-failback and DC0_C0), set directly."""
    vm = find_vm_object(si, vm_name)
    sdrs = vim.storageDrs.VmConfigSpec(operation="add", info=vim.storageDrs.VmConfigInfo(vm=vm, enabled=False))
    wait_state(si, si.content.storageResourceManager.ConfigureStorageDrsForPod_Task(
        pod=named(si, vim.StoragePod, "dsc-failback"), spec=vim.storageDrs.ConfigSpec(vmConfigSpec=[sdrs]), modify=True))
    drs = vim.cluster.DrsVmConfigSpec(operation="add", info=vim.cluster.DrsVmConfigInfo(key=vm, enabled=False))
    set_cluster(si, vim.cluster.ConfigSpecEx(drsVmConfigSpec=[drs]))


def set_cluster(si, spec):
    wait_state(si, named(si, vim.ClusterComputeResource, "DC0_C0").ReconfigureComputeResource_Task(spec=spec, modify=True))


def switch_vm_overrides(si, on, drs_enabled=True):
    set_cluster(si, vim.cluster.ConfigSpecEx(drsConfig=vim.cluster.DrsConfigInfo(enabled=drs_enabled, enableVmBehaviorOverrides=on)))


def migration_row(env):
    result = run_module(MODULE, dict(master_targets=["asr-mt-01"]), env=env)
    assert not result.get("failed"), result.debug
    (row,) = [item for item in result["checks"] if item["check"] == ROW]
    return row


def test_vm_overrides_off_fails_the_row_with_the_fix(vcsim, si):
    env = vcsim.env()
    exclude(si, "asr-mt-01")
    assert migration_row(env)["status"] == "pass"  # the overrides exclude it while VM overrides are on

    switch_vm_overrides(si, False)
    row = migration_row(env)
    assert row["status"] == "fail", row
    assert "DC0_C0" in row["objects"]
    message = row["message"]
    assert "cluster 'DC0_C0' runs DRS (fullyAutomated) and has a DRS override setting it to disabled" in message, message
    assert "VM overrides are switched off in cluster 'DC0_C0'" in message and "enableVmBehaviorOverrides false" in message
    assert "enable_cluster_vm_overrides: true" in message and "cluster-wide" in message  # the fix
    assert "datastore cluster 'dsc-failback' has a Storage DRS override disabling automation" in message  # Storage DRS still fine

    switch_vm_overrides(si, True)
    assert migration_row(env)["status"] == "pass"


def test_vm_overrides_off_with_drs_turned_off_warns(vcsim, si):
    """DRS off migrates nothing now, but turning it on would: a warning, naming the switch."""
    exclude(si, "asr-mt-01")
    switch_vm_overrides(si, False, drs_enabled=False)
    row = migration_row(vcsim.env())
    assert row["status"] == "warn", row
    assert "has DRS turned off" in row["message"] and "VM overrides are switched off in cluster 'DC0_C0'" in row["message"]
