"""The collection builds into a tarball that installs and documents its modules, as users get it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from support.ansible import ansible_env
from support.collection import FQCN, REPO_ROOT


def _tool(name: str) -> str:
    return str(Path(sys.executable).parent / name)


def _run(command: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        command, cwd=cwd, env=env, capture_output=True, text=True, timeout=300, check=False, stdin=subprocess.DEVNULL
    )
    assert proc.returncode == 0, (
        f"$ {' '.join(command)}\nrc={proc.returncode}\n--- stderr ---\n{proc.stderr}\n--- stdout ---\n{proc.stdout}"
    )
    return proc


def test_build_install_and_document(tmp_path):
    galaxy = (REPO_ROOT / "galaxy.yml").read_text()
    version = next(line.split(":", 1)[1].strip() for line in galaxy.splitlines() if line.startswith("version:"))
    build_dir, install_dir = tmp_path / "build", tmp_path / "installed"
    # Only the installed copy may be visible: not the repository's link from conftest.
    env = ansible_env({"ANSIBLE_COLLECTIONS_PATH": str(install_dir)})

    _run([_tool("ansible-galaxy"), "collection", "build", "--output-path", str(build_dir), str(REPO_ROOT)], env, tmp_path)
    tarball = build_dir / f"siterecovery-master_target-{version}.tar.gz"
    assert tarball.is_file(), sorted(p.name for p in build_dir.iterdir())

    # --offline: Galaxy is not reachable here; the dependencies come with the `ansible` package.
    _run(
        [_tool("ansible-galaxy"), "collection", "install", "--offline", "-p", str(install_dir), str(tarball)],
        env,
        tmp_path,
    )
    installed = install_dir / "ansible_collections" / "siterecovery" / "master_target"
    manifest = json.loads((installed / "MANIFEST.json").read_text())
    assert manifest["collection_info"]["version"] == version
    assert not (installed / ".venv").exists() and not (installed / ".ci").exists(), "build_ignore missed files"

    proc = _run([_tool("ansible-doc"), "--json", f"{FQCN}.vm_disk_uuid"], env, tmp_path)
    doc = json.loads(proc.stdout)[f"{FQCN}.vm_disk_uuid"]["doc"]
    assert Path(doc["filename"]).resolve().is_relative_to(installed.resolve()), doc["filename"]
    assert "hostname" in doc["options"], "the vsphere doc fragment was not applied"
