from __future__ import annotations

import json
import os
import stat

import pytest

from ansible_collections.siterecovery.master_target.plugins.module_utils import _vsphere_session
from ansible_collections.siterecovery.master_target.plugins.module_utils._vsphere_session import SessionCache


@pytest.mark.parametrize(
    "value, expected",
    [(None, False), ("", False), ("false", False), ("0", False), ("true", True), ("yes", True), ("1", True), ("maybe", False)],
)
def test_cache_is_opt_in(value, expected):
    environ = {} if value is None else {_vsphere_session.CACHE_ENV: value}
    assert _vsphere_session.enabled(environ) is expected


def test_cache_dir_default_and_override():
    assert _vsphere_session.cache_dir({}).endswith(os.path.join(".cache", "siterecovery.master_target", "vsphere-sessions"))
    assert _vsphere_session.cache_dir({_vsphere_session.CACHE_DIR_ENV: "/x"}) == "/x"


def cache(tmp_path, password="VMware1!", user="administrator@vsphere.local", host="vc.example.com"):
    return SessionCache(host, 443, user, password, directory=str(tmp_path / "sessions"))


def test_store_then_load_with_private_permissions(tmp_path):
    entry = cache(tmp_path)
    assert entry.load() is None
    assert entry.store("52b1-session", "vim.version.v8_0_3_0")
    assert entry.load() == ("52b1-session", "vim.version.v8_0_3_0")
    assert stat.S_IMODE(os.stat(entry.path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(os.path.dirname(entry.path)).st_mode) == 0o700
    text = open(entry.path, encoding="utf-8").read()
    assert "VMware1!" not in text and "administrator" not in text and "vc.example.com" not in text
    assert entry.holds("52b1-session") and not entry.holds("other")


def test_a_changed_password_never_reuses_the_session(tmp_path):
    cache(tmp_path).store("52b1-session", "v")
    assert cache(tmp_path, password="new password").load() is None


def test_one_file_per_host_port_and_user(tmp_path):
    assert cache(tmp_path).path == cache(tmp_path, password="other").path
    assert cache(tmp_path).path != cache(tmp_path, user="someone").path
    assert cache(tmp_path).path != cache(tmp_path, host="vc2.example.com").path
    assert cache(tmp_path).path == cache(tmp_path, host="VC.example.com").path


def test_a_file_readable_by_others_is_ignored(tmp_path):
    entry = cache(tmp_path)
    entry.store("52b1-session", "v")
    os.chmod(entry.path, 0o644)
    assert entry.load() is None


def test_a_symlink_is_not_followed(tmp_path):
    entry = cache(tmp_path)
    target = tmp_path / "elsewhere.json"
    entry.store("52b1-session", "v")
    os.replace(entry.path, target)
    os.symlink(target, entry.path)
    assert entry.load() is None


@pytest.mark.parametrize("content", ["not json", "[]", json.dumps({"session": "s", "version": "v"})])
def test_a_broken_or_foreign_file_is_ignored(tmp_path, content):
    entry = cache(tmp_path)
    os.makedirs(os.path.dirname(entry.path), mode=0o700)
    with open(os.open(entry.path, os.O_WRONLY | os.O_CREAT, 0o600), "w", encoding="utf-8") as handle:
        handle.write(content)
    assert entry.load() is None


def test_forget_and_store_failures_are_quiet(tmp_path):
    entry = cache(tmp_path)
    entry.forget()  # nothing there
    (tmp_path / "sessions").write_text("a file where the directory should be")
    assert entry.store("52b1-session", "v") is False
    assert entry.load() is None
