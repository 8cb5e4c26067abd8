"""failback_readiness_info against the simulator: the default scene, a prepared master target,
a read-only account, and round trips that do not grow with the inventory."""

from __future__ import annotations

from collections import Counter

from pyVmomi import vim

from ansible_collections.siterecovery.master_target.plugins.module_utils._vsphere_client import VSphereClient, connect
from ansible_collections.siterecovery.master_target.plugins.module_utils._vsphere_tasks import wait_for_task
from ansible_collections.siterecovery.master_target.plugins.modules.failback_readiness_info import readiness
from support.ansible import run_module
from support.vcsim import start_vcsim
from support.vsphere import find_vm_object, vm_state, wait

MODULE = "failback_readiness_info"


def rows(result, check=None, status=None, master_target="any"):
    return [item for item in result["checks"] if (check is None or item["check"] == check) and (status is None or item["status"] == status)
            and (master_target == "any" or item["master_target"] == master_target)]


def statuses(result, master_target):
    return {item["check"]: item["status"] for item in rows(result, master_target=master_target) if item["check"].startswith("master_target.")}


def test_default_scene_master_target_fails_with_reasons_and_check_mode_is_the_same(vcsim):
    args = dict(master_targets=["asr-mt-01"], protected_vms=["prod-web-01", "prod-app-nfs", "prod-clone-01", "no-such-vm", "dup-vm"],
                retention_disk_min_gb=1024)
    result = run_module(MODULE, args, env=vcsim.env())
    assert not result.get("failed") and not result["changed"], result.debug
    assert result["ready"] is False and result["master_targets"][0]["ready"] is False
    assert statuses(result, "asr-mt-01") == {
        "master_target.disk_uuid": "fail", "master_target.snapshots": "fail", "master_target.scsi_controller": "fail",
        "master_target.tools": "pass", "master_target.vmfs_datastore": "pass", "master_target.migration_exclusion": "fail",
        "master_target.retention_disk": "fail", "master_target.disk_limit": "pass", "master_target.sizing": "pass",
    }
    assert "before-patch/after-patch" in rows(result, "master_target.snapshots")[0]["message"]
    assert "paravirtual" in rows(result, "master_target.scsi_controller")[0]["message"]
    assert "dsc-failback" in rows(result, "master_target.migration_exclusion")[0]["message"]
    # protected VMs: NFS fails with ASR's reason, the template clone clashes, snapshots are info
    nfs = [item for item in rows(result, "protected_vm.datastore") if "prod-app-nfs" in item["objects"]][0]
    assert nfs["status"] == "fail" and "nfs-prod-01" in nfs["message"] and "cannot fail back to NFS" in nfs["message"]
    clash = [item for item in rows(result, "protected_vm.uuid_clash") if "prod-clone-01" in item["objects"]][0]
    assert clash["status"] == "fail" and "BIOS uuid" in clash["message"] and "disk uuid" in clash["message"]
    web = [item for item in rows(result, "protected_vm.snapshots") if item["objects"] == ["prod-web-01"]][0]
    assert web["status"] == "info" and "nightly" in web["message"]
    found = rows(result, "vm.found")
    assert [item["objects"] for item in found] == [["no-such-vm"], ["dup-vm"]] and all(item["status"] == "fail" for item in found)
    assert "/DC0/vm/teamA/dup-vm" in found[1]["message"]
    assert [vm["name"] for vm in result["protected_vms"]] == ["prod-web-01", "prod-app-nfs", "prod-clone-01"]
    assert result["policy"] == dict(rpo_threshold_minutes=15, recovery_point_retention_hours=24, app_consistent_snapshot_frequency_minutes=60)
    assert result["vcenter"]["api_type"] == "VirtualCenter" and result["vcenter"]["version"] == "6.5.0"
    assert result["summary"]["total"] == len(result["checks"]) and result["summary"]["fail"] == len(rows(result, status="fail"))
    # order: master target rows, then protected VM rows, then global rows
    kinds = [item["check"].split(".")[0] for item in result["checks"]]
    assert kinds.index("protected_vm") > max(i for i, kind in enumerate(kinds) if kind == "master_target")
    assert kinds.index("vm") > max(i for i, kind in enumerate(kinds) if kind == "protected_vm")

    check = run_module(MODULE, args, env=vcsim.env(), check=True, diff=True)
    assert not check["changed"] and check["checks"] == result["checks"], check.debug


def prepare_master_target(si, name):
    """What the vsphere role does to asr-mt-02, done directly: retention disk marker, overrides, power on."""
    vm = find_vm_object(si, name)
    state = vm_state(si, name, ["config.hardware.device", "runtime.host"])
    retention = [d for d in state["config.hardware.device"] if isinstance(d, vim.vm.device.VirtualDisk)][1]
    marker = vim.option.OptionValue(key="siterecovery.retentionDisk.uuid", value=retention.backing.uuid)
    wait(vm.ReconfigVM_Task(spec=vim.vm.ConfigSpec(extraConfig=[marker])))
    content = si.RetrieveContent()
    pod = [p for p in content.viewManager.CreateContainerView(content.rootFolder, [vim.StoragePod], True).view if p.name == "dsc-failback"][0]
    entry = vim.storageDrs.VmConfigSpec(operation="add", info=vim.storageDrs.VmConfigInfo(vm=vm, enabled=False))
    task = content.storageResourceManager.ConfigureStorageDrsForPod_Task(pod=pod, spec=vim.storageDrs.ConfigSpec(vmConfigSpec=[entry]), modify=True)
    # pyVim's WaitForTask cannot read this task: vcsim gives it the manager as its entity
    wait_for_task(VSphereClient(si, "vcsim"), task, "Storage DRS override", name)
    cluster = content.viewManager.CreateContainerView(content.rootFolder, [vim.ClusterComputeResource], True).view[0]
    drs = vim.cluster.DrsVmConfigSpec(operation="add", info=vim.cluster.DrsVmConfigInfo(key=vm, enabled=False))
    wait(cluster.ReconfigureComputeResource_Task(spec=vim.cluster.ConfigSpecEx(drsVmConfigSpec=[drs]), modify=True))
    wait(vm.PowerOnVM_Task())
    return state["runtime.host"]


