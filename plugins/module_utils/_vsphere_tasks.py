# -*- coding: utf-8 -*-
# Copyright: (c) 2026, siterecovery.master_target contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Waiting for vSphere tasks, and turning a failed one into one clear message."""

from __future__ import annotations

import time

from ansible_collections.siterecovery.master_target.plugins.module_utils._vsphere_client import (
    CONNECTION_ERRORS,
    VSphereError,
    connection_error_text,
)
from ansible_collections.siterecovery.master_target.plugins.module_utils._vsphere_lookup import read_object

try:
    from pyVmomi import vmodl
except ImportError:  # pragma: no cover - connect() reports the missing library
    pass


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


def wait_for_task(client, task, action, target, timeout=3600):
    """Wait for `task`; return its result or raise VSphereError naming the action, the object and the fault.

    `action` is what was being done ("Reconfigure"), `target` the object's name for the message.
    """
    deadline = time.monotonic() + timeout
    delay = 0.05
    while True:
        info = read_object(client, task, ["info.state", "info.error", "info.result"], what=f"The task '{action}' on {target}")
        state = info.get("info.state")
        if state == "success":
            return info.get("info.result")
        if state == "error":
            raise VSphereError(f"{action} of {target} failed in vCenter: {fault_text(info.get('info.error'))}. Fix that cause, then run again.")
        if time.monotonic() > deadline:
            raise VSphereError(f"{action} of {target} did not finish within {timeout} s; check the task in vCenter ({task._moId}).")
        time.sleep(delay)
        delay = min(delay * 2, 1.0)


AGAIN = "then run the task again: it reads the current state and does only what is left."


def start_task(client, start, action, target):
    """Start a task with `start()` and return it; a fault or a lost connection becomes one VSphereError."""
    try:
        return start()
    except vmodl.MethodFault as fault:
        raise VSphereError(f"{action} of {target} was refused by vCenter: {fault_text(fault)}. Fix that cause, then run again.") from None
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


def run_task(client, start, action, target, timeout=3600):
    """Start a task with `start()` and wait for it; a fault raised by the start itself reads the same."""
    task = start_task(client, start, action, target)
    try:
        return wait_for_task(client, task, action, target, timeout)
    except CONNECTION_ERRORS as error:
        raise lost_while_waiting(client, task, action, target, error) from None
