"""The pure decisions of a safe SCSI controller conversion (_vsphere_scsi)."""

from __future__ import annotations

import pytest
from pyVmomi import vim

from ansible_collections.siterecovery.master_target.plugins.module_utils._vsphere_scsi import (
    descriptor_facts,
    format_conversion,
    guest_booted,
    parse_conversion,
    pick_type,
    plan_conversion,
    readiness_refusal,
    units_that_do_not_fit,
)

VM = "/DC0/vm/asr/asr-mt-01"
LINUX = dict(id="ubuntu64Guest", full_name="Ubuntu Linux (64-bit)", family="linuxGuest", recommended_scsi="lsilogic",
             supported=["buslogic", "lsilogic", "lsilogicsas", "paravirtual"])
RHEL = dict(LINUX, id="rhel8_64Guest", full_name="Red Hat Enterprise Linux 8 (64-bit)", recommended_scsi="paravirtual")
WINDOWS = dict(id="windows9Server64Guest", full_name="Microsoft Windows Server 2016 or later (64-bit)", family="windowsGuest",
               recommended_scsi="lsilogicsas", supported=["lsilogicsas", "paravirtual"])
WINDOWS_PV = dict(WINDOWS, recommended_scsi="paravirtual", supported=["lsilogic", "lsilogicsas", "paravirtual"])


def pvscsi(units=(0, 1), kinds=None):
    kinds = kinds or ["disk"] * len(units)
    return [dict(bus=0, type="paravirtual", label="SCSI controller 0", key=1000,
                 devices=[dict(label=f"Hard disk {i + 1}", unit=unit, kind=kind) for i, (unit, kind) in enumerate(zip(units, kinds))])]


def test_descriptor_facts_reads_pyvmomi_types():
    descriptor = vim.vm.GuestOsDescriptor(
        id="windows9Server64Guest", family="windowsGuest", fullName="Windows",
        supportedDiskControllerList=[vim.vm.device.VirtualLsiLogicSASController, vim.vm.device.ParaVirtualSCSIController,
                                     vim.vm.device.VirtualIDEController],
        recommendedSCSIController=vim.vm.device.VirtualLsiLogicSASController,
    )
    assert descriptor_facts(descriptor) == dict(id="windows9Server64Guest", full_name="Windows", family="windowsGuest",
                                                recommended_scsi="lsilogicsas", supported=["lsilogicsas", "paravirtual"])
    assert descriptor_facts(None) is None


@pytest.mark.parametrize(
    "requested, guest, expected",
    [
        ("auto", LINUX, "lsilogic"),           # recommended and LSI
        ("auto", RHEL, "lsilogic"),            # recommended ParaVirtual: Parallel first for Linux
        ("auto", WINDOWS, "lsilogicsas"),
        ("auto", WINDOWS_PV, "lsilogicsas"),   # SAS first for Windows
        ("lsilogicsas", LINUX, "lsilogicsas"),
        ("lsilogic", None, "lsilogic"),        # an explicit type where vCenter says nothing
    ],
)
def test_pick_type(requested, guest, expected):
    assert pick_type(requested, guest, "someGuest") == (expected, None)


def test_pick_type_refusals_name_the_guest_and_the_way_out():
    new_type, why = pick_type("lsilogic", WINDOWS, "windows9Server64Guest")
    assert new_type is None and "does not support LSI Logic Parallel (lsilogic)" in why and "it supports lsilogicsas" in why
    new_type, why = pick_type("auto", None, "otherGuest64")
    assert new_type is None and "'otherGuest64'" in why and "set type to lsilogic or lsilogicsas" in why
    new_type, why = pick_type("auto", dict(WINDOWS, supported=["paravirtual"]), "x")
    assert new_type is None and "supports no LSI Logic controller" in why


def test_units_that_do_not_fit():
    assert units_that_do_not_fit(pvscsi((0, 1, 15)), {1000}) == []
    assert units_that_do_not_fit(pvscsi((0, 16, 40)), {1000}) == ["Hard disk 2 (SCSI 0:16)", "Hard disk 3 (SCSI 0:40)"]
    assert units_that_do_not_fit(pvscsi((0, 16)), {1001}) == []  # not converted


def test_marker_round_trip():
    converted = [{"bus": 0, "from": "paravirtual", "to": "lsilogic"}, {"bus": 2, "from": "buslogic", "to": "lsilogic"}]
    value = format_conversion("pending", converted)
    assert value == "pending 0:paravirtual>lsilogic 2:buslogic>lsilogic"
    assert parse_conversion(value) == ("pending", converted)
    assert parse_conversion("rolledBack 0:paravirtual>lsilogic")[0] == "rolledBack"
    for broken in (None, "", "done 0:a>b", "pending 0-a-b"):
        assert parse_conversion(broken) == (None, [])


def test_readiness_refusal():
    controllers = pvscsi()
    wrong = controllers
    # Unknown guest: refused, naming the disks, the driver step and the admin's switch.
    why = readiness_refusal(VM, controllers, wrong, "lsilogic", [], False, (None, []))
    assert "Hard disk 1, Hard disk 2" in why and "lsi_driver" in why and "guest_ready: true" in why and "Nothing was changed" in why
    assert readiness_refusal(VM, controllers, wrong, "lsilogic", ["lsilogic"], False, (None, [])) is None
    assert readiness_refusal(VM, controllers, wrong, "lsilogic", [], True, (None, [])) is None
    assert readiness_refusal(VM, controllers, wrong, "lsilogic", ["lsilogicsas"], False, (None, [])) is not None
    # A controller that holds no disk needs no driver at boot.
    cdrom_only = pvscsi((0,), ["cdrom"])
    assert readiness_refusal(VM, cdrom_only, cdrom_only, "lsilogic", [], False, (None, [])) is None
    # After a rollback the admin's word is not enough; a verified driver is.
    record = parse_conversion("rolledBack 0:paravirtual>lsilogic")
    assert "rolled back" in readiness_refusal(VM, controllers, wrong, "lsilogic", [], True, record)
    assert readiness_refusal(VM, controllers, wrong, "lsilogic", ["lsilogic"], True, record) is None


def test_plan_conversion_checks_type_then_units_then_readiness():
    assert plan_conversion(VM, [dict(pvscsi()[0], type="lsilogic")], "auto", LINUX, "ubuntu64Guest", [], False, (None, [])) == (None, None)
    new_type, why = plan_conversion(VM, pvscsi(), "lsilogic", WINDOWS, "windows9Server64Guest", [], True, (None, []))
    assert new_type is None and "cannot be converted" in why
    new_type, why = plan_conversion(VM, pvscsi((0, 20)), "auto", LINUX, "ubuntu64Guest", [], True, (None, []))
    assert new_type == "lsilogic" and "(SCSI 0:20)" in why
    new_type, why = plan_conversion(VM, pvscsi(), "auto", LINUX, "ubuntu64Guest", [], False, (None, []))
    assert new_type == "lsilogic" and "may not load at boot" in why
    assert plan_conversion(VM, pvscsi(), "auto", LINUX, "ubuntu64Guest", ["lsilogic"], False, (None, [])) == ("lsilogic", None)


@pytest.mark.parametrize(
    "props, booted",
    [
        ({"guest.toolsRunningStatus": "guestToolsRunning"}, True),
        ({"guest.toolsRunningStatus": "guestToolsNotRunning", "guestHeartbeatStatus": "green"}, True),
        ({"guest.toolsRunningStatus": "guestToolsNotRunning", "guestHeartbeatStatus": "gray"}, False),
        ({}, False),
    ],
)
def test_guest_booted(props, booted):
    assert guest_booted(props) is booted
