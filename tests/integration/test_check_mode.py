"""Check mode everywhere: every module and every role, run with --check --diff against the simulator's default
scene, leaves the whole vCenter state as it was (a full PropertyCollector dump, tests/support/statedump.py,
compared before and after) and says what it would change (changed=true and a diff whose before and after
differ). The scene's asr-mt-01 has everything to fix.

Every vSphere module (meta/runtime.yml's vmware group, read when the tests are collected) is a case: a module without
an entry in CASES fails with a message asking for one, except *_info modules, which must report changed=false.
The guest roles are covered elsewhere: linux by its molecule scenario (its converge.yml compares the host
before and after a check-mode run), windows has no test host.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import yaml
from support.ansible import run_module, run_playbook
from support.statedump import assert_unchanged, dump
from support.vsphere import find_vm_object, wait

REPO = Path(__file__).resolve().parents[2]
# The vSphere modules: the vmware action group lists each one (tests/unit/test_module_docs.py checks that); the
# guest modules (linux_retention_disk_info) take no password and run in the guest (the linux molecule scenario).
MODULES = sorted(yaml.safe_load((REPO / "meta" / "runtime.yml").read_text())["action_groups"]["vmware"])


def power_off(si, name):
    wait(find_vm_object(si, name).PowerOffVM_Task())


# module -> (args, setup(si) run before the "before" dump or None, changed expected)
CASES = {
    "host_datastore_access": (dict(name="asr-mt-01", datastores=["vmfs-unmounted", "vmfs-mt-01"]), None, True),
    "vm_disk_uuid": (dict(name="asr-mt-01", enabled=True), None, True),
    "vm_migration_exclusion": (dict(name="asr-mt-01"), None, True),
    "vm_power": (dict(name="asr-mt-01", state="powered_off"), None, True),
    # The retention disk goes on an LSI Logic controller: asr-mt-01's is still ParaVirtual, asr-mt-02's is SAS.
    "vm_retention_disk": (dict(name="asr-mt-02", size_gb=10, datastore="vmfs-mt-01"), None, True),
    # A ParaVirtual controller is converted only on a powered-off VM (the role powers it off first).
    "vm_scsi_controller": (dict(name="asr-mt-01", convert=True, type="lsilogicsas", guest_ready=True), lambda si: power_off(si, "asr-mt-01"), True),
    "vm_snapshots": (dict(name="asr-mt-01", state="absent"), None, True),
    "vm_preparation": (dict(name="asr-mt-01", scsi_convert=True, scsi_type="lsilogicsas", scsi_guest_ready=True, retention_disk_size_gb=10,
                            retention_disk_datastore="vmfs-mt-01", power_cycle=True), None, True),
    "vm_snapshots_info": (dict(name="asr-mt-01"), None, False),
    "vm_tools": (dict(name="asr-mt-01", state="installer_mounted", force=True), None, True),
    "failback_readiness_info": (dict(master_targets=["asr-mt-01", "asr-mt-02"], protected_vms=["prod-web-01", "prod-db-01"]), None, False),
}


def case_for(module):
    if module in CASES:
        return CASES[module]
    if module.endswith("_info"):
        return dict(name="asr-mt-01"), None, False
    pytest.fail(f"plugins/modules/{module}.py has no check-mode case: add one to CASES in {Path(__file__).name} "
                "(arguments that would change something on the default scene's asr-mt-01).")
    return None


@pytest.mark.vcsim
@pytest.mark.parametrize("module", MODULES)
def test_module_check_mode_changes_nothing_and_reports_the_change(vcsim, si, module):
    args, setup, expect_changed = case_for(module)
    if setup:
        setup(si)
    before = dump(si)

    result = run_module(module, args, env=vcsim.env(), check=True, diff=True)

    assert not result.get("failed"), result.debug
    assert_unchanged(before, dump(si), f"{module} in check mode")
    assert bool(result["changed"]) is expect_changed, result.debug
    if expect_changed:
        diff = result.get("diff")
        assert diff and diff["before"] != diff["after"], f"changed without a diff showing the change{result.debug}"


INVENTORY = """
all:
  children:
    master_targets:
      hosts:
        asr-mt-01:
          ansible_connection: local
          ansible_python_interpreter: "{python}"
          vsphere_vm_folder: asr
          vsphere_scsi_convert: true
          vsphere_scsi_type: lsilogicsas
          vsphere_scsi_guest_ready: true
          vsphere_power_off_allowed: true
          vsphere_retention_disk_datastore: vmfs-mt-01
          vsphere_retention_disk_size_gb: 10
          vsphere_datastores: [vmfs-prod-01, vmfs-prod-02, vmfs-unmounted]
          vsphere_tools_timeout: 30
    master_target_guests:
      hosts: {{}}
    linux:
      hosts: {{}}
    windows:
      hosts: {{}}
