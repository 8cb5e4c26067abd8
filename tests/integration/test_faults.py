"""Every bad input and fault of docs/faults.md, one test per row, against the simulator.

Each test runs a module (or the vsphere role) into the fault and asserts three promises:

1. one clear error: the message names the object and the fix, and is not a traceback;
2. nothing half-changed: the whole inventory state a module here can change (every VM's
   extraConfig, devices, power state and snapshots, every datastore's host mounts), read with the
   PropertyCollector, is the same before and after; or, when vCenter had already applied the
   change before the fault, the state is consistent (the change is whole);
3. once the fault is removed, a second run completes the work (and a third changes nothing).

The vCenter task fault comes from the harness knob harness.reconfigureFault (tests/vcsim/faults.go);
the dropped connections from a loopback proxy that cuts the stream at a chosen SOAP call
(tests/support/cutproxy.py).
"""

from __future__ import annotations

import functools
import socket

import pytest
from pyVmomi import vim

from support.ansible import run_module as _run_module
from support.ansible import run_playbook
from support.cutproxy import CutProxy
from support.roles import ASR_MT_01_VARS, VSPHERE_ROLE_PLAYBOOK
from support.vcsim import read_props_list
from support.vsphere import find_vm_object, set_extra_config, wait

# The fault table promises what a user sees, so these runs go through ansible-playbook, not the
# direct module run of the other tests (support/ansible.py).
run_module = functools.partial(_run_module, via="ansible")

RETENTION_MARKER = "siterecovery.retentionDisk.uuid"
RETENTION_PENDING = "siterecovery.retentionDisk.pending"
FAULT_KNOB = "harness.reconfigureFault"
LOCKED = "Failed to lock the file [vmfs-prod-02] asr-mt-02/asr-mt-02.vmx"
VM_PATHS = ["config.extraConfig", "config.hardware.device", "runtime.powerState", "snapshot"]


# --- reading the state, only through the PropertyCollector ------------------------------------------


def _device(device):
    backing = device.backing
    return (
        type(device).__name__.rsplit(".", 1)[-1],
        device.key,
        device.controllerKey,
        device.unitNumber,
        getattr(device, "capacityInBytes", None),
        getattr(backing, "fileName", None),
        getattr(backing, "uuid", None),
    )


def _snapshots(info):
    names, stack = [], list(info.rootSnapshotList) if info else []
    while stack:
        node = stack.pop(0)
        names.append(node.name)
        stack.extend(node.childSnapshotList)
    return names


def world(si):
    """What any module of ours can change, everywhere: {"vms": {moid: ...}, "datastores": {name: mounts}}."""
    vms = {}
    for entry in read_props_list(si, vim.VirtualMachine, VM_PATHS):
        vms[entry["obj"]._moId] = dict(
            name=entry["name"],
            extra_config=sorted((option.key, str(option.value)) for option in entry.get("config.extraConfig") or []),
            devices=sorted(_device(device) for device in entry.get("config.hardware.device") or []),
            power=entry.get("runtime.powerState"),
            snapshots=_snapshots(entry.get("snapshot")),
        )
    datastores = {
        entry["name"]: sorted((m.key._moId, m.mountInfo.mounted, m.mountInfo.accessible, m.mountInfo.accessMode) for m in entry.get("host") or [])
        for entry in read_props_list(si, vim.Datastore, ["host"])
    }
    return dict(vms=vms, datastores=datastores)


def vm_of(state, name):
    matches = [vm for vm in state["vms"].values() if vm["name"] == name]
    assert len(matches) == 1, f"{len(matches)} VMs named {name}"
    return matches[0]


def extra(state, name):
    return dict(vm_of(state, name)["extra_config"])


def disks(state, name):
    return [device for device in vm_of(state, name)["devices"] if device[0] == "VirtualDisk"]


def attached(vm):
    """The VM's disks and CD drives with their unit numbers (the controller key may change)."""
    return sorted((device[0], device[3]) for device in vm["devices"] if device[0] in ("VirtualDisk", "VirtualCdrom"))


def free_port():
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def assert_one_clear_error(result, *parts):
    """Failed, with one message containing every part, and no Python traceback in it."""
    assert result.get("failed"), result.debug
    msg = result["msg"]
    assert "Traceback" not in msg and "Unexpected error" not in msg, result.debug
    for part in parts:
        assert part in msg, f"{part!r} not in the message: {msg}"


