"""Tasks that outlast the wait (task_timeout): the run fails naming the task still running, and a re-run
waits for that same task instead of starting another, then converges.

The long task comes from the harness knob harness.taskDelay (tests/vcsim/tasks.go): the VM's
RemoveAllSnapshots_Task and ReconfigVM_Task stay running, their progress growing, for that many seconds,
and only then change the VM, as a snapshot removal over a terabyte of deltas or the creation of an
eager-zeroed terabyte disk does in vCenter. Meanwhile vCenter (and the harness) refuses a second such task
on the VM with TaskInProgress, so the code before task_timeout failed the re-run with "Another task is
already in progress" and could not even be given a shorter wait.
"""

from __future__ import annotations

import re

from pyVmomi import vim

from support.ansible import run_module
from support.vsphere import set_extra_config, vcenter_tasks, vm_state

# Seconds the knob keeps a task running: far longer than a 1 s task_timeout plus the start of the next
# module run (up to 10 s measured on a loaded machine), so that the re-run finds the task still running.
DELAY = "30"
HOLD = "600"  # a task that outlives the test
DELAY_KNOB = "harness.taskDelay"
MARKER = "siterecovery.retentionDisk.uuid"


def recent_tasks(si):
    """{task id: (descriptionId, state)} of every task vCenter lists."""
    return {task["id"]: (task["kind"], task["state"]) for task in vcenter_tasks(si)}


def removals(si):
    """The snapshot removal tasks (vcsim spells its own VirtualMachine.RemoveAllSnapshots)."""
    return {moid: state for moid, (kind, state) in recent_tasks(si).items() if kind.lower() == "virtualmachine.removeallsnapshots"}


def snapshot_names(si, name):
    info = vm_state(si, name, ["snapshot"]).get("snapshot")
    names, stack = [], list(info.rootSnapshotList) if info else []
    while stack:
        node = stack.pop(0)
        names.append(node.name)
        stack.extend(node.childSnapshotList)
    return names


def disks(si, name):
    devices = vm_state(si, name, ["config.hardware.device"])["config.hardware.device"]
    return sorted(device.backing.fileName for device in devices if isinstance(device, vim.vm.device.VirtualDisk))


def marker(si, name):
    options = vm_state(si, name, ["config.extraConfig"])["config.extraConfig"]
    return [option.value for option in options if option.key == MARKER]


def assert_still_running(result, kind, vm_name):
    """The failure names the task still running: id, descriptionId, progress, the VM, and what a re-run does."""
    assert result.get("failed"), result.debug
    task = result["running_task"]
    assert task["description_id"] == kind and task["state"] == "running", result.debug
    assert task["entity_name"] == vm_name and task["entity"].startswith("vm-"), result.debug
    msg = result["msg"]
    assert f"is still running in vCenter after 1 s (task_timeout): task {task['id']} ({kind}) on {vm_name} ({task['entity']})" in msg, msg
    assert re.search(r", \d+ % done\. ", msg) and isinstance(task["progress"], int), msg
    assert "nothing else was started" in msg and "it waits for this task instead of starting another" in msg, msg
    return task


def test_a_snapshot_removal_outlasting_task_timeout_goes_on_and_the_rerun_waits_for_that_task(vcsim, si):
    env = vcsim.env()
    set_extra_config(si, "asr-mt-01", {DELAY_KNOB: DELAY})
    before = removals(si)
    args = dict(name="asr-mt-01", state="absent")

    first = run_module("vm_snapshots", dict(args, task_timeout=1), env=env)
    task = assert_still_running(first, "VirtualMachine.removeAllSnapshots", "asr-mt-01")
    # The task goes on in vCenter and has not changed the VM yet; nothing else was started.
    assert snapshot_names(si, "asr-mt-01") == ["before-patch", "after-patch"]
    assert {moid: state for moid, state in removals(si).items() if moid not in before} == {task["id"]: "running"}

    second = run_module("vm_snapshots", args, env=env)
    assert not second.get("failed") and second["changed"], second.debug
    assert [(item["id"], item["state"]) for item in second["awaited_tasks"]] == [(task["id"], "success")], second.debug
    assert second["snapshots"] == [] and second["removed"] == [], second.debug
    assert snapshot_names(si, "asr-mt-01") == []
    # One removal task in all: the re-run started none of its own.
    assert {moid: state for moid, state in removals(si).items() if moid not in before} == {task["id"]: "success"}

    third = run_module("vm_snapshots", args, env=env)
    assert not third["changed"] and third["awaited_tasks"] == [], third.debug


