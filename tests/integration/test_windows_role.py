"""The role siterecovery.master_target.windows, as far as it can run without a Windows host.

No Windows host can run here, so these tests cover what runs on the controller: the playbook syntax,
the argument specification (ansible-doc, and its agreement with defaults/main.yml), and every check of
the variables. The role is run against a host on the ``winrm`` connection (127.0.0.1, port 1) with a
transport that does not exist: a task that needed the connection fails with "The installed version of
WinRM does not support transport(s) ..." (or "winrm or requests is not installed" where pywinrm is
missing) before any network access, so a failure in the role's own checks proves they ran before any
connection was tried.

The last tests run the role's flows against STAND-INS for the Windows modules: action plugins of a
stub ``ansible.windows`` / ``community.windows`` put first on the collections path, which run on the
controller and keep a made-up Windows (registry, driver files, disks) in a JSON file. They prove the
role's wiring (the order of its tasks, what it refuses, its messages, check mode, the fact it sets)
against what the real modules are documented to return, not how Windows behaves.
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
    assert options["windows_lsi_driver_type"]["choices"] == ["", "lsilogic", "lsilogicsas"]
    # The entry point for include_role tasks_from: lsi_driver checks its own variable, which it requires.
    lsi = doc["entry_points"]["lsi_driver"]
    assert lsi["short_description"] and list(lsi["options"]) == ["windows_lsi_driver_type"]
    assert lsi["options"]["windows_lsi_driver_type"]["choices"] == ["lsilogic", "lsilogicsas"]
    assert lsi["options"]["windows_lsi_driver_type"]["required"] is True


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
        ({"windows_lsi_driver_type": "pvscsi"}, "windows_lsi_driver_type", "must be one of: , lsilogic, lsilogicsas, got: pvscsi"),
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


LSI_PLAYBOOK = f"""
- name: Prepare the Windows guest for the LSI Logic controller
  hosts: all
  gather_facts: false
  tasks:
    - name: Only the LSI Logic driver step
      ansible.builtin.include_role:
        name: {ROLE}
        tasks_from: lsi_driver
