"""The disk plan of failback_readiness_info: room on a master target, replication groups, and the
disk-limit rows (plugins/module_utils/_vsphere_readiness.py)."""

from __future__ import annotations

import pytest

from ansible_collections.siterecovery.master_target.plugins.module_utils import _vsphere_readiness as checks


def controller(bus, kind="lsilogicsas", units=()):
    return dict(bus=bus, type=kind, label=f"SCSI controller {bus}", key=1000 + bus,
                devices=[dict(label=f"Hard disk {bus}:{unit}", unit=unit, kind="disk") for unit in units])


def machine(name, disks=2, family="linux", controllers=None):
    """A VM's facts as vm_facts gives them, with `disks` disks on LSI Logic SAS controllers (15 per bus)."""
    units = [unit for unit in range(16) if unit != 7]
    layout = [(index // 15, units[index % 15]) for index in range(disks)]
    if controllers is None:
        controllers = [controller(bus, units=[unit for b, unit in layout if b == bus]) for bus in sorted({b for b, _unit in layout})]
    return dict(name=name, moid=f"vm-{name}", guest_family=family, controllers=controllers,
                disks=[dict(key=2000 + index, label=f"Hard disk {index + 1}", uuid=None, size_gb=1, bus=bus, unit=unit)
                       for index, (bus, unit) in enumerate(layout)])


@pytest.mark.parametrize(
    "controllers, disks, room",
    [
        ([controller(0, units=[0, 1])], 2, 58),  # 13 free units + 3 free buses of 15 = 58 = 60 - 2
        ([controller(0, "paravirtual", units=[0, 1])], 2, 45),  # a ParaVirtual bus takes no protected disk
        ([controller(bus, "paravirtual") for bus in range(4)], 0, 0),  # every bus taken by a ParaVirtual controller
        ([controller(0, units=[0, 1]), controller(1, units=range(16))], 2, 43),  # unit 7 is the controller's own
        ([controller(0, units=[0, 1, 2])], 2, 57),  # a third device (a CD drive) on the controller takes a unit too
    ],
)
def test_attach_room_counts_lsi_units_and_free_buses_within_60(controllers, disks, room):
    mt = machine("mt", disks=0, controllers=controllers)
    mt["disks"] = [dict(bus=0, unit=unit) for unit in range(disks)]
    assert checks.attach_room(mt) == room


def test_attach_room_without_device_lists_counts_the_disks_on_each_bus():
    mt = machine("mt", disks=20)  # bus 0 full (15), bus 1 five
    del mt["controllers"][0]["devices"], mt["controllers"][1]["devices"]
    assert checks.attach_room(mt) == 40  # 10 free on bus 1 + 2 free buses, and 60 - 20 = 40


def test_placement_units_keep_groups_together_and_the_others_alone():
    vms = [machine("a", 3), machine("b", 4, "windows"), machine("c", 5)]
    units = checks.placement_units(vms, [["vm-a", "vm-b"], ["vm-gone"]])
    assert units == [dict(moids=["vm-a", "vm-b"], disks=7, families=["linux", "windows"]), dict(moids=["vm-c"], disks=5, families=["linux"])]


def test_plan_places_each_vm_whole_by_moid_even_when_names_repeat():
    mts = [machine("mt-a"), dict(machine("mt-b"), name="mt-a")]  # two master targets, one name
    vms = [machine("big", 40), machine("small", 30), dict(machine("tiny", 5), name="big")]
    result = checks.plan_disks(mts, vms)
    assert result["room"] == {"vm-mt-a": 58, "vm-mt-b": 58}
    assert result["plan"] == {"vm-mt-a": ["vm-big"], "vm-mt-b": ["vm-small", "vm-tiny"]} and result["unplaced"] == []


def test_plan_gives_each_unplaced_unit_its_reason():
    mts = [machine("mt-a"), machine("mt-b")]
    vms = [machine("huge", 61), machine("x", 40), machine("y", 40), machine("z", 40), machine("win", 2, "windows"),
           machine("g1", 1), machine("g2", 1, "windows")]
    result = checks.plan_disks(mts, vms, [["vm-g1", "vm-g2"]])
    reasons = {tuple(unit["moids"]): unit["reason"] for unit in result["unplaced"]}
    assert reasons == {("vm-huge",): "too_big", ("vm-z",): "full", ("vm-win",): "no_master_target", ("vm-g1", "vm-g2"): "mixed_family"}


def test_a_group_larger_than_one_master_target_fails_though_the_total_fits_across():
    mts = [machine("mt-a"), machine("mt-b")]
    vms = [machine("a", 30), machine("b", 30)]
    assert [row["status"] for row in checks.check_disk_limit(mts, vms)] == ["pass", "pass"]
    rows = checks.check_disk_limit(mts, vms, [["vm-a", "vm-b"]])
    assert [row["status"] for row in rows] == ["fail", "fail"]
    assert "the replication group (a, b) has 60 disks, more than any linux master target listed can take (58 on mt-a)" in rows[0]["message"]
    assert "Split the replication group into groups of at most 58 disks" in rows[0]["fix"] and "Add master targets" not in rows[0]["fix"]


def test_a_vm_too_big_for_any_master_target_gets_its_own_fix():
    rows = checks.check_disk_limit([machine("mt-a"), machine("mt-b")], [machine("huge", 61), machine("db", 2)])
    assert [row["status"] for row in rows] == ["fail", "fail"]
    assert "huge has 61 disks, more than any linux master target listed can take (58 on mt-a)" in rows[0]["message"]
    assert "more master targets do not help" in rows[0]["message"] and "Add master targets" not in rows[0]["fix"]
    assert "Split the disks of huge across VMs of at most 58 disks each" in rows[0]["fix"] and "none holds more than 60 disks" in rows[0]["fix"]
    assert rows[0]["objects"] == ["mt-a", "db", "huge"] and "2 own disks + 2 of db = 4 of 60" in rows[0]["message"]
    # 59 disks would fit on a master target with a single own disk: the fix says so.
    fix = checks.check_disk_limit([machine("mt-a")], [machine("big", 59)])[0]["fix"]
    assert "through a master target with at most 1 own disks and LSI Logic room for 59 disks" in fix


def test_too_many_vms_in_total_ask_for_more_master_targets_with_the_number():
    rows = checks.check_disk_limit([machine("mt-a")], [machine("a", 30), machine("b", 30), machine("c", 30)])
    assert rows[0]["status"] == "fail"
    assert "the linux protected VMs have 90 disks in total and b, c fit on no master target left" in rows[0]["message"]
    assert "at least 3 master targets are needed" in rows[0]["message"] and "Add master targets (linux, at least 3 in all)" in rows[0]["fix"]
    assert checks.master_targets_needed([machine("mt-a")], {"vm-mt-a": 58}, [dict(disks=30), dict(disks=30), dict(disks=20)]) == 3


def test_mixed_group_fails_the_rows_of_its_families_and_a_family_without_master_target_is_left_to_os_family():
    mts = [machine("lin"), machine("win", family="windows")]
    rows = checks.check_disk_limit(mts, [machine("a", 2), machine("b", 2, "windows")], [["vm-a", "vm-b"]])
    assert [row["status"] for row in rows] == ["fail", "fail"]
    assert "the replication group (a, b) mixes OS families (linux and windows)" in rows[1]["message"]
    other = checks.check_disk_limit([machine("lin")], [machine("x", 2, "other")])
    assert other[0]["status"] == "pass" and "no protected VM" in other[0]["message"]


def test_the_rows_say_when_the_controllers_leave_less_room_than_60():
    mt = machine("mt", controllers=[controller(0, "paravirtual", units=[0, 1])])
    assert "(its LSI Logic controllers and free SCSI buses take only 45 disks more)" in checks.check_disk_limit([mt], [])[0]["message"]


@pytest.mark.parametrize(
    "groups, problem",
    [
        ([["a", "b"], ["c"]], None),
        ([], None),
        ([["a"], []], "group 2 is empty"),
        ([["a", "x"]], "group 1 names 'x', which is not in protected_vms"),
        ([["a"], ["b", "a"]], "'a' is in group 1 and in group 2"),
    ],
)
def test_replication_group_problem(groups, problem):
    found = checks.replication_group_problem(groups, ["a", "b", "c"])
    assert found is None if problem is None else problem in found


def test_duplicate_rows():
    vm = dict(name="prod-db-01", path="/DC0/vm/prod/prod-db-01", moid="vm-60")
    again = checks.duplicate_row("protected VM", "prod/prod-db-01", vm, "protected VM", "prod-db-01")
    assert again["status"] == "info" and again["objects"] == ["prod-db-01"]
    assert "'prod/prod-db-01' is /DC0/vm/prod/prod-db-01 (vm-60), already given as 'prod-db-01': it is read and counted once" in again["message"]
    both = checks.duplicate_row("protected VM", "prod-db-01", vm, "master target", "prod-db-01")
    assert both["status"] == "fail" and "cannot fail back through itself" in both["message"]


def test_fixes_select_a_vm_by_folder_when_its_name_is_not_unique():
    mt = dict(machine("mt"), snapshots=["s"], selection="name: mt, folder: /DC0/vm/b")
    assert "(name: mt, folder: /DC0/vm/b, state: absent)" in checks.check_snapshots(mt)["fix"]
    assert "(name: mt, state: absent)" in checks.check_snapshots(dict(machine("mt"), snapshots=["s"]))["fix"]