def test_check_mode_only_warns_of_the_running_task_and_a_rerun_names_the_same_task(vcsim, si):
    env = vcsim.env()
    set_extra_config(si, "asr-mt-01", {DELAY_KNOB: HOLD})
    before = removals(si)
    args = dict(name="asr-mt-01", state="absent", task_timeout=1)

    first = run_module("vm_snapshots", args, env=env)
    task = assert_still_running(first, "VirtualMachine.removeAllSnapshots", "asr-mt-01")

    check = run_module("vm_snapshots", args, env=env, check=True)
    assert not check.get("failed") and check["changed"] and check["awaited_tasks"] == [], check.debug
    assert check["removed"] == ["before-patch", "before-patch/after-patch"], check.debug
    assert any(f"has a task {task['id']} (VirtualMachine.removeAllSnapshots) on asr-mt-01" in warning and "a real run waits for it" in warning
               for warning in check.get("warnings", [])), check.debug

    # A re-run finds that task and waits for it (here again only 1 s): the same task, no second one.
    second = run_module("vm_snapshots", args, env=env)
    assert second.get("failed") and second["running_task"]["id"] == task["id"], second.debug
    assert second["msg"].startswith(
        "Removing all snapshots (a task started before this run) of VM /DC0/vm/asr/asr-mt-01 is still running in vCenter after 1 s"
    ), second.debug
    assert {moid: state for moid, state in removals(si).items() if moid not in before} == {task["id"]: "running"}
    assert snapshot_names(si, "asr-mt-01") == ["before-patch", "after-patch"]


def test_a_disk_creation_outlasting_task_timeout_goes_on_and_the_rerun_adds_no_second_disk(vcsim, si):
    env = vcsim.env()
    set_extra_config(si, "asr-mt-02", {DELAY_KNOB: DELAY})
    disks_before = disks(si, "asr-mt-02")
    args = dict(name="asr-mt-02", size_gb=64, datastore="vmfs-prod-02", provisioning="eager_zeroed")

    first = run_module("vm_retention_disk", dict(args, task_timeout=1), env=env)
    task = assert_still_running(first, "VirtualMachine.reconfigure", "asr-mt-02")
    # vCenter applies a reconfigure whole: until the task ends, neither the disk nor its marker is there.
    assert disks(si, "asr-mt-02") == disks_before and marker(si, "asr-mt-02") == []

    second = run_module("vm_retention_disk", args, env=env)
    assert not second.get("failed") and second["changed"], second.debug
    assert [(item["id"], item["state"]) for item in second["awaited_tasks"]] == [(task["id"], "success")], second.debug
    # The first run's task added the disk with the marker and the pending slot; the first run never got
    # to the reconfigure that removes the slot, so this run removes it ("recorded").
    assert second["operation"] == "recorded" and second["disk"]["size_gb"] == 64, second.debug
    after = disks(si, "asr-mt-02")
    assert len(after) == len(disks_before) + 1, after  # the disk the first run's task added, and no second one
    assert marker(si, "asr-mt-02") == [second["disk"]["uuid"]]

    third = run_module("vm_retention_disk", args, env=env)
    assert not third["changed"] and third["awaited_tasks"] == [] and disks(si, "asr-mt-02") == after, third.debug
