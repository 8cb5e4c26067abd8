# -*- coding: utf-8 -*-
# Copyright: (c) 2026, siterecovery.master_target contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Waiting for vSphere tasks, turning a failed one into one clear message, and finding a task that an
earlier run left running (its wait, task_timeout, ran out) so that a re-run waits for it."""

from __future__ import annotations

import time

from ansible_collections.siterecovery.master_target.plugins.module_utils._vsphere_client import (
    CONNECTION_ERRORS,
    VSphereError,
    connection_error_text,
)
from ansible_collections.siterecovery.master_target.plugins.module_utils._vsphere_lookup import read_object, read_objects, reread

try:
    from pyVmomi import vmodl
except ImportError:  # pragma: no cover - connect() reports the missing library
    pass


class TaskRefused(VSphereError):
    """vCenter refused a task, or ran it and it ended in error: the task changed nothing (a ReconfigVM_Task is
    applied whole or not at all). Unlike a lost connection, after which the task may or may not have run."""


def fault_text(fault):
    """The most useful human text a vSphere fault carries, with its type for searching VMware's KB."""
    text = getattr(fault, "localizedMessage", None) or getattr(fault, "msg", None)
    messages = [message.message for message in getattr(fault, "faultMessage", None) or [] if getattr(message, "message", None)]
    text = "; ".join([part for part in [text] + messages if part]) or "no message"
    return f"{text} ({type(fault).__name__.split('.')[-1]})"


def poll(read, done, timeout, sleep=time.sleep, clock=time.monotonic, longest=5.0):
    """Call `read()` until `done(value)` or `timeout` seconds have passed; return the last value.

    Short sleeps first (a simulator or a quick guest answers at once), growing to `longest`, never
    sleeping past the deadline; one last read at the deadline.
    """
    deadline = clock() + timeout
    delay = 0.05
    while True:
        value = read()
        remaining = deadline - clock()
        if done(value) or remaining <= 0:
            return value
        sleep(min(delay, remaining))
        delay = min(delay * 2, longest)


# The wait for each task a module starts, unless the module's task_timeout says otherwise.
TASK_TIMEOUT = 3600

# The VM path that find_vm reads as well, so that await_earlier_task can find a task still running.
TASK_PATHS = ["recentTask"]

# vCenter's TaskInfo.descriptionId of the VM tasks that can run for hours (the keys of vCenter's
# TaskManager.description.methodInfo).
REMOVE_ALL_SNAPSHOTS = "VirtualMachine.removeAllSnapshots"
CONSOLIDATE_DISKS = "VirtualMachine.consolidateDisks"
RECONFIGURE = "VirtualMachine.reconfigure"

UNFINISHED = ("queued", "running")


def task_timeout_argument_spec():
    """The task_timeout option (doc fragment siterecovery.master_target.vsphere_tasks)."""
    return dict(task_timeout=dict(type="int", default=TASK_TIMEOUT))


def check_task_timeout(module):
    if module.params["task_timeout"] < 1:
        module.fail_json(msg=f"task_timeout must be at least 1 (seconds), got {module.params['task_timeout']}.")


def task_record(info):
    """Pure: a task's TaskInfo as plain data for messages and results."""
    entity = info.entity
    return dict(
        id=info.task._moId if info.task is not None else info.key,  # pylint: disable=protected-access
        key=info.key,
        description_id=info.descriptionId,
        state=str(info.state),
        progress=info.progress,
        entity=entity._moId if entity is not None else None,  # pylint: disable=protected-access
        entity_name=info.entityName,
    )


def describe_task(record):
    """Pure: 'task task-42 (VirtualMachine.removeAllSnapshots) on asr-mt-01 (vm-42), 37 % done'."""
    key = f", key {record['key']}" if record["key"] != record["id"] else ""
    progress = f"{record['progress']} % done" if record["progress"] is not None else "progress not reported"
    return f"task {record['id']} ({record['description_id']}{key}) on {record['entity_name']} ({record['entity']}), {progress}"


def still_running_message(record, action, target, timeout):
    """Pure: the error when a task outlasts task_timeout."""
    return (
        f"{action} of {target} is still running in vCenter after {timeout} s (task_timeout): {describe_task(record)}. "
        "vCenter goes on with it, and nothing else was started. Run the task again, with a larger task_timeout for an "
        "operation this long: it waits for this task instead of starting another, then reports what it finds."
    )


def unfinished_tasks(infos, entity_moid, description_ids):
    """Pure: the TaskInfos among `infos` still queued or running on the entity `entity_moid` whose
    descriptionId is one of `description_ids`, in the order given (vCenter lists oldest first)."""
    def on_entity(info):
        return info.entity is not None and info.entity._moId == entity_moid  # pylint: disable=protected-access

    return [info for info in infos if info is not None and str(info.state) in UNFINISHED and info.descriptionId in description_ids and on_entity(info)]


