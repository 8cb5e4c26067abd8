"""The vCenter password never shows: not in any output (at -vvvv), not in any file a run writes.

The simulator is started with a distinctive password. Every vSphere module (meta/runtime.yml's vmware
group, read when the tests are collected, so a new module is covered at once) and the playbook users run
(playbooks/prepare_master_target.yml, which ends with the readiness role and its reports) run with -vvvv
and --diff, with the password given as the module option (the playbook: the roles' vsphere_password) or
only as the VMWARE_PASSWORD environment variable, and with a wrong password (a failed login must not echo
it). Then stdout, stderr and every file under the run's own directory are searched for the password: the
Ansible log (ANSIBLE_LOG_PATH), Ansible's local and remote temporary directories, HOME (so anything
written under ~) and the readiness reports.
"""

from __future__ import annotations

import ast
import base64
import json
import re
import subprocess
import sys
import urllib.parse
from pathlib import Path

import pytest
import yaml
from support.ansible import ansible_env
from support.vcsim import start_vcsim

REPO = Path(__file__).resolve().parents[2]
# The vSphere modules: the vmware action group lists each one (tests/unit/test_module_docs.py checks that); the
# guest modules (linux_retention_disk_info) take no password and run in the guest (the linux molecule scenario).
MODULES = sorted(yaml.safe_load((REPO / "meta" / "runtime.yml").read_text())["action_groups"]["vmware"])
PLAYBOOK = REPO / "playbooks" / "prepare_master_target.yml"

# Distinctive (found nowhere by chance), with characters that quoting, URL and JSON encoders touch.
PASSWORD = "Srmt!7q#Vc-Pw.K2x9"
WRONG_PASSWORD = "Wr0ng!3z#Vc-Pw.J8"

# Arguments with which each module does its work on the default scene (changes are welcome: each test
# has its own simulator). Modules missing here get arguments derived from their DOCUMENTATION.
ARGS = {
    "host_datastore_access": dict(name="asr-mt-01", datastores=["vmfs-unmounted", "vmfs-mt-01"]),
    "vm_disk_uuid": dict(name="asr-mt-01", enabled=True),
    "vm_migration_exclusion": dict(name="asr-mt-01"),
    "vm_power": dict(name="asr-mt-01", state="powered_off"),
    "vm_retention_disk": dict(name="asr-mt-02", size_gb=10, datastore="vmfs-mt-01"),
    "vm_scsi_controller": dict(name="asr-mt-02", convert=True, type="lsilogicsas", guest_ready=True),
    "vm_snapshots": dict(name="asr-mt-01", state="absent"),
    "vm_snapshots_info": dict(name="asr-mt-01"),
    "vm_tools": dict(name="asr-mt-01", state="installer_mounted", force=True),
    "failback_readiness_info": dict(master_targets=["asr-mt-01", "asr-mt-02"], protected_vms=["prod-web-01", "prod-db-01"]),
}


def documentation(module):
    """The module's DOCUMENTATION, parsed, without importing the module."""
    tree = ast.parse((REPO / "plugins" / "modules" / f"{module}.py").read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(target, "id", None) == "DOCUMENTATION" for target in node.targets):
            return yaml.safe_load(node.value.value)
    return {}


def derived_args(module):
    """Arguments for a module not in ARGS: the VM asr-mt-01 when it selects a VM, and a value per required option."""
    doc = documentation(module)
    args = {}
    if "siterecovery.master_target.vsphere.vm" in (doc.get("extends_documentation_fragment") or []):
        args["name"] = "asr-mt-01"
    for name, option in (doc.get("options") or {}).items():
        if not option.get("required"):
            continue
        if option.get("choices"):
            args[name] = option["choices"][0]
        else:
            args[name] = {"list": ["asr-mt-01"], "int": 1, "bool": True, "dict": {}}.get(option.get("type", "str"), "asr-mt-01")
    return args


def module_args(module):
    return dict(ARGS[module]) if module in ARGS else derived_args(module)