def assert_connection_lost_message(result, where):
    """The promised message of a dropped connection."""
    assert result.get("failed"), result.debug
    assert_one_clear_error(result, "connection to vCenter", "was lost", where, "run the task again", "does only what is left")
    # (ansible-core fills "exception" with "(traceback unavailable)" for a failure that has none)
    assert "Traceback (most recent call last)" not in str(result.get("exception", "")), "a lost connection is a user error, not a crash"


@pytest.fixture(name="proxy")
def fixture_proxy(vcsim):
    with CutProxy(vcsim.host, vcsim.port) as running:
        yield running


def retention(env, **args):
    return run_module("vm_retention_disk", dict(dict(name="asr-mt-02", size_gb=1, datastore="vmfs-prod-02"), **args), env=env)


# --- connection and login ----------------------------------------------------------------------------


def test_wrong_password(vcsim, si):
    before = world(si)
    env = dict(vcsim.env(), VMWARE_PASSWORD="Wr0ng-Secret-42")
    result = run_module("vm_disk_uuid", dict(name="asr-mt-01"), env=env, verbosity=3)
    assert_one_clear_error(result, f"Login to vCenter 127.0.0.1:{vcsim.port} as '{vcsim.username}' failed",
                           "user name or password is wrong", "username/password")
    assert "Wr0ng-Secret-42" not in result.stdout + result.stderr, "the password leaked into the output"
    assert world(si) == before

    second = run_module("vm_disk_uuid", dict(name="asr-mt-01"), env=vcsim.env())
    assert second["changed"] and not second.get("failed"), second.debug
    assert extra(world(si), "asr-mt-01")["disk.EnableUUID"] == "TRUE"


def test_unknown_host_name(vcsim, si):
    before = world(si)
    result = run_module("vm_disk_uuid", dict(name="asr-mt-01"), env=dict(vcsim.env(), VMWARE_HOST="vcenter.no-such-host.invalid"))
    assert_one_clear_error(result, "Cannot resolve the vCenter host name 'vcenter.no-such-host.invalid'", "hostname option", "VMWARE_HOST")
    assert world(si) == before

    second = run_module("vm_disk_uuid", dict(name="asr-mt-01"), env=vcsim.env())
    assert second["changed"] and not second.get("failed"), second.debug


def test_refused_port(vcsim, si):
    before = world(si)
    port = free_port()
    result = run_module("vm_disk_uuid", dict(name="asr-mt-01"), env=dict(vcsim.env(), VMWARE_PORT=str(port)))
    assert_one_clear_error(result, f"Connection to vCenter 127.0.0.1:{port} was refused", "hostname and port options")
    assert world(si) == before

    second = run_module("vm_disk_uuid", dict(name="asr-mt-01"), env=vcsim.env())
    assert second["changed"] and not second.get("failed"), second.debug


def test_untrusted_certificate_with_validate_certs_true(vcsim, si):
    env = dict(vcsim.env())
    env.pop("VMWARE_VALIDATE_CERTS")  # validate_certs defaults to true
    before = world(si)
    result = run_module("vm_disk_uuid", dict(name="asr-mt-01"), env=env)
    assert_one_clear_error(result, f"The TLS certificate of vCenter 127.0.0.1:{vcsim.port} is not trusted", "CERTIFICATE_VERIFY_FAILED",
                           "validate_certs: false")
    assert world(si) == before

    # The client is Python's ssl (through http.client), so it honours SSL_CERT_FILE; requests'
    # REQUESTS_CA_BUNDLE means nothing to it.
    ignored = run_module("vm_disk_uuid", dict(name="asr-mt-01"), env=dict(env, REQUESTS_CA_BUNDLE=vcsim.cert))
    assert ignored.get("failed") and "not trusted" in ignored["msg"], ignored.debug
    assert world(si) == before

    trusted = run_module("vm_disk_uuid", dict(name="asr-mt-01"), env=dict(env, SSL_CERT_FILE=vcsim.cert))
    assert trusted["changed"] and not trusted.get("failed"), trusted.debug
    assert extra(world(si), "asr-mt-01")["disk.EnableUUID"] == "TRUE"

    assert "SSL_CERT_FILE" in result["msg"], result.debug


