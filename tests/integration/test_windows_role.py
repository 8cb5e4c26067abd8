"""The role siterecovery.master_target.windows, as far as it can run without a Windows host.

No Windows host can run here, so these tests cover what runs on the controller: the playbook syntax,
the argument specification (ansible-doc, and its agreement with defaults/main.yml), and every check of
the variables. The role is run against a host on the ``winrm`` connection (127.0.0.1, port 1) with a
transport that does not exist: a task that needed the connection fails with "The installed version of
WinRM does not support transport(s) ..." (or "winrm or requests is not installed" where pywinrm is
missing) before any network access, so a failure in the role's own checks proves they ran before any
connection was tried.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from support.ansible import ansible_env, run_playbook
from support.collection import FQCN, REPO_ROOT

ROLE = f"{FQCN}.windows"
ROLE_DIR = REPO_ROOT / "roles" / "windows"
UUID = "6000C29a-b1b5-1bf8-40d7-a2e2c43fb182"
PLAYBOOK = f"""
- name: Prepare a Windows master target
  hosts: all
  gather_facts: false
  roles:
    - role: {ROLE}
"""
# What the connection plugin says when a task tries to connect: pywinrm refuses the made-up transport
# (a task failure, not "unreachable", so the role's own error handling still runs).
CONNECTION_ATTEMPT = re.compile(r"does not support transport\(s\)|winrm or requests is not installed")


def _bin(name: str) -> str:
    return str(Path(sys.executable).parent / name)


@pytest.fixture
def inventory(tmp_path):
    """A Windows host on loopback, port 1, with a WinRM transport that does not exist: nothing is ever sent."""
    path = tmp_path / "inventory.yml"
    path.write_text(
        yaml.safe_dump(
            {
                "all": {
                    "hosts": {
                        "winmt": {
                            "ansible_connection": "winrm",
                            "ansible_host": "127.0.0.1",
                            "ansible_port": 1,
                            "ansible_user": "Administrator",
                            "ansible_password": "not-used",
                            "ansible_winrm_transport": ["no-such-transport"],
                        }
                    }
                }
            }
        )
    )
    return path


def run_role(inventory, **variables):
    return run_playbook(PLAYBOOK, inventory=inventory, extra_vars=variables, timeout=120)


def name(task):
    """The task's own name, without the "<role> : " prefix the json callback adds."""
    return task["task"].split(" : ", 1)[-1]


def failed_task(result):
    failed = [task for task in result["tasks"] if task["result"].get("failed")]
    assert len(failed) == 1, f"expected exactly one failed task{result.debug}"
    return failed[0]


def failed_task_after_ignored(result):
    """The task that stopped the play, after failures the role ignores on purpose (collected, then reported)."""
    return [task for task in result["tasks"] if task["result"].get("failed")][-1]


def assert_no_connection_tried(result):
    assert not CONNECTION_ATTEMPT.search(result.stdout + result.stderr), f"a task tried to connect{result.debug}"
    assert result["stats"]["winmt"]["unreachable"] == 0, result.debug


