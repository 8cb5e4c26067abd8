from __future__ import annotations

import pytest
from pyVmomi import vim

from ansible_collections.siterecovery.master_target.plugins.module_utils._vsphere_client import VSphereError
from ansible_collections.siterecovery.master_target.plugins.module_utils._vsphere_lookup import ManagedObject
from ansible_collections.siterecovery.master_target.plugins.modules import vm_migration_exclusion as module
from ansible_collections.siterecovery.master_target.plugins.module_utils._vsphere_overrides import (
    complies,
    find_override,
    override_view,
    pods_of,
    wanted_fields,
)
from ansible_collections.siterecovery.master_target.plugins.modules.vm_migration_exclusion import (
    describe_step,
    drs_spec,
    plan_override,
    storage_drs_spec,
    verify,
)

VM = vim.VirtualMachine("vm-42")
OTHER = vim.VirtualMachine("vm-7")


def sdrs(vm=VM, **fields):
    return vim.storageDrs.VmConfigInfo(vm=vm, **fields)


def drs(vm=VM, **fields):
    return vim.cluster.DrsVmConfigInfo(key=vm, **fields)


def test_override_view_reads_unset_enabled_as_true_and_unset_behavior_as_none():
    assert override_view(None) is None
    assert override_view(sdrs()) == {"enabled": True, "behavior": None}
    assert override_view(sdrs(enabled=False, behavior="automated")) == {"enabled": False, "behavior": "automated"}
    assert override_view(drs(enabled=True, behavior="manual")) == {"enabled": True, "behavior": "manual"}


def test_find_override_matches_the_vm_by_moid():
    entries = [sdrs(vm=OTHER, enabled=True), sdrs(enabled=False)]
    assert find_override(entries, "vm-42").enabled is False
    assert find_override(entries, "vm-1") is None
    assert find_override(None, "vm-42") is None
    assert find_override([drs(vm=OTHER), drs(behavior="manual")], "vm-42", key="key").behavior == "manual"


def test_wanted_fields():
    assert wanted_fields("disabled") == {"enabled": False}
    assert wanted_fields("manual") == {"enabled": True, "behavior": "manual"}


@pytest.mark.parametrize(
    "view, level, expected",
    [
        (None, "disabled", False),
        ({"enabled": False, "behavior": None}, "disabled", True),
        # Disabled excludes the VM whatever the behavior says.
        ({"enabled": False, "behavior": "fullyAutomated"}, "disabled", True),
        ({"enabled": True, "behavior": "manual"}, "disabled", False),
        ({"enabled": True, "behavior": "manual"}, "manual", True),
        ({"enabled": False, "behavior": "manual"}, "manual", False),
        ({"enabled": True, "behavior": None}, "manual", False),
        ({"enabled": True, "behavior": "automated"}, "manual", False),
    ],
)
def test_complies(view, level, expected):
    assert complies(view, level) is expected


@pytest.mark.parametrize(
    "view, state, level, expected",
    [
        (None, "present", "disabled", ("add", {"enabled": False, "behavior": None})),
        (None, "present", "manual", ("add", {"enabled": True, "behavior": "manual"})),
        ({"enabled": False, "behavior": None}, "present", "disabled", (None, {"enabled": False, "behavior": None})),
        # An existing override is edited, keeping its behavior when only enabled must change.
        ({"enabled": True, "behavior": "fullyAutomated"}, "present", "disabled", ("edit", {"enabled": False, "behavior": "fullyAutomated"})),
        ({"enabled": False, "behavior": "automated"}, "present", "manual", ("edit", {"enabled": True, "behavior": "manual"})),
        ({"enabled": True, "behavior": "manual"}, "present", "manual", (None, {"enabled": True, "behavior": "manual"})),
        ({"enabled": True, "behavior": "fullyAutomated"}, "absent", "disabled", ("remove", None)),
        ({"enabled": False, "behavior": None}, "absent", "manual", ("remove", None)),
        (None, "absent", "disabled", (None, None)),
    ],
)
def test_plan_override(view, state, level, expected):
    assert plan_override(view, state, level) == expected


def test_pods_of_groups_datastores_by_their_storage_pod():
    pod = vim.StoragePod("group-p1")
    datastores = [
        ManagedObject(vim.Datastore("ds-1"), {"name": "vmfs-mt-01", "parent": pod}),
        ManagedObject(vim.Datastore("ds-2"), {"name": "vmfs-prod-02", "parent": vim.Folder("group-s5")}),
        ManagedObject(vim.Datastore("ds-3"), {"name": "vmfs-mt-02", "parent": pod}),
        ManagedObject(vim.Datastore("ds-4"), {"name": "iso"}),
    ]
    assert pods_of(datastores) == {"group-p1": (pod, ["vmfs-mt-01", "vmfs-mt-02"])}
    assert pods_of([]) == {}