def test_untrusted_certificate_accepted_with_validate_certs_false(vcsim, si):
    env = dict(vcsim.env())
    env.pop("VMWARE_VALIDATE_CERTS")
    result = run_module("vm_disk_uuid", dict(name="asr-mt-01", validate_certs=False), env=env)
    assert result["changed"] and not result.get("failed"), result.debug
    assert extra(world(si), "asr-mt-01")["disk.EnableUUID"] == "TRUE"
    # AWX's VMware credential injects the string "False".
    again = run_module("vm_disk_uuid", dict(name="asr-mt-01"), env=dict(env, VMWARE_VALIDATE_CERTS="False"))
    assert not again["changed"] and not again.get("failed"), again.debug


# --- selecting the VM --------------------------------------------------------------------------------


def test_vm_not_found(vcsim, si):
    before = world(si)
    result = run_module("vm_disk_uuid", dict(name="asr-mt-1"), env=vcsim.env())
    assert_one_clear_error(result, "No virtual machine named 'asr-mt-1' was found", "Check the name", "folder/datacenter options")
    by_moid = run_module("vm_disk_uuid", dict(moid="vm-999999"), env=vcsim.env())
    assert_one_clear_error(by_moid, "No virtual machine with moid 'vm-999999'", "Check the moid option")
    assert world(si) == before

    second = run_module("vm_disk_uuid", dict(name="asr-mt-01"), env=vcsim.env())
    assert second["changed"] and not second.get("failed"), second.debug


def test_name_matching_two_vms(vcsim, si):
    before = world(si)
    result = run_module("vm_disk_uuid", dict(name="dup-vm"), env=vcsim.env())
    assert_one_clear_error(result, "2 virtual machines are named 'dup-vm'", "/DC0/vm/teamA/dup-vm", "/DC0/vm/teamB/dup-vm",
                           "Set the folder option (or use uuid or moid)")
    assert result["matches"] == ["/DC0/vm/teamA/dup-vm", "/DC0/vm/teamB/dup-vm"]
    assert world(si) == before

    second = run_module("vm_disk_uuid", dict(name="dup-vm", folder="teamB"), env=vcsim.env())
    assert second["changed"] and second["vm"]["path"] == "/DC0/vm/teamB/dup-vm", second.debug
    after = world(si)
    changed = {moid for moid, vm in after["vms"].items() if vm != before["vms"][moid]}
    assert changed == {second["vm"]["moid"]}, "only the VM chosen by folder may change"


# --- datastores ----------------------------------------------------------------------------------------


def test_datastore_not_found(vcsim, si):
    env = vcsim.env()
    before = world(si)
    result = retention(env, datastore="vmfs-prod-2")
    assert_one_clear_error(result, "Datastore 'vmfs-prod-2' was not found", "vmfs-prod-02", "Fix the datastore option", "Nothing was changed")
    access = run_module("host_datastore_access", dict(name="asr-mt-02", datastores=["vmfs-prod-2"]), env=env)
    assert_one_clear_error(access, "'vmfs-prod-2' (did you mean 'vmfs-prod-02'", "Fix the datastores option", "Nothing was changed")
    assert world(si) == before

    second = retention(env)
    assert second["changed"] and second["operation"] == "added", second.debug
    assert len(disks(world(si), "asr-mt-02")) == len(disks(before, "asr-mt-02")) + 1
    third = retention(env)
    assert not third["changed"] and not third.get("failed"), third.debug


def test_nfs_datastore(vcsim, si):
    env = vcsim.env()
    before = world(si)
    access = run_module("host_datastore_access", dict(name="asr-mt-01", datastores=["vmfs-unmounted", "nfs-prod-01"]), env=env)
    assert_one_clear_error(access, "Datastore 'nfs-prod-01' cannot be used from host 'DC0_C0_H0'", "NFS", "VMFS or vSAN",
                           "Fix: list a VMFS or vSAN datastore instead", "Nothing was changed")
    disk = retention(env, datastore="nfs-prod-01")
    assert_one_clear_error(disk, "Datastore 'nfs-prod-01' cannot be used from host 'DC0_C0_H1'", "it is an NFS datastore", "VMFS or vSAN",
                           "choose another datastore", "Nothing was changed")
    assert world(si) == before, "vmfs-unmounted must stay unmounted: every datastore is judged before any is mounted"

    mounted = run_module("host_datastore_access", dict(name="asr-mt-01", datastores=["vmfs-unmounted"]), env=env)
    assert mounted["changed"] and not mounted.get("failed"), mounted.debug
    assert (world(si)["datastores"]["vmfs-unmounted"][0][1:]) == (True, True, "readWrite")
    added = retention(env)
    assert added["changed"] and added["disk"]["datastore"] == "vmfs-prod-02", added.debug


