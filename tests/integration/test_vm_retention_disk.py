"""vm_retention_disk against the simulator: add with marker, idempotence, grow, refusals, removal."""

from __future__ import annotations

from pyVmomi import vim

from support.ansible import run_module
from support.vsphere import find_vm_object, vm_state, wait

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
    assert nfs["failed"] and "'nfs-prod-01' is an NFS datastore" in nfs["msg"] and "VMFS or vSAN" in nfs["msg"], nfs.debug
    unknown = present(env, datastore="no-such-ds")
    assert unknown["failed"] and "'no-such-ds' was not found" in unknown["msg"] and "vmfs-prod-02" in unknown["msg"], unknown.debug
    readonly = present(env, datastore="vmfs-readonly")  # mounted read-only on host 0 only; asr-mt-02 runs on host 1
    assert readonly["failed"] and "not mounted on the VM's host DC0_C0_H1 (host-" in readonly["msg"], readonly.debug
    assert state(si) == before


def test_thick_disk_larger_than_free_space_is_refused(vcsim, si):
    before = state(si)
    result = present(vcsim.env(), size_gb=5000, provisioning="eager_zeroed")
    assert result["failed"] and "Datastore 'vmfs-prod-02' has" in result["msg"] and "provisioning: thin" in result["msg"], result.debug
    assert state(si) == before


def test_vm_without_lsi_controller_is_refused(vcsim, si):
    before = state(si, "asr-mt-01")
    result = run_module(MODULE, dict(name="asr-mt-01", size_gb=1, datastore="vmfs-mt-01"), env=vcsim.env())
    assert result["failed"] and "no LSI Logic SCSI controller" in result["msg"] and "bus 0 (paravirtual)" in result["msg"], result.debug
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
