"""failback_readiness_info against the simulator: the account's privileges asked where vCenter checks them (a
least-privilege account with roles on folders only), the hosts' connection and maintenance mode, and the free ESXi
licence (read on a direct ESXi connection; vCenter refuses to manage a host with it)."""

from __future__ import annotations

import pytest
from pyVmomi import vim

from ansible_collections.siterecovery.master_target.plugins.module_utils._vsphere_client import connect
from ansible_collections.siterecovery.master_target.plugins.module_utils._vsphere_readiness import REQUIRED_PRIVILEGES
from ansible_collections.siterecovery.master_target.plugins.modules.failback_readiness_info import readiness
from support.ansible import run_module
from support.vcsim import read_props, read_props_list, start_vcsim
from support.vsphere import find_vm_object, vm_state, wait

MODULE = "failback_readiness_info"
# The harness's third user, without any permission at start (tests/vcsim/privileges.go), and its licences (license.go).
FAILBACK_USER, FAILBACK_PASSWORD = "asr-failback@vsphere.local", "VMware1!"
PAID_LICENSE = "HARNS-ENTPL-00000-00000-00001"  # VMware vSphere 7 Enterprise Plus
FREE_LICENSE = "HARNS-FREE0-00000-00000-00002"  # vSphere 7 Hypervisor, the free ESXi edition


def verdict(sim, master_targets, protected_vms=(), username=None, password=None):
    """The module's result, computed in-process (same code as the module) with the given account."""
    client = connect(dict(hostname=sim.host, port=sim.port, username=username or sim.username, password=password or sim.password,
                          validate_certs=False))
    try:
        return readiness(client, dict(master_targets=list(master_targets), protected_vms=list(protected_vms), datacenter=None,
                                      retention_disk_min_gb=None, replication_groups=[]))
    finally:
        client.disconnect()


def rows(result, check):
    return [item for item in result["checks"] if item["check"] == check]


def privileges(prefixes, without=()):
    return [privilege for privilege in REQUIRED_PRIVILEGES if privilege.startswith(prefixes) and privilege not in without]


def grant(si, entity, role, privilege_ids, propagate=True, user=FAILBACK_USER):
    """Give `user` a role (created with these privileges) on `entity`, as an administrator does in vCenter."""
    manager = si.content.authorizationManager
    role_id = next((item.roleId for item in manager.roleList if item.name == role), None)
    if role_id is None:
        role_id = manager.AddAuthorizationRole(name=role, privIds=list(privilege_ids))
    permission = vim.AuthorizationManager.Permission(principal=user, group=False, roleId=role_id, propagate=propagate)
    manager.SetEntityPermissions(entity=entity, permission=[permission])


def entity(si, vim_type, name):
    return [item["obj"] for item in read_props_list(si, vim_type, ["name"]) if item["name"] == name][0]


def add_nics(si, vm_name):
    """Connect the VM to the standard portgroup 'VM Network' and the distributed portgroup DC0_DVPG0."""
    portgroup = read_props(si, vim.dvs.DistributedVirtualPortgroup, ["key", "config.distributedVirtualSwitch"])["DC0_DVPG0"]
    switch = portgroup["config.distributedVirtualSwitch"]
    switch_uuid = [item["uuid"] for item in read_props_list(si, vim.DistributedVirtualSwitch, ["uuid"]) if item["obj"] == switch][0]
    standard = vim.vm.device.VirtualVmxnet3(
        key=-1, backing=vim.vm.device.VirtualEthernetCard.NetworkBackingInfo(deviceName="VM Network"))
    distributed = vim.vm.device.VirtualVmxnet3(key=-2, backing=vim.vm.device.VirtualEthernetCard.DistributedVirtualPortBackingInfo(
        port=vim.dvs.PortConnection(switchUuid=switch_uuid, portgroupKey=portgroup["key"])))
    changes = [vim.vm.device.VirtualDeviceSpec(operation="add", device=nic) for nic in (standard, distributed)]
    wait(find_vm_object(si, vm_name).ReconfigVM_Task(spec=vim.vm.ConfigSpec(deviceChange=changes)))