def forms(secret):
    """The password as it could appear: raw, URL-quoted (form and path style), base64."""
    return {secret, urllib.parse.quote(secret, safe=""), urllib.parse.quote_plus(secret), base64.b64encode(secret.encode()).decode()}


def leaks(secret, result, directory):
    """Where the secret appears: 'stdout', 'stderr' and the paths of files under `directory`."""
    needles = [form.encode() for form in forms(secret)]
    found = [name for name, text in (("stdout", result.stdout), ("stderr", result.stderr)) if any(n in text.encode() for n in needles)]
    for path in sorted(directory.rglob("*")):
        if path.is_file() and not path.is_symlink() and any(n in path.read_bytes() for n in needles):
            found.append(str(path.relative_to(directory)))
    return found


def run_dirs(tmp_path):
    """Environment that sends everything Ansible writes on the controller into tmp_path/run."""
    run = tmp_path / "run"
    for sub in ("home", "local", "remote"):
        (run / sub).mkdir(parents=True, exist_ok=True)
    env = {
        "HOME": str(run / "home"),
        "ANSIBLE_LOG_PATH": str(run / "ansible.log"),
        "ANSIBLE_LOCAL_TEMP": str(run / "local"),
        "ANSIBLE_REMOTE_TEMP": str(run / "remote"),
    }
    return run, env


class Run:
    """One ansible-playbook run with the default output users see (not the tests' json callback)."""

    def __init__(self, command, proc, run):
        self.command, self.rc, self.stdout, self.stderr = command, proc.returncode, proc.stdout, proc.stderr
        # The tree callback writes each host's last result as JSON: the module's result for one-task plays.
        tree = run / "tree"
        self.results = {path.name: json.loads(path.read_text()) for path in tree.glob("*")} if tree.is_dir() else {}
        self.recap = {
            match["host"]: {key: int(match[key]) for key in ("ok", "changed", "unreachable", "failed")}
            for match in RECAP.finditer(proc.stdout)
        }

    @property
    def debug(self):
        return f"\n$ {' '.join(self.command)}\nrc={self.rc}\n--- stderr ---\n{self.stderr[-4000:]}\n--- stdout ---\n{self.stdout[-8000:]}"


RECAP = re.compile(r"^(?P<host>\S+)\s+: ok=(?P<ok>\d+)\s+changed=(?P<changed>\d+)\s+unreachable=(?P<unreachable>\d+)\s+failed=(?P<failed>\d+)", re.M)


def run_verbose(tmp_path, playbook, env, inventory=None, extra_vars=None, check=False):
    """ansible-playbook -vvvv --diff with the default stdout callback, the module arguments in the results
    (ANSIBLE_INJECT_INVOCATION: the most a user can ask to see) and every controller-side file in tmp_path/run."""
    run, run_env = run_dirs(tmp_path)
    run_env.update(env)
    run_env.update(ANSIBLE_STDOUT_CALLBACK="ansible.builtin.default", ANSIBLE_INJECT_INVOCATION="true",
                   ANSIBLE_CALLBACKS_ENABLED="ansible.builtin.tree", ANSIBLE_CALLBACK_TREE_DIR=str(run / "tree"))
    work = tmp_path / "work"  # the play and its inputs: they hold the password on purpose, and are not searched
    work.mkdir(exist_ok=True)
    (work / "ansible.cfg").write_text("[defaults]\n")
    if inventory is None:
        inventory = work / "inventory.yml"
        inventory.write_text(json.dumps({"all": {"hosts": {"localhost": {
            "ansible_connection": "local", "ansible_python_interpreter": sys.executable}}}}))
    command = [str(Path(sys.executable).parent / "ansible-playbook"), "-i", str(inventory), "-vvvv", "--diff"]
    if extra_vars:
        (work / "extra_vars.json").write_text(json.dumps(extra_vars))
        command += ["-e", f"@{work / 'extra_vars.json'}"]
    if check:
        command.append("--check")
    command.append(str(playbook))
    proc = subprocess.run(command, cwd=work, env=ansible_env(run_env), stdin=subprocess.DEVNULL, capture_output=True,
                          text=True, timeout=600, check=False)
    return Run(command, proc, run), run