def finished(state):
    return state is not None and str(state) not in UNFINISHED


# What the wait reads: not the whole TaskInfo, whose entity may be an object pyVmomi cannot decode there.
WAIT_PATHS = ["info.state", "info.error", "info.result"]


def wait_for_task_info(client, task, action, target, timeout=TASK_TIMEOUT):
    """Wait for `task`; return its final WAIT_PATHS, or raise VSphereError naming the action, the object and
    the fault, or, after `timeout` seconds, the task still running (its record in the error's `running_task`).

    `action` is what was being done ("Reconfigure"), `target` the object's name for the message.
    """
    what = f"The task '{action}' on {target}"
    props = poll(lambda: read_object(client, task, WAIT_PATHS, what=what).props, lambda props: finished(props.get("info.state")), timeout)
    if str(props.get("info.state")) == "error":
        raise TaskRefused(f"{action} of {target} failed in vCenter: {fault_text(props.get('info.error'))}. Fix that cause, then run again.")
    if not finished(props.get("info.state")):
        record = task_record(read_object(client, task, ["info"], what=what).get("info"))
        raise VSphereError(still_running_message(record, action, target, timeout), running_task=record)
    return props


def wait_for_task(client, task, action, target, timeout=TASK_TIMEOUT):
    """Wait for `task` (see wait_for_task_info); return its result."""
    return wait_for_task_info(client, task, action, target, timeout).get("info.result")


def await_earlier_task(module, client, vm, operations, paths):
    """Wait for a task of `operations` ({descriptionId: action}) still running on `vm` (read with TASK_PATHS).

    Such a task is one an earlier run stopped waiting for (task_timeout), or one started by someone
    else; starting another would do the work twice, or be refused (TaskInProgress). Returns (vm, awaited):
    the VM's `paths` read again once the task has ended, and the awaited tasks' records (none: the VM as
    given, []). In check mode it only warns, and waits for nothing.
    """
    tasks = vm.get("recentTask") or []
    infos = [item.get("info") for item in read_objects(client, tasks, ["info"])] if tasks else []
    running = unfinished_tasks(infos, vm.moid, operations)
    if not running:
        return vm, []
    target = f"VM {vm.path}"
    if module.check_mode:
        for info in running:
            module.warn(f"{target} has a {describe_task(task_record(info))} still running in vCenter: a real run waits for it "
                        "instead of starting another, then does what is left.")
        return vm, []
    awaited = []
    for info in running:  # one, as vCenter runs one such task of a VM at a time
        action = f"{operations[info.descriptionId]} (a task started before this run)"
        try:
            wait_for_task_info(client, info.task, action, target, module.params["task_timeout"])
        except CONNECTION_ERRORS as error:
            raise lost_while_waiting(client, info.task, action, target, error) from None
        what = f"The task {info.task._moId} on {target}"  # pylint: disable=protected-access
        awaited.append(task_record(read_object(client, info.task, ["info"], what=what).get("info")))
    return reread(client, vm, sorted(set(paths) | {"name"})), awaited


def with_awaited(result, awaited):
    """The module's result with `awaited_tasks`: a run that waited for an earlier task reports changed,
    as the VM changed during the run, even when nothing was left to do."""
    return dict(result, awaited_tasks=awaited, changed=bool(result.get("changed")) or bool(awaited))


AGAIN = "then run the task again: it reads the current state and does only what is left."


def start_task(client, start, action, target):
    """Start a task with `start()` and return it; a fault or a lost connection becomes one VSphereError."""
    try:
        return start()
    except vmodl.MethodFault as fault:
        raise TaskRefused(f"{action} of {target} was refused by vCenter: {fault_text(fault)}. Fix that cause, then run again.") from None
    except CONNECTION_ERRORS as error:
        raise VSphereError(
            f"The connection to vCenter {client.hostname} was lost while starting {action} of {target} ({connection_error_text(error)}): "
            f"vCenter may or may not have received the request. Check the recent tasks of {target} in vCenter, {AGAIN}"
        ) from None


def lost_while_waiting(client, task, action, target, error):
    """The VSphereError for a connection lost while waiting for a task that had started."""
    return VSphereError(
        f"The connection to vCenter {client.hostname} was lost while waiting for {action} of {target} ({connection_error_text(error)}): "
        f"the task ({task._moId}) had started and may still finish in vCenter. Check it in the recent tasks of {target}, {AGAIN}"
    )


def run_task(client, start, action, target, timeout=TASK_TIMEOUT):
    """Start a task with `start()` and wait for it; a fault raised by the start itself reads the same."""
    task = start_task(client, start, action, target)
    try:
        return wait_for_task(client, task, action, target, timeout)
    except CONNECTION_ERRORS as error:
        raise lost_while_waiting(client, task, action, target, error) from None
