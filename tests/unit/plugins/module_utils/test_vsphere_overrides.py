from __future__ import annotations

import pytest
from pyVmomi import vim

from ansible_collections.siterecovery.master_target.plugins.module_utils._vsphere_lookup import ManagedObject
from ansible_collections.siterecovery.master_target.plugins.module_utils._vsphere_overrides import (
    CLUSTER_CONFIG,
    POD_ENABLED,
    POD_VM_CONFIG,
    cluster_facts,
    complies,
    drs_verdict,
    find_override,
    override_view,
    overrides_switch,
    pod_facts,
)


def test_override_view_defaults():
    assert override_view(None) is None
    assert override_view(vim.storageDrs.VmConfigInfo(vm=vim.VirtualMachine("vm-1"))) == dict(enabled=True, behavior=None)
    assert complies(dict(enabled=False, behavior="automated"), "disabled")
    assert complies(dict(enabled=True, behavior="manual"), "manual") and not complies(None, "manual")


def test_pod_and_cluster_facts_find_the_vms_override():
    entries = [vim.storageDrs.VmConfigInfo(vm=vim.VirtualMachine("vm-9"), enabled=True),
               vim.storageDrs.VmConfigInfo(vm=vim.VirtualMachine("vm-1"), enabled=False)]
    assert find_override(entries, "vm-1") is entries[1]
    pod = ManagedObject(vim.StoragePod("group-p1"), {"name": "dsc", POD_ENABLED: True, POD_VM_CONFIG: entries})
    assert pod_facts(pod, "vm-1") == dict(name="dsc", enabled=True, default_behavior=None, override=dict(enabled=False, behavior=None))
    config = vim.cluster.ConfigInfoEx(
        drsConfig=vim.cluster.DrsConfigInfo(enabled=True, defaultVmBehavior="fullyAutomated"),
        drsVmConfig=[vim.cluster.DrsVmConfigInfo(key=vim.VirtualMachine("vm-1"), behavior="manual")])
    cluster = ManagedObject(vim.ClusterComputeResource("domain-c7"), {"name": "C0", CLUSTER_CONFIG: config})
    assert cluster_facts(cluster, "vm-1") == dict(name="C0", enabled=True, default_behavior="fullyAutomated", vm_overrides_enabled=True,
                                                  override=dict(enabled=True, behavior="manual"))
    assert cluster_facts(cluster, "vm-2")["override"] is None


@pytest.mark.parametrize("flag, expected", [(None, True), (True, True), (False, False)])
def test_cluster_facts_read_vm_overrides_switch_unset_as_on(flag, expected):
    config = vim.cluster.ConfigInfoEx(drsConfig=vim.cluster.DrsConfigInfo(enabled=True, enableVmBehaviorOverrides=flag))
    cluster = ManagedObject(vim.ClusterComputeResource("domain-c7"), {"name": "C0", CLUSTER_CONFIG: config})
    assert cluster_facts(cluster, "vm-1")["vm_overrides_enabled"] is expected


DISABLED = dict(enabled=False, behavior=None)
MANUAL = dict(enabled=True, behavior="manual")


def facts(override="disabled", overrides_on=True, enabled=True, default="fullyAutomated"):
    """cluster_facts of cluster C0; `override` is a view, None, or "disabled" for DISABLED."""
    override = dict(DISABLED) if override == "disabled" else override
    return dict(name="C0", enabled=enabled, default_behavior=default, vm_overrides_enabled=overrides_on, override=override)


@pytest.mark.parametrize(
    "cluster, status, words",
    [
        (facts(), "pass", ["DRS override setting it to disabled"]),
        (facts(MANUAL), "pass", ["setting it to manual"]),
        # VM overrides switched off: vCenter applies the cluster default to every VM, the override counts as none.
        (facts(overrides_on=False), "fail", ["runs DRS (fullyAutomated)", "setting it to disabled", "VM overrides are switched off in cluster 'C0'",
                                             "enable_cluster_vm_overrides: true", "cluster-wide"]),
        (facts(None, overrides_on=False), "fail", ["no VM override", "enableVmBehaviorOverrides false"]),
        (facts(overrides_on=False, default="manual"), "warn", ["manual mode by default", "switched off"]),
        (facts(dict(enabled=True, behavior="fullyAutomated"), overrides_on=False, default="manual"), "warn", ["manual mode by default"]),
        # DRS off migrates nothing now: a warning, as without an override.
        (facts(overrides_on=False, enabled=False), "warn", ["DRS turned off", "switched off", "turning DRS on would let it migrate"]),
        (facts(None, enabled=False), "warn", ["DRS turned off", "no VM override"]),
        (facts(None), "fail", ["runs DRS (fullyAutomated) and has no VM override"]),
        (facts(None, default="manual"), "warn", ["manual mode by default"]),
    ],
)
def test_drs_verdict(cluster, status, words):
    got_status, text = drs_verdict(cluster)
    assert got_status == status, text
    assert all(word in text for word in words), text
    assert ("switched off" in text) is (not cluster["vm_overrides_enabled"])


def test_drs_verdict_of_facts_without_the_flag_means_switched_on():
    without = {key: value for key, value in facts().items() if key != "vm_overrides_enabled"}
    assert drs_verdict(without)[0] == "pass"


@pytest.mark.parametrize(
    "cluster, state, enable, switch_on, refuses",
    [
        (facts(), "present", False, False, False),
        (facts(), "present", True, False, False),  # already on: nothing to switch
        (facts(overrides_on=False), "present", False, False, True),
        (facts(overrides_on=False), "present", True, True, False),
        (facts(overrides_on=False), "absent", False, False, False),  # removing an override needs no switch
        (facts(overrides_on=False, enabled=False), "present", False, False, False),  # DRS off migrates nothing
        (facts(overrides_on=False, enabled=False), "present", True, True, False),
    ],
)
def test_overrides_switch(cluster, state, enable, switch_on, refuses):
    got_switch, refusal = overrides_switch(cluster, state, enable, "/DC0/vm/asr/mt")
    assert got_switch is switch_on and (refusal is not None) is refuses
    if refuses:
        assert "VM overrides are switched off in cluster 'C0'" in refusal and "VM /DC0/vm/asr/mt" in refusal
        assert "Set enable_cluster_vm_overrides: true" in refusal and "cluster-wide change" in refusal
