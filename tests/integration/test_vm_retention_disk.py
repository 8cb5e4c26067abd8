"""vm_retention_disk against the simulator: add with marker, idempotence, grow, refusals, removal."""

from __future__ import annotations

import pytest
from pyVmomi import vim

from support.ansible import run_module
from support.cutproxy import CutProxy
from support.vcsim import read_props
from support.vsphere import find_vm_object, set_extra_config, vm_state, wait

MODULE = "vm_retention_disk"
MARKER = "siterecovery.retentionDisk.uuid"
GIB = 1024**3
VM = "asr-mt-02"  # powered off, LSI Logic SAS on bus 0 (key 1000), disks at units 0 and 1


def state(si, name=VM):
    """The VM's disks {key: (controller key, unit, bytes, file, uuid)} and its marker value (None when unset)."""
    props = vm_state(si, name, ["config.hardware.device", "config.extraConfig"])
    disks = {
        d.key: (d.controllerKey, d.unitNumber, d.capacityInBytes, d.backing.fileName, d.backing.uuid)
        for d in props["config.hardware.device"]
        if isinstance(d, vim.vm.device.VirtualDisk)
    }
    marker = next((o.value for o in props.get("config.extraConfig") or [] if o.key == MARKER), None)
    return disks, marker


def extra_value(si, key, name=VM):
    """The value of the VM's advanced setting `key` (None when unset)."""
    options = vm_state(si, name, ["config.extraConfig"]).get("config.extraConfig") or []
    return next((o.value for o in options if o.key == key), None)


def present(env, check=False, diff=False, **args):
    return run_module(MODULE, dict(dict(name=VM, size_gb=1, datastore="vmfs-prod-02"), **args), env=env, check=check, diff=diff)


def test_check_mode_reports_the_disk_it_would_add_and_changes_nothing(vcsim, si):
    before = state(si)
    result = present(vcsim.env(), check=True, diff=True)
    assert result["changed"] and result["operation"] == "added" and not result.get("failed"), result.debug
    disk = result["disk"]
    assert (disk["datastore"], disk["size_gb"], disk["controller_bus"], disk["unit_number"], disk["provisioning"]) == (
        "vmfs-prod-02", 1, 0, 2, "thin"), result.debug
    assert disk["key"] is None and disk["uuid"] is None
    assert result["diff"]["before"] == {"retention_disk": None}
    assert result["diff"]["after"] == {"retention_disk": {"size_gb": 1, "datastore": "vmfs-prod-02", "controller_bus": 0, "unit_number": 2}}
    assert state(si) == before, "check mode changed the VM"


def test_adds_exactly_one_marked_disk_then_is_idempotent(vcsim, si):
    env = vcsim.env()
    before_disks, before_marker = state(si)
    assert before_marker is None

    first = present(env)
    assert first["changed"] and first["operation"] == "added", first.debug
    disks, marker = state(si)
    new = {key: value for key, value in disks.items() if key not in before_disks}
    assert len(new) == 1 and all(disks[key] == value for key, value in before_disks.items()), disks
    (key, (controller, unit, size, file_name, uuid)), = new.items()
    assert (controller, unit, size) == (1000, 2, GIB)
    assert file_name.startswith("[vmfs-prod-02] ")
    assert marker == uuid and uuid.upper().startswith("6000C29")
    disk = first["disk"]
    assert (disk["key"], disk["uuid"], disk["file_name"], disk["datastore"], disk["size_gb"]) == (key, uuid, file_name, "vmfs-prod-02", 1)
    digits = uuid.replace("-", "").lower()
    assert disk["by_id"] == f"wwn-0x{digits}" and disk["wwid"] == f"3{digits}"
    assert disk["label"].startswith("Hard disk ")
    assert first["marker"] == {"key": MARKER, "value": uuid}

    second = present(env)
    assert not second["changed"] and second["operation"] == "none" and not second.get("failed"), second.debug
    assert second["disk"] == disk
    assert state(si) == (disks, marker)


