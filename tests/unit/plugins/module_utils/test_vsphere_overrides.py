from __future__ import annotations

from pyVmomi import vim

from ansible_collections.siterecovery.master_target.plugins.module_utils._vsphere_lookup import ManagedObject
from ansible_collections.siterecovery.master_target.plugins.module_utils._vsphere_overrides import (
    CLUSTER_CONFIG,
    POD_ENABLED,
    POD_VM_CONFIG,
    cluster_facts,
    complies,
    find_override,
    override_view,
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
    assert cluster_facts(cluster, "vm-1") == dict(name="C0", enabled=True, default_behavior="fullyAutomated",
                                                  override=dict(enabled=True, behavior="manual"))
    assert cluster_facts(cluster, "vm-2")["override"] is None
