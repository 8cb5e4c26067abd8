# -*- coding: utf-8 -*-
# Copyright: (c) 2026, siterecovery.master_target contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    # The wait for the vCenter tasks of the modules whose tasks can outlast an hour
    # (module_utils/_vsphere_tasks.py: task_timeout_argument_spec, await_earlier_task).
    DOCUMENTATION = r"""
options:
  task_timeout:
    description:
      - How long to wait for each vCenter task the module starts, in seconds (at least 1). It also bounds
        the wait for a task that an earlier run left running (see the notes).
      - Removing the snapshots of a VM with large delta disks, or creating an eager-zeroed disk of a
        terabyte, can take hours; raise it for those.
      - When it runs out, the module fails saying that the task is still running in vCenter, with its task
        id, descriptionId, progress and the VM (also returned as C(running_task)). vCenter goes on with the
        task; the module starts nothing else.
    type: int
    default: 3600
notes:
  - A task still running. Before it starts a task, the module reads the VM's recent tasks (C(recentTask)).
    When one of the kind it would start is still queued or running there (one an earlier run stopped
    waiting for, or anyone's), it waits for that task instead of starting another (vCenter would refuse
    it, or do the work twice), then reads the VM again and does only what is left. Such a run reports
    RV(ignore:changed=true), since the VM changed during the run, even when nothing was left to do, and
    lists the tasks it waited for in RV(awaited_tasks). A task that ends in error makes the module fail
    with vCenter's message. In check mode the module only warns about the task, and waits for nothing.
"""