def test_grow_needs_grow_true_then_grows(vcsim, si):
    env = vcsim.env()
    assert present(env)["changed"]
    added, marker = state(si)

    refused = present(env, size_gb=2)
    assert refused["failed"] and "smaller than size_gb 2 GB" in refused["msg"] and "grow: true" in refused["msg"], refused.debug
    assert state(si) == (added, marker)

    check = present(env, size_gb=2, grow=True, check=True, diff=True)
    assert check["changed"] and check["operation"] == "grown" and check["disk"]["size_gb"] == 2, check.debug
    assert check["diff"]["before"]["retention_disk"]["size_gb"] == 1 and check["diff"]["after"]["retention_disk"]["size_gb"] == 2
    assert state(si) == (added, marker), "check mode changed the VM"

    grown = present(env, size_gb=2, grow=True)
    assert grown["changed"] and grown["disk"]["size_gb"] == 2, grown.debug
    disks, after_marker = state(si)
    assert after_marker == marker and set(disks) == set(added)
    assert [value[2] for key, value in disks.items() if value[4] == marker] == [2 * GIB]

    again = present(env, size_gb=2, grow=True)
    assert not again["changed"], again.debug


def test_shrink_is_refused_naming_both_sizes(vcsim, si):
    env = vcsim.env()
    assert present(env, size_gb=2)["changed"]
    before = state(si)
    result = present(env, size_gb=1, grow=True)
    assert result["failed"] and "is 2 GB, larger than size_gb 1 GB" in result["msg"] and "never shrunk" in result["msg"], result.debug
    assert state(si) == before


def test_nfs_and_unknown_datastores_are_refused(vcsim, si):
    env = vcsim.env()
    before = state(si)
    nfs = present(env, datastore="nfs-prod-01")
    assert nfs["failed"] and "Datastore 'nfs-prod-01' cannot be used from host 'DC0_C0_H1' (host-" in nfs["msg"], nfs.debug
    assert "it is an NFS datastore" in nfs["msg"] and "VMFS or vSAN" in nfs["msg"], nfs.debug
    unknown = present(env, datastore="no-such-ds")
    assert unknown["failed"] and "'no-such-ds' was not found" in unknown["msg"] and "vmfs-prod-02" in unknown["msg"], unknown.debug
    readonly = present(env, datastore="vmfs-readonly")  # mounted read-only on host 0 only; asr-mt-02 runs on host 1
    assert readonly["failed"] and "Datastore 'vmfs-readonly' cannot be used from host 'DC0_C0_H1' (host-" in readonly["msg"], readonly.debug
    assert "it is not attached to that host" in readonly["msg"], readonly.debug
    assert state(si) == before


def test_thick_disk_larger_than_free_space_is_refused(vcsim, si):
    before = state(si)
    result = present(vcsim.env(), size_gb=5000, provisioning="eager_zeroed")
    assert result["failed"] and "Datastore 'vmfs-prod-02' has" in result["msg"] and "provisioning: thin" in result["msg"], result.debug
    assert state(si) == before


def test_vm_without_lsi_controller_is_refused(vcsim, si):
    before = state(si, "asr-mt-01")
    result = run_module(MODULE, dict(name="asr-mt-01", size_gb=1, datastore="vmfs-mt-01"), env=vcsim.env())
    assert result["failed"] and "no LSI Logic SCSI controller" in result["msg"] and "SCSI controller 0 (bus 0, paravirtual)" in result["msg"], result.debug
    assert "vm_scsi_controller" in result["msg"]
    assert state(si, "asr-mt-01") == before


def test_powered_on_vm_gets_the_disk_on_its_home_datastore_by_default(vcsim, si):
    # prod-db-01 is powered on (hot add) and lives on vmfs-prod-02; no datastore option given.
    result = run_module(MODULE, dict(name="prod-db-01", size_gb=3), env=vcsim.env())
    assert result["changed"] and result["disk"]["datastore"] == "vmfs-prod-02" and result["disk"]["size_gb"] == 3, result.debug
    assert any("disk.EnableUUID is not TRUE" in warning for warning in result.get("warnings", [])), result.debug
    disks, marker = state(si, "prod-db-01")
    assert marker == result["disk"]["uuid"] and len(disks) == 3


