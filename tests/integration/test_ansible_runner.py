"""The playbooks as AWX runs them: through ansible-runner, in a private data dir laid out like AWX's.

AWX (awx/main/tasks/jobs.py) gives every job a private data dir with the project checkout in
``project/``, the collections that the project sync installed in ``requirements_collections/``
(first on ANSIBLE_COLLECTIONS_PATH), the job's extra vars (survey answers) in ``env/extravars``,
the inventory in ``inventory/``, and calls ``ansible_runner.run(..., envvars=..., suppress_env_files=True)``
so that credential values never land in ``env/``. A "check" job type adds ``--check``, "Show changes"
adds ``--diff``.

The vCenter credential is AWX's built-in "VMware vCenter" credential type, whose injector
(awx_plugins/credentials/injectors.py, ``vmware``) sets exactly VMWARE_HOST, VMWARE_USER,
VMWARE_PASSWORD and VMWARE_VALIDATE_CERTS (the latter from the global AWX setting of that name,
default False, written as ``str(bool)``). It injects no port: the simulator's port comes here as the
survey answer ``vsphere_port``, as it would for a vCenter that does not listen on 443.

The collection is built and installed with ansible-galaxy, as a project sync installs it from
collections/requirements.yml (or as the execution environment carries it).
"""

from __future__ import annotations

import importlib.util
import json
import os
import secrets
import shutil
import subprocess
import sys
from pathlib import Path

import ansible_runner
import pytest
from support.vcsim import start_vcsim
from support.vsphere import vm_state

