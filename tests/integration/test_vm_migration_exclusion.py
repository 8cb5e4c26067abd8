"""vm_migration_exclusion against the simulator: Storage DRS and DRS VM overrides of a master target.

Scene: asr-mt-01 has its files on vmfs-mt-01 (datastore cluster dsc-failback) and runs in DRS
cluster DC0_C0; prod-db-01 is on vmfs-prod-02 (no datastore cluster) in DC0_C0.
"""

from __future__ import annotations

from pyVmomi import vim

from support.ansible import run_module
from support.vcsim import read_props, read_props_list
from support.vsphere import find_vm_object, wait_state

MODULE = "vm_migration_exclusion"
POD = "dsc-failback"
CLUSTER = "DC0_C0"
POD_VM_CONFIG = "podStorageDrsEntry.storageDrsConfig.vmConfig"


def vm_moid(si, name):
    return find_vm_object(si, name)._moId


def sdrs_overrides(si, vm_name):
    """[(enabled, behavior, intraVmAffinity)] of every Storage DRS override of the VM in dsc-failback."""
    moid = vm_moid(si, vm_name)
    entries = read_props(si, vim.StoragePod, [POD_VM_CONFIG], names=[POD])[POD].get(POD_VM_CONFIG) or []
    return [(entry.enabled, entry.behavior, entry.intraVmAffinity) for entry in entries if entry.vm._moId == moid]


def drs_overrides(si, vm_name):
    """[(enabled, behavior)] of every DRS override of the VM in DC0_C0."""
    moid = vm_moid(si, vm_name)
    config = read_props(si, vim.ClusterComputeResource, ["configurationEx"], names=[CLUSTER])[CLUSTER]["configurationEx"]
    return [(entry.enabled, entry.behavior) for entry in config.drsVmConfig or [] if entry.key._moId == moid]


def set_overrides(si, vm_name, sdrs_info=None, drs_info=None):
    """Add overrides for the VM directly with pyVmomi, as an administrator would in the vSphere Client."""
    vm = find_vm_object(si, vm_name)
    view = si.content.viewManager.CreateContainerView(si.content.rootFolder, [vim.StoragePod, vim.ClusterComputeResource], True)
    try:
        objects = {obj.name: obj for obj in view.view}
    finally:
        view.DestroyView()
    if sdrs_info is not None:
        spec = vim.storageDrs.ConfigSpec(vmConfigSpec=[vim.storageDrs.VmConfigSpec(operation="add", info=vim.storageDrs.VmConfigInfo(vm=vm, **sdrs_info))])
        wait_state(si, si.content.storageResourceManager.ConfigureStorageDrsForPod_Task(pod=objects[POD], spec=spec, modify=True))
    if drs_info is not None:
        spec = vim.cluster.ConfigSpecEx(drsVmConfigSpec=[vim.cluster.DrsVmConfigSpec(operation="add", info=vim.cluster.DrsVmConfigInfo(key=vm, **drs_info))])
        wait_state(si, objects[CLUSTER].ReconfigureComputeResource_Task(spec=spec, modify=True))


DISABLED = {"enabled": False, "behavior": None}


def test_check_mode_reports_both_overrides_and_changes_nothing(vcsim, si):
    result = run_module(MODULE, dict(name="asr-mt-01"), env=vcsim.env(), check=True, diff=True)
    assert result["changed"] and not result.get("failed"), result.debug
    assert result["storage_drs"] == [
        dict(name=POD, moid=result["storage_drs"][0]["moid"], datastores=["vmfs-mt-01"], storage_drs_enabled=True,
             operation="add", before=None, after=DISABLED)
    ]
    assert result["drs"]["name"] == CLUSTER and result["drs"]["operation"] == "add" and result["drs"]["drs_enabled"]
    assert result["drs"]["before"] is None and result["drs"]["after"] == DISABLED
    assert result["diff"]["before"] == {"storage_drs": {POD: None}, "drs": {CLUSTER: None}, "drs_vm_overrides": {CLUSTER: True}}
    assert result["diff"]["after"] == {"storage_drs": {POD: DISABLED}, "drs": {CLUSTER: DISABLED}, "drs_vm_overrides": {CLUSTER: True}}
    assert "would be added" in result["msg"]
    assert sdrs_overrides(si, "asr-mt-01") == [] and drs_overrides(si, "asr-mt-01") == [], "check mode changed vCenter"