def test_absent_detaches_the_disk_and_removes_the_marker(vcsim, si):
    env = vcsim.env()
    before = state(si)
    assert present(env)["changed"]

    check = run_module(MODULE, dict(name=VM, state="absent"), env=env, check=True, diff=True)
    assert check["changed"] and check["operation"] == "removed" and check["diff"]["after"] == {"retention_disk": None, "marker": None}, check.debug
    assert state(si) != before, "check mode removed the disk"

    removed = run_module(MODULE, dict(name=VM, state="absent"), env=env)
    assert removed["changed"] and removed["disk"]["unit_number"] == 2, removed.debug
    assert state(si) == before

    again = run_module(MODULE, dict(name=VM, state="absent"), env=env)
    assert not again["changed"] and again["operation"] == "none", again.debug


def test_stale_marker_is_refused_then_cleared_by_absent(vcsim, si):
    env = vcsim.env()
    stale = "6000C290-0000-0000-0000-000000000001"
    spec = vim.vm.ConfigSpec(extraConfig=[vim.option.OptionValue(key=MARKER, value=stale)])
    wait(find_vm_object(si, VM).ReconfigVM_Task(spec=spec))
    before = state(si)

    refused = present(env)
    assert refused["failed"] and f"{MARKER}={stale}" in refused["msg"] and "state: absent" in refused["msg"], refused.debug
    assert state(si) == before

    cleared = run_module(MODULE, dict(name=VM, state="absent"), env=env)
    assert cleared["changed"] and cleared["operation"] == "marker_removed" and cleared["disk"] is None, cleared.debug
    assert state(si) == (before[0], None)

    added = present(env)
    assert added["changed"] and added["operation"] == "added", added.debug


# --- real vCenter's limits and answers --------------------------------------------------------------

PENDING = "siterecovery.retentionDisk.pending"
HOST_UUID = "6000C29f-0000-4000-8000-00000000abcd"


def small_disk(controller_key, unit):
    """A 1 MiB disk at (controller, unit), in a file of its own name (asr-mt-02's folder is on vmfs-mt-01)."""
    backing = vim.vm.device.VirtualDisk.FlatVer2BackingInfo(
        fileName=f"[vmfs-mt-01] {VM}/filler-{controller_key}-{unit}.vmdk", diskMode="persistent", thinProvisioned=True)
    disk = vim.vm.device.VirtualDisk(key=-(1000 + controller_key * 16 + unit), controllerKey=controller_key, unitNumber=unit,
                                     capacityInKB=1024, backing=backing)
    return vim.vm.device.VirtualDeviceSpec(operation="add", fileOperation="create", device=disk)


def test_vm_with_60_disks_on_four_controllers_is_at_the_limit(vcsim, si):
    # asr-mt-02: LSI Logic SAS on bus 0 with disks at units 0 and 1. Three more LSI Logic SAS controllers,
    # then a disk on every free unit: 60 disks, the most a VM can have on SCSI and the most ASR allows.
    vm = find_vm_object(si, VM)
    controllers = [
        vim.vm.device.VirtualDeviceSpec(operation="add", device=vim.vm.device.VirtualLsiLogicSASController(
            key=-10 - bus, busNumber=bus, sharedBus="noSharing"))
        for bus in (1, 2, 3)
    ]
    wait(vm.ReconfigVM_Task(spec=vim.vm.ConfigSpec(deviceChange=controllers)))
    devices = vm_state(si, VM, ["config.hardware.device"])["config.hardware.device"]
    keys = sorted(d.key for d in devices if isinstance(d, vim.vm.device.VirtualSCSIController))
    taken = {(d.controllerKey, d.unitNumber) for d in devices if isinstance(d, vim.vm.device.VirtualDisk)}
    free = [(key, unit) for key in keys for unit in range(16) if unit != 7 and (key, unit) not in taken]
    wait(vm.ReconfigVM_Task(spec=vim.vm.ConfigSpec(deviceChange=[small_disk(key, unit) for key, unit in free])))
    before = state(si)
    assert len(before[0]) == 60

    result = present(vcsim.env())
    assert result["failed"] and f"VM /DC0/vm/asr/{VM} has 60 disks" in result["msg"], result.debug
    assert "60-disk limit" in result["msg"] and "Azure Site Recovery" in result["msg"] and "remove a disk" in result["msg"], result.debug
    assert "Add an LSI Logic controller" not in result["msg"], result.debug
    assert state(si) == before