def test_datastore_read_only_on_the_host(vcsim, si):
    env = vcsim.env()
    before = world(si)
    access = run_module("host_datastore_access", dict(name="asr-mt-01", datastores=["vmfs-unmounted", "vmfs-readonly"]), env=env)
    assert_one_clear_error(access, "Datastore 'vmfs-readonly' cannot be used from host 'DC0_C0_H0'", "read-only", "read/write",
                           "Fix: make the LUN writable", "Nothing was changed")
    assert "vmfs-unmounted" not in access["msg"]
    disk = run_module("vm_retention_disk", dict(name="asr-mt-01", size_gb=1, datastore="vmfs-readonly"), env=env)
    assert_one_clear_error(disk, "Datastore 'vmfs-readonly' cannot be used from host 'DC0_C0_H0' (host-", "read-only (access mode readOnly)",
                           "needs read/write access", "choose another datastore", "Nothing was changed")
    assert world(si) == before

    # The fix for a read-only LUN is on the storage array; the run without it completes the rest.
    second = run_module("host_datastore_access", dict(name="asr-mt-01", datastores=["vmfs-unmounted"]), env=env)
    assert second["changed"] and not second.get("failed"), second.debug
    third = run_module("host_datastore_access", dict(name="asr-mt-01", datastores=["vmfs-unmounted"]), env=env)
    assert not third["changed"] and not third.get("failed"), third.debug


# --- the VM's state -----------------------------------------------------------------------------------


def test_powered_on_vm_for_a_controller_conversion(vcsim, si):
    env = vcsim.env()
    args = dict(name="asr-mt-01", convert=True, type="lsilogicsas", guest_ready=True)
    before = world(si)
    result = run_module("vm_scsi_controller", args, env=env)
    assert_one_clear_error(result, "VM /DC0/vm/asr/asr-mt-01 is poweredOn", "power it off before converting", "SCSI controller 0",
                           "Nothing was changed")
    assert world(si) == before

    off = run_module("vm_power", dict(name="asr-mt-01", state="powered_off"), env=env)
    assert off["changed"], off.debug
    second = run_module("vm_scsi_controller", args, env=env)
    assert second["changed"] and not second.get("failed"), second.debug
    after = vm_of(world(si), "asr-mt-01")
    assert "VirtualLsiLogicSASController" in [device[0] for device in after["devices"]]
    assert "ParaVirtualSCSIController" not in [device[0] for device in after["devices"]]
    third = run_module("vm_scsi_controller", args, env=env)
    assert not third["changed"] and not third.get("failed"), third.debug


def test_retention_disk_that_would_shrink(vcsim, si):
    env = vcsim.env()
    assert retention(env, size_gb=2)["changed"]
    before = world(si)
    result = retention(env, size_gb=1, grow=True)
    assert_one_clear_error(result, "The retention disk of VM /DC0/vm/asr/asr-mt-02", "is 2 GB, larger than size_gb 1 GB",
                           "never shrunk", "Set size_gb to 2 or more", "Nothing was changed")
    assert world(si) == before

    second = retention(env, size_gb=3, grow=True)
    assert second["changed"] and second["operation"] == "grown" and second["disk"]["size_gb"] == 3, second.debug
    third = retention(env, size_gb=3, grow=True)
    assert not third["changed"] and not third.get("failed"), third.debug


# --- vCenter task fault -------------------------------------------------------------------------------