def test_present_adds_both_overrides_then_is_idempotent(vcsim, si):
    env = vcsim.env()
    first = run_module(MODULE, dict(name="asr-mt-01"), env=env)
    assert first["changed"] and not first.get("failed"), first.debug
    assert first["storage_drs"][0]["after"] == DISABLED and first["drs"]["after"] == DISABLED
    assert sdrs_overrides(si, "asr-mt-01") == [(False, None, None)]
    assert drs_overrides(si, "asr-mt-01") == [(False, None)]
    # The other master target and the other VMs are left alone.
    assert sdrs_overrides(si, "asr-mt-02") == [] and drs_overrides(si, "asr-mt-02") == []

    second = run_module(MODULE, dict(name="asr-mt-01"), env=env, diff=True)
    assert not second["changed"] and not second.get("failed"), second.debug
    assert second["storage_drs"][0]["operation"] is None and second["drs"]["operation"] is None
    assert second["diff"]["before"] == second["diff"]["after"]
    assert "already excludes the VM" in second["msg"]
    assert sdrs_overrides(si, "asr-mt-01") == [(False, None, None)] and drs_overrides(si, "asr-mt-01") == [(False, None)]


def test_existing_overrides_are_edited_not_duplicated(vcsim, si):
    # An administrator's overrides that do not exclude the VM, one with Keep VMDKs together.
    set_overrides(si, "asr-mt-01", sdrs_info=dict(enabled=True, behavior="automated", intraVmAffinity=True),
                  drs_info=dict(enabled=True, behavior="fullyAutomated"))
    result = run_module(MODULE, dict(name="asr-mt-01"), env=vcsim.env(), diff=True)
    assert result["changed"] and not result.get("failed"), result.debug
    assert result["storage_drs"][0]["operation"] == "edit" and result["drs"]["operation"] == "edit"
    assert result["diff"]["before"] == {"storage_drs": {POD: {"enabled": True, "behavior": "automated"}},
                                        "drs": {CLUSTER: {"enabled": True, "behavior": "fullyAutomated"}}, "drs_vm_overrides": {CLUSTER: True}}
    assert result["diff"]["after"] == {"storage_drs": {POD: {"enabled": False, "behavior": "automated"}},
                                       "drs": {CLUSTER: {"enabled": False, "behavior": "fullyAutomated"}}, "drs_vm_overrides": {CLUSTER: True}}
    # One entry each, excluded, the rest of the override kept.
    assert sdrs_overrides(si, "asr-mt-01") == [(False, "automated", True)]
    assert drs_overrides(si, "asr-mt-01") == [(False, "fullyAutomated")]


def test_manual_behaviour_edits_a_disabled_override(vcsim, si):
    env = vcsim.env()
    assert run_module(MODULE, dict(name="asr-mt-01"), env=env)["changed"]
    args = dict(name="asr-mt-01", storage_drs_behavior="manual", drs_behavior="manual")
    manual = run_module(MODULE, args, env=env)
    assert manual["changed"] and not manual.get("failed"), manual.debug
    assert manual["storage_drs"][0]["after"] == {"enabled": True, "behavior": "manual"}
    assert manual["drs"]["after"] == {"enabled": True, "behavior": "manual"}
    assert sdrs_overrides(si, "asr-mt-01") == [(True, "manual", None)]
    assert drs_overrides(si, "asr-mt-01") == [(True, "manual")]
    again = run_module(MODULE, args, env=env)
    assert not again["changed"] and not again.get("failed"), again.debug