def test_thin_disk_larger_than_the_free_space_is_added_with_a_warning(vcsim, si):
    ds = read_props(si, vim.Datastore, ["summary.capacity", "summary.freeSpace"], names=["vmfs-prod-02"])["vmfs-prod-02"]
    free_gb, capacity_gb = ds["summary.freeSpace"] // GIB, ds["summary.capacity"] // GIB
    size_gb = 2 * capacity_gb  # e.g. 8 TB thin on a 4 TB datastore
    result = present(vcsim.env(), size_gb=size_gb)
    assert result["changed"] and result["operation"] == "added" and not result.get("failed"), result.debug
    warning = next((w for w in result.get("warnings", []) if "larger than the free space" in w), None)
    assert warning and f"{size_gb} GB" in warning and "'vmfs-prod-02'" in warning and f"{free_gb} GB free of {capacity_gb} GB" in warning, result.debug
    assert "writes the whole retention volume" in warning, warning
    assert result["overcommit"] == dict(datastore="vmfs-prod-02", size_gb=size_gb, free_gb=free_gb, capacity_gb=capacity_gb,
                                        provisioned_gb=result["overcommit"]["provisioned_gb"]), result.debug
    # Thick would need the whole size at once: refused before any change, with the figures.
    before = state(si)
    thick = run_module(MODULE, dict(name="prod-db-01", size_gb=size_gb, datastore="vmfs-prod-02", provisioning="thick"), env=vcsim.env())
    assert thick["failed"] and "Datastore 'vmfs-prod-02' has" in thick["msg"] and f"of {capacity_gb} GB" in thick["msg"], thick.debug
    assert state(si) == before


def test_attached_but_unmounted_datastore_names_the_host_and_host_datastore_access(vcsim, si):
    before = state(si, "asr-mt-01")
    result = run_module(MODULE, dict(name="asr-mt-01", size_gb=1, datastore="vmfs-unmounted"), env=vcsim.env())
    assert result["failed"] and "Datastore 'vmfs-unmounted' cannot be used from host 'DC0_C0_H0' (host-" in result["msg"], result.debug
    assert "not mounted" in result["msg"] and "siterecovery.master_target.host_datastore_access" in result["msg"], result.debug
    assert "not accessible" not in result["msg"], result.debug
    assert state(si, "asr-mt-01") == before


def test_datastore_in_maintenance_mode_is_refused(vcsim, si):
    ds = next(d for d in si.content.viewManager.CreateContainerView(si.content.rootFolder, [vim.Datastore], True).view
              if d.name == "vmfs-prod-02")
    placement = ds.DatastoreEnterMaintenanceMode()  # prod-db-01 lives there: vCenter waits for it to move
    assert placement.task is not None
    mode = read_props(si, vim.Datastore, ["summary.maintenanceMode"], names=["vmfs-prod-02"])["vmfs-prod-02"]["summary.maintenanceMode"]
    assert mode == "enteringMaintenance"
    before = state(si)
    result = present(vcsim.env())
    assert result.get("failed") and "Datastore 'vmfs-prod-02' cannot be used" in result["msg"], result.debug
    assert "maintenance mode (enteringMaintenance)" in result["msg"] and "out of maintenance mode" in result["msg"], result.debug
    assert state(si) == before

    wait(ds.DatastoreExitMaintenanceMode_Task())
    assert present(vcsim.env())["changed"]


