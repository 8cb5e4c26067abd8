"""The AWX execution environment definition builds a usable context, without a container engine.

``ansible-builder create`` writes the build context (Containerfile + _build/); then the two stages
that matter for this collection are replayed here with the same tools the image build runs:

* the galaxy stage: ``ansible-galaxy collection install -r requirements.yml`` from _build/ installs
  this collection from the copied checkout (``--no-deps --offline``: Galaxy is not reachable here, the
  windows role's collections listed beside it are taken from the `ansible` package; the image build
  resolves them and community.general & co. from Galaxy);
* the builder stage: ansible-builder's own ``introspect.py`` over the installed collections must
  find our Python and system packages through meta/execution-environment.yml.

What is not run here: the container build itself (no registry is reachable to pull the base image).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
EE_FILE = REPO / "execution-environment.yml"
BIN = Path(sys.executable).parent


def requirement_lines(path: Path) -> list[str]:
    """The requirement lines of a pip or bindep file, without comments and blank lines."""
    lines = []
    for line in path.read_text().splitlines():
        line = re.sub(r"(^|\s+)#.*$", "", line).strip()
        if line:
            lines.append(line)
    return lines


def run(command: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    # As in the image build: no collection path of ours (tests/conftest.py exports one, and
    # ansible-galaxy would find the collection there already and install nothing).
    env = {key: value for key, value in os.environ.items() if key != "ANSIBLE_COLLECTIONS_PATH"}
    proc = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, f"$ {' '.join(command)}\nrc={proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    return proc


@pytest.fixture(scope="module")
def context(tmp_path_factory) -> Path:
    """The build context that ``ansible-builder create`` writes for execution-environment.yml."""
    context_dir = tmp_path_factory.mktemp("ee") / "context"
    run(
        [str(BIN / "ansible-builder"), "create", "-f", str(EE_FILE), "-c", str(context_dir),
         "--output-filename", "Containerfile"],
        cwd=context_dir.parent,
    )
    return context_dir


def test_dependency_files_hold_runtime_needs_only():
    python = [re.split(r"[<>=!~ \[;]", line)[0].lower() for line in requirement_lines(REPO / "requirements.txt")]
    assert "pyvmomi" in python
    test_tools = {"pytest", "ansible-lint", "molecule", "pytest-testinfra", "ansible-runner", "ansible-builder",
                  "antsibull-docs", "antsibull-changelog", "ansible", "ansible-core"}
    assert not test_tools & set(python), "requirements.txt must list run-time needs only (tests: test-requirements.txt)"
    for line in requirement_lines(REPO / "bindep.txt"):
        profiles = re.search(r"\[(.*)\]", line)
        assert not profiles or "test" not in profiles.group(1).split(), f"bindep.txt: a test package: {line}"


def test_collection_metadata_points_at_the_dependency_files():
    meta = yaml.safe_load((REPO / "meta" / "execution-environment.yml").read_text())
    # Introspection resolves these relative to the collection root.
    assert meta["dependencies"] == {"python": "requirements.txt", "system": "bindep.txt"}


def test_create_writes_a_containerfile_with_our_dependencies(context):
    containerfile = (context / "Containerfile").read_text()
    assert 'ARG ANSIBLE_INSTALL_REFS="ansible-core==2.21.5 ansible-runner==2.4.3"' in containerfile
    assert "COPY _build/requirements.txt requirements.txt" in containerfile
    assert "COPY _build/bindep.txt bindep.txt" in containerfile
    assert "--user-pip=requirements.txt --user-bindep=bindep.txt" in containerfile
    assert re.search(r"ansible-galaxy collection install .*-r requirements.yml", containerfile)
    build = context / "_build"
    assert requirement_lines(build / "requirements.txt") == requirement_lines(REPO / "requirements.txt")
    assert requirement_lines(build / "bindep.txt") == requirement_lines(REPO / "bindep.txt")
    copied = build / "collection" / "siterecovery" / "master_target"
    for path in ("galaxy.yml", "meta/runtime.yml", "meta/execution-environment.yml", "requirements.txt",
                 "plugins/modules/vm_disk_uuid.py", "roles/vsphere/meta/argument_specs.yml",
                 "playbooks/prepare_master_target.yml"):
        assert (copied / path).is_file(), f"{path} is missing from the build context"
    assert not (copied / "tests").exists() and not (copied / ".venv").exists()


def test_the_image_has_the_windows_roles_collections_which_the_collection_does_not_declare(context):
    def names(path):
        return {entry["name"]: entry.get("version") for entry in yaml.safe_load(path.read_text())["collections"]}

    windows = names(REPO / "roles" / "windows" / "requirements.yml")
    assert set(windows) == {"ansible.windows", "community.windows"}
    assert not set(windows) & set(yaml.safe_load((REPO / "galaxy.yml").read_text())["dependencies"])
    # ansible-lint installs tests/requirements.yml (when not offline): the same list.
    assert names(REPO / "tests" / "requirements.yml") == windows
    image = names(context / "_build" / "requirements.yml")
    assert {name: image.get(name) for name in windows} == windows


def test_galaxy_and_introspection_stages_find_our_dependencies(context, tmp_path):
    collections = tmp_path / "usr-share-ansible-collections"
    # The galaxy stage (run from _build, as the Containerfile's WORKDIR /build).
    run([str(BIN / "ansible-galaxy"), "collection", "install", "--no-deps", "--offline", "-r", "requirements.yml",
         "--collections-path", str(collections)], cwd=context / "_build")
    installed = collections / "ansible_collections" / "siterecovery" / "master_target"
    assert (installed / "MANIFEST.json").is_file()
    assert (installed / "plugins" / "modules" / "vm_scsi_controller.py").is_file()
    assert not (installed / "scripts").exists(), "build_ignore not honoured"

    # The builder stage: ansible-builder's introspection of the installed collections.
    pip_out, bindep_out = tmp_path / "pip.txt", tmp_path / "bindep.txt"
    run([sys.executable, str(context / "_build" / "scripts" / "introspect.py"), "introspect", str(collections),
         "--write-pip", str(pip_out), "--write-bindep", str(bindep_out)], cwd=context)
    pip_lines = pip_out.read_text().splitlines()
    bindep_lines = bindep_out.read_text().splitlines()
    for requirement in requirement_lines(REPO / "requirements.txt"):
        assert f"{requirement}  # from collection siterecovery.master_target" in pip_lines, pip_lines
    for requirement in requirement_lines(REPO / "bindep.txt"):
        assert f"{requirement}  # from collection siterecovery.master_target" in bindep_lines, bindep_lines