def test_vcenter_task_fault(vcsim, si):
    env = vcsim.env()
    set_extra_config(si, "asr-mt-02", {FAULT_KNOB: LOCKED})
    wait(find_vm_object(si, "asr-mt-01").PowerOffVM_Task())
    set_extra_config(si, "asr-mt-01", {FAULT_KNOB: "devices:Device 'SCSI controller 0' cannot be removed while the VM is being backed up"})
    before = world(si)

    disk = retention(env)
    assert_one_clear_error(disk, "Adding a 1 GB retention disk on vmfs-prod-02 of VM /DC0/vm/asr/asr-mt-02 failed in vCenter",
                           LOCKED, "(GenericVmConfigFault)")
    controller = run_module("vm_scsi_controller", dict(name="asr-mt-01", convert=True, guest_ready=True), env=env)
    assert_one_clear_error(controller, "Converting SCSI controllers to lsilogic of VM /DC0/vm/asr/asr-mt-01 failed in vCenter",
                           "being backed up", "(GenericVmConfigFault)")
    assert world(si) == before, "a failed reconfigure task must leave the VM as it was"

    set_extra_config(si, "asr-mt-02", {FAULT_KNOB: ""})
    set_extra_config(si, "asr-mt-01", {FAULT_KNOB: ""})
    second = retention(env)
    assert second["changed"] and second["operation"] == "added", second.debug
    assert run_module("vm_scsi_controller", dict(name="asr-mt-01", convert=True, guest_ready=True), env=env)["changed"]
    after = world(si)
    assert len(disks(after, "asr-mt-02")) == len(disks(before, "asr-mt-02")) + 1
    assert extra(after, "asr-mt-02")[RETENTION_MARKER] == second["disk"]["uuid"]
    third = retention(env)
    assert not third["changed"] and not third.get("failed"), third.debug

    assert "Fix that cause, then run again" in disk["msg"], disk.debug


# --- a connection dropped in the middle of a run ------------------------------------------------------


def test_connection_dropped_before_the_reconfigure_reaches_vcenter(vcsim, si, proxy):
    env = proxy.env(vcsim.env())
    before = world(si)
    proxy.arm(method="ReconfigVM_Task", phase="request")
    result = retention(env)
    assert proxy.cuts and proxy.cuts[0]["method"] == "ReconfigVM_Task", proxy.cuts
    assert world(si) == before, "vCenter never received the reconfigure: nothing may have changed"

    second = retention(env)
    assert second["changed"] and second["operation"] == "added", second.debug
    after = world(si)
    assert len(disks(after, "asr-mt-02")) == len(disks(before, "asr-mt-02")) + 1
    assert extra(after, "asr-mt-02")[RETENTION_MARKER] == second["disk"]["uuid"]
    assert not retention(env)["changed"]
    assert_connection_lost_message(result, "Adding a 1 GB retention disk on vmfs-prod-02 of VM /DC0/vm/asr/asr-mt-02")


def test_connection_dropped_after_vcenter_applied_the_reconfigure(vcsim, si, proxy):
    env = proxy.env(vcsim.env())
    before = world(si)
    proxy.arm(method="ReconfigVM_Task", phase="response")
    result = retention(env)
    assert proxy.cuts and proxy.cuts[0]["phase"] == "response", proxy.cuts
    # vCenter added the disk and the marker in one reconfiguration: both or neither, never one.
    middle = world(si)
    added = [disk for disk in disks(middle, "asr-mt-02") if disk not in disks(before, "asr-mt-02")]
    assert len(added) == 1 and extra(middle, "asr-mt-02")[RETENTION_MARKER] == added[0][6], middle

    assert extra(middle, "asr-mt-02")[RETENTION_PENDING] == f"scsi0:{added[0][3]}", middle

    # The second run finds the disk by its marker, adds no other, and removes the pending slot the
    # lost reply left (found by the fault soak: a run without a cut leaves no slot).
    second = retention(env)
    assert not second.get("failed") and second["changed"] and second["operation"] == "recorded", second.debug
    assert second["disk"]["uuid"] == added[0][6]
    after = world(si)
    assert disks(after, "asr-mt-02") == disks(middle, "asr-mt-02"), "the second run must find the disk by its marker, not add another"
    assert extra(after, "asr-mt-02")[RETENTION_MARKER] == added[0][6] and RETENTION_PENDING not in extra(after, "asr-mt-02"), after
    assert not retention(env)["changed"]
    assert_connection_lost_message(result, "Adding a 1 GB retention disk on vmfs-prod-02 of VM /DC0/vm/asr/asr-mt-02")


def test_connection_dropped_while_waiting_for_the_task(vcsim, si, proxy):
    env = proxy.env(vcsim.env())
    wait(find_vm_object(si, "asr-mt-01").PowerOffVM_Task())
    before = vm_of(world(si), "asr-mt-01")
    proxy.arm(method="RetrievePropertiesEx", after="ReconfigVM_Task")
    args = dict(name="asr-mt-01", convert=True, type="lsilogicsas", guest_ready=True)
    result = run_module("vm_scsi_controller", args, env=env)
    assert proxy.cuts and proxy.cuts[0]["method"] == "RetrievePropertiesEx", proxy.cuts
    # The conversion is one reconfiguration: the new controller holds every device at its unit.
    middle = vm_of(world(si), "asr-mt-01")
    kinds = [device[0] for device in middle["devices"]]
    assert "VirtualLsiLogicSASController" in kinds and "ParaVirtualSCSIController" not in kinds, kinds
    assert attached(middle) == attached(before)

    second = run_module("vm_scsi_controller", args, env=env)
    assert not second.get("failed") and not second["changed"], second.debug
    assert_connection_lost_message(result, "Converting SCSI controllers to lsilogicsas of VM /DC0/vm/asr/asr-mt-01")


