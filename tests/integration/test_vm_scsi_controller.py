"""vm_scsi_controller against the simulator: report, refusal when powered on, conversion."""

from __future__ import annotations

from pyVmomi import vim

from support.ansible import run_module
from support.vsphere import find_vm_object, vm_state, wait

MODULE = "vm_scsi_controller"


def controllers(si, name):
    """{bus: (type name, {unit: device label})} of the VM's SCSI controllers."""
    devices = vm_state(si, name, ["config.hardware.device"])["config.hardware.device"]
    found = {}
    for device in devices:
        if isinstance(device, vim.vm.device.VirtualSCSIController):
            attached = {child.unitNumber: child.deviceInfo.label for child in devices if child.controllerKey == device.key}
            found[device.busNumber] = (type(device).__name__.split(".")[-1], attached)
    return found


def test_lsi_vm_passes_without_change(vcsim):
    result = run_module(MODULE, dict(name="asr-mt-02"), env=vcsim.env())
    assert not result.get("failed") and not result["changed"], result.debug
    assert [item["type"] for item in result["controllers"]] == ["lsilogicsas"]


def test_paravirtual_is_reported_as_failure_naming_the_controller(vcsim):
    result = run_module(MODULE, dict(name="asr-mt-01"), env=vcsim.env())
    assert result["failed"], result.debug
    assert "asr-mt-01" in result["msg"] and "paravirtual" in result["msg"] and "convert: true" in result["msg"]
    assert [item["type"] for item in result["controllers"]] == ["paravirtual"]


def test_powered_on_vm_is_refused_and_untouched(vcsim, si):
    before = controllers(si, "asr-mt-01")
    result = run_module(MODULE, dict(name="asr-mt-01", convert=True), env=vcsim.env())
    assert result["failed"] and "poweredOn" in result["msg"] and "Nothing was changed" in result["msg"], result.debug
    assert controllers(si, "asr-mt-01") == before


def test_convert_check_mode_then_convert_then_idempotent(vcsim, si):
    env = vcsim.env()
    wait(find_vm_object(si, "asr-mt-01").PowerOffVM_Task())
    before = controllers(si, "asr-mt-01")
    assert [kind for kind, _units in before.values()] == ["ParaVirtualSCSIController"]

    check = run_module(MODULE, dict(name="asr-mt-01", convert=True, type="lsilogicsas"), env=env, check=True, diff=True)
    assert check["changed"] and check["converted"] == [{"bus": 0, "from": "paravirtual", "to": "lsilogicsas"}], check.debug
    assert check["diff"]["after"]["controllers"] == [{"bus": 0, "type": "lsilogicsas"}]
    assert controllers(si, "asr-mt-01") == before, "check mode changed the VM"

    first = run_module(MODULE, dict(name="asr-mt-01", convert=True, type="lsilogicsas"), env=env)
    assert first["changed"], first.debug
    after = controllers(si, "asr-mt-01")
    assert list(after) == [0]
    assert after[0][0] == "VirtualLsiLogicSASController"
    assert after[0][1] == before[0][1], "a device moved or was lost in the conversion"
    assert [item["type"] for item in first["controllers"]] == ["lsilogicsas"]

    second = run_module(MODULE, dict(name="asr-mt-01", convert=True, type="lsilogicsas"), env=env)
    assert not second["changed"] and not second.get("failed"), second.debug
