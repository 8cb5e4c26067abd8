from __future__ import annotations

import json

import pytest
from ansible.module_utils.testing import patch_module_args
from pyVmomi import vim
from support.clock import FakeClock, reader

from ansible_collections.siterecovery.master_target.plugins.module_utils._vsphere_client import VSphereError
from ansible_collections.siterecovery.master_target.plugins.module_utils._vsphere_datastores import (
    UNMOUNTED,
    datastore_facts,
    datastore_problem,
    datastore_state,
    host_access,
    pick_for_host,
)
from ansible_collections.siterecovery.master_target.plugins.module_utils._vsphere_lookup import ManagedObject
from ansible_collections.siterecovery.master_target.plugins.modules import host_datastore_access as module_under_test
from ansible_collections.siterecovery.master_target.plugins.modules.host_datastore_access import (
    access_after,
    describe_problems,
    did_you_mean,
    host_of,
    select_datastores,
    select_host,
    unique,
    unusable,
)

HOST = "host-34"
OTHER_HOST = "host-42"


def mount(host, mode="readWrite", mounted=True, accessible=True):
    return vim.Datastore.HostMount(
        key=vim.HostSystem(host),
        mountInfo=vim.host.MountInfo(path="/vmfs/volumes/x", accessMode=mode, mounted=mounted, accessible=accessible),
    )


def datastore(name="vmfs-prod-01", moid="datastore-1", kind="VMFS", mounts=(), maintenance="normal", uuid="5f1c-aa"):
    """A Datastore as read with DATASTORE_PATHS, made of real pyVmomi data objects (no server)."""
    if kind == "VMFS":
        info = vim.host.VmfsDatastoreInfo(name=name, vmfs=vim.host.VmfsVolume(type="VMFS", name=name, uuid=uuid))
    else:
        info = vim.host.NasDatastoreInfo(name=name)
    props = {
        "name": name,
        "summary.type": kind,
        "summary.capacity": 4 << 40,
        "summary.freeSpace": 3 << 40,
        "summary.accessible": any(item.mountInfo.accessible for item in mounts),
        "summary.maintenanceMode": maintenance,
        "host": list(mounts),
        "info": info,
    }
    return ManagedObject(vim.Datastore(moid), props)


def facts(**kwargs):
    return datastore_facts(datastore(**kwargs))


def test_datastore_facts_reads_type_size_uuid_and_each_host_mount():
    ds = facts(mounts=[mount(HOST), mount(OTHER_HOST, mode="readOnly", mounted=False, accessible=False)])
    assert ds == dict(
        name="vmfs-prod-01",
        moid="datastore-1",
        type="VMFS",
        capacity=4 << 40,
        free_space=3 << 40,
        maintenance_mode="normal",
        vmfs_uuid="5f1c-aa",
        mounts={
            HOST: dict(mounted=True, accessible=True, access_mode="readWrite"),
            OTHER_HOST: dict(mounted=False, accessible=False, access_mode="readOnly"),
        },
    )


def test_datastore_facts_of_nfs_has_no_vmfs_uuid_and_unset_flags_mean_mounted():
    unset = vim.Datastore.HostMount(key=vim.HostSystem(HOST), mountInfo=vim.host.MountInfo(accessMode="readWrite"))
    props = {"name": "nfs", "summary.type": "NFS", "summary.accessible": True, "host": [unset], "info": vim.host.NasDatastoreInfo(name="nfs")}
    ds = datastore_facts(ManagedObject(vim.Datastore("datastore-9"), props))
    assert ds["vmfs_uuid"] is None
    assert ds["mounts"] == {HOST: dict(mounted=True, accessible=True, access_mode="readWrite")}