def test_disk_uuid_assigned_by_the_host_is_read_back_into_the_marker(vcsim, si):
    env = vcsim.env()
    set_extra_config(si, VM, {"harness.diskUuid": f"hostAssigned:{HOST_UUID}"})
    before_disks = state(si)[0]
    first = present(env)
    assert first["changed"] and first["operation"] == "added", first.debug
    disks, marker = state(si)
    (new,) = [value for key, value in disks.items() if key not in before_disks]
    assert new[4] == HOST_UUID, "the host's uuid, not the one the module supplied"
    assert marker == HOST_UUID and first["disk"]["uuid"] == HOST_UUID and first["marker"]["value"] == HOST_UUID, first.debug
    assert extra_value(si, PENDING) is None, "the pending slot is cleared once the uuid is recorded"

    second = present(env)
    assert not second["changed"] and second["operation"] == "none" and second["disk"]["uuid"] == HOST_UUID, second.debug
    assert state(si) == (disks, marker)


@pytest.fixture(name="proxy")
def fixture_proxy(vcsim):
    with CutProxy(vcsim.host, vcsim.port) as running:
        yield running


def cut_between_the_reconfigures(vcsim, si, proxy):
    """A run whose second reconfigure (recording the host's uuid) never reaches vCenter: the disk is
    there, the marker names the uuid the module supplied, the pending slot names the disk."""
    set_extra_config(si, VM, {"harness.diskUuid": f"hostAssigned:{HOST_UUID}"})
    before = state(si)
    proxy.arm(method="ReconfigVM_Task", nth=2, phase="request")
    cut = present(proxy.env(vcsim.env()))
    assert proxy.cuts and cut["failed"] and "Recording the retention disk" in cut["msg"], cut.debug
    disks, marker = state(si)
    assert len(disks) == len(before[0]) + 1 and marker != HOST_UUID, (disks, marker)
    return before


def test_run_cut_between_the_reconfigures_converges_on_one_disk(vcsim, si, proxy):
    env = vcsim.env()
    before = cut_between_the_reconfigures(vcsim, si, proxy)

    check = present(env, check=True)
    assert check["changed"] and check["operation"] == "recorded" and check["disk"]["uuid"] == HOST_UUID, check.debug
    again = present(env)
    assert again["changed"] and again["operation"] == "recorded" and again["marker"]["value"] == HOST_UUID, again.debug
    disks, marker = state(si)
    assert len(disks) == len(before[0]) + 1 and marker == HOST_UUID and extra_value(si, PENDING) is None
    third = present(env)
    assert not third["changed"] and third["operation"] == "none", third.debug


def test_absent_after_a_cut_run_leaves_no_orphan_disk(vcsim, si, proxy):
    env = vcsim.env()
    before = cut_between_the_reconfigures(vcsim, si, proxy)

    removed = run_module(MODULE, dict(name=VM, state="absent"), env=env)
    assert removed["changed"] and removed["operation"] == "removed" and removed["disk"]["uuid"] == HOST_UUID, removed.debug
    assert state(si) == before and extra_value(si, PENDING) is None
    added = present(env)
    assert added["changed"] and added["operation"] == "added", added.debug
    assert len(state(si)[0]) == len(before[0]) + 1, "exactly one retention disk"


def test_lost_reply_of_the_disk_adding_reconfigure_leaves_no_pending_slot(vcsim, si, proxy):
    # Found by the fault soak (first-62-response): vCenter adds the disk with the uuid the module
    # supplied, the marker and the pending slot, but the reply is lost. The re-run finds the disk by its
    # marker; the slot must go too, so the VM ends with the options a run without a cut leaves.
    env = vcsim.env()
    before = state(si)
    proxy.arm(method="ReconfigVM_Task", nth=1, phase="response")
    cut = present(proxy.env(env))
    assert proxy.cuts and cut["failed"] and "was lost" in cut["msg"], cut.debug
    assert extra_value(si, PENDING) is not None and len(state(si)[0]) == len(before[0]) + 1

    check = present(env, check=True, diff=True)
    assert check["changed"] and check["operation"] == "recorded", check.debug
    assert check["diff"]["before"]["pending_slot"] and check["diff"]["after"]["pending_slot"] is None, check.debug
    again = present(env)
    assert again["changed"] and again["operation"] == "recorded", again.debug
    disks, marker = state(si)
    assert len(disks) == len(before[0]) + 1 and marker == again["disk"]["uuid"] and extra_value(si, PENDING) is None
    third = present(env)
    assert not third["changed"] and third["operation"] == "none", third.debug