def test_describe_step():
    assert describe_step("DRS", "cluster 'C'", "add", False, {}, True) == "DRS override in cluster 'C': added."
    assert describe_step("DRS", "cluster 'C'", "edit", True, {}, True) == "DRS override in cluster 'C': would be edited."
    assert describe_step("DRS", "cluster 'C'", None, False, {"enabled": False}, True) == "DRS override in cluster 'C': already excludes the VM."
    assert describe_step("DRS", "cluster 'C'", None, False, None, True) == "DRS override in cluster 'C': none to remove."
    assert "DRS is disabled there" in describe_step("DRS", "cluster 'C'", "remove", False, None, False)


def test_storage_drs_spec_edit_sends_only_the_fields_that_exclude():
    spec = storage_drs_spec(VM, "edit", "disabled")
    (entry,) = spec.vmConfigSpec
    assert entry.operation == "edit" and entry.info.vm == VM
    assert entry.info.enabled is False and entry.info.behavior is None and entry.info.intraVmAffinity is None
    add = storage_drs_spec(VM, "add", "manual").vmConfigSpec[0]
    assert add.operation == "add" and add.info.enabled is True and add.info.behavior == "manual"
    remove = storage_drs_spec(VM, "remove", "disabled").vmConfigSpec[0]
    assert remove.operation == "remove" and remove.removeKey == VM and remove.info is None


def test_drs_spec():
    (entry,) = drs_spec(VM, "add", "disabled").drsVmConfigSpec
    assert entry.operation == "add" and entry.info.key == VM and entry.info.enabled is False and entry.info.behavior is None
    edit = drs_spec(VM, "edit", "manual").drsVmConfigSpec[0]
    assert edit.operation == "edit" and edit.info.enabled is True and edit.info.behavior == "manual"
    remove = drs_spec(VM, "remove", "manual").drsVmConfigSpec[0]
    assert remove.operation == "remove" and remove.removeKey == VM
    assert drs_spec(VM, "add", "disabled").drsConfig is None


def test_drs_spec_switches_vm_overrides_on_in_the_same_spec():
    spec = drs_spec(VM, "add", "disabled", switch_on=True)
    assert spec.drsConfig.enableVmBehaviorOverrides is True and spec.drsConfig.enabled is None and spec.drsConfig.defaultVmBehavior is None
    assert spec.drsVmConfigSpec[0].operation == "add"
    only = drs_spec(VM, None, "disabled", switch_on=True)
    assert only.drsConfig.enableVmBehaviorOverrides is True and not only.drsVmConfigSpec


def test_verify_refuses_vm_overrides_that_read_back_off():
    entry = dict(name="C", after={"enabled": False, "behavior": None}, vm_overrides_switched_on=True, vm_overrides_enabled=False)
    with pytest.raises(VSphereError, match="switching on VM overrides in cluster 'C', but they read back as switched off"):
        verify([dict(step("DRS", "cluster 'C'", None), entry=entry)], "present")


def step(kind, where, after, level="disabled"):
    return dict(kind=kind, vm="/DC0/vm/mt", where=where, entry=dict(name=where, after=after), level=level, start=None)


def test_verify_refuses_an_override_that_reads_back_wrong():
    verify([step("DRS", "cluster 'C'", {"enabled": False, "behavior": None})], "present")
    verify([step("DRS", "cluster 'C'", None)], "absent")
    with pytest.raises(VSphereError, match="reads back as None"):
        verify([step("DRS", "cluster 'C'", None)], "present")
    with pytest.raises(VSphereError, match="Storage DRS override of VM /DC0/vm/mt in pod 'P'"):
        verify([step("Storage DRS", "pod 'P'", {"enabled": True, "behavior": None})], "absent")


def test_apply_all_names_what_was_changed_before_a_failure(monkeypatch):
    calls = []

    def fake_run_task(client, start, action, target):
        calls.append(target)
        if len(calls) == 2:
            raise VSphereError(f"{action} of {target} failed in vCenter: denied (NoPermission).")

    monkeypatch.setattr(module, "run_task", fake_run_task)
    with pytest.raises(VSphereError) as error:
        module.apply_all(None, [step("Storage DRS", "datastore cluster 'P'", None), step("DRS", "cluster 'C'", None)])
    assert "denied (NoPermission)" in error.value.msg
    assert "Already changed before this failure: the Storage DRS override in datastore cluster 'P'." in error.value.msg

    calls.clear()
    calls.append("pre")  # make the first call the failing one
    with pytest.raises(VSphereError) as only:
        module.apply_all(None, [step("DRS", "cluster 'C'", None)])
    assert "Already changed" not in only.value.msg