@pytest.mark.parametrize(
    "kwargs, code, words",
    [
        (dict(mounts=[mount(HOST)]), None, []),
        (dict(kind="vsan", mounts=[mount(HOST)]), None, []),
        (dict(kind="NFS", mounts=[mount(HOST)]), "unsupported_type", ["NFS", "VMFS", "vSAN"]),
        (dict(kind="NFS41", mounts=[mount(HOST)]), "unsupported_type", ["NFS41", "VMFS", "vSAN"]),
        (dict(kind="vvol", mounts=[mount(HOST)]), "unsupported_type", ["vvol", "VMFS", "vSAN"]),
        (dict(kind="OTHER", mounts=[mount(HOST)]), "unsupported_type", ["OTHER"]),
        # The type comes first: an NFS datastore is never worth mounting.
        (dict(kind="NFS", mounts=[]), "unsupported_type", ["NFS"]),
        (dict(mounts=[mount(OTHER_HOST)]), "not_attached", ["not attached", "LUN", "rescan", "never creates or formats"]),
        (dict(kind="vsan", mounts=[]), "not_attached", ["vSAN cluster"]),
        (dict(mounts=[mount(HOST, mode="readOnly")]), "read_only", ["readOnly", "read/write"]),
        # Mounting a read-only volume would not help: refused before mounting.
        (dict(mounts=[mount(HOST, mode="readOnly", mounted=False, accessible=False)]), "read_only", ["read/write"]),
        (dict(mounts=[mount(HOST)], maintenance="inMaintenance"), "maintenance", ["maintenance mode"]),
        (dict(mounts=[mount(HOST, mounted=False, accessible=False)]), UNMOUNTED, ["not mounted"]),
        (dict(kind="vsan", mounts=[mount(HOST, mounted=False, accessible=False)]), "inaccessible", ["vSAN"]),
        (dict(mounts=[mount(HOST, accessible=False)]), "inaccessible", ["paths"]),
    ],
)
def test_datastore_problem(kwargs, code, words):
    problem = datastore_problem(facts(**kwargs), HOST)
    if code is None:
        assert problem is None
        return
    assert problem.code == code
    text = f"{problem.problem}. {problem.fix}"
    for word in words:
        assert word in text


def test_host_access_and_access_after_a_mount():
    unmounted = facts(mounts=[mount(HOST, mounted=False, accessible=False)])
    assert host_access(unmounted, HOST) == dict(mounted=False, accessible=False, access_mode="readWrite")
    assert host_access(unmounted, OTHER_HOST) == dict(mounted=False, accessible=False, access_mode=None)
    problem = datastore_problem(unmounted, HOST)
    assert access_after(unmounted, HOST, problem) == dict(mounted=True, accessible=True, access_mode="readWrite")
    # The facts themselves are not changed by planning.
    assert unmounted["mounts"][HOST]["mounted"] is False

    fine = facts(mounts=[mount(HOST)])
    assert access_after(fine, HOST, None) == host_access(fine, HOST)


def test_datastore_state_is_the_documented_return_entry():
    ds = facts(mounts=[mount(HOST)])
    assert datastore_state(ds, host_access(ds, HOST), mounted_now=True) == dict(
        name="vmfs-prod-01", moid="datastore-1", type="VMFS", capacity=4 << 40, free_space=3 << 40,
        mounted=True, accessible=True, access_mode="readWrite", mounted_now=True,
    )


def test_unique_keeps_order():
    assert unique(["b", "a", "b", "c", "a"]) == ["b", "a", "c"]


def test_did_you_mean():
    known = ["vmfs-prod-01", "vmfs-prod-02", "nfs-prod-01", "LocalDS_0"]
    assert did_you_mean("vmfs-prod-1", known).startswith(" (did you mean 'vmfs-prod-01'")
    assert did_you_mean("localds_0", known) == " (did you mean 'LocalDS_0'?)"
    assert did_you_mean("zzz", known) == ""


def named(kind, moid, name):
    return ManagedObject(kind(moid), {"name": name})


def test_select_host_exact_then_case_insensitive():
    hosts = [named(vim.HostSystem, "host-1", "esx01.lab.local"), named(vim.HostSystem, "host-2", "ESX02.lab.local")]
    assert select_host(hosts, "esx01.lab.local").moid == "host-1"
    assert select_host(hosts, "esx02.LAB.local").moid == "host-2"
    with pytest.raises(VSphereError) as error:
        select_host(hosts, "esx03.lab.local")
    assert "esx03.lab.local" in error.value.msg and "esx01.lab.local" in error.value.msg and "esxi_hostname" in error.value.msg


def test_select_datastores_names_every_unknown_one():
    stores = [named(vim.Datastore, "ds-1", "vmfs-prod-01"), named(vim.Datastore, "ds-2", "vmfs-prod-01"), named(vim.Datastore, "ds-3", "nfs")]
    found = select_datastores(stores, ["vmfs-prod-01"])
    assert [item.moid for item in found["vmfs-prod-01"]] == ["ds-1", "ds-2"]
    with pytest.raises(VSphereError) as error:
        select_datastores(stores, ["vmfs-prod-1", "nfs", "other"])
    assert "'vmfs-prod-1' (did you mean 'vmfs-prod-01'?)" in error.value.msg and "'other'" in error.value.msg
    assert error.value.details["unknown_datastores"] == ["vmfs-prod-1", "other"]


