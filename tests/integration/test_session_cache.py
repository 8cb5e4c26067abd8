"""The opt-in session cache (SITERECOVERY_VSPHERE_SESSION_CACHE) against the simulator, through real tasks.

The number of logins is read at the simulator: SessionManager.sessionList lists the live sessions.
`bash scripts/test lowest` runs this file on the lowest supported pyVmomi and ansible-core too.
"""

from __future__ import annotations

import os
import stat

import pytest
from pyVmomi import vim, vmodl

from support.ansible import run_module
from support.collection import REPO_ROOT

# A pyVmomi just below the supported floor, installed by scripts/setup (pip install --target).
BELOW_FLOOR = REPO_ROOT / ".cache" / "pyvmomi-below-floor"


def live_sessions(si):
    """Keys of the sessions vCenter has now, read with the PropertyCollector."""
    content = si.RetrieveContent()
    spec = vmodl.query.PropertyCollector.FilterSpec(
        objectSet=[vmodl.query.PropertyCollector.ObjectSpec(obj=content.sessionManager)],
        propSet=[vmodl.query.PropertyCollector.PropertySpec(type=vim.SessionManager, pathSet=["sessionList"])],
    )
    result = content.propertyCollector.RetrievePropertiesEx([spec], vmodl.query.PropertyCollector.RetrieveOptions())
    values = [prop.val for prop in result.objects[0].propSet or []]
    return {session.key for session in (values[0] if values else [])}


def test_without_the_cache_every_task_logs_out(vcsim, si, tmp_path):
    before = live_sessions(si)
    env = dict(vcsim.env(), SITERECOVERY_VSPHERE_SESSION_CACHE_DIR=str(tmp_path / "sessions"))
    result = run_module("vm_snapshots_info", dict(name="asr-mt-01"), env=env)
    assert not result.get("failed"), result.debug
    assert live_sessions(si) == before
    assert not (tmp_path / "sessions").exists()


def test_the_cache_reuses_one_session_across_tasks(vcsim, si, tmp_path):
    before = live_sessions(si)
    cache_dir = tmp_path / "sessions"
    env = dict(vcsim.env(), SITERECOVERY_VSPHERE_SESSION_CACHE="true", SITERECOVERY_VSPHERE_SESSION_CACHE_DIR=str(cache_dir))

    first = run_module("vm_snapshots_info", dict(name="asr-mt-01"), env=env)
    assert not first.get("failed"), first.debug
    kept = live_sessions(si) - before
    assert len(kept) == 1, "the first task should leave exactly its session for the next one"
    files = os.listdir(cache_dir)
    assert len(files) == 1
    assert stat.S_IMODE(os.stat(cache_dir / files[0]).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(cache_dir).st_mode) == 0o700
    assert vcsim.password not in (cache_dir / files[0]).read_text()

    second = run_module("vm_disk_uuid", dict(name="asr-mt-01", enabled=True), env=env, check=True)
    assert second["changed"] and not second.get("failed"), second.debug
    assert live_sessions(si) - before == kept, "the second task should have used the cached session"
    assert "session" not in str(dict(second)).lower(), "a result must never carry the session id"


def test_a_session_ended_by_vcenter_means_a_new_login(vcsim, si, tmp_path):
    cache_dir = tmp_path / "sessions"
    env = dict(vcsim.env(), SITERECOVERY_VSPHERE_SESSION_CACHE="true", SITERECOVERY_VSPHERE_SESSION_CACHE_DIR=str(cache_dir))
    mine = {si.RetrieveContent().sessionManager.currentSession.key}
    assert not run_module("vm_snapshots_info", dict(name="asr-mt-01"), env=env).get("failed")
    for key in live_sessions(si) - mine:
        si.RetrieveContent().sessionManager.TerminateSession([key])

    result = run_module("vm_snapshots_info", dict(name="asr-mt-01"), env=env)
    assert not result.get("failed"), result.debug
    assert len(live_sessions(si) - mine) == 1


def test_a_changed_password_is_not_served_by_the_cache(vcsim, tmp_path):
    cache_dir = tmp_path / "sessions"
    env = dict(vcsim.env(), SITERECOVERY_VSPHERE_SESSION_CACHE="true", SITERECOVERY_VSPHERE_SESSION_CACHE_DIR=str(cache_dir))
    assert not run_module("vm_snapshots_info", dict(name="asr-mt-01"), env=env).get("failed")

    wrong = run_module("vm_snapshots_info", dict(name="asr-mt-01"), env=dict(env, VMWARE_PASSWORD="not-the-password"))
    assert wrong.get("failed") and "password is wrong" in wrong["msg"], wrong.debug


@pytest.mark.skipif(not BELOW_FLOOR.is_dir(), reason=f"no pyVmomi below the floor in {BELOW_FLOOR}: run bash scripts/setup")
def test_a_pyvmomi_below_the_floor_is_refused_with_the_fix(vcsim, tmp_path):
    # pyVmomi 8.0.1 and 8.0.2 have no SoapStubAdapter.GetSessionId: with the cache on, every module
    # used to stop on an AttributeError. The module runs with the old pyVmomi first on its path.
    version = next(BELOW_FLOOR.glob("pyvmomi-*.dist-info")).name[len("pyvmomi-") : -len(".dist-info")]
    cache_dir = tmp_path / "sessions"
    env = dict(
        vcsim.env(),
        SITERECOVERY_VSPHERE_SESSION_CACHE="true",
        SITERECOVERY_VSPHERE_SESSION_CACHE_DIR=str(cache_dir),
        PYTHONPATH=str(BELOW_FLOOR),
    )
    result = run_module("vm_snapshots_info", dict(name="asr-mt-01"), env=env)
    assert result.get("failed"), result.debug
    assert result["msg"].startswith(f"pyVmomi {version} is too old: this collection needs pyVmomi 8.0.3.0.1 or newer."), result.debug
    assert "-m pip install --upgrade 'pyvmomi>=8.0.3.0.1'" in result["msg"], result.debug
    assert not cache_dir.exists(), "nothing is cached from a refused run"