def run_one(tmp_path, module, args, env):
    """One task of `module` on localhost, like support.ansible.run_module; returns (Run, its result, run dir)."""
    fqcn = f"siterecovery.master_target.{module}"
    play = tmp_path / "work" / "play.yml"
    play.parent.mkdir(exist_ok=True)
    play.write_text(json.dumps([{"name": "one task", "hosts": "localhost", "gather_facts": False,
                                 "tasks": [{"name": fqcn, fqcn: args}]}]))
    result, run = run_verbose(tmp_path, play, env)
    assert "localhost" in result.results, f"no result for {fqcn}{result.debug}"
    return result, result.results["localhost"], run


@pytest.fixture
def sim():
    """A simulator that accepts only PASSWORD."""
    with start_vcsim(scene="default", password=PASSWORD) as started:
        yield started


def connection_options(sim, password):
    return dict(hostname=sim.host, port=sim.port, username=sim.username, password=password, validate_certs=False)


def env_without_password(sim):
    env = sim.env()
    del env["VMWARE_PASSWORD"]
    return env


def assert_no_leak(secret, result, run):
    found = leaks(secret, result, run)
    assert not found, f"the password appears in: {', '.join(found)}{result.debug}"
    assert (run / "ansible.log").is_file(), "ANSIBLE_LOG_PATH was not written: the log was not searched"


def module_env(sim, source, password):
    """(connection options for the task, environment): the password as an option, or only in VMWARE_PASSWORD."""
    if source == "option":
        return connection_options(sim, password), env_without_password(sim)
    return {}, dict(sim.env(), VMWARE_PASSWORD=password)


# -vvvv with the module's arguments injected into the results: the password option is printed masked.
MASKED = "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"


@pytest.mark.vcsim
@pytest.mark.parametrize("source", ["option", "env"])
@pytest.mark.parametrize("module", MODULES)
def test_module_never_shows_the_password(sim, tmp_path, module, source):
    options, env = module_env(sim, source, PASSWORD)
    run_result, result, run = run_one(tmp_path, module, dict(module_args(module), **options), env)
    if module in ARGS:
        assert run_result.recap["localhost"]["failed"] == 0, run_result.debug
    assert_no_leak(PASSWORD, run_result, run)
    # Proof that the arguments were printed at all (and the password among them, masked).
    assert result["invocation"]["module_args"]["password"] == MASKED, run_result.debug
    assert MASKED in run_result.stdout, run_result.debug


@pytest.mark.vcsim
@pytest.mark.parametrize("source", ["option", "env"])
@pytest.mark.parametrize("module", MODULES)
def test_failed_login_does_not_echo_the_wrong_password(sim, tmp_path, module, source):
    options, env = module_env(sim, source, WRONG_PASSWORD)
    run_result, result, run = run_one(tmp_path, module, dict(module_args(module), **options), env)
    assert run_result.recap["localhost"]["failed"] == 1, run_result.debug
    assert "user name or password is wrong" in result["msg"] and sim.username in result["msg"], run_result.debug
    assert_no_leak(WRONG_PASSWORD, run_result, run)


@pytest.mark.vcsim
@pytest.mark.parametrize("alias", ["pass", "pwd"])
def test_password_aliases_are_masked_too(sim, tmp_path, alias):
    args = dict(module_args("vm_snapshots_info"), **connection_options(sim, PASSWORD))
    args[alias] = args.pop("password")
    run_result, result, run = run_one(tmp_path, "vm_snapshots_info", args, env_without_password(sim))
    assert run_result.recap["localhost"]["failed"] == 0 and result["invocation"]["module_args"][alias] == MASKED, run_result.debug
    assert_no_leak(PASSWORD, run_result, run)