def test_pick_for_host_prefers_the_datastore_the_host_has():
    elsewhere = facts(moid="datastore-1", mounts=[mount(OTHER_HOST)])
    here = facts(moid="datastore-2", mounts=[mount(HOST)])
    assert pick_for_host([elsewhere, here], HOST) is here
    assert pick_for_host([elsewhere], HOST) is elsewhere  # then reported as not attached


def test_describe_problems_names_host_datastore_and_fix():
    nfs = facts(name="nfs-prod-01", kind="NFS", mounts=[mount(HOST)])
    text = describe_problems(named(vim.HostSystem, HOST, "esx01"), [("nfs-prod-01", datastore_problem(nfs, HOST))])
    assert text.startswith("Datastore 'nfs-prod-01' cannot be used from host 'esx01': it is an NFS datastore")
    assert "Fix: list a VMFS or vSAN datastore" in text and text.endswith("Nothing was changed.")


def test_host_of_the_vm():
    hosts = [named(vim.HostSystem, HOST, "esx01")]
    vm = ManagedObject(vim.VirtualMachine("vm-1"), {"name": "asr-mt-01", "runtime.host": vim.HostSystem(HOST)})
    assert host_of(vm, hosts).name == "esx01"
    with pytest.raises(VSphereError, match="not visible"):
        host_of(vm, [])
    with pytest.raises(VSphereError, match="not on any ESXi host"):
        host_of(ManagedObject(vim.VirtualMachine("vm-2"), {"name": "orphan"}), hosts)


def test_unusable_lists_each_datastore_the_host_cannot_use_yet():
    ready = facts(mounts=[mount(HOST)])
    unmounted = facts(name="vmfs-prod-02", moid="datastore-2", mounts=[mount(HOST, mounted=False, accessible=False)])
    assert unusable({"datastore-1": ready}, HOST) == []
    assert [(name, problem.code) for name, problem in unusable({"datastore-1": ready, "datastore-2": unmounted}, HOST)] == [
        ("vmfs-prod-02", UNMOUNTED)
    ]


def wait_after_mount(monkeypatch, *reads):
    """Run wait_until_usable on a fake clock, the datastore's facts read as `reads` in turn (the last one forever)."""
    fake = FakeClock()
    read = reader([{item["moid"]: item} for item in reads])
    monkeypatch.setattr(module_under_test, "poll", fake.poll)
    monkeypatch.setattr(module_under_test, "read_facts", lambda client, objects: read())
    return (lambda: module_under_test.wait_until_usable(None, [vim.Datastore("datastore-1")], named(vim.HostSystem, HOST, "esx01"))), fake


def test_the_wait_after_a_mount_returns_once_vcenter_reports_it_usable(monkeypatch):
    later = facts(mounts=[mount(HOST)])
    run, fake = wait_after_mount(monkeypatch, facts(mounts=[mount(HOST, mounted=False, accessible=False)]), later)
    assert run() == {"datastore-1": later}
    assert len(fake.sleeps) == 1


def test_the_wait_after_a_mount_fails_after_60_s_with_sleeps_of_at_most_2_s(monkeypatch):
    run, fake = wait_after_mount(monkeypatch, facts(mounts=[mount(HOST, mounted=False, accessible=False)]))
    with pytest.raises(VSphereError) as error:
        run()
    assert error.value.msg.startswith("Datastore 'vmfs-prod-01' cannot be used from host 'esx01'")
    assert error.value.msg.endswith("(Still so 60 s after it was mounted.)")
    assert max(fake.sleeps) == 2.0 and sum(fake.sleeps) == pytest.approx(60)


class Exited(Exception):
    pass


@pytest.mark.parametrize(
    "args, message",
    [
        (dict(datastores=["a"]), "one of the following is required: name, uuid, moid, esxi_hostname"),
        (dict(name="asr-mt-01", esxi_hostname="esx01", datastores=["a"]), "mutually exclusive"),
        (dict(name="asr-mt-01"), "missing required arguments: datastores"),
    ],
)
def test_arguments_are_checked_before_connecting(monkeypatch, capsys, args, message):
    def never_connect(*_args):
        raise AssertionError("the module connected despite invalid arguments")

    monkeypatch.setattr(module_under_test, "run_module", never_connect)
    with patch_module_args(args), pytest.raises(SystemExit):
        module_under_test.main()
    result = json.loads(capsys.readouterr().out)
    assert result["failed"] and message in result["msg"]