pytestmark = [pytest.mark.vcsim, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
READINESS_MODULE = REPO / "plugins" / "modules" / "failback_readiness_info.py"
# Both playbooks end with the readiness role, which needs this module.
NEEDS_READINESS = pytest.mark.skipif(
    not READINESS_MODULE.exists(),
    reason="plugins/modules/failback_readiness_info.py does not exist yet: playbooks/prepare_master_target.yml "
    "and playbooks/failback_readiness.yml run the readiness role, which uses it",
)

# A password that cannot appear in any output by chance.
PASSWORD = f"Awx-Credential-{secrets.token_hex(8)}!"

# The "Prepare master target" job template (docs/awx.md), with the values of
# playbooks/inventory/demo.yml for the simulator's scene. Its Variables hold what a survey cannot
# ask with the right type (booleans, lists); the survey asks the rest. AWX merges both into
# env/extravars, survey answers last.
JOB_TEMPLATE_VARIABLES = dict(
    vsphere_scsi_convert=True,
    vsphere_scsi_guest_ready=True,  # the simulator's guest boots from any controller
    vsphere_power_off_allowed=True,
    vsphere_datastores=["vmfs-prod-01", "vmfs-prod-02"],
    readiness_protected_vms=["prod-web-01", "prod-db-01"],
)
SURVEY_ANSWERS = dict(
    vsphere_vm_name="asr-mt-01",
    vsphere_vm_folder="asr",
    vsphere_scsi_type="lsilogicsas",
    vsphere_retention_disk_datastore="vmfs-mt-01",
    vsphere_retention_disk_size_gb=1024,
    vsphere_tools_timeout=60,
    readiness_retention_disk_min_gb=1024,
)
AWX_ANSWER_TYPES = {"text": str, "password": str, "multiplechoice": str, "multiselect": list, "integer": int,
                    "float": float}

# The AWX inventory: one master target, whose inventory name is not its VM name (the survey's
# vsphere_vm_name says which VM it is). The vCenter-side roles run on the controller.
INVENTORY = {
    "all": {
        "children": {
            "master_targets": {"hosts": {"master-target-1": {"ansible_connection": "local"}}},
            "master_target_guests": {"hosts": {}},
            "linux": {"hosts": {}},
            "windows": {"hosts": {}},
        }
    }
}


@pytest.fixture(scope="module")
def installed_collections(tmp_path_factory) -> Path:
    """The collection built from this checkout and installed as a project sync would install it."""
    work = tmp_path_factory.mktemp("collection")
    env = {key: value for key, value in os.environ.items() if key != "ANSIBLE_COLLECTIONS_PATH"}
    galaxy = str(BIN / "ansible-galaxy")
    subprocess.run([galaxy, "collection", "build", "--output-path", str(work), str(REPO)],
                   env=env, check=True, capture_output=True, timeout=300)
    tarball = next(work.glob("siterecovery-master_target-*.tar.gz"))
    target = work / "requirements_collections"
    subprocess.run([galaxy, "collection", "install", "--no-deps", "--collections-path", str(target), str(tarball)],
                   env=env, check=True, capture_output=True, timeout=300)
    return target


@pytest.fixture
def awx_vcsim():
    sim = start_vcsim(scene="default", password=PASSWORD)
    try:
        yield sim
    finally:
        sim.stop()


def credential_env(sim) -> dict[str, str]:
    """What AWX's "VMware vCenter" credential injects (with AWX's default VMWARE_VALIDATE_CERTS)."""
    return {
        "VMWARE_HOST": sim.host,
        "VMWARE_USER": sim.username,
        "VMWARE_PASSWORD": sim.password,
        "VMWARE_VALIDATE_CERTS": str(False),
    }


def run_job(tmp_path: Path, collections: Path, sim, playbook: str, job_id: int, extra_vars: dict,
            job_type: str = "run", diff: bool = False, verbosity: int = 0):
    """One AWX job: a fresh private data dir, the project, env/extravars, then ansible_runner.run()."""
    private_data_dir = tmp_path / f"awx_{job_id}"
    shutil.copytree(REPO / "playbooks", private_data_dir / "project" / "playbooks",
                    ignore=shutil.ignore_patterns("reports"))
    shutil.copytree(collections, private_data_dir / "requirements_collections", symlinks=True)
    (private_data_dir / "env").mkdir()
    (private_data_dir / "env" / "extravars").write_text(json.dumps(extra_vars))
    envvars = dict(
        credential_env(sim),
        ANSIBLE_COLLECTIONS_PATH=os.pathsep.join(
            [str(private_data_dir / "requirements_collections"), "/usr/share/ansible/collections"]),
        JOB_ID=str(job_id),
        ANSIBLE_RETRY_FILES_ENABLED="False",
        # In the execution environment ansible-playbook is on PATH; here it is this virtualenv's.
        PATH=os.pathsep.join([str(BIN), os.environ.get("PATH", "")]),
    )
    cmdline = []
    if job_type == "check":
        cmdline.append("--check")
    if diff:
        cmdline.append("--diff")
    runner = ansible_runner.run(
        private_data_dir=str(private_data_dir),
        project_dir=str(private_data_dir / "project"),
        playbook=playbook,
        inventory=INVENTORY,
        envvars=envvars,
        suppress_env_files=True,
        cmdline=" ".join(cmdline) or None,
        verbosity=verbosity,
        ident=str(job_id),
        quiet=True,
        timeout=900,
    )
    return runner, private_data_dir


def job_output(runner) -> str:
    return "".join(event.get("stdout", "") + "\n" for event in runner.events)


def assert_password_hidden(private_data_dir: Path, job_id: int, report_dir: Path | None = None) -> None:
    """The password is in no output AWX keeps or shows: stdout, stderr, job events, reports.

    The only file that holds it is ansible-runner's own ``artifacts/<id>/command`` (the process's
    command line and environment, mode 0600), which AWX never shows and deletes with the private
    data dir; ``env/`` holds no credential file (suppress_env_files).
    """
    artifacts = private_data_dir / "artifacts" / str(job_id)
    events = sorted((artifacts / "job_events").glob("*.json"))
    assert events, f"no job events in {artifacts}"
    shown = [artifacts / "stdout", artifacts / "stderr", *events]
    if report_dir is not None:
        shown += sorted(path for path in report_dir.rglob("*") if path.is_file())
    leaks = [str(path) for path in shown if PASSWORD in path.read_text(errors="replace")]
    assert not leaks, f"the vCenter password appears in {leaks}"
    holders = sorted(
        str(path.relative_to(private_data_dir)) for path in private_data_dir.rglob("*")
        if path.is_file() and not path.is_symlink() and PASSWORD.encode() in path.read_bytes()
    )
    assert holders == [f"artifacts/{job_id}/command"], holders
    assert oct((artifacts / "command").stat().st_mode & 0o777) == "0o600"
    assert sorted(path.name for path in (private_data_dir / "env").iterdir()) == ["extravars"]


def master_target(si) -> dict:
    state = vm_state(si, "asr-mt-01", ["config.extraConfig", "config.hardware.device", "snapshot"])
    devices = state["config.hardware.device"]
    return dict(
        enable_uuid={o.key: o.value for o in state.get("config.extraConfig") or []}.get("disk.EnableUUID"),
        controllers=sorted(type(d).__name__.rsplit(".", 1)[-1] for d in devices if hasattr(d, "sharedBus")),
        disks=sum(1 for d in devices if type(d).__name__.endswith(".VirtualDisk")),
        snapshots=state.get("snapshot") is not None,
    )


def survey_questions() -> dict[str, dict]:
    """The questions scripts/awx_survey.py makes from the roles of the two playbooks, by variable."""
    spec = importlib.util.spec_from_file_location("awx_survey", REPO / "scripts" / "awx_survey.py")
    awx_survey = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(awx_survey)
    survey, _skipped = awx_survey.survey(awx_survey.load_options(["vsphere", "readiness"]), "Prepare master target")
    return {question["variable"]: question for question in survey["spec"]}


def extra_vars(sim, reports: Path) -> dict:
    """env/extravars of a job: the job template's variables, then the survey answers (as AWX types them)."""
    answers = dict(SURVEY_ANSWERS, vsphere_port=sim.port, readiness_report_dir=str(reports))
    questions = survey_questions()
    for variable, answer in answers.items():
        assert variable in questions, f"{variable} is not a question of the generated survey"
        assert isinstance(answer, AWX_ANSWER_TYPES[questions[variable]["type"]]), (variable, questions[variable])
    assert not set(JOB_TEMPLATE_VARIABLES) & set(questions)
    return dict(JOB_TEMPLATE_VARIABLES, **answers)


def readiness_verdicts(runner) -> list[bool]:
    """The ``ready`` value of every failback_readiness_info result in the job's events."""
    return [event["event_data"]["res"]["ready"] for event in runner.events
            if event.get("event") == "runner_on_ok" and "ready" in event.get("event_data", {}).get("res", {})]


@NEEDS_READINESS
def test_check_job_run_job_and_readiness_job(tmp_path, installed_collections, awx_vcsim):
    si = awx_vcsim.connect()
    before = master_target(si)
    assert before == dict(enable_uuid=None, controllers=["ParaVirtualSCSIController"], disks=2, snapshots=True)
    reports = tmp_path / "reports"
    survey = extra_vars(awx_vcsim, reports)
    prepare = "playbooks/prepare_master_target.yml"

    # Job type "check" with "Show changes": reports what it would change, changes nothing; the
    # readiness check at its end sees the master target as it is: not ready.
    check, check_dir = run_job(tmp_path, installed_collections, awx_vcsim, prepare, 101, survey,
                               job_type="check", diff=True)
    assert (check.status, check.rc) == ("successful", 0), job_output(check)
    assert check.stats["changed"].get("master-target-1", 0) > 0, check.stats
    assert master_target(si) == before, "the check job changed the VM"
    assert readiness_verdicts(check) == [False], job_output(check)
    assert_password_hidden(check_dir, 101, reports)

    # Job type "run" at verbosity 3 (what one sets to debug a job): prepares the master target,
    # and the readiness check at its end passes (else the job would fail).
    run, run_dir = run_job(tmp_path, installed_collections, awx_vcsim, prepare, 102, survey, verbosity=3)
    assert (run.status, run.rc) == ("successful", 0), job_output(run)
    assert not run.stats["failures"], run.stats
    assert master_target(si) == dict(
        enable_uuid="TRUE", controllers=["VirtualLsiLogicSASController"], disks=3, snapshots=False)
    assert readiness_verdicts(run) == [True], job_output(run)
    assert_password_hidden(run_dir, 102, reports)

    # The "Failback readiness" job template: read-only, writes the reports where the survey says.
    shutil.rmtree(reports)
    readiness, readiness_dir = run_job(tmp_path, installed_collections, awx_vcsim, "playbooks/failback_readiness.yml",
                                       103, survey)
    assert (readiness.status, readiness.rc) == ("successful", 0), job_output(readiness)
    assert not readiness.stats["changed"], readiness.stats
    assert readiness_verdicts(readiness) == [True], job_output(readiness)
    assert sorted(path.name for path in reports.iterdir()) == ["failback-readiness.html", "failback-readiness.md"]
    assert_password_hidden(readiness_dir, 103, reports)