"""


def test_lsi_driver_entry_point_validates_its_own_variable(inventory):
    """include_role tasks_from: lsi_driver validates against the entry point lsi_driver, before connecting."""
    result = run_playbook(LSI_PLAYBOOK, inventory=inventory, timeout=120)
    task = failed_task(result)
    assert name(task).startswith("Validating arguments against arg spec 'lsi_driver'"), result.debug
    errors = task["result"]["argument_errors"]
    assert any("windows_lsi_driver_type must be one of: lsilogic, lsilogicsas, got: " in error for error in errors), errors
    assert_no_connection_tried(result)


@pytest.mark.parametrize(
    "playbook, variables",
    [
        (LSI_PLAYBOOK, {"windows_lsi_driver_type": "lsilogicsas"}),
        # From main.yml, the driver step is the first change, before VMware Tools.
        (PLAYBOOK, {"windows_lsi_driver_type": "lsilogic", "windows_retention_manage": False}),
    ],
)
def test_lsi_driver_step_reaches_the_host(inventory, playbook, variables):
    result = run_playbook(playbook, inventory=inventory, extra_vars=variables, timeout=120)
    reached = [task for task in result["tasks"] if task["result"].get("failed")][0]
    assert name(reached) == "Read the driver service", result.debug
    assert CONNECTION_ATTEMPT.search(json.dumps(reached["result"])), result.debug


# --- The role's flows against stand-ins of the Windows modules --------------------------------------

# One action plugin source for every stand-in; it acts by the task's module name. The made-up Windows
# is a JSON file (the play variable windows_stub_state): "registry" {lower-case key path: {value name:
# value}}, "files" [paths], "disks" (as win_disk_facts returns them), "letter_holder", "sectors", and
# "calls", where each stand-in records its name, arguments and whether it ran in check mode.
STUB = r'''
import json
import ntpath

from ansible.plugins.action import ActionBase


class ActionModule(ActionBase):
    def run(self, tmp=None, task_vars=None):
        path = task_vars["windows_stub_state"]
        with open(path) as handle:
            state = json.load(handle)
        module = self._task.action.rsplit(".", 1)[-1]
        args = dict(self._task.args)
        check = bool(self._play_context.check_mode)
        state["calls"].append({"module": module, "args": args, "check_mode": check})
        result = getattr(self, module)(state, args, check)
        with open(path, "w") as handle:
            json.dump(state, handle)
        result.setdefault("changed", False)
        return result

    @staticmethod
    def win_reg_stat(state, args, check):
        key = args["path"].lower()
        if key not in state["registry"]:
            return {"exists": False}
        values = state["registry"][key]
        kinds = {int: "REG_DWORD", str: "REG_EXPAND_SZ"}
        properties = {name: {"raw_value": value, "value": value, "type": kinds[type(value)]} for name, value in values.items()}
        sub_keys = [other[len(key) + 1:] for other in state["registry"] if ntpath.dirname(other) == key]
        return {"exists": True, "properties": properties, "sub_keys": sub_keys}

    @staticmethod
    def win_stat(state, args, check):
        wanted = args["path"].lower().replace("%systemroot%", "c:\\windows")
        return {"stat": {"exists": wanted in [name.lower() for name in state["files"]], "path": args["path"]}}

    @staticmethod
    def win_regedit(state, args, check):
        key = args["path"].lower()
        registry = state["registry"]
        if args.get("state") == "absent":
            doomed = [other for other in registry if other == key or other.startswith(key + "\\")]
            if not doomed:
                return {}
            if not check:
                for other in doomed:
                    del registry[other]
            return {"changed": True, "diff": {"before": {args["path"]: {}}, "after": {}}}
        before = registry.get(key, {}).get(args["name"])
        if before == int(args["data"]):
            return {}
        if not check:
            registry.setdefault(key, {})[args["name"]] = int(args["data"])
        diff = {"before": {args["path"]: {args["name"]: before}}, "after": {args["path"]: {args["name"]: int(args["data"])}}}
        return {"changed": True, "diff": diff}

    @staticmethod
    def win_disk_facts(state, args, check):
        return {"ansible_facts": {"ansible_disks": state["disks"]}}

    @staticmethod
    def win_powershell(state, args, check):
        if check:
            # As the module does with a script without SupportsShouldProcess.
            return {"changed": True, "msg": "skipped, running in check mode"}
        parameters = args.get("parameters") or {}
        if "Letter" in parameters:
            return {"changed": True, "output": state["letter_holder"]}
        if "Number" in parameters:
            return {"changed": True, "output": [state["sectors"]]}
        # The report of the retention disk change: the diff the script sets in $Ansible.Diff.
        return {"changed": True, "output": [], "diff": {"before": parameters["Before"] + "\n", "after": parameters["After"] + "\n"}}

    @staticmethod
    def win_initialize_disk(state, args, check):
        return {"changed": True}

    win_partition = win_format = win_initialize_disk
'''
STUB_MODULES = {
    ("ansible", "windows"): ["win_reg_stat", "win_stat", "win_regedit", "win_powershell"],
    ("community", "windows"): ["win_disk_facts", "win_initialize_disk", "win_partition", "win_format"],
}
LSI_SAS = "hklm:\\system\\currentcontrolset\\services\\lsi_sas"


@pytest.fixture
def windows(tmp_path, inventory):
    """A made-up Windows behind stand-ins of the Windows modules; returns a runner of a playbook on it."""
    root = tmp_path / "stubs"
    for (namespace, collection), modules in STUB_MODULES.items():
        actions = root / "ansible_collections" / namespace / collection / "plugins" / "action"
        actions.mkdir(parents=True)
        for module in modules:
            (actions / f"{module}.py").write_text(STUB)
    state_file = tmp_path / "windows.json"

    def run(playbook, state, *, check=False, diff=True, **variables):
        if state is not None:
            state_file.write_text(json.dumps(dict(state, calls=[])))
        result = run_playbook(
            playbook,
            inventory=inventory,
            extra_vars=dict(variables, windows_stub_state=str(state_file)),
            env={"ANSIBLE_COLLECTIONS_PATH": f"{root}:{ansible_env()['ANSIBLE_COLLECTIONS_PATH']}"},
            check=check,
            diff=diff,
            timeout=120,
        )
        return result, json.loads(state_file.read_text())

    return run


def windows_with_lsi_sas(start=3, override=True, driver_file=True):
    registry = {LSI_SAS: {"Start": start, "ImagePath": "System32\\drivers\\lsi_sas.sys", "Type": 1}}
    if override:
        registry[LSI_SAS + "\\startoverride"] = {"0": 3}
    files = ["C:\\Windows\\System32\\drivers\\lsi_sas.sys"] if driver_file else []
    return {"registry": registry, "files": files}


def changes(state):
    return [call for call in state["calls"] if call["module"] == "win_regedit"]


@pytest.mark.parametrize(
    "driver_type, made_up, missing",
    [
        (
            "lsilogic",
            windows_with_lsi_sas(),
            "the driver service LSI_SCSI does not exist (no registry key HKLM:\\SYSTEM\\CurrentControlSet\\Services\\LSI_SCSI)",
        ),
        (
            "lsilogicsas",
            windows_with_lsi_sas(driver_file=False),
            "the driver service LSI_SAS has no driver file (%SystemRoot%\\System32\\drivers\\lsi_sas.sys, from its ImagePath, is missing)",
        ),
    ],
)
def test_lsi_driver_missing_is_refused_before_any_change(windows, driver_type, made_up, missing):
    result, state = windows(LSI_PLAYBOOK, made_up, windows_lsi_driver_type=driver_type)
    task = failed_task(result)
    assert name(task) == "Check that Windows has the LSI Logic driver", result.debug
    message = task["result"]["msg"]
    assert missing in message, message
    assert "0x7B INACCESSIBLE_BOOT_DEVICE" in message and "Nothing was changed." in message
    assert "keep the ParaVirtual controller" in message
    if driver_type == "lsilogic":
        assert "windows_lsi_driver_type: lsilogicsas" in message and "every supported Windows Server has its driver LSI_SAS" in message
    assert changes(state) == [] and state["registry"] == made_up["registry"], result.debug
    assert_no_connection_tried(result)


def test_lsi_driver_check_mode_reports_the_change_and_changes_nothing(windows):
    made_up = windows_with_lsi_sas()
    result, state = windows(LSI_PLAYBOOK, made_up, check=True, windows_lsi_driver_type="lsilogicsas")
    assert result["stats"]["winmt"]["failures"] == 0, result.debug
    changed = {name(task): task["result"] for task in result["tasks"] if task["result"].get("changed")}
    assert sorted(changed) == [
        "Remove the StartOverride subkey of the driver service (Windows 8 / 2012 and later honour it over Start)",
        "Start the driver at boot",
    ], result.debug
    assert changed["Start the driver at boot"]["diff"]["after"] == {
        "HKLM:\\SYSTEM\\CurrentControlSet\\Services\\LSI_SAS": {"Start": 0}
    }
    assert all(call["check_mode"] for call in changes(state)) and state["registry"] == made_up["registry"]
    fact = [task for task in result["tasks"] if name(task) == "Publish that the LSI Logic driver starts at boot"][0]
    assert fact["result"]["ansible_facts"]["windows_lsi_driver"] == {
        "type": "lsilogicsas", "service": "LSI_SAS", "ready": True, "check_mode": True
    }


def test_lsi_driver_run_then_rerun_from_main(windows):
    """From main.yml (retention and VMware Tools off): changed, then unchanged; the fact both times."""
    variables = dict(windows_lsi_driver_type="lsilogicsas", windows_retention_manage=False, windows_vmware_tools_manage=False)
    first, state = windows(PLAYBOOK, windows_with_lsi_sas(), **variables)
    assert first["stats"]["winmt"]["failures"] == 0 and first["stats"]["winmt"]["changed"] == 2, first.debug
    assert state["registry"] == {LSI_SAS: {"Start": 0, "ImagePath": "System32\\drivers\\lsi_sas.sys", "Type": 1}}
    second, state = windows(PLAYBOOK, None, **variables)
    assert second["stats"]["winmt"]["changed"] == 0, second.debug
    for result in (first, second):
        fact = [task for task in result["tasks"] if name(task) == "Publish that the LSI Logic driver starts at boot"][0]
        assert fact["result"]["ansible_facts"]["windows_lsi_driver"]["ready"] is True, result.debug


GIB = 1024**3
MIB = 1024**2
UUID_SERIAL = "6000c29ab1b51bf840d7a2e2c43fb182"


def raw_disk(style="RAW", partitions=None):
    return dict(number=1, size=1024 * GIB, bus_type="SAS", partition_style=style, partition_count=len(partitions or []),
                operational_status="Online", read_only=False, bootable=False, system_disk=False, clustered=False,
                serial_number=UUID_SERIAL, unique_id=UUID_SERIAL.upper(), partitions=partitions or [])


def edges(first_nonzero=-1):
    size = 1024 * GIB
    return dict(number=1, size=size, sector_size=512, error="", regions=[
        dict(offset=0, length=MIB, first_nonzero=first_nonzero, sample="EB-52-90" if first_nonzero >= 0 else ""),
        dict(offset=size - MIB, length=MIB, first_nonzero=-1, sample=""),
    ])


RETENTION = dict(windows_retention_disk_uuid=UUID, windows_vmware_tools_manage=False)


def test_retention_check_mode_reports_changed_with_the_plan(windows):
    """Check mode on a RAW, zeroed disk: the report task says changed, with the plan; nothing is initialized."""
    made_up = dict(registry={}, files=[], disks=[raw_disk()], letter_holder=[], sectors=edges())
    result, state = windows(PLAYBOOK, made_up, check=True, **RETENTION)
    assert result["stats"]["winmt"]["failures"] == 0, result.debug
    names = [name(task) for task in result["tasks"]]
    # The plan asked for the disk's first and last MiB and decided again with them.
    assert "Read the first and last MiB of the RAW retention disk" in names
    assert "Plan the retention volume with those bytes" in names
    report = [task for task in result["tasks"] if name(task) == "Report the change to the retention disk"][0]["result"]
    assert report["changed"] is True, result.debug
    assert report["diff"]["after"].endswith(
        "a GPT partition table and one partition on the whole disk, R: with an NTFS file system labelled 'Retention'\n"
    )
    # The reads ran in check mode too (check_mode: false); every change was only reported.
    reads = [call for call in state["calls"] if call["module"] == "win_powershell" and "Number" in call["args"]["parameters"]]
    assert reads and reads[0]["args"]["parameters"]["Number"] == 1 and not reads[0]["check_mode"]
    init = [call for call in state["calls"] if call["module"] == "win_initialize_disk"]
    assert len(init) == 1 and init[0]["check_mode"], state["calls"]
    assert not [call for call in state["calls"] if call["module"] in ("win_partition", "win_format")]


@pytest.mark.parametrize(
    "disk, sectors, message",
    [
        (
            raw_disk(),
            edges(first_nonzero=1024),
            "holds data: Windows shows it as RAW, but the byte at offset 1024 (in the first MiB) is not zero (EB 52 90 ...)",
        ),
        (raw_disk(style="GPT"), edges(), "is not RAW: it has a GPT partition table and no partitions"),
    ],
)
def test_retention_disk_that_may_hold_data_is_refused_before_any_change(windows, disk, sectors, message):
    made_up = dict(registry={}, files=[], disks=[disk], letter_holder=[], sectors=sectors)
    result, state = windows(PLAYBOOK, made_up, **RETENTION)
    task = failed_task(result)
    assert name(task) == "Check that the retention disk can be used", result.debug
    assert task["result"]["msg"].startswith("winmt: disk 1 (1.0 TiB, SAS, serial " + UUID_SERIAL), result.debug
    assert message in task["result"]["msg"], result.debug
    assert "the retention volume needs a new, empty disk" in task["result"]["msg"]
    assert not [call for call in state["calls"] if call["module"] in ("win_initialize_disk", "win_partition", "win_format")]
