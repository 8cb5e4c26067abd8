"""The vcsim harness serves the scene the collection's tests rely on.

State is read with RetrievePropertiesEx (support.vcsim.read_props), never with
property accessors, except where the accessor itself is under test.
Run: /tmp/venv/bin/python -m pytest tests/integration/test_scene.py -q
"""

import os
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))  # until pytest.ini sets pythonpath

from support.vcsim import read_props, read_props_list, start_vcsim  # noqa: E402
from support.vsphere import task_outcome  # noqa: E402

pyVmomi = pytest.importorskip("pyVmomi")
from pyVmomi import vim  # noqa: E402

CLUSTER_HOSTS = ["DC0_C0_H0", "DC0_C0_H1", "DC0_C0_H2"]


@pytest.fixture(scope="module")
def sim():
    with start_vcsim() as s:
        yield s


@pytest.fixture(scope="module")
def si(sim):
    return sim.connect()


@pytest.fixture(scope="module")
def host_names(si):
    """MoRef id -> host name."""
    return {e["obj"]._moId: e["name"] for e in read_props_list(si, "HostSystem", [])}


def vm_entries(si, name, paths):
    return [e for e in read_props_list(si, "VirtualMachine", paths) if e["name"] == name]


# --- server basics -----------------------------------------------------------

def test_startup_reports_its_address_and_certificate(sim):
    # How fast it starts is benchmarks' business, not a test's (a loaded CI machine would flake it).
    assert sim.url == "https://127.0.0.1:%d/sdk" % sim.port
    assert sim.cert and os.path.exists(sim.cert)


def test_env_for_modules(sim):
    env = sim.env()
    assert env["VMWARE_HOST"] == "127.0.0.1"
    assert env["VMWARE_PORT"] == str(sim.port)
    assert env["VMWARE_USER"] == "administrator@vsphere.local"
    assert env["VMWARE_PASSWORD"] == "VMware1!"
    assert env["VMWARE_VALIDATE_CERTS"] == "false"


@pytest.mark.parametrize("user,pwd", [("administrator@vsphere.local", "wrong"), ("root", "VMware1!")])
def test_wrong_credentials_are_refused(sim, user, pwd):
    with pytest.raises(vim.fault.InvalidLogin):
        sim.connect(username=user, password=pwd)


def test_unset_property_accessor_returns_none_and_session_survives(si):
    vm = vm_entries(si, "asr-mt-02", [])[0]["obj"]
    assert vm.snapshot is None          # vcsim alone panics here and drops the connection
    assert vm.name == "asr-mt-02"       # same session still works
    assert vm.snapshot is None


# --- inventory ---------------------------------------------------------------

def test_cluster_has_drs_and_three_hosts(si, host_names):
    c = read_props(si, "ClusterComputeResource", ["host", "configurationEx"])["DC0_C0"]
    assert sorted(host_names[h._moId] for h in c["host"]) == CLUSTER_HOSTS
    assert c["configurationEx"].drsConfig.enabled is True
    assert read_props(si, "Datacenter", []).keys() == {"DC0"}


def test_datastore_types(si):
    ds = read_props(si, "Datastore", ["summary.type", "info"])
    for name in ["vmfs-mt-01", "vmfs-prod-01", "vmfs-prod-02", "vmfs-readonly", "vmfs-unmounted"]:
        assert ds[name]["summary.type"] == "VMFS", name
        info = ds[name]["info"]
        assert isinstance(info, vim.host.VmfsDatastoreInfo), name
        assert info.vmfs.name == name and info.vmfs.majorVersion == 6 and info.vmfs.uuid
    assert ds["nfs-prod-01"]["summary.type"] == "NFS"
    assert isinstance(ds["nfs-prod-01"]["info"], vim.host.NasDatastoreInfo)
    assert ds["nfs-prod-01"]["info"].nas.remoteHost == "nfs01.lab.local"


def mounts(ds_entry, host_names):
    return {host_names[m.key._moId]: m.mountInfo for m in ds_entry["host"]}


