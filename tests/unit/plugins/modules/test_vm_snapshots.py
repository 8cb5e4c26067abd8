from __future__ import annotations

import datetime

import pytest
from pyVmomi import vim

from ansible_collections.siterecovery.master_target.plugins.module_utils._vsphere_snapshots import flatten_snapshots, removal_plan


def node(name, moid, children=(), snap_id=1):
    return vim.vm.SnapshotTree(
        name=name,
        description=f"{name} description",
        id=snap_id,
        snapshot=vim.vm.Snapshot(moid),
        createTime=datetime.datetime(2026, 11, 1, 12, 0, tzinfo=datetime.timezone.utc),
        state="poweredOn",
        quiesced=False,
        childSnapshotList=list(children),
    )


def test_flatten_lists_parents_before_children_with_paths():
    tree = [node("before-patch", "snapshot-1", [node("after-patch", "snapshot-2", snap_id=2)]), node("other", "snapshot-3", snap_id=3)]
    flat = flatten_snapshots(tree, current=vim.vm.Snapshot("snapshot-2"))
    assert [item["path"] for item in flat] == ["before-patch", "before-patch/after-patch", "other"]
    assert [item["current"] for item in flat] == [False, True, False]
    assert flat[0]["moid"] == "snapshot-1"
    assert flat[0]["created"].startswith("2026-11-01T12:00:00")
    assert flat[1]["description"] == "after-patch description"


def test_flatten_empty():
    assert flatten_snapshots(None) == []


@pytest.mark.parametrize(
    "snapshots, needed, consolidate, expected",
    [
        ([], False, True, (False, False)),
        ([{"path": "a"}], False, True, (True, False)),
        ([], True, True, (False, True)),
        ([], True, False, (False, False)),
        ([{"path": "a"}], True, True, (True, True)),
    ],
)
def test_removal_plan(snapshots, needed, consolidate, expected):
    assert removal_plan(snapshots, needed, consolidate) == expected
