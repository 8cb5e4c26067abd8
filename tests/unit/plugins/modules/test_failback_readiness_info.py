"""failback_readiness_info: name resolution, VM facts and assembly, without vCenter."""

from __future__ import annotations

import json

import pytest
from ansible.module_utils.testing import patch_module_args
from pyVmomi import vim

from ansible_collections.siterecovery.master_target.plugins.module_utils._vsphere_lookup import ManagedObject
from ansible_collections.siterecovery.master_target.plugins.modules import failback_readiness_info as module_under_test
from ansible_collections.siterecovery.master_target.plugins.modules.failback_readiness_info import (
    master_target_rows,
    missing_privileges,
    moid,
    resolve,
    vm_facts,
)


def record(name, path, moid_="vm-1"):
    item = ManagedObject(vim.VirtualMachine(moid_), {"name": name})
    item.path = path
    return item


VMS = [
    record("asr-mt-01", "/DC0/vm/asr/asr-mt-01", "vm-1"),
    record("dup-vm", "/DC0/vm/teamA/dup-vm", "vm-2"),
    record("dup-vm", "/DC0/vm/teamB/dup-vm", "vm-3"),
    record("asr-mt-01", "/DC1/vm/asr/asr-mt-01", "vm-4"),
]


def test_resolve_by_name_path_and_datacenter():
    assert resolve(VMS, "asr-mt-01", "DC0")[0].moid == "vm-1"
    assert resolve(VMS, "/DC1/vm/asr/asr-mt-01")[0].moid == "vm-4"
    assert resolve(VMS, "teamB/dup-vm")[0].moid == "vm-3"
    found, matches, near = resolve(VMS, "dup-vm")
    assert found is None and matches == ["/DC0/vm/teamA/dup-vm", "/DC0/vm/teamB/dup-vm"] and near == []
    found, matches, near = resolve(VMS, "asr-mt-1")
    assert found is None and matches == [] and near == ["asr-mt-01"]
    assert resolve(VMS, "asr-mt-01")[1] == ["/DC0/vm/asr/asr-mt-01", "/DC1/vm/asr/asr-mt-01"]


def test_vm_facts_from_properties():
    controller = vim.vm.device.ParaVirtualSCSIController(key=1000, busNumber=0, deviceInfo=vim.Description(label="SCSI controller 0", summary=""))
    backing = vim.vm.device.VirtualDisk.FlatVer2BackingInfo(uuid="6000C291-aaaa", fileName="[vmfs-mt-01] a/a.vmdk")
    hard_disk = vim.vm.device.VirtualDisk(key=2000, controllerKey=1000, unitNumber=0, capacityInBytes=100 * 1024**3, backing=backing,
                                          deviceInfo=vim.Description(label="Hard disk 1", summary=""))
    props = {
        "name": "asr-mt-01", "config.uuid": "4201-x", "config.hardware.numCPU": 4, "config.hardware.memoryMB": 8192,
        "config.hardware.device": [controller, hard_disk], "runtime.host": vim.HostSystem("host-34"),
        "config.extraConfig": [vim.option.OptionValue(key="siterecovery.retentionDisk.uuid", value="6000C291-aaaa")],
        "datastore": [vim.Datastore("datastore-1")], "runtime.powerState": "poweredOn", "config.guestId": "ubuntu64Guest",
        "guest.guestFamily": "linuxGuest", "guest.toolsRunningStatus": "guestToolsRunning",
    }
    vm = ManagedObject(vim.VirtualMachine("vm-1"), props)
    vm.path = "/DC0/vm/asr/asr-mt-01"
    facts = vm_facts(vm, {"host-34": "esx01"})
    assert facts["host"] == "esx01" and facts["host_moid"] == "host-34" and facts["datastores"] == ["datastore-1"]
    assert facts["controllers"] == [dict(bus=0, type="paravirtual", label="SCSI controller 0")]
    assert facts["disks"][0]["size_gb"] == 100 and facts["marker"] == "6000C291-aaaa" and facts["snapshots"] == []
    assert facts["guest_family"] == "linux" and facts["tools"]["running"] and facts["power_state"] == "poweredOn"
    assert moid(None) is None


def test_master_target_rows_follow_the_documented_order():
    mt = dict(name="mt", host="esx01", host_moid="host-34", extra_config=[], marker=None, num_cpu=4, memory_mb=8192, snapshots=[],
              controllers=[], disks=[], tools=dict(installed=True, running=True, running_status=None, status=None, version_text=None),
              guest=dict(power_state="poweredOn"))
    limit = dict(check="master_target.disk_limit", status="pass", master_target="mt", objects=["mt"], message="", fix="")
    rows = master_target_rows(mt, [], [], None, limit, None)
    assert [item["check"] for item in rows] == [
        "master_target.disk_uuid", "master_target.snapshots", "master_target.scsi_controller", "master_target.tools",
        "master_target.vmfs_datastore", "master_target.migration_exclusion", "master_target.retention_disk",
        "master_target.disk_limit", "master_target.sizing",
    ]
    assert all(item["master_target"] == "mt" for item in rows)


def test_missing_privileges_by_entity_name():
    answer = [
        vim.AuthorizationManager.EntityPrivilege(entity=vim.VirtualMachine("vm-1"), privAvailability=[
            vim.AuthorizationManager.PrivilegeAvailability(privId="Task.Create", isGranted=False),
            vim.AuthorizationManager.PrivilegeAvailability(privId="System.Read", isGranted=True)]),
        vim.AuthorizationManager.EntityPrivilege(entity=vim.HostSystem("host-9"), privAvailability=[
            vim.AuthorizationManager.PrivilegeAvailability(privId="Task.Create", isGranted=True)]),
    ]
    assert missing_privileges(answer, {"vm-1": "asr-mt-01"}) == {"asr-mt-01": ["Task.Create"], "host-9": []}


@pytest.mark.parametrize(
    "args, message",
    [
        (dict(), "missing required arguments: master_targets"),
        (dict(master_targets=[]), "master_targets is empty"),
        (dict(master_targets=["asr-mt-01"], retention_disk_min_gb=0), "retention_disk_min_gb must be at least 1"),
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