def test_host_mounts(si, host_names):
    ds = read_props(si, "Datastore", ["host"])
    for name in ["vmfs-mt-01", "vmfs-prod-01", "vmfs-prod-02", "nfs-prod-01"]:
        m = mounts(ds[name], host_names)
        assert sorted(m) == CLUSTER_HOSTS, name
        assert all(i.accessMode == "readWrite" and i.mounted and i.accessible for i in m.values()), name
    ro = mounts(ds["vmfs-readonly"], host_names)
    assert list(ro) == ["DC0_C0_H0"] and ro["DC0_C0_H0"].accessMode == "readOnly" and ro["DC0_C0_H0"].mounted
    un = mounts(ds["vmfs-unmounted"], host_names)
    assert list(un) == ["DC0_C0_H0"] and un["DC0_C0_H0"].mounted is False


def test_hosts_list_their_datastores(si):
    hosts = read_props(si, "HostSystem", ["datastore"])
    ds_names = {e["obj"]._moId: e["name"] for e in read_props_list(si, "Datastore", [])}
    h0 = {ds_names[d._moId] for d in hosts["DC0_C0_H0"]["datastore"]}
    assert {"vmfs-mt-01", "vmfs-prod-01", "vmfs-readonly", "vmfs-unmounted", "nfs-prod-01"} <= h0
    h1 = {ds_names[d._moId] for d in hosts["DC0_C0_H1"]["datastore"]}
    assert "vmfs-prod-01" in h1 and "vmfs-readonly" not in h1


def test_storage_pod(si):
    pod = read_props(si, "StoragePod", ["childEntity", "podStorageDrsEntry", "summary"])["dsc-failback"]
    ds_names = {e["obj"]._moId: e["name"] for e in read_props_list(si, "Datastore", [])}
    assert sorted(ds_names[d._moId] for d in pod["childEntity"]) == ["vmfs-mt-01", "vmfs-prod-01"]
    assert pod["podStorageDrsEntry"].storageDrsConfig.podConfig.enabled is True
    assert pod["summary"].capacity > 0


def test_folders(si):
    folders = read_props(si, "Folder", ["parent"])
    for name in ["asr", "prod", "teamA", "teamB"]:
        assert folders[name]["parent"]._moId == folders["vm"]["obj"]._moId if "obj" in folders["vm"] else True
    names = {e["name"] for e in read_props_list(si, "Folder", [])}
    assert {"asr", "prod", "teamA", "teamB"} <= names


VM_PATHS = ["config.guestId", "config.hardware.numCPU", "config.hardware.memoryMB", "config.hardware.device",
            "config.extraConfig", "config.uuid", "runtime.powerState", "runtime.host", "snapshot",
            "config.files.vmPathName", "parent", "runtime.consolidationNeeded"]


@pytest.fixture(scope="module")
def vms(si):
    return read_props(si, "VirtualMachine", VM_PATHS)


def controllers(vm):
    return [d for d in vm["config.hardware.device"] if isinstance(d, vim.vm.device.VirtualSCSIController)]


def disks(vm):
    return [d for d in vm["config.hardware.device"] if isinstance(d, vim.vm.device.VirtualDisk)]


def extra(vm):
    return {o.key: o.value for o in vm["config.extraConfig"]}


def test_master_target_with_every_problem(vms, host_names):
    mt = vms["asr-mt-01"]
    assert mt["config.guestId"] == "ubuntu64Guest"
    assert (mt["config.hardware.numCPU"], mt["config.hardware.memoryMB"]) == (4, 8192)
    ctrls = controllers(mt)
    assert len(ctrls) == 1 and isinstance(ctrls[0], vim.vm.device.ParaVirtualSCSIController)
    assert ctrls[0].busNumber == 0 and ctrls[0].key == 1000 and sorted(ctrls[0].device) == [2000, 2001]
    ds = disks(mt)
    assert [(d.controllerKey, d.unitNumber) for d in ds] == [(1000, 0), (1000, 1)]
    assert ds[0].capacityInKB == 100 * 1024 * 1024
    assert all(d.backing.fileName.startswith("[vmfs-mt-01] ") for d in ds)
    assert any(isinstance(d, vim.vm.device.VirtualCdrom) for d in mt["config.hardware.device"])
    assert "disk.EnableUUID" not in extra(mt)
    tree = mt["snapshot"].rootSnapshotList
    assert [s.name for s in tree] == ["before-patch"]
    assert [s.name for s in tree[0].childSnapshotList] == ["after-patch"]
    assert mt["runtime.powerState"] == "poweredOn"
    assert host_names[mt["runtime.host"]._moId] == "DC0_C0_H0"
    assert mt["config.files.vmPathName"].startswith("[vmfs-mt-01] ")
    assert mt["runtime.consolidationNeeded"] is False
    assert mt["parent"].name == "asr"