def test_absent_removes_both_overrides_then_is_idempotent(vcsim, si):
    env = vcsim.env()
    set_overrides(si, "asr-mt-01", sdrs_info=dict(enabled=False), drs_info=dict(enabled=False, behavior="manual"))

    check = run_module(MODULE, dict(name="asr-mt-01", state="absent"), env=env, check=True, diff=True)
    assert check["changed"] and check["diff"]["after"] == {"storage_drs": {POD: None}, "drs": {CLUSTER: None}, "drs_vm_overrides": {CLUSTER: True}}, check.debug
    assert len(sdrs_overrides(si, "asr-mt-01")) == 1 and len(drs_overrides(si, "asr-mt-01")) == 1, "check mode changed vCenter"

    removed = run_module(MODULE, dict(name="asr-mt-01", state="absent"), env=env)
    assert removed["changed"] and not removed.get("failed"), removed.debug
    assert removed["storage_drs"][0]["operation"] == "remove" and removed["storage_drs"][0]["after"] is None
    assert removed["drs"]["operation"] == "remove" and removed["drs"]["before"] == {"enabled": False, "behavior": "manual"}
    assert sdrs_overrides(si, "asr-mt-01") == [] and drs_overrides(si, "asr-mt-01") == []

    again = run_module(MODULE, dict(name="asr-mt-01", state="absent"), env=env)
    assert not again["changed"] and not again.get("failed"), again.debug
    assert "none to remove" in again["msg"]


def test_vm_outside_any_datastore_cluster_gets_only_the_drs_override(vcsim, si):
    result = run_module(MODULE, dict(name="prod-db-01"), env=vcsim.env())
    assert result["changed"] and not result.get("failed"), result.debug
    assert result["storage_drs"] == []
    assert "no files in a datastore cluster" in result["msg"] and "vmfs-prod-02" in result["msg"]
    assert result["drs"]["operation"] == "add"
    assert drs_overrides(si, "prod-db-01") == [(False, None)]


def test_vm_on_a_standalone_host_needs_no_override(vcsim, si):
    """A VM created on DC0_H0 (a host outside any cluster) with its files on LocalDS_0 (no pod)."""
    compute = read_props(si, vim.ComputeResource, ["resourcePool", "host"], names=["DC0_H0"])["DC0_H0"]
    folder = read_props(si, vim.Datacenter, ["vmFolder"], names=["DC0"])["DC0"]["vmFolder"]
    config = vim.vm.ConfigSpec(name="standalone-01", guestId="otherGuest", numCPUs=1, memoryMB=128,
                               files=vim.vm.FileInfo(vmPathName="[LocalDS_0]"))
    wait_state(si, folder.CreateVM_Task(config=config, pool=compute["resourcePool"], host=compute["host"][0]))

    result = run_module(MODULE, dict(name="standalone-01"), env=vcsim.env(), diff=True)
    assert not result["changed"] and not result.get("failed"), result.debug
    assert result["storage_drs"] == [] and result["drs"] is None
    assert "no files in a datastore cluster" in result["msg"] and "'DC0_H0', which is not in a cluster" in result["msg"]


def test_switching_a_part_off_leaves_it_alone(vcsim, si):
    env = vcsim.env()
    only_drs = run_module(MODULE, dict(name="asr-mt-01", storage_drs=False), env=env)
    assert only_drs["changed"] and only_drs["storage_drs"] is None, only_drs.debug
    assert sdrs_overrides(si, "asr-mt-01") == [] and drs_overrides(si, "asr-mt-01") == [(False, None)]

    only_sdrs = run_module(MODULE, dict(name="asr-mt-01", drs=False, state="absent"), env=env)
    assert not only_sdrs["changed"] and only_sdrs["drs"] is None, only_sdrs.debug
    assert drs_overrides(si, "asr-mt-01") == [(False, None)], "drs: false must not remove the DRS override"

    neither = run_module(MODULE, dict(name="asr-mt-01", drs=False, storage_drs=False), env=env)
    assert neither["failed"] and "storage_drs and drs" in neither["msg"], neither.debug