def test_prepared_master_target_is_ready(vcsim, si):
    prepare_master_target(si, "asr-mt-02")
    result = run_module(MODULE, dict(master_targets=["asr-mt-02"], protected_vms=["prod-db-01"], retention_disk_min_gb=1024), env=vcsim.env())
    failing = [item["message"] for item in result["checks"] if item["status"] != "pass"]
    assert result["ready"] is True and failing == [], result.debug
    assert set(statuses(result, "asr-mt-02").values()) == {"pass"}
    assert result["master_targets"][0]["ready"] and result["master_targets"][0]["power_state"] == "poweredOn"
    assert "2 own disks + 2 of prod-db-01 = 4 of 60" in rows(result, "master_target.disk_limit")[0]["message"]
    assert rows(result, "vcenter.privileges")[0]["status"] == "pass"


def test_disk_uuid_set_but_not_in_effect_until_a_power_cycle(vcsim, si):
    prepare_master_target(si, "asr-mt-02")  # ready, and running
    env = vcsim.env()
    # disk.EnableUUID changed by vm_disk_uuid on the running VM: set, but ESXi reads it only at power-on.
    assert run_module("vm_disk_uuid", dict(name="asr-mt-02", enabled=False), env=env)["changed"]
    assert run_module("vm_disk_uuid", dict(name="asr-mt-02"), env=env)["power_cycle_required"] is True
    args = dict(master_targets=["asr-mt-02"], protected_vms=["prod-db-01"])
    result = run_module(MODULE, args, env=env)
    row = rows(result, "master_target.disk_uuid")[0]
    assert row["status"] == "fail" and result["ready"] is False, result.debug
    assert row["message"].startswith("disk.EnableUUID is set but not in effect until a power cycle on asr-mt-02: it was set at "), row
    assert "after the VM's last power-on at" in row["message"] and "vm_power" in row["fix"]

    wait(find_vm_object(si, "asr-mt-02").PowerOffVM_Task())
    wait(find_vm_object(si, "asr-mt-02").PowerOnVM_Task())
    after = run_module(MODULE, args, env=env)
    assert rows(after, "master_target.disk_uuid")[0]["status"] == "pass" and after["ready"] is True, after.debug


def test_read_only_account_lacks_privileges_where_vcenter_checks_them(vcsim):
    env = dict(vcsim.env(), VMWARE_USER="readonly@vsphere.local", VMWARE_PASSWORD="VMware1!")
    result = run_module(MODULE, dict(master_targets=["asr-mt-02"]), env=env)
    assert not result.get("failed") and result["ready"] is False, result.debug
    privileges = rows(result, "vcenter.privileges")[0]
    assert privileges["status"] == "fail" and "readonly@vsphere.local" in privileges["message"]
    for words in ("Datastore.{AllocateSpace, Browse, FileManagement, DeleteFile, UpdateVirtualMachineFiles} on datastore vmfs-mt-01",
                  "VirtualMachine.Config.{AddExistingDisk", "on VM asr-mt-02", "Task.{Create, Update}",
                  "VirtualMachine.State.RemoveSnapshot", "on VM folder /DC0/vm/asr", "Resource.AssignVMToPool on resource pool"):
        assert words in privileges["message"], privileges["message"]
    # each object is judged on the privileges of its kind only: no datastore privilege is asked on the VM
    assert "Datastore.AllocateSpace on VM" not in privileges["message"]
    assert set(privileges["objects"]) >= {"asr-mt-02", "vmfs-mt-01", "/DC0/vm/asr"}


def count_round_trips(sim, master_targets, protected_vms):
    """Run the module's work in-process with a counting stub: {SOAP method: calls}."""
    client = connect(dict(hostname=sim.host, port=sim.port, username=sim.username, password=sim.password, validate_certs=False))
    calls = Counter()
    invoke = client.stub.InvokeMethod

    def counting(mo, info, args):
        calls[info.wsdlName] += 1
        return invoke(mo, info, args)

    client.stub.InvokeMethod = counting
    try:
        result = readiness(client, dict(master_targets=master_targets, protected_vms=protected_vms, datacenter=None, retention_disk_min_gb=None))
    finally:
        client.stub.InvokeMethod = invoke
        client.disconnect()
    return calls, result


def test_round_trips_do_not_grow_with_the_inventory_or_the_vms_asked_about(vcsim):
    small, small_result = count_round_trips(vcsim, ["asr-mt-01"], ["prod-web-01"])
    with start_vcsim(extra_vms=300, master_targets=4) as big_sim:
        big, big_result = count_round_trips(big_sim, ["asr-mt-01", "asr-mt-02", "asr-mt-03", "asr-mt-04"],
                                            ["prod-web-01", "prod-db-01", "prod-win-01", "filler-0001", "filler-0150", "filler-0300"])
    assert len(big_result["protected_vms"]) == 6 and len(big_result["master_targets"]) == 4
    assert small_result["checks"] and small == big, (small, big)
    # 9 reads: the inventory, the VMs, hosts, datastores, datastore clusters, clusters, the names of the VMs' networks and
    # resource pools (for the privilege row), the licence manager and the session.
    assert small["RetrievePropertiesEx"] <= 9 and sum(small.values()) <= 13, small