"""


def write_inventory(tmp_path):
    path = tmp_path / "inventory.yml"
    path.write_text(INVENTORY.format(python=sys.executable))
    return path


@pytest.mark.vcsim
def test_prepare_playbook_check_mode_changes_nothing_and_reports_the_changes(vcsim, si, tmp_path):
    """The vsphere role, through the playbook users run, on a master target with everything to fix."""
    before = dump(si)
    # The readiness role at the end writes its reports also in check mode (files on the controller): into tmp_path.
    extra_vars = dict(readiness_report_dir=str(tmp_path / "reports"), readiness_fail_on_error=False)
    result = run_playbook(REPO / "playbooks" / "prepare_master_target.yml", env=vcsim.env(), inventory=write_inventory(tmp_path),
                          extra_vars=extra_vars, check=True, diff=True)
    assert not result.failed_hosts, result.debug
    assert_unchanged(before, dump(si), "the playbook in check mode")

    changed = {task["task"].split(" : ")[-1] for task in result["tasks"] if task["result"].get("changed")}
    # Every fix the scene's asr-mt-01 needs is announced (the VM's own changes, power cycle, snapshots, controllers,
    # disk.EnableUUID and retention disk, are one vm_preparation task with one diff).
    for task in ("Remove the snapshots, power the VM off once, make every change in one reconfiguration, power it on",
                 "Make sure the protected VMs' datastores are mounted read/write on the master target's host",
                 "Exclude the master target from Storage DRS and DRS migrations"):
        assert task in changed, f"check mode did not report {task!r} as a change{result.debug}"
    for task in result["tasks"]:
        res = task["result"]
        if res.get("changed") and task["action"].startswith("siterecovery."):
            diff = res.get("diff")
            assert diff and diff["before"] != diff["after"], f"{task['task']}: changed without a diff{result.debug}"


@pytest.mark.vcsim
def test_readiness_role_check_mode_changes_nothing(vcsim, si, tmp_path):
    """roles/readiness (when present) reads only: check mode must leave vCenter as it is and change nothing."""
    if not (REPO / "roles" / "readiness").is_dir():
        pytest.skip("roles/readiness does not exist (yet)")
    before = dump(si)
    play = """
- name: Readiness
  hosts: localhost
  gather_facts: false
  roles:
    - role: siterecovery.master_target.readiness
      readiness_master_targets: [asr-mt-01, asr-mt-02]
      readiness_protected_vms: [prod-web-01, prod-db-01]
"""
    extra_vars = dict(readiness_report_dir=str(tmp_path / "reports"), readiness_fail_on_error=False)
    result = run_playbook(play, env=vcsim.env(), extra_vars=extra_vars, check=True, diff=True)
    assert not result.failed_hosts, result.debug
    assert_unchanged(before, dump(si), "the readiness role in check mode")
    assert sum(stat["changed"] for stat in result["stats"].values()) == 0, result.debug
    assert sorted(path.name for path in (tmp_path / "reports").iterdir()) == ["failback-readiness.html", "failback-readiness.md"]