def test_clean_master_target(vms):
    mt = vms["asr-mt-02"]
    assert mt["config.guestId"] == "ubuntu64Guest"
    assert [type(c) for c in controllers(mt)] == [vim.vm.device.VirtualLsiLogicSASController]
    assert extra(mt)["disk.EnableUUID"] == "TRUE"
    assert "snapshot" not in mt
    assert mt["runtime.powerState"] == "poweredOff"
    assert mt["config.files.vmPathName"].startswith("[vmfs-mt-01] ")


def test_protected_vms(vms):
    web, db, nfs, win = vms["prod-web-01"], vms["prod-db-01"], vms["prod-app-nfs"], vms["prod-win-01"]
    assert [s.name for s in web["snapshot"].rootSnapshotList] == ["nightly"]
    assert web["runtime.powerState"] == "poweredOn"
    assert disks(web)[0].backing.fileName.startswith("[vmfs-prod-01] ")
    assert len(disks(db)) == 2 and all(d.backing.fileName.startswith("[vmfs-prod-02] ") for d in disks(db))
    assert disks(nfs)[0].backing.fileName.startswith("[nfs-prod-01] ")
    assert win["config.guestId"] == "windows9Server64Guest"
    assert disks(win)[0].backing.fileName.startswith("[vmfs-prod-02] ")
    for name in ["prod-web-01", "prod-db-01", "prod-app-nfs", "prod-win-01", "prod-clone-01"]:
        assert vms[name]["parent"].name == "prod"


def test_template_clone_shares_uuids(vms):
    mt, clone = vms["asr-mt-01"], vms["prod-clone-01"]
    assert clone["config.uuid"] == mt["config.uuid"]
    assert disks(clone)[0].backing.uuid == disks(mt)[0].backing.uuid
    assert vms["asr-mt-02"]["config.uuid"] != mt["config.uuid"]


def test_duplicate_vm_names(si):
    dups = vm_entries(si, "dup-vm", ["parent", "runtime.powerState", "config.hardware.device"])
    assert sorted(d["parent"].name for d in dups) == ["teamA", "teamB"]
    assert all(d["runtime.powerState"] == "poweredOff" for d in dups)
    assert all(isinstance(c, vim.vm.device.VirtualLsiLogicController) for d in dups for c in controllers(d))


def test_datastores_inside_pod_are_in_container_views(si):
    names = {e["name"] for e in read_props_list(si, "Datastore", [])}
    assert {"vmfs-mt-01", "vmfs-prod-01", "vmfs-prod-02", "vmfs-readonly", "vmfs-unmounted", "nfs-prod-01"} <= names


# --- operations the modules need (on a throw-away simulator) -------------------

@pytest.fixture()
def fresh():
    with start_vcsim() as s:
        si = s.connect()
        yield si, {e["name"]: e["obj"] for e in read_props_list(si, "VirtualMachine", []) if e["name"] != "dup-vm"}


def test_vm_operations(fresh):
    si, vms = fresh
    mt = vms["asr-mt-01"]

    res = task_outcome(si, mt.ReconfigVM_Task(vim.vm.ConfigSpec(
        extraConfig=[vim.option.OptionValue(key="disk.EnableUUID", value="TRUE")])))
    assert res["info.state"] == "success"
    assert extra(read_props(si, "VirtualMachine", ["config.extraConfig"], names=["asr-mt-01"])["asr-mt-01"])[
        "disk.EnableUUID"] == "TRUE"

    tree = read_props(si, "VirtualMachine", ["snapshot"], names=["asr-mt-01"])["asr-mt-01"]["snapshot"]
    child = tree.rootSnapshotList[0].childSnapshotList[0].snapshot
    assert task_outcome(si, child.RemoveSnapshot_Task(removeChildren=False))["info.state"] == "success"
    tree = read_props(si, "VirtualMachine", ["snapshot"], names=["asr-mt-01"])["asr-mt-01"]["snapshot"]
    assert [s.name for s in tree.rootSnapshotList] == ["before-patch"] and not tree.rootSnapshotList[0].childSnapshotList

    assert task_outcome(si, mt.RemoveAllSnapshots_Task())["info.state"] == "success"
    assert "snapshot" not in read_props(si, "VirtualMachine", ["snapshot"], names=["asr-mt-01"])["asr-mt-01"]

    assert task_outcome(si, mt.PowerOffVM_Task())["info.state"] == "success"
    err = task_outcome(si, mt.PowerOffVM_Task())  # already off: the task fails, error readable
    assert err["info.state"] == "error" and isinstance(err["info.error"], vim.fault.InvalidPowerState)

    assert task_outcome(si, vms["asr-mt-02"].CreateSnapshot_Task("s1", "", False, False))["info.state"] == "success"
    assert vms["asr-mt-02"].snapshot.rootSnapshotList[0].name == "s1"