# --- a cluster with VM overrides switched off (drsConfig.enableVmBehaviorOverrides false) -----------
# vCenter then applies the cluster's default automation to every VM, whatever drsVmConfig holds, so a
# DRS override excludes nothing (vSphere API, ClusterDrsConfigInfo).

def set_drs_config(si, **fields):
    """Change the cluster's drsConfig directly, as an administrator would in the vSphere Client."""
    cluster = next(entry["obj"] for entry in read_props_list(si, vim.ClusterComputeResource, []) if entry["name"] == CLUSTER)
    wait_state(si, cluster.ReconfigureComputeResource_Task(spec=vim.cluster.ConfigSpecEx(drsConfig=vim.cluster.DrsConfigInfo(**fields)),
                                                           modify=True))


def drs_config(si):
    """(enabled, enableVmBehaviorOverrides, defaultVmBehavior) of the cluster."""
    config = read_props(si, vim.ClusterComputeResource, ["configurationEx"], names=[CLUSTER])[CLUSTER]["configurationEx"].drsConfig
    return config.enabled, config.enableVmBehaviorOverrides, config.defaultVmBehavior


def pod_vm_config(si):
    """Every Storage DRS override of the datastore cluster, as (vm moid, enabled, behavior)."""
    entries = read_props(si, vim.StoragePod, [POD_VM_CONFIG], names=[POD])[POD].get(POD_VM_CONFIG) or []
    return sorted((entry.vm._moId, entry.enabled, entry.behavior) for entry in entries)


def test_harness_stores_the_vm_overrides_switch(vcsim, si):
    assert drs_config(si) == (True, True, "fullyAutomated")  # vCenter's defaults for the scene's cluster
    set_drs_config(si, enableVmBehaviorOverrides=False)
    assert drs_config(si) == (True, False, "fullyAutomated")
    set_drs_config(si, enableVmBehaviorOverrides=True)
    assert drs_config(si) == (True, True, "fullyAutomated")


def test_vm_overrides_off_refuses_and_changes_nothing_in_check_mode_too(vcsim, si):
    env = vcsim.env()
    set_drs_config(si, enableVmBehaviorOverrides=False)
    before = (drs_config(si), drs_overrides(si, "asr-mt-01"), pod_vm_config(si))
    for check in (True, False):
        result = run_module(MODULE, dict(name="asr-mt-01"), env=env, check=check, diff=True)
        assert result.get("failed") and not result["changed"], result.debug
        assert "VM overrides are switched off in cluster 'DC0_C0'" in result["msg"], result["msg"]
        assert "VM /DC0/vm/asr/asr-mt-01" in result["msg"] and "Set enable_cluster_vm_overrides: true" in result["msg"]
        assert "cluster-wide change" in result["msg"] and "Nothing was changed." in result["msg"]
        # Neither the cluster nor the datastore cluster (planned first, refused before any task).
        assert (drs_config(si), drs_overrides(si, "asr-mt-01"), pod_vm_config(si)) == before

    # The planner says the same: the step is needed, with the module's error.
    plan = run_module("vm_preparation_info", dict(name="asr-mt-01", disk_uuid=False, snapshots=False, scsi_controllers=False), env=env)
    step = plan["steps"]["migration_exclusion"]
    assert step["needed"] and step["drs"]["vm_overrides_enabled"] is False, plan.debug
    assert step["reason"].split("vm_migration_exclusion would fail: ")[1].split(" Cluster 'DC0_C0' has no")[0] + " Nothing was changed." \
        == result["msg"]


