"""_vsphere_tasks: telling a task still running from the operation a module would start, what a run
says and does about it, and poll's schedule of reads and sleeps (the waits for tasks themselves are
proven against the simulator, test_task_timeout.py)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from pyVmomi import vim
from support.clock import FakeClock, reader

from ansible_collections.siterecovery.master_target.plugins.module_utils import _vsphere_lookup as lookup
from ansible_collections.siterecovery.master_target.plugins.module_utils import _vsphere_tasks as tasks
from ansible_collections.siterecovery.master_target.plugins.module_utils._vsphere_client import VSphereError
from ansible_collections.siterecovery.master_target.plugins.module_utils._vsphere_lookup import ManagedObject

SNAPSHOT_TASKS = {tasks.REMOVE_ALL_SNAPSHOTS: "Removing all snapshots", tasks.CONSOLIDATE_DISKS: "Consolidating the disks"}


def task_info(moid="task-7", kind=tasks.REMOVE_ALL_SNAPSHOTS, state="running", vm="vm-42", progress=37, key=None, error=None):
    return vim.TaskInfo(
        key=key or moid, task=vim.Task(moid), descriptionId=kind, state=state, progress=progress,
        entity=vim.VirtualMachine(vm) if vm else None, entityName="asr-mt-01", error=error,
    )


def vm_record(recent=("task-7",)):
    vm = ManagedObject(vim.VirtualMachine("vm-42"), {"name": "asr-mt-01", "recentTask": [vim.Task(moid) for moid in recent]})
    vm.path = "/DC0/vm/asr/asr-mt-01"
    return vm


@pytest.mark.parametrize(
    "info, matches",
    [
        (task_info(), True),
        (task_info(state="queued"), True),
        (task_info(kind=tasks.CONSOLIDATE_DISKS), True),
        (task_info(state="success"), False),  # ended: nothing to wait for
        (task_info(state="error"), False),
        (task_info(kind=tasks.RECONFIGURE), False),  # not an operation this module starts
        (task_info(kind="VirtualMachine.RemoveAllSnapshots"), False),  # vcsim's spelling, not vCenter's
        (task_info(vm="vm-43"), False),  # another VM's
        (task_info(vm=None), False),
        (None, False),  # a task that vanished between the two reads
    ],
)
def test_a_running_task_matches_by_state_kind_and_vm(info, matches):
    assert tasks.unfinished_tasks([info], "vm-42", SNAPSHOT_TASKS) == ([info] if matches else [])


def test_unfinished_tasks_keep_vcenters_order():
    infos = [task_info("task-1"), task_info("task-2", state="success"), task_info("task-3", state="queued")]
    assert [info.task._moId for info in tasks.unfinished_tasks(infos, "vm-42", SNAPSHOT_TASKS)] == ["task-1", "task-3"]


def test_the_record_and_description_name_task_kind_vm_and_progress():
    record = tasks.task_record(task_info())
    assert record == dict(id="task-7", key="task-7", description_id=tasks.REMOVE_ALL_SNAPSHOTS, state="running", progress=37,
                          entity="vm-42", entity_name="asr-mt-01")
    assert tasks.describe_task(record) == "task task-7 (VirtualMachine.removeAllSnapshots) on asr-mt-01 (vm-42), 37 % done"
    other = tasks.task_record(task_info(progress=None, key="haTask-42-vim.VirtualMachine.removeAllSnapshots-1"))
    assert tasks.describe_task(other) == (
        "task task-7 (VirtualMachine.removeAllSnapshots, key haTask-42-vim.VirtualMachine.removeAllSnapshots-1) on asr-mt-01 (vm-42), "
        "progress not reported"
    )


def test_the_timeout_message_says_the_task_goes_on_and_what_a_rerun_does():
    message = tasks.still_running_message(tasks.task_record(task_info()), "Removing all snapshots", "VM /DC0/vm/asr/asr-mt-01", 60)
    assert message == (
        "Removing all snapshots of VM /DC0/vm/asr/asr-mt-01 is still running in vCenter after 60 s (task_timeout): "
        "task task-7 (VirtualMachine.removeAllSnapshots) on asr-mt-01 (vm-42), 37 % done. vCenter goes on with it, and nothing "
        "else was started. Run the task again, with a larger task_timeout for an operation this long: it waits for this task "
        "instead of starting another, then reports what it finds."
    )


def fake_reads(monkeypatch, infos, after=None):
    """read_objects answers the recent tasks' infos; read_object the task (`after`) or the VM read again (reread)."""
    calls = []

    def read_objects(client, objects, paths):
        calls.append(("read_objects", [obj._moId for obj in objects], paths))
        return [ManagedObject(obj, {"info": info}) for obj, info in zip(objects, infos)]

    def read_object(client, obj, paths, what=None):
        calls.append(("read_object", obj._moId, paths))
        if isinstance(obj, vim.Task) and paths == ["info"]:
            return ManagedObject(obj, {"info": after})
        if isinstance(obj, vim.Task):
            return ManagedObject(obj, {"info.state": after.state, "info.error": after.error, "info.result": None})
        return ManagedObject(obj, {"name": "asr-mt-01", "snapshot": None})

    monkeypatch.setattr(tasks, "read_objects", read_objects)
    monkeypatch.setattr(tasks, "read_object", read_object)
    monkeypatch.setattr(lookup, "read_object", read_object)
    monkeypatch.setattr(tasks.time, "sleep", lambda seconds: None)
    return calls


def fake_module(check_mode=False, task_timeout=3600):
    warnings = []
    return SimpleNamespace(params=dict(task_timeout=task_timeout), check_mode=check_mode, warn=warnings.append, warnings=warnings)


