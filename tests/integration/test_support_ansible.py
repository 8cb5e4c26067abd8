"""Prove tests/support/ansible.py against builtin modules, so module tests can trust it."""

from __future__ import annotations

import pytest
from support.ansible import AnsibleRunError, run_module, run_playbook


def test_run_module_returns_module_result_and_raw_output():
    result = run_module("ansible.builtin.ping", {"data": "hello"})
    assert result["ping"] == "hello", result.debug
    assert result["changed"] is False, result.debug
    assert result.rc == 0, result.debug
    assert '"plays"' in result.stdout
    assert result.duration > 0, result.debug


def test_run_module_check_and_diff_are_passed(tmp_path):
    dest = tmp_path / "probe.txt"
    result = run_module("ansible.builtin.copy", {"content": "x\n", "dest": str(dest)}, check=True, diff=True)
    assert result["changed"] is True, result.debug
    assert result["diff"][0]["after"] == "x\n", result.debug
    assert not dest.exists(), "check mode must not create the file"

    result = run_module("ansible.builtin.copy", {"content": "x\n", "dest": str(dest)})
    assert result["changed"] is True, result.debug
    assert dest.read_text() == "x\n"
    again = run_module("ansible.builtin.copy", {"content": "x\n", "dest": str(dest)})
    assert again["changed"] is False, again.debug


def test_run_module_env_reaches_the_module():
    result = run_module(
        "ansible.builtin.debug",
        {"msg": "{{ lookup('ansible.builtin.env', 'SITERECOVERY_PROBE') }}"},
        env={"SITERECOVERY_PROBE": "from-env"},
    )
    assert result["msg"] == "from-env", result.debug


def test_run_module_failure_is_returned_not_raised():
    result = run_module("ansible.builtin.fail", {"msg": "boom"})
    assert result["failed"] is True
    assert result["msg"] == "boom"
    assert result.rc != 0


def test_run_module_unknown_module_raises_with_stderr():
    with pytest.raises(AnsibleRunError, match="couldn't resolve module/action"):
        run_module("no_such_module", {})


def test_run_playbook_stats_and_tasks():
    result = run_playbook(
        """
- name: Probe
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Say
      ansible.builtin.debug:
        msg: "{{ value }}"
    - name: Change
      ansible.builtin.command: "true"
      changed_when: true
    - name: Fail
      ansible.builtin.fail:
        msg: expected
      ignore_errors: true
""",
        extra_vars={"value": 7},
    )
    stats = result["stats"]["localhost"]
    assert stats["ok"] == 3, result.debug
    assert stats["changed"] == 1, result.debug
    assert stats["ignored"] == 1, result.debug
    assert stats["failed"] == 0 and result.failed_hosts == [], result.debug
    assert [t["task"] for t in result["tasks"]] == ["Say", "Change", "Fail"]
    assert result["tasks"][0]["result"]["msg"] == 7


def test_run_playbook_failure_and_path(tmp_path):
    playbook = tmp_path / "fail.yml"
    playbook.write_text(
        "- hosts: localhost\n  gather_facts: false\n  tasks:\n"
        "    - ansible.builtin.fail:\n        msg: nope\n"
    )
    result = run_playbook(playbook, check=True)
    assert result.failed_hosts == ["localhost"], result.debug
    assert result["rc"] != 0
    assert result["tasks"][0]["result"]["msg"] == "nope"


def test_run_playbook_syntax_error_raises():
    with pytest.raises(AnsibleRunError, match="rc="):
        run_playbook("- hosts: localhost\n  tasks: [ {ansible.builtin.debug: }\n")


def test_run_module_direct_and_through_ansible_give_the_same_result(vcsim):
    # The direct run is the module as Ansible's wrapper runs it: same result keys, check and diff honoured.
    results = {via: run_module("vm_disk_uuid", {"name": "asr-mt-01"}, env=vcsim.env(), check=True, diff=True, via=via)
               for via in ("direct", "ansible")}
    direct, ansible = results["direct"], results["ansible"]
    assert direct.command[0] != ansible.command[0]
    assert direct["changed"] and ansible["changed"], (direct.debug, ansible.debug)
    assert set(direct) == set(ansible) - {"action"}, (sorted(direct), sorted(ansible))  # "action": the controller's own key
    for key in direct:
        assert direct[key] == ansible[key], key