def test_vm_overrides_off_refuses_even_when_the_override_is_in_place(vcsim, si):
    set_overrides(si, "asr-mt-01", sdrs_info=dict(enabled=False), drs_info=dict(enabled=False))
    set_drs_config(si, enableVmBehaviorOverrides=False)
    result = run_module(MODULE, dict(name="asr-mt-01"), env=vcsim.env())
    assert result.get("failed") and "VM overrides are switched off" in result["msg"], result.debug
    assert drs_config(si)[1] is False

    # Removing the override needs no switch: absent is not refused.
    removed = run_module(MODULE, dict(name="asr-mt-01", state="absent"), env=vcsim.env())
    assert removed["changed"] and not removed.get("failed"), removed.debug
    assert drs_overrides(si, "asr-mt-01") == [] and drs_config(si)[1] is False


def test_enable_cluster_vm_overrides_switches_them_on_with_the_override_then_is_idempotent(vcsim, si):
    env = vcsim.env()
    set_drs_config(si, enableVmBehaviorOverrides=False)
    args = dict(name="asr-mt-01", enable_cluster_vm_overrides=True)

    check = run_module(MODULE, args, env=env, check=True, diff=True)
    assert check["changed"] and not check.get("failed"), check.debug
    assert check["diff"]["before"]["drs_vm_overrides"] == {CLUSTER: False} and check["diff"]["after"]["drs_vm_overrides"] == {CLUSTER: True}
    assert check["drs"]["vm_overrides_switched_on"] and check["drs"]["operation"] == "add"
    assert "VM overrides in cluster 'DC0_C0': would be switched on" in check["msg"]
    assert drs_config(si)[1] is False and drs_overrides(si, "asr-mt-01") == [] and pod_vm_config(si) == [], "check mode changed vCenter"

    first = run_module(MODULE, args, env=env, diff=True)
    assert first["changed"] and not first.get("failed"), first.debug
    assert first["drs"]["vm_overrides_enabled"] is True and first["drs"]["after"] == DISABLED
    assert first["diff"]["after"]["drs_vm_overrides"] == {CLUSTER: True}
    assert "VM overrides in cluster 'DC0_C0': switched on" in first["msg"]
    assert drs_config(si) == (True, True, "fullyAutomated")
    assert drs_overrides(si, "asr-mt-01") == [(False, None)] and sdrs_overrides(si, "asr-mt-01") == [(False, None, None)]

    second = run_module(MODULE, args, env=env, diff=True)
    assert not second["changed"] and not second.get("failed"), second.debug
    assert not second["drs"]["vm_overrides_switched_on"] and second["diff"]["before"] == second["diff"]["after"]


def test_enable_cluster_vm_overrides_with_the_override_in_place_only_switches(vcsim, si):
    set_overrides(si, "asr-mt-01", drs_info=dict(enabled=False))
    set_drs_config(si, enableVmBehaviorOverrides=False)
    result = run_module(MODULE, dict(name="asr-mt-01", storage_drs=False, enable_cluster_vm_overrides=True), env=vcsim.env())
    assert result["changed"] and not result.get("failed"), result.debug
    assert result["drs"]["operation"] is None and result["drs"]["vm_overrides_switched_on"]
    assert drs_config(si)[1] is True and drs_overrides(si, "asr-mt-01") == [(False, None)]


def test_drs_turned_off_with_vm_overrides_off_stores_the_override_and_says_so(vcsim, si):
    """DRS off migrates nothing: no refusal (as before), but the message says the override waits for the switch."""
    set_drs_config(si, enabled=False, enableVmBehaviorOverrides=False)
    result = run_module(MODULE, dict(name="asr-mt-01", storage_drs=False), env=vcsim.env())
    assert result["changed"] and not result.get("failed"), result.debug
    assert result["drs"]["drs_enabled"] is False and result["drs"]["vm_overrides_enabled"] is False
    assert "DRS is disabled there" in result["msg"] and "VM overrides are switched off in cluster 'DC0_C0'" in result["msg"]
    assert "enable_cluster_vm_overrides: true" in result["msg"]
    assert drs_overrides(si, "asr-mt-01") == [(False, None)] and drs_config(si)[:2] == (False, False)
