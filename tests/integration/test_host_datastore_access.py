"""host_datastore_access against the simulator: mount, idempotence, check mode, and each refusal.

The scene (tests/vcsim/scene.go): asr-mt-01 runs on DC0_C0_H0 (host 0), asr-mt-02 on DC0_C0_H1.
vmfs-unmounted is attached to host 0 only, unmounted; vmfs-readonly is mounted read-only on host 0
only; nfs-prod-01 is NFS; vmfs-mt-01, vmfs-prod-01 and vmfs-prod-02 are read/write on every host.
"""

from __future__ import annotations

from pyVmomi import vim

from support.ansible import run_module
from support.vcsim import read_props, read_props_list

MODULE = "host_datastore_access"
HOST0 = "DC0_C0_H0"


def mounts(si, datastore):
    """{host name: (mounted, accessible, access mode)} of a datastore, read with the PropertyCollector."""
    host_names = {entry["obj"]._moId: entry["name"] for entry in read_props_list(si, vim.HostSystem, [])}
    entries = read_props(si, vim.Datastore, ["host"], names=[datastore])[datastore]["host"]
    return {host_names[item.key._moId]: (item.mountInfo.mounted, item.mountInfo.accessible, item.mountInfo.accessMode) for item in entries}


def by_name(result):
    return {item["name"]: item for item in result["datastores"]}


def test_check_mode_then_mount_then_idempotent(vcsim, si):
    env = vcsim.env()
    args = dict(name="asr-mt-01", datastores=["vmfs-unmounted", "vmfs-mt-01"])
    assert mounts(si, "vmfs-unmounted") == {HOST0: (False, False, "readWrite")}

    check = run_module(MODULE, args, env=env, check=True, diff=True)
    assert check["changed"] and not check.get("failed"), check.debug
    assert check["host"]["name"] == HOST0 and check["vm"]["name"] == "asr-mt-01"
    planned = by_name(check)["vmfs-unmounted"]
    assert planned["mounted_now"] and planned["mounted"] and planned["accessible"], check.debug
    assert not by_name(check)["vmfs-mt-01"]["mounted_now"]
    assert check["diff"]["before"]["vmfs-unmounted"] == dict(mounted=False, accessible=False, access_mode="readWrite")
    assert check["diff"]["after"]["vmfs-unmounted"] == dict(mounted=True, accessible=True, access_mode="readWrite")
    assert check["diff"]["before"]["vmfs-mt-01"] == check["diff"]["after"]["vmfs-mt-01"]
    assert mounts(si, "vmfs-unmounted") == {HOST0: (False, False, "readWrite")}, "check mode mounted the datastore"

    first = run_module(MODULE, args, env=env, diff=True)
    assert first["changed"] and not first.get("failed"), first.debug
    assert mounts(si, "vmfs-unmounted") == {HOST0: (True, True, "readWrite")}
    assert read_props(si, vim.Datastore, ["summary.accessible"], names=["vmfs-unmounted"])["vmfs-unmounted"]["summary.accessible"]
    entry = by_name(first)["vmfs-unmounted"]
    assert entry["mounted_now"] and entry["mounted"] and entry["accessible"] and entry["access_mode"] == "readWrite"
    assert entry["type"] == "VMFS" and entry["capacity"] == 1024**4 and entry["free_space"] > 0

    second = run_module(MODULE, args, env=env)
    assert not second["changed"] and not second.get("failed"), second.debug
    assert not any(item["mounted_now"] for item in second["datastores"])


def test_datastores_already_fine_are_not_changed(vcsim, si):
    names = ["vmfs-mt-01", "vmfs-prod-01", "vmfs-prod-02"]
    before = {name: mounts(si, name) for name in names}
    result = run_module(MODULE, dict(name="asr-mt-02", datastores=names), env=vcsim.env(), diff=True)
    assert not result["changed"] and not result.get("failed"), result.debug
    assert result["host"]["name"] == "DC0_C0_H1"
    assert [item["name"] for item in result["datastores"]] == names
    assert all(item["mounted"] and item["accessible"] and item["access_mode"] == "readWrite" for item in result["datastores"])
    assert result["diff"]["before"] == result["diff"]["after"]
    assert {name: mounts(si, name) for name in names} == before


def test_nfs_is_refused_and_nothing_is_mounted(vcsim, si):
    result = run_module(MODULE, dict(name="asr-mt-01", datastores=["vmfs-unmounted", "nfs-prod-01"]), env=vcsim.env())
    assert result["failed"], result.debug
    assert "nfs-prod-01" in result["msg"] and "NFS" in result["msg"] and "VMFS" in result["msg"] and "vSAN" in result["msg"]
    assert "vmfs-unmounted" not in result["msg"], "the mountable datastore is not a problem to report"
    assert "Nothing was changed" in result["msg"]
    # All datastores are judged before any change: the good one is left unmounted.
    assert mounts(si, "vmfs-unmounted") == {HOST0: (False, False, "readWrite")}
    assert by_name(result)["nfs-prod-01"]["type"] == "NFS"


def test_read_only_datastore_is_refused_naming_host_and_datastore(vcsim):
    result = run_module(MODULE, dict(name="asr-mt-01", datastores=["vmfs-readonly"]), env=vcsim.env())
    assert result["failed"], result.debug
    assert "vmfs-readonly" in result["msg"] and HOST0 in result["msg"] and "read/write" in result["msg"]
    assert by_name(result)["vmfs-readonly"]["access_mode"] == "readOnly"


def test_datastore_not_attached_to_the_host_is_refused(vcsim, si):
    result = run_module(MODULE, dict(name="asr-mt-02", datastores=["vmfs-readonly"]), env=vcsim.env())
    assert result["failed"], result.debug
    assert "vmfs-readonly" in result["msg"] and "DC0_C0_H1" in result["msg"] and "not attached" in result["msg"]
    assert "rescan" in result["msg"] and "never creates or formats" in result["msg"]
    assert mounts(si, "vmfs-readonly") == {HOST0: (True, True, "readOnly")}


def test_unknown_datastore_is_refused_with_near_names(vcsim):
    result = run_module(MODULE, dict(name="asr-mt-01", datastores=["vmfs-prod-1"]), env=vcsim.env())
    assert result["failed"], result.debug
    assert "'vmfs-prod-1'" in result["msg"] and "vmfs-prod-01" in result["msg"]
    assert result["unknown_datastores"] == ["vmfs-prod-1"]


def test_esxi_hostname_selects_the_host(vcsim, si):
    result = run_module(MODULE, dict(esxi_hostname=HOST0, datastores=["vmfs-unmounted"]), env=vcsim.env())
    assert result["changed"] and not result.get("failed"), result.debug
    assert result["host"]["name"] == HOST0 and result["vm"] is None
    assert mounts(si, "vmfs-unmounted") == {HOST0: (True, True, "readWrite")}


def test_unknown_host_is_refused(vcsim):
    result = run_module(MODULE, dict(esxi_hostname="DC0_C0_H9", datastores=["vmfs-mt-01"]), env=vcsim.env())
    assert result["failed"], result.debug
    assert "No ESXi host named 'DC0_C0_H9'" in result["msg"] and "esxi_hostname" in result["msg"]
