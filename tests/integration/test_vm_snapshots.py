"""vm_snapshots and vm_snapshots_info against the simulator: listing, check mode, removal, idempotence."""

from __future__ import annotations

from support.ansible import run_module
from support.vsphere import vm_state

MODULE = "vm_snapshots"


def snapshot_names(si, name):
    info = vm_state(si, name, ["snapshot"]).get("snapshot")
    names = []
    stack = list(info.rootSnapshotList) if info else []
    while stack:
        node = stack.pop(0)
        names.append(node.name)
        stack.extend(node.childSnapshotList)
    return names


def test_info_lists_the_tree_and_changes_nothing(vcsim, si):
    result = run_module("vm_snapshots_info", dict(name="asr-mt-01"), env=vcsim.env())
    assert not result["changed"] and not result.get("failed"), result.debug
    assert result["consolidation_needed"] is False
    assert [snap["path"] for snap in result["snapshots"]] == ["before-patch", "before-patch/after-patch"]
    assert [snap["current"] for snap in result["snapshots"]] == [False, True]
    assert snapshot_names(si, "asr-mt-01") == ["before-patch", "after-patch"]


def test_info_reports_protected_vm_snapshots(vcsim):
    result = run_module("vm_snapshots_info", dict(name="prod-web-01"), env=vcsim.env())
    assert [snap["name"] for snap in result["snapshots"]] == ["nightly"], result.debug


def test_check_mode_then_remove_then_idempotent(vcsim, si):
    env = vcsim.env()
    check = run_module(MODULE, dict(name="asr-mt-01", state="absent"), env=env, check=True, diff=True)
    assert check["changed"], check.debug
    assert check["removed"] == ["before-patch", "before-patch/after-patch"]
    assert check["diff"]["before"]["snapshots"] == ["before-patch", "before-patch/after-patch"]
    assert check["diff"]["after"]["snapshots"] == []
    assert snapshot_names(si, "asr-mt-01") == ["before-patch", "after-patch"], "check mode removed snapshots"

    first = run_module(MODULE, dict(name="asr-mt-01", state="absent"), env=env)
    assert first["changed"] and first["removed"] == ["before-patch", "before-patch/after-patch"], first.debug
    assert snapshot_names(si, "asr-mt-01") == []

    second = run_module(MODULE, dict(name="asr-mt-01", state="absent"), env=env)
    assert not second["changed"] and second["removed"] == [] and second["snapshots"] == [], second.debug


def test_info_on_a_vm_without_snapshots(vcsim):
    result = run_module("vm_snapshots_info", dict(name="asr-mt-02"), env=vcsim.env())
    assert not result.get("failed") and result["snapshots"] == [], result.debug


def test_state_is_required(vcsim):
    result = run_module(MODULE, dict(name="asr-mt-01"), env=vcsim.env())
    assert result["failed"] and "state" in result["msg"], result.debug
