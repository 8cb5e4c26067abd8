"""The linux role's variable checks (tasks/validate.yml): one assert per rule, each with its own message.

They need no guest (assert and set_fact run on the controller), so the role runs only as far as them.
"""

from __future__ import annotations

import pytest
from support.ansible import run_playbook

PLAY = """
- name: Run the linux role's variable checks
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Validate
      ansible.builtin.include_role:
        name: siterecovery.master_target.linux
        tasks_from: validate
"""
UUID = "6000C29a-b1b5-1bf8-40d7-a2e2c43fb182"


@pytest.mark.parametrize(
    "extra_vars, message",
    [
        (dict(linux_retention_disk_uuid=UUID, linux_retention_device="/dev/sdb"), "Set only one of linux_retention_disk_uuid"),
        (dict(linux_retention_disk_uuid="not-a-uuid"), "'not-a-uuid' is not a VMware disk UUID"),
        (dict(linux_retention_device="sdb"), "linux_retention_device 'sdb' is not a device path"),
        (dict(linux_retention_device="/dev/sdb", linux_retention_path="/usr"), "linux_retention_path '/usr' cannot be the retention mount point"),
        (dict(linux_retention_device="/dev/sdb", linux_retention_fstype="xfs", linux_retention_label="asr-retention"),
         "is 13 characters long; xfs labels hold at most 12"),
        (dict(linux_retention_device="/dev/sdb", linux_retention_label="asr retain"), "may hold only letters, digits"),
        (dict(linux_retention_device="/dev/sdb", linux_install_dir="usr/local/ASR"), "linux_install_dir 'usr/local/ASR' must be an absolute path"),
        (dict(linux_retention_device="/dev/sdb", linux_retention_mount_options="defaults, noatime"), "must be one comma-separated list"),
        (dict(linux_retention_manage=False, linux_connectivity_timeout=0), "linux_connectivity_timeout (0) must be a number of seconds above 0"),
    ],
    ids=["uuid-and-device", "bad-uuid", "device-not-a-path", "system-path", "label-too-long", "label-characters", "relative-install-dir", "mount-options",
         "timeout"],
)
def test_each_rule_fails_with_its_own_message(extra_vars, message):
    result = run_playbook(PLAY, extra_vars=extra_vars)
    assert result.failed_hosts == ["localhost"], result.debug
    assert message in result.stdout, result.debug


def test_a_disk_named_once_passes():
    result = run_playbook(PLAY, extra_vars=dict(linux_retention_disk_uuid=UUID))
    assert not result.failed_hosts, result.debug
