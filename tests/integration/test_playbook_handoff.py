"""The hand-off of the retention disk from the vsphere role to the guest roles in
playbooks/prepare_master_target.yml, for each way of naming the disk.

The guest plays are taken from the playbook file as they are (hosts, pre_tasks, role vars); only
their role runs as far as its variable checks (tasks_from: validate), which need no guest: the test
reads what the role then saw. `vsphere_master_target` stands for what the vsphere role published in
the earlier play ({} for retention_disk when it managed none).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import yaml
from support.ansible import run_playbook

REPO = Path(__file__).resolve().parents[2]
VCENTER_UUID = "6000C29a-b1b5-1bf8-40d7-a2e2c43fb182"
INVENTORY_UUID = "6000C291-1111-2222-3333-444455556666"


def guest_play(family):
    """The playbook's play for the `family` guests, its role cut down to the role's variable checks."""
    plays = yaml.safe_load((REPO / "playbooks" / "prepare_master_target.yml").read_text())
    play = next(play for play in plays if play["hosts"] == f"master_target_guests:&{family}" and "roles" in play)
    tasks = []
    for entry in play.pop("roles"):
        task = {"name": "Run the role's variable checks", "ansible.builtin.include_role": {"name": entry["role"], "tasks_from": "validate"}}
        if entry.get("vars"):
            task["vars"] = entry["vars"]
        tasks.append(task)
    play["tasks"] = tasks
    play["gather_facts"] = False
    return [play]


def run_guest_play(tmp_path, family, host_vars):
    inventory = {"all": {"children": {
        "master_target_guests": {"hosts": {"mt": dict(ansible_connection="local", ansible_python_interpreter=sys.executable, **host_vars)}},
        family: {"hosts": {"mt": {}}},
    }}}
    path = tmp_path / "inventory.yml"
    path.write_text(yaml.safe_dump(inventory))
    return run_playbook(yaml.safe_dump(guest_play(family), sort_keys=False), inventory=path)


def seen(result, prefix):
    """The role's derived facts after its checks, from the last task that ran on the host."""
    facts = [task["result"].get("ansible_facts", {}) for task in result["tasks"] if task["result"].get("ansible_facts")]
    merged = {}
    for item in facts:
        merged.update({key: value for key, value in item.items() if key.startswith(prefix)})
    return merged


def hexed(uuid):
    return uuid.replace("-", "").lower()


FROM_VCENTER = dict(vsphere_master_target={"retention_disk": {"uuid": VCENTER_UUID}})
NO_VCENTER_DISK = dict(vsphere_master_target={"retention_disk": {}})  # vsphere_retention_disk: false


@pytest.mark.parametrize(
    "host_vars, uuid, other",
    [
        pytest.param(FROM_VCENTER, VCENTER_UUID, None, id="uuid-from-the-vsphere-role"),
        pytest.param(dict(NO_VCENTER_DISK, linux_retention_device="/dev/sdb"), None, "/dev/sdb", id="device-path-without-vcenter-disk"),
        pytest.param(dict(FROM_VCENTER, linux_retention_device="/dev/sdb"), None, "/dev/sdb", id="device-path-wins-over-vcenter-uuid"),
        pytest.param(dict(NO_VCENTER_DISK, linux_retention_disk_uuid=INVENTORY_UUID), INVENTORY_UUID, None, id="uuid-from-the-inventory"),
        pytest.param(dict(FROM_VCENTER, linux_retention_disk_uuid=INVENTORY_UUID), INVENTORY_UUID, None, id="inventory-uuid-wins"),
    ],
)
def test_linux_guest_gets_the_retention_disk_named_one_way(tmp_path, host_vars, uuid, other):
    result = run_guest_play(tmp_path, "linux", host_vars)
    assert not result.failed_hosts, result.debug
    facts = seen(result, "__linux_")
    assert facts["__linux_uuid_given"] is (uuid is not None), result.debug
    assert facts["__linux_device_given"] is (other is not None), result.debug
    if uuid:
        assert facts["__linux_uuid_hex"] == hexed(uuid), result.debug


def test_linux_guest_without_any_name_for_the_disk_gets_the_role_message(tmp_path):
    result = run_guest_play(tmp_path, "linux", NO_VCENTER_DISK)
    assert result.failed_hosts == ["mt"]
    assert "Name the retention disk: set linux_retention_disk_uuid" in result.stdout, result.debug


@pytest.mark.parametrize(
    "host_vars, uuid, number",
    [
        pytest.param(FROM_VCENTER, VCENTER_UUID, None, id="uuid-from-the-vsphere-role"),
        # Disk number 0 is a number given, not an empty value.
        pytest.param(dict(FROM_VCENTER, windows_retention_disk_number=0), None, 0, id="disk-number-0-wins-over-vcenter-uuid"),
        pytest.param(dict(NO_VCENTER_DISK, windows_retention_disk_number=1), None, 1, id="disk-number-without-vcenter-disk"),
        pytest.param(dict(FROM_VCENTER, windows_retention_disk_uuid=INVENTORY_UUID), INVENTORY_UUID, None, id="inventory-uuid-wins"),
    ],
)
def test_windows_guest_gets_the_retention_disk_named_one_way(tmp_path, host_vars, uuid, number):
    result = run_guest_play(tmp_path, "windows", host_vars)
    assert not result.failed_hosts, result.debug
    facts = seen(result, "__windows_")
    assert facts["__windows_uuid_given"] is (uuid is not None), result.debug
    assert facts["__windows_number_given"] is (number is not None), result.debug
    if uuid:
        assert facts["__windows_uuid_normalized"] == hexed(uuid), result.debug