def least_privilege(si):
    """The failback account as a least-privilege setup grants it: roles on folders (and the cluster) only, none on a VM,
    datastore, network or resource pool itself; the vCenter-wide privileges on the root folder, not propagated."""
    datacenter = entity(si, vim.Datacenter, "DC0")
    grant(si, datacenter.datastoreFolder, "asr-datastores", privileges("Datastore."))
    grant(si, datacenter.vmFolder, "asr-vms", privileges(("VirtualMachine.Config", "VirtualMachine.Interact", "VirtualMachine.Inventory",
                                                          "VirtualMachine.State")))
    grant(si, datacenter.networkFolder, "asr-networks", privileges("Network."))
    grant(si, entity(si, vim.ClusterComputeResource, "DC0_C0"), "asr-resources", privileges("Resource."))
    grant(si, si.content.rootFolder, "asr-vcenter", privileges(("Task.", "VirtualMachine.Provisioning.")), propagate=False)


def test_roles_on_folders_only_pass_the_privilege_check(vcsim, si):
    add_nics(si, "prod-db-01")
    least_privilege(si)
    result = verdict(vcsim, ["asr-mt-02"], ["prod-db-01"], FAILBACK_USER, FAILBACK_PASSWORD)
    row = rows(result, "vcenter.privileges")[0]
    assert row["status"] == "pass", row
    # asked where vCenter checks them: VMs, their folders, datastores, resource pool, networks, the root folder
    assert {"asr-mt-02", "prod-db-01", "/DC0/vm/asr", "/DC0/vm/prod", "vmfs-mt-01", "vmfs-prod-02", "Resources", "VM Network",
            "DC0_DVPG0", vcsim.host} == set(row["objects"]), row
    assert FAILBACK_USER in row["message"]


def test_a_weaker_role_on_one_datastore_fails_naming_the_privilege_and_the_datastore(vcsim, si):
    least_privilege(si)
    datastore = entity(si, vim.Datastore, "vmfs-prod-02")
    grant(si, datastore, "asr-datastores-no-allocate", privileges("Datastore.", without=["Datastore.AllocateSpace"]))
    result = verdict(vcsim, ["asr-mt-02"], ["prod-db-01"], FAILBACK_USER, FAILBACK_PASSWORD)
    row = rows(result, "vcenter.privileges")[0]
    assert row["status"] == "fail" and result["ready"] is False, row
    assert row["objects"] == ["vmfs-prod-02"], row
    assert "lacks 1 of the" in row["message"] and "Datastore.AllocateSpace on datastore vmfs-prod-02" in row["message"], row
    assert "vmfs-prod-02" in row["message"] and "vmfs-mt-01" not in row["message"]


def test_network_assign_is_asked_on_each_network_of_the_protected_vms(vcsim, si):
    add_nics(si, "prod-db-01")
    least_privilege(si)
    # a read-only permission on the distributed portgroup overrides the network folder's role there only
    grant(si, entity(si, vim.dvs.DistributedVirtualPortgroup, "DC0_DVPG0"), "asr-read-only", ["System.Read"])
    result = verdict(vcsim, ["asr-mt-02"], ["prod-db-01"], FAILBACK_USER, FAILBACK_PASSWORD)
    row = rows(result, "vcenter.privileges")[0]
    assert row["status"] == "fail" and row["objects"] == ["DC0_DVPG0"], row
    assert "Network.Assign on network DC0_DVPG0 (to connect the failed-back VM to its networks)" in row["message"], row


