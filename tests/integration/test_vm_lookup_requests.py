"""What finding VMs costs vCenter: requests and objects read by find_vm and find_vms (module_utils/_vsphere_lookup).

Every SOAP call of the lookup is recorded at the pyVmomi stub: its method and, for the PropertyCollector's
answers, each object's type and the properties read. The same lookups run in a small inventory (the default
scene) and in one with 300 filler VMs more: the number of requests must not change, and with a folder no VM
outside that folder may be read.
"""

from __future__ import annotations

from collections import Counter

import pytest
from pyVim.task import WaitForTask
from pyVmomi import vim
from support.vcsim import start_vcsim

from ansible_collections.siterecovery.master_target.plugins.module_utils._vsphere_client import VSphereClient, VSphereError
from ansible_collections.siterecovery.master_target.plugins.module_utils._vsphere_lookup import find_vm, find_vms

FILLERS = 300
PATHS = ["runtime.powerState", "snapshot"]


@pytest.fixture(scope="module")
def small():
    sim = start_vcsim(scene="default")
    try:
        yield VSphereClient(sim.connect(), "vcsim")
    finally:
        sim.stop()


@pytest.fixture(scope="module")
def large():
    sim = start_vcsim(scene="default", extra_vms=FILLERS)
    try:
        yield VSphereClient(sim.connect(), "vcsim")
    finally:
        sim.stop()


class Recorder:
    """Records the SOAP calls made through a client: (method, [(object type, property names)] for collector answers)."""

    def __init__(self, client):
        self.client, self.calls = client, []

    def __enter__(self):
        invoke = self.client.stub.InvokeMethod

        def recording(mo, info, args):
            answer = invoke(mo, info, args)
            objects = getattr(answer, "objects", None) if info.wsdlName.endswith("RetrievePropertiesEx") else None
            self.calls.append((info.wsdlName, [(type(item.obj).__name__.rsplit(".", 1)[-1], sorted(prop.name for prop in item.propSet or []))
                                               for item in objects or []]))
            return answer

        self.client.stub.InvokeMethod = recording
        return self

    def __exit__(self, *exc):
        del self.client.stub.InvokeMethod  # the instance attribute set above; the class's method shows again

    def methods(self):
        return Counter(method for method, _objects in self.calls)

    def objects(self, obj_type):
        return [props for _method, objects in self.calls for kind, props in objects if kind == obj_type]


def lookup(client, selections):
    with Recorder(client) as recorder:
        found = find_vms(client, selections, PATHS)
    return found, recorder


def test_a_lookup_by_name_reads_only_names_and_costs_the_same_requests_in_any_inventory(small, large):
    for client in (small, large):
        found, recorder = lookup(client, [dict(name="asr-mt-01")])
        assert found[0].path == "/DC0/vm/asr/asr-mt-01"
        assert sorted(found[0].props) == ["name", "runtime.powerState", "snapshot"]
        assert recorder.methods() == {"RetrievePropertiesEx": 2}
        first = recorder.calls[0][1]
        assert len(first) > (FILLERS if client is large else 8)  # every VM ...
        assert {tuple(props) for _kind, props in first} == {("name",)}  # ... but only its name
        # The second read: the chosen VM with its paths, and the few folders above it (not every VM's).
        assert [kind for kind, _props in recorder.calls[1][1]].count("VirtualMachine") == 1


def test_a_lookup_with_a_folder_reads_no_vm_outside_it(small, large):
    for client in (small, large):
        found, recorder = lookup(client, [dict(name="asr-mt-01", folder="asr")])
        assert found[0].path == "/DC0/vm/asr/asr-mt-01"
        assert recorder.methods() == {"RetrievePropertiesEx": 3}
        # Names of the two VMs in asr (asr-mt-01, asr-mt-02), then the paths of the one chosen.
        assert len(recorder.objects("VirtualMachine")) == 3


def test_find_vms_costs_the_requests_of_one_lookup(large):
    moid = find_vm(large, dict(name="prod-db-01"), []).moid
    one, one_recorder = lookup(large, [dict(name="filler-0001")])
    five, five_recorder = lookup(large, [
        dict(name="filler-0001"), dict(name="asr-mt-01", folder="asr"), dict(name="dup-vm", folder="teamB"),
        dict(moid=moid), dict(name="filler-0007", datacenter="DC0"),
    ])
    assert five_recorder.methods() == one_recorder.methods() == {"RetrievePropertiesEx": 2}
    assert [vm.path for vm in five] == [
        "/DC0/vm/filler/filler-0001", "/DC0/vm/asr/asr-mt-01", "/DC0/vm/teamB/dup-vm", f"prod-db-01 ({moid})", "/DC0/vm/filler/filler-0007"]
    assert five[0].moid == one[0].moid
    assert all({"name", "runtime.powerState"} <= set(vm.props) <= {"name", *PATHS} for vm in five)  # snapshot: unset without one

    # Every selection with a folder: 3 requests, and no VM of other folders read: the names of the 3 VMs in asr
    # and teamA, then the paths of the 2 chosen.
    _found, recorder = lookup(large, [dict(name="asr-mt-01", folder="asr"), dict(name="dup-vm", folder="teamA")])
    assert recorder.methods() == {"RetrievePropertiesEx": 3}
    assert len(recorder.objects("VirtualMachine")) == 5


@pytest.mark.parametrize("failing", [
    dict(name="dup-vm"), dict(name="nope", folder="asr"), dict(name="db/01"), dict(moid="vm-999999"), dict(uuid="no-such-uuid"),
])
def test_find_vms_raises_what_find_vm_says_of_the_first_selection_that_fails(small, failing):
    with pytest.raises(VSphereError) as alone:
        find_vm(small, failing)
    with pytest.raises(VSphereError) as batched:
        find_vms(small, [dict(name="asr-mt-01"), failing, dict(name="nope-either")])
    assert batched.value.msg == alone.value.msg


def test_a_vm_of_a_vapp_is_found_by_name_and_folder():
    """A guard: vApp VMs are found as before (the simulator keeps them in the vApp's folder as well)."""
    sim = start_vcsim(scene="default")
    try:
        si = sim.connect()
        datacenter = si.content.rootFolder.childEntity[0]
        cluster = next(item for item in datacenter.hostFolder.childEntity if isinstance(item, vim.ClusterComputeResource))
        folder = next(item for item in datacenter.vmFolder.childEntity if item.name == "asr")

        def allocation():
            return vim.ResourceAllocationInfo(reservation=0, expandableReservation=True, limit=-1, shares=vim.SharesInfo(level="normal", shares=0))

        vapp = cluster.resourcePool.CreateVApp(name="app1", resSpec=vim.ResourceConfigSpec(cpuAllocation=allocation(), memoryAllocation=allocation()),
                                               configSpec=vim.vApp.VAppConfigSpec(), vmFolder=folder)
        WaitForTask(vapp.CreateChildVM_Task(config=vim.vm.ConfigSpec(name="vapp-vm", guestId="otherGuest",
                                                                     files=vim.vm.FileInfo(vmPathName="[LocalDS_0]"))))
        client = VSphereClient(si, "vcsim")
        by_name, by_folder = find_vms(client, [dict(name="vapp-vm"), dict(name="vapp-vm", folder="asr")], PATHS)
        assert by_name.moid == by_folder.moid
        assert by_name.path == by_folder.path == "/DC0/vm/asr/vapp-vm"
    finally:
        sim.stop()
