"""failback_readiness_info: name resolution, VM facts and assembly, without vCenter."""

from __future__ import annotations

import json

import pytest
from ansible.module_utils.testing import patch_module_args
from pyVmomi import vim

from ansible_collections.siterecovery.master_target.plugins.module_utils._vsphere_lookup import ManagedObject
from ansible_collections.siterecovery.master_target.plugins.modules import failback_readiness_info as module_under_test
from ansible_collections.siterecovery.master_target.plugins.module_utils._vsphere_client import VSphereError
from ansible_collections.siterecovery.master_target.plugins.modules.failback_readiness_info import (
    choose_vms,
    group_moids,
    license_rows,
    master_target_rows,
    missing_privileges,
    moid,
    object_labels,
    privilege_objects,
    privilege_row,
    resolve,
    vm_facts,
    vm_labels,
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
    assert resolve(VMS, "vm-3")[0].moid == "vm-3" and resolve(VMS, "vm-3", "DC1")[0] is None
    assert resolve(VMS, "vm/teamA/dup-vm")[0].moid == "vm-2" and resolve(VMS, "DC0/vm/teamB/dup-vm")[0].moid == "vm-3"


def test_choose_vms_reads_each_vm_once():
    params = dict(master_targets=["asr-mt-01", "/DC0/vm/asr/asr-mt-01"], datacenter="DC0",
                  protected_vms=["teamA/dup-vm", "teamB/dup-vm", "/DC0/vm/teamA/dup-vm", "vm-3", "asr/asr-mt-01", "nope/x"])
    not_found, chosen, moids, repeats = choose_vms(VMS, params)
    assert [vm.moid for vm in chosen["master_targets"]] == ["vm-1"] and [vm.moid for vm in chosen["protected_vms"]] == ["vm-2", "vm-3"]
    assert repeats == [("master target", "/DC0/vm/asr/asr-mt-01", "vm-1", "master target", "asr-mt-01"),
                       ("protected VM", "/DC0/vm/teamA/dup-vm", "vm-2", "protected VM", "teamA/dup-vm"),
                       ("protected VM", "vm-3", "vm-3", "protected VM", "teamB/dup-vm"),
                       ("protected VM", "asr/asr-mt-01", "vm-1", "master target", "asr-mt-01")]
    assert moids[("protected_vms", "vm-3")] == "vm-3" and [row["objects"] for row in not_found] == [["nope/x"]]
    assert "for a VM named 'nope/x', give 'nope%2fx' or its path" in not_found[0]["message"]


def test_labels_are_paths_only_for_names_shared_in_the_report():
    chosen = [VMS[0], VMS[1], VMS[2]]
    labels = vm_labels(chosen, VMS)
    assert labels["vm-2"] == ("/DC0/vm/teamA/dup-vm", "name: dup-vm, folder: /DC0/vm/teamA")
    # asr-mt-01 is alone in the report (its name), but not in the inventory (the fix gives its folder).
    assert labels["vm-1"] == ("asr-mt-01", "name: asr-mt-01, folder: /DC0/vm/asr")
    assert vm_labels([VMS[1]], VMS)["vm-2"][0] == "dup-vm"
    hosts = {key: ManagedObject(vim.HostSystem(key), {"name": name}) for key, name in (("host-1", "esx"), ("host-2", "esx"), ("host-3", "b"))}
    assert object_labels(hosts) == {"host-1": "esx (host-1)", "host-2": "esx (host-2)", "host-3": "b"}


def test_group_moids_by_vm_and_refuses_one_vm_in_two_groups():
    moids = {("protected_vms", "a"): "vm-1", ("protected_vms", "dir/a"): "vm-1", ("protected_vms", "b"): "vm-2"}
    assert group_moids([["a", "dir/a", "b"], ["gone"]], moids) == [["vm-1", "vm-2"], []]
    with pytest.raises(VSphereError, match="group 2 names 'dir/a', the VM vm-1 that group 1 names as 'a'"):
        group_moids([["a"], ["dir/a"]], moids)


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
    assert facts["controllers"] == [dict(bus=0, type="paravirtual", label="SCSI controller 0", key=1000,
                                         devices=[dict(label="Hard disk 1", unit=0, kind="disk")])]
    assert facts["name"] == facts["vm_name"] == "asr-mt-01" and facts["selection"] == "name: asr-mt-01"
    labelled = vm_facts(vm, {}, "/DC0/vm/asr/asr-mt-01", "name: asr-mt-01, folder: /DC0/vm/asr")
    assert labelled["name"] == "/DC0/vm/asr/asr-mt-01" and labelled["vm_name"] == "asr-mt-01"
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


def test_missing_privileges_judges_each_object_on_the_privileges_of_its_kind():
    def answer(entity, **granted):
        return vim.AuthorizationManager.EntityPrivilege(entity=entity, privAvailability=[
            vim.AuthorizationManager.PrivilegeAvailability(privId=privilege.replace("_", "."), isGranted=value) for privilege, value in granted.items()])

    availability = [
        answer(vim.VirtualMachine("vm-1"), Datastore_AllocateSpace=False, VirtualMachine_State_RemoveSnapshot=False, Task_Create=False),
        answer(vim.Datastore("datastore-1"), Datastore_AllocateSpace=False, VirtualMachine_State_RemoveSnapshot=False),
        answer(vim.Network("network-7"), Network_Assign=True, Datastore_AllocateSpace=False),
    ]
    objects = {"vm-1": ("asr-mt-01", "vm"), "datastore-1": ("vmfs-mt-01", "datastore"), "network-7": ("VM Network", "network")}
    assert missing_privileges(availability, objects) == [
        dict(name="asr-mt-01", kind="vm", missing=["VirtualMachine.State.RemoveSnapshot"]),
        dict(name="vmfs-mt-01", kind="datastore", missing=["Datastore.AllocateSpace"]),
        dict(name="VM Network", kind="network", missing=[]),
    ]


def test_privilege_objects_are_the_vms_their_folders_datastores_pools_and_the_protected_vms_networks():
    def record(key, parent, datastores, pool, networks):
        props = {"parent": vim.Folder(parent), "datastore": [vim.Datastore(ds) for ds in datastores], "resourcePool": vim.ResourcePool(pool),
                 "network": [vim.Network(n) for n in networks]}
        return ManagedObject(vim.VirtualMachine(key), props)

    details = {"vm-1": record("vm-1", "group-asr", ["datastore-1"], "resgroup-1", ["network-1"]),
               "vm-2": record("vm-2", "group-prod", ["datastore-2", "datastore-1"], "resgroup-1", ["dvportgroup-1", "network-1"])}
    found = privilege_objects([dict(moid="vm-1"), dict(moid="vm-2")], details, {"vm-2"})
    assert {key: kind for key, (_ref, kind) in found.items()} == {
        "vm-1": "vm", "group-asr": "vm_folder", "datastore-1": "datastore", "resgroup-1": "resource_pool",
        "vm-2": "vm", "group-prod": "vm_folder", "datastore-2": "datastore", "dvportgroup-1": "network", "network-1": "network"}
    assert isinstance(found["dvportgroup-1"][0], vim.Network) and found["vm-1"][0] is details["vm-1"].obj


@pytest.mark.parametrize(
    "args, message",
    [
        (dict(), "missing required arguments: master_targets"),
        (dict(master_targets=[]), "master_targets is empty"),
        (dict(master_targets=["asr-mt-01"], retention_disk_min_gb=0), "retention_disk_min_gb must be at least 1"),
        (dict(master_targets=["asr-mt-01"], protected_vms=["a"], replication_groups=[["a", "b"]]),
         "replication_groups: group 1 names 'b', which is not in protected_vms"),
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


def host_record(name, moid_):
    return ManagedObject(vim.HostSystem(moid_), {"name": name})


def test_license_rows_judge_the_answer_read_and_a_refusal_is_one_warning():
    hosts = [host_record("esx-01", "host-1"), host_record("esx-02", "host-2")]
    labels = {"host-1": "esx-01", "host-2": "esx-02"}
    refused = license_rows("Permission to perform this operation was denied.", hosts, labels, direct=False)
    assert [(item["check"], item["status"]) for item in refused] == [("host.license", "warn")]
    assert "vCenter refused to list the licences: Permission to perform this operation was denied." in refused[0]["message"]
    assert license_rows({}, [], labels, direct=False) == []
    free = vim.LicenseManager.LicenseInfo(editionKey="esxBasic", name="VMware vSphere Hypervisor")
    rows = license_rows({"host-1": free, "host-2": None}, hosts, labels, direct=False)
    assert [item["check"] for item in rows] == ["host.license", "host.license"]


def test_privilege_row_of_a_refused_check_is_a_warning_naming_the_objects():
    objects = {"vm-1": (vim.VirtualMachine("vm-1"), "asr-mt-01", "vm"), "group-d1": (vim.Folder("group-d1"), "vcenter.example.com", "vcenter")}
    item = privilege_row(None, "NotAuthenticated", objects)
    assert (item["check"], item["status"]) == ("vcenter.privileges", "warn")
    assert "vCenter refused the privilege check: NotAuthenticated." in item["message"]