def test_host_in_maintenance_mode_fails_naming_the_host_and_the_fix(vcsim, si):
    host = vm_state(si, "asr-mt-02", ["runtime.host"])["runtime.host"]  # asr-mt-02 is powered off
    wait(host.EnterMaintenanceMode_Task(timeout=0))
    result = verdict(vcsim, ["asr-mt-02"], ["prod-db-01"])
    state = {tuple(item["objects"][:1]): item for item in rows(result, "host.state")}
    failing = state[(host.name,)]
    assert failing["status"] == "fail" and result["ready"] is False, failing
    assert failing["message"].startswith(f"Host {host.name} of asr-mt-02 is in maintenance mode: reprotect and failback detach and attach"), failing
    assert "Exit Maintenance Mode" in failing["fix"] and host.name in failing["fix"], failing
    other = vm_state(si, "prod-db-01", ["runtime.host"])["runtime.host"].name
    assert state[(other,)]["status"] == "pass" and "prod-db-01" in state[(other,)]["message"]

    wait(host.ExitMaintenanceMode_Task(timeout=0))
    assert all(item["status"] == "pass" for item in rows(verdict(vcsim, ["asr-mt-02"], ["prod-db-01"]), "host.state"))


def test_disconnected_host_fails_naming_the_host_and_the_fix(vcsim, si):
    host = vm_state(si, "prod-db-01", ["runtime.host"])["runtime.host"]
    wait(host.DisconnectHost_Task())
    result = verdict(vcsim, ["asr-mt-02"], ["prod-db-01"])
    failing = [item for item in rows(result, "host.state") if item["status"] != "pass"]
    assert len(failing) == 1 and failing[0]["objects"] == [host.name, "prod-db-01"], failing
    assert f"Host {host.name} of prod-db-01 is disconnected" in failing[0]["message"], failing
    assert failing[0]["fix"].startswith(f"Reconnect {host.name} in vCenter"), failing

    wait(host.ReconnectHost_Task())
    assert all(item["status"] == "pass" for item in rows(verdict(vcsim, ["asr-mt-02"], ["prod-db-01"]), "host.state"))


def test_free_esxi_licence_fails_on_a_direct_esxi_connection():
    with start_vcsim(scene="esx") as esx:
        si = esx.connect()
        assert si.content.about.apiType == "HostAgent"
        paid = run_module(MODULE, dict(master_targets=["ha-host_VM0"]), env=esx.env())
        assert [item["status"] for item in rows(paid, "host.license")] == ["pass"], paid.debug
        assert "VMware vSphere 7 Enterprise Plus" in rows(paid, "host.license")[0]["message"]

        si.content.licenseManager.UpdateLicense(licenseKey=FREE_LICENSE)  # what the host client's "Assign license" does
        result = run_module(MODULE, dict(master_targets=["ha-host_VM0"]), env=esx.env())
        licence = rows(result, "host.license")[0]
        assert result["vcenter"]["api_type"] == "HostAgent" and result["ready"] is False, result.debug
        assert licence["status"] == "fail" and licence["objects"] == ["localhost.localdomain"], licence
        assert "vSphere 7 Hypervisor (esx.hypervisor.cpuPackageCoreLimited), a free ESXi edition" in licence["message"], licence
        assert "failback does not" in licence["message"] and "VMware Host Client" in licence["fix"], licence


def test_vcenter_refuses_the_free_edition_for_a_host_it_manages(vcsim, si):
    host = vm_state(si, "asr-mt-02", ["runtime.host"])["runtime.host"]
    assignments = si.content.licenseManager.licenseAssignmentManager
    with pytest.raises(vim.fault.LicenseKeyEntityMismatch) as refused:
        assignments.UpdateAssignedLicense(entity=host._moId, licenseKey=FREE_LICENSE)
    assert "cannot manage a host with the free ESXi edition" in refused.value.msg
    assert [item.assignedLicense.licenseKey for item in assignments.QueryAssignedLicenses(entityId=host._moId)] == [PAID_LICENSE]
    licence = [item for item in rows(verdict(vcsim, ["asr-mt-02"]), "host.license") if item["objects"] == [host.name]][0]
    assert licence["status"] == "pass" and "Enterprise Plus" in licence["message"], licence