def test_controller_conversion_in_one_reconfigure(fresh):
    """PVSCSI -> LSI Logic SAS: remove the old controller, add the new one with the
    same key/bus, re-point the disks (edit controllerKey), all in one spec."""
    si, vms = fresh
    mt = vms["asr-mt-01"]
    assert task_outcome(si, mt.PowerOffVM_Task())["info.state"] == "success"
    devs = read_props(si, "VirtualMachine", ["config.hardware.device"], names=["asr-mt-01"])["asr-mt-01"]
    pv = controllers(devs)[0]
    new = vim.vm.device.VirtualLsiLogicSASController(
        key=pv.key, busNumber=pv.busNumber, sharedBus=pv.sharedBus,
        controllerKey=pv.controllerKey, unitNumber=pv.unitNumber)
    changes = [vim.vm.device.VirtualDeviceSpec(operation="remove", device=pv),
               vim.vm.device.VirtualDeviceSpec(operation="add", device=new)]
    for d in disks(devs):
        d.controllerKey = new.key
        changes.append(vim.vm.device.VirtualDeviceSpec(operation="edit", device=d))
    assert task_outcome(si, mt.ReconfigVM_Task(vim.vm.ConfigSpec(deviceChange=changes)))["info.state"] == "success"

    after = read_props(si, "VirtualMachine", ["config.hardware.device", "summary.config.numVirtualDisks"],
                       names=["asr-mt-01"])["asr-mt-01"]
    ctrls = controllers(after)
    assert [type(c) for c in ctrls] == [vim.vm.device.VirtualLsiLogicSASController]
    assert ctrls[0].key == 1000 and ctrls[0].busNumber == 0 and sorted(ctrls[0].device) == [2000, 2001]
    assert [(d.key, d.controllerKey, d.unitNumber) for d in disks(after)] == [(2000, 1000, 0), (2001, 1000, 1)]
    assert after["summary.config.numVirtualDisks"] == 2


def test_storage_drs_vm_override_is_stored(fresh):
    si, vms = fresh
    pod = read_props_list(si, "StoragePod", [])[0]["obj"]
    spec = vim.storageDrs.ConfigSpec(vmConfigSpec=[vim.storageDrs.VmConfigSpec(
        operation="add", info=vim.storageDrs.VmConfigInfo(vm=vms["asr-mt-01"], enabled=False))])
    srm = si.RetrieveContent().storageResourceManager
    assert task_outcome(si, srm.ConfigureStorageDrsForPod_Task(pod, spec, True))["info.state"] == "success"
    cfg = read_props(si, "StoragePod", ["podStorageDrsEntry"])["dsc-failback"]["podStorageDrsEntry"].storageDrsConfig
    assert [(c.vm._moId, c.enabled) for c in cfg.vmConfig] == [(vms["asr-mt-01"]._moId, False)]
    assert cfg.podConfig.enabled is True


def test_benchmark_scene_sizes():
    with start_vcsim(extra_vms=100, master_targets=4) as s:
        si = s.connect()
        names = [e["name"] for e in read_props_list(si, "VirtualMachine", [])]
        assert sum(n.startswith("filler-") for n in names) == 100 and "filler-0100" in names
        assert {"asr-mt-03", "asr-mt-04"} <= set(names)
        mt3 = read_props(si, "VirtualMachine", ["config.hardware.device", "snapshot"], names=["asr-mt-03"])["asr-mt-03"]
        assert isinstance(controllers(mt3)[0], vim.vm.device.ParaVirtualSCSIController) and "snapshot" in mt3
        assert s.startup_seconds < 10