def test_syntax_check(tmp_path):
    """The role parses in a play (roles:) and as a static import (import_role)."""
    playbook = tmp_path / "site.yml"
    playbook.write_text(
        PLAYBOOK
        + f"""
- name: Import the role as a task
  hosts: all
  gather_facts: false
  tasks:
    - name: Prepare the guest
      ansible.builtin.import_role:
        name: {ROLE}
"""
    )
    (tmp_path / "ansible.cfg").write_text("[defaults]\n")
    proc = subprocess.run(
        [_bin("ansible-playbook"), "--syntax-check", "-i", "winmt,", str(playbook)],
        cwd=tmp_path,
        env=ansible_env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, f"rc={proc.returncode}\n{proc.stderr}\n{proc.stdout}"
    assert "playbook: " in proc.stdout


def test_argument_specs_load_and_match_defaults():
    """ansible-doc reads the entry point; every variable is prefixed, typed, described, and defaulted alike."""
    proc = subprocess.run(
        [_bin("ansible-doc"), "-t", "role", "-j", ROLE],
        env=ansible_env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)[ROLE]
    main = doc["entry_points"]["main"]
    assert main["short_description"]
    options = main["options"]
    defaults = yaml.safe_load((ROLE_DIR / "defaults" / "main.yml").read_text())

    assert sorted(options) == sorted(defaults), "argument_specs.yml and defaults/main.yml must list the same variables"
    for name, spec in options.items():
        assert name.startswith("windows_"), name
        assert spec.get("type") in {"str", "int", "bool"}, name
        assert spec.get("description"), name
        # A variable without a default in the spec is null in defaults/main.yml, and the reverse.
        assert spec.get("default") == defaults[name], name
        if "choices" in spec and defaults[name] is not None:
            assert defaults[name] in spec["choices"], name
    assert options["windows_retention_filesystem"]["choices"] == ["ntfs", "refs"]
    assert "C" not in options["windows_retention_drive_letter"]["choices"]


@pytest.mark.parametrize(
    "variables, variable, message",
    [
        ({"windows_retention_filesystem": "fat32"}, "windows_retention_filesystem", "must be one of: ntfs, refs, got: fat32"),
        ({"windows_retention_filesystem": "exfat"}, "windows_retention_filesystem", "got: exfat"),
        ({"windows_retention_drive_letter": "C"}, "windows_retention_drive_letter", "got: C"),
        ({"windows_retention_drive_letter": "1"}, "windows_retention_drive_letter", "got: 1"),
        ({"windows_retention_drive_letter": "R:"}, "windows_retention_drive_letter", "got: R:"),
        ({"windows_install_drive": "C"}, "windows_install_drive", "got: C"),
        ({"windows_vmware_tools_source": "iso"}, "windows_vmware_tools_source", "must be one of: cdrom, path, url"),
        ({"windows_retention_disk_number": "first"}, "windows_retention_disk_number", "int"),
        ({"windows_vmware_tools_reboot": "maybe"}, "windows_vmware_tools_reboot", "bool"),
    ],
)
def test_argument_specs_refuse_bad_values_before_connecting(inventory, variables, variable, message):
    result = run_role(inventory, windows_retention_disk_uuid=UUID, **variables)
    task = failed_task(result)
    assert task["action"].endswith("validate_argument_spec"), result.debug
    assert name(task).startswith("Validating arguments against arg spec 'main'"), result.debug
    errors = task["result"]["argument_errors"]
    assert any(variable in error and message in error for error in errors), errors
    # Validation is the role's first task: nothing else ran.
    assert [name(t) for t in result["tasks"]] == [name(task)], result.debug
    assert_no_connection_tried(result)


@pytest.mark.parametrize(
    "variables, task_name, message",
    [
        ({}, "Check the retention disk selection", "got neither"),
        (
            {"windows_retention_disk_uuid": UUID, "windows_retention_disk_number": 1},
            "Check the retention disk selection",
            "got both",
        ),
        ({"windows_retention_disk_uuid": "6000C29a-nope"}, "Check windows_retention_disk_uuid", "is not a VMware disk uuid"),
        ({"windows_retention_disk_number": -1}, "Check windows_retention_disk_number", "must be a disk number"),
        (
            {"windows_retention_disk_number": 1, "windows_install_drive": "R:"},
            "Check that the retention volume is not the install (cache) volume",
            "windows_retention_drive_letter R is the install drive R: (windows_install_drive)",
        ),
        ({"windows_retention_disk_number": 1, "windows_retention_label": ""}, "Check windows_retention_label", "1 to 32 characters"),
        (
            {"windows_retention_disk_number": 1, "windows_retention_label": "x" * 33},
            "Check windows_retention_label",
            "1 to 32 characters",
        ),
        (
            {"windows_retention_disk_number": 1, "windows_retention_filesystem": "refs", "windows_retention_allocation_unit_size": 8192},
            "Check windows_retention_allocation_unit_size",
            "use one of 4096, 65536",
        ),
        (
            {"windows_retention_disk_number": 1, "windows_vmware_tools_source": "path"},
            "Check the VMware Tools installer source",
            "so set windows_vmware_tools_path",
        ),
        (
            {"windows_retention_disk_number": 1, "windows_vmware_tools_source": "url", "windows_vmware_tools_url": "ftp://x/setup64.exe"},
            "Check the URL of the VMware Tools installer",
            "must be an http:// or https:// URL",
        ),
        (
            {"windows_retention_disk_number": 1, "windows_process_server_port": 70000},
            "Check the ports and timeouts",
            "windows_process_server_port (70000)",
        ),
    ],
)
def test_variable_checks_refuse_bad_combinations_before_connecting(inventory, variables, task_name, message):
    result = run_role(inventory, **variables)
    task = failed_task(result)
    assert name(task) == task_name, result.debug
    assert message in task["result"]["msg"], result.debug
    assert_no_connection_tried(result)


def test_retention_can_be_skipped_without_a_disk(inventory):
    """windows_retention_manage: false needs no disk selector; the run then goes on to the host."""
    result = run_role(inventory, windows_retention_manage=False)
    task = failed_task(result)
    assert name(task) == "Look for the VMware Tools service", result.debug
    assert CONNECTION_ATTEMPT.search(task["result"]["msg"]), result.debug


@pytest.mark.parametrize(
    "variables, first_host_task",
    [
        ({"windows_retention_disk_uuid": UUID}, "Read the disks, partitions and volumes"),
        ({"windows_retention_disk_number": 1, "windows_vmware_tools_source": "url",
          "windows_vmware_tools_url": "https://files.example.com/VMware-tools-12.5.0-x86_64.exe"},
         "Read the disks, partitions and volumes"),
        ({"windows_retention_disk_uuid": UUID, "windows_configuration_server_address": "cs.example.com"},
         "Open a TCP connection to each server from the master target"),
    ],
)
def test_good_variables_pass_every_check_and_reach_the_host(inventory, variables, first_host_task):
    """Good input passes validation and the checks; the first task that needs Windows is the one that fails here."""
    result = run_role(inventory, **variables)
    reached = [task for task in result["tasks"] if task["result"].get("failed")][0]
    assert name(reached) == first_host_task, result.debug
    assert CONNECTION_ATTEMPT.search(json.dumps(reached["result"])), result.debug
    validation = [t for t in result["tasks"] if t["action"].endswith("validate_argument_spec")]
    assert len(validation) == 1 and not validation[0]["result"].get("failed"), result.debug


def test_a_failing_reachability_test_is_not_blamed_on_the_server(inventory):
    """When win_wait_for itself cannot run, the role says so instead of calling the server unreachable."""
    result = run_role(inventory, windows_retention_disk_uuid=UUID, windows_process_server_address="ps.example.com")
    task = failed_task_after_ignored(result)
    assert name(task) == "Check that the connection tests ran", result.debug
    assert "The reachability test could not run on winmt: the test of the process server failed with" in task["result"]["msg"], result.debug
    assert "cannot open a TCP connection" not in task["result"]["msg"], result.debug