@pytest.mark.vcsim
def test_session_cache_files_do_not_hold_the_password(sim, tmp_path):
    """With the opt-in session cache (SITERECOVERY_VSPHERE_SESSION_CACHE, default directory under ~, which is
    tmp_path/run/home here), the files it keeps between tasks must not hold the password itself."""
    env = dict(sim.env(), SITERECOVERY_VSPHERE_SESSION_CACHE="true")
    for module in ("vm_snapshots_info", "vm_disk_uuid"):
        run_result, result, run = run_one(tmp_path, module, module_args(module), env)
        assert run_result.recap["localhost"]["failed"] == 0, run_result.debug
        assert_no_leak(PASSWORD, run_result, run)
    if (REPO / "plugins" / "module_utils" / "_vsphere_session.py").is_file():
        cached = [path for path in (run / "home").rglob("*") if path.is_file()]
        assert cached, "the session cache wrote no file under ~: the test searched nothing"


INVENTORY = """
all:
  children:
    master_targets:
      hosts:
        asr-mt-01:
          vsphere_vm_folder: asr
        asr-mt-02:
          vsphere_vm_folder: asr
      vars:
        ansible_connection: local
        ansible_python_interpreter: "{python}"
        vsphere_scsi_convert: true
        vsphere_scsi_type: lsilogicsas
        vsphere_scsi_guest_ready: true
        vsphere_power_off_allowed: true
        vsphere_retention_disk_datastore: vmfs-mt-01
        vsphere_retention_disk_size_gb: 10
        vsphere_datastores: [vmfs-prod-01, vmfs-prod-02]
        vsphere_tools_timeout: 30
    master_target_guests:
      hosts: {{}}
    linux:
      hosts: {{}}
    windows:
      hosts: {{}}
"""


def playbook_run(sim, tmp_path, source, password, check=False):
    inventory = tmp_path / "inventory.yml"
    inventory.write_text(INVENTORY.format(python=sys.executable))
    extra_vars = dict(readiness_report_dir=str(tmp_path / "run" / "reports"), readiness_fail_on_error=False,
                      readiness_protected_vms=["prod-web-01", "prod-db-01"])
    if source == "option":
        env = env_without_password(sim)
        extra_vars.update(vsphere_hostname=sim.host, vsphere_port=sim.port, vsphere_username=sim.username,
                          vsphere_password=password, vsphere_validate_certs=False)
    else:
        env = dict(sim.env(), VMWARE_PASSWORD=password)
    return run_verbose(tmp_path, PLAYBOOK, env, inventory=inventory, extra_vars=extra_vars, check=check)


@pytest.mark.vcsim
@pytest.mark.parametrize(("source", "check"), [("option", False), ("env", True)], ids=["option-run", "env-check"])
def test_prepare_playbook_never_shows_the_password(sim, tmp_path, source, check):
    result, run = playbook_run(sim, tmp_path, source, PASSWORD, check=check)
    assert sorted(result.recap) == ["asr-mt-01", "asr-mt-02"], result.debug
    assert not any(stat["failed"] or stat["unreachable"] for stat in result.recap.values()), result.debug
    assert sum(stat["changed"] for stat in result.recap.values()) > 0, result.debug
    assert_no_leak(PASSWORD, result, run)
    if (REPO / "roles" / "readiness").is_dir():
        reports = sorted(path.name for path in (run / "reports").glob("*"))
        assert reports, f"the readiness role wrote no report into {run / 'reports'}: the reports were not searched{result.debug}"


@pytest.mark.vcsim
@pytest.mark.parametrize("source", ["option", "env"])
def test_prepare_playbook_with_a_wrong_password_does_not_echo_it(sim, tmp_path, source):
    result, run = playbook_run(sim, tmp_path, source, WRONG_PASSWORD)
    assert {host: stat["failed"] for host, stat in result.recap.items()} == {"asr-mt-01": 1, "asr-mt-02": 1}, result.debug
    assert "user name or password is wrong" in result.stdout, result.debug
    assert_no_leak(WRONG_PASSWORD, result, run)