def test_no_recent_task_means_no_read_and_no_wait(monkeypatch):
    calls = fake_reads(monkeypatch, [])
    vm = vm_record(recent=())
    assert tasks.await_earlier_task(fake_module(), None, vm, SNAPSHOT_TASKS, ["snapshot"]) == (vm, [])
    assert calls == []


def test_only_ended_or_other_tasks_mean_no_wait(monkeypatch):
    calls = fake_reads(monkeypatch, [task_info(state="success"), task_info("task-8", kind=tasks.RECONFIGURE)])
    vm = vm_record(recent=("task-7", "task-8"))
    assert tasks.await_earlier_task(fake_module(), None, vm, SNAPSHOT_TASKS, ["snapshot"]) == (vm, [])
    assert calls == [("read_objects", ["task-7", "task-8"], ["info"])]  # one read for every recent task


def test_a_running_task_is_awaited_then_the_vm_read_again_and_the_run_counts_as_a_change(monkeypatch):
    calls = fake_reads(monkeypatch, [task_info()], after=task_info(state="success", progress=100))
    fresh, awaited = tasks.await_earlier_task(fake_module(), None, vm_record(), SNAPSHOT_TASKS, ["snapshot"])
    assert [(item["id"], item["state"], item["progress"]) for item in awaited] == [("task-7", "success", 100)]
    assert fresh.path == "/DC0/vm/asr/asr-mt-01" and calls[-1] == ("read_object", "vm-42", ["name", "snapshot"])
    assert tasks.with_awaited(dict(changed=False), awaited) == dict(changed=True, awaited_tasks=awaited)
    assert tasks.with_awaited(dict(changed=False), []) == dict(changed=False, awaited_tasks=[])


def test_an_awaited_task_that_fails_fails_the_run_with_vcenters_message(monkeypatch):
    fault = vim.fault.GenericVmConfigFault(reason="no space", msg="Insufficient disk space.")
    fake_reads(monkeypatch, [task_info()], after=task_info(state="error", error=fault))
    with pytest.raises(VSphereError) as raised:
        tasks.await_earlier_task(fake_module(), None, vm_record(), SNAPSHOT_TASKS, ["snapshot"])
    assert raised.value.msg == (
        "Removing all snapshots (a task started before this run) of VM /DC0/vm/asr/asr-mt-01 failed in vCenter: "
        "Insufficient disk space. (GenericVmConfigFault). Fix that cause, then run again."
    )


def test_an_awaited_task_still_running_after_task_timeout_is_named_again(monkeypatch):
    fake_reads(monkeypatch, [task_info()], after=task_info(progress=80))
    with pytest.raises(VSphereError) as raised:
        tasks.await_earlier_task(fake_module(task_timeout=0), None, vm_record(), SNAPSHOT_TASKS, ["snapshot"])
    assert raised.value.msg.startswith(
        "Removing all snapshots (a task started before this run) of VM /DC0/vm/asr/asr-mt-01 is still running in vCenter after 0 s"
    )
    assert raised.value.details["running_task"]["progress"] == 80


def test_check_mode_only_warns(monkeypatch):
    calls = fake_reads(monkeypatch, [task_info()])
    module = fake_module(check_mode=True)
    vm = vm_record()
    assert tasks.await_earlier_task(module, None, vm, SNAPSHOT_TASKS, ["snapshot"]) == (vm, [])
    assert module.warnings == [
        "VM /DC0/vm/asr/asr-mt-01 has a task task-7 (VirtualMachine.removeAllSnapshots) on asr-mt-01 (vm-42), 37 % done still running "
        "in vCenter: a real run waits for it instead of starting another, then does what is left."
    ]
    assert [call[0] for call in calls] == ["read_objects"]  # no wait, no second read


# --- poll: the one wait every module uses ----------------------------------------------------------

def is_off(state):
    return state == "poweredOff"


def test_poll_returns_at_once_when_done():
    fake = FakeClock()
    read = reader(["poweredOff"])
    assert fake.poll(read, is_off, 300) == "poweredOff"
    assert not fake.sleeps and len(read.reads) == 1


def test_poll_reads_until_done_with_growing_sleeps():
    fake = FakeClock()
    read = reader(["poweredOn"] * 4 + ["poweredOff"], fake)
    assert fake.poll(read, is_off, 300) == "poweredOff"
    assert fake.sleeps == [0.05, 0.1, 0.2, 0.4]
    assert len(read.reads) == 5


@pytest.mark.parametrize("longest", [2.0, 5.0])
def test_poll_sleeps_at_most_longest_and_returns_the_last_value_at_the_deadline(longest):
    fake = FakeClock()
    read = reader(["poweredOn"], fake)
    assert fake.poll(read, is_off, 30, longest=longest) == "poweredOn"
    assert max(fake.sleeps) == longest
    assert sum(fake.sleeps) == pytest.approx(30)  # never sleeps past the deadline
    assert read.reads[-1] == pytest.approx(130)  # one last read at the deadline


def test_poll_with_a_short_timeout_sleeps_only_that_long():
    fake = FakeClock()
    assert fake.poll(reader(["poweredOn"]), is_off, 0.1) == "poweredOn"
    assert sum(fake.sleeps) == pytest.approx(0.1)


def test_poll_with_timeout_zero_reads_once():
    fake = FakeClock()
    read = reader(["poweredOn"])
    assert fake.poll(read, is_off, 0) == "poweredOn"
    assert len(read.reads) == 1 and fake.sleeps == []