def test_reply_cut_in_the_middle_of_the_stream(vcsim, si, proxy):
    env = proxy.env(vcsim.env())
    before = world(si)
    # The VM lookup's inventory read: its reply stops after 300 bytes.
    proxy.arm(method="RetrievePropertiesEx", partial=300)
    result = run_module("vm_disk_uuid", dict(name="asr-mt-01"), env=env)
    assert proxy.cuts and proxy.cuts[0]["partial"] == 300, proxy.cuts
    assert world(si) == before

    second = run_module("vm_disk_uuid", dict(name="asr-mt-01"), env=env)
    assert second["changed"] and not second.get("failed"), second.debug
    assert_connection_lost_message(result, "cut short")


def test_reply_of_the_api_version_probe_cut_at_login(vcsim, si, proxy):
    # The first request of a login is pyVmomi's GET /sdk/vimServiceVersions.xml; a reply that stops
    # half-way raised ElementTree's ParseError, reported as "Unexpected error" (found by the fault soak).
    env = proxy.env(vcsim.env())
    before = world(si)
    proxy.arm(index=1, partial=0.5)
    result = run_module("vm_disk_uuid", dict(name="asr-mt-01"), env=env)
    assert proxy.cuts and proxy.cuts[0]["path"] == "/sdk/vimServiceVersions.xml", proxy.cuts
    assert_one_clear_error(result, "The connection to vCenter", "broke while logging in", "the reply was cut short", "Nothing was changed",
                           "run the task again")
    assert world(si) == before
    assert run_module("vm_disk_uuid", dict(name="asr-mt-01"), env=env)["changed"]


@pytest.mark.slow
def test_role_run_dropped_in_the_middle_then_completed(vcsim, si, proxy):
    env = proxy.env(vcsim.env())
    # The role's one reconfiguration while the VM is off (controllers, disk.EnableUUID, retention disk) is
    # applied, and its reply lost: the module must not claim it was not applied, nor power the VM on.
    proxy.arm(method="ReconfigVM_Task", nth=1, phase="response")
    first = run_playbook(VSPHERE_ROLE_PLAYBOOK, env=env, extra_vars=ASR_MT_01_VARS)
    assert first.failed_hosts == ["localhost"] and proxy.cuts, first.debug
    failed = [task for task in first["tasks"] if task["result"].get("failed")]
    assert [task["task"].rsplit(" : ", 1)[-1] for task in failed] == [
        "Remove the snapshots, power the VM off once, make every change in one reconfiguration, power it on"], first.debug
    middle = vm_of(world(si), "asr-mt-01")
    assert dict(middle["extra_config"]).get("disk.EnableUUID") == "TRUE"
    assert middle["power"] == "poweredOff" and middle["snapshots"] == []
    assert "ParaVirtualSCSIController" not in [device[0] for device in middle["devices"]]
    assert "powered on again" not in failed[0]["result"]["msg"], first.debug

    second = run_playbook(VSPHERE_ROLE_PLAYBOOK, env=env, extra_vars=ASR_MT_01_VARS)
    assert not second.failed_hosts, second.debug
    done = vm_of(world(si), "asr-mt-01")
    assert len([device for device in done["devices"] if device[0] == "VirtualDisk"]) == 3
    assert RETENTION_MARKER in dict(done["extra_config"])
    third = run_playbook(VSPHERE_ROLE_PLAYBOOK, env=env, extra_vars=ASR_MT_01_VARS)
    assert not third.failed_hosts and sum(stat["changed"] for stat in third["stats"].values()) == 0, third.debug
    assert_connection_lost_message(failed[0]["result"], "VM /DC0/vm/asr/asr-mt-01")
    # The run after the interrupted one powers on the VM that the interrupted run powered off.
    assert done["power"] == "poweredOn", second.debug
