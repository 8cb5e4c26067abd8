"""vm_scsi_controller against the simulator: report, refusals, conversion, boot confirmation and rollback.

The harness gives guest OS descriptors (tests/vcsim/guestos.go) and a guest that does not boot from a
changed controller type (extraConfig harness.bootsOn, tests/vcsim/tools.go).
"""

from __future__ import annotations

from pyVmomi import vim

from support.ansible import run_module
from support.vsphere import device_list, find_vm_object, set_extra_config, vm_state, wait

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
    assert "For this guest OS the type is lsilogic" in result["msg"], result.debug
    assert [item["type"] for item in result["controllers"]] == ["paravirtual"]
    assert result["guest_os"]["id"] == "ubuntu64Guest" and result["guest_os"]["recommended_scsi"] == "lsilogic"


def test_powered_on_vm_is_refused_and_untouched(vcsim, si):
    before = controllers(si, "asr-mt-01")
    result = run_module(MODULE, dict(name="asr-mt-01", convert=True, guest_ready=True), env=vcsim.env())
    assert result["failed"] and "poweredOn" in result["msg"] and "Nothing was changed" in result["msg"], result.debug
    assert controllers(si, "asr-mt-01") == before


def test_convert_check_mode_then_convert_then_idempotent(vcsim, si):
    env = vcsim.env()
    wait(find_vm_object(si, "asr-mt-01").PowerOffVM_Task())
    before = controllers(si, "asr-mt-01")
    assert [kind for kind, _units in before.values()] == ["ParaVirtualSCSIController"]

    args = dict(name="asr-mt-01", convert=True, type="lsilogicsas", guest_ready=True)
    check = run_module(MODULE, args, env=env, check=True, diff=True)
    assert check["changed"] and check["converted"] == [{"bus": 0, "from": "paravirtual", "to": "lsilogicsas"}], check.debug
    assert check["diff"]["after"]["controllers"] == [{"bus": 0, "type": "lsilogicsas"}]
    assert controllers(si, "asr-mt-01") == before, "check mode changed the VM"

    first = run_module(MODULE, args, env=env)
    assert first["changed"], first.debug
    after = controllers(si, "asr-mt-01")
    assert list(after) == [0]
    assert after[0][0] == "VirtualLsiLogicSASController"
    assert after[0][1] == before[0][1], "a device moved or was lost in the conversion"
    assert [item["type"] for item in first["controllers"]] == ["lsilogicsas"]

    assert first["boot"] == "pending" and marker(si, "asr-mt-01") == "pending 0:paravirtual>lsilogicsas"

    second = run_module(MODULE, args, env=env)
    assert not second["changed"] and not second.get("failed"), second.debug


def marker(si, name):
    """The conversion record on the VM (siterecovery.scsiConversion), or None."""
    options = vm_state(si, name, ["config.extraConfig"])["config.extraConfig"]
    return next((option.value for option in options if option.key == "siterecovery.scsiConversion"), None)


def power(si, name, on):
    vm = find_vm_object(si, name)
    wait(vm.PowerOnVM_Task() if on else vm.PowerOffVM_Task())


def test_auto_type_follows_the_guest_os_and_an_unsupported_type_is_refused(vcsim, si):
    env = vcsim.env()
    power(si, "asr-mt-01", False)
    wait(find_vm_object(si, "asr-mt-01").ReconfigVM_Task(spec=vim.vm.ConfigSpec(guestId="windows9Server64Guest")))
    before = device_list(si, "asr-mt-01")

    # Windows Server 2016+: no LSI Logic Parallel driver; vCenter recommends LSI Logic SAS.
    refused = run_module(MODULE, dict(name="asr-mt-01", convert=True, type="lsilogic", guest_ready=True), env=env, check=True)
    assert refused["failed"], refused.debug
    assert "does not support LSI Logic Parallel (lsilogic)" in refused["msg"] and "lsilogicsas" in refused["msg"]
    assert "Windows Server 2016" in refused["msg"] and "Nothing was changed" in refused["msg"]
    refused = run_module(MODULE, dict(name="asr-mt-01", convert=True, type="lsilogic", guest_ready=True), env=env)
    assert refused["failed"] and device_list(si, "asr-mt-01") == before, refused.debug

    auto = run_module(MODULE, dict(name="asr-mt-01", convert=True, guest_ready=True), env=env)
    assert auto["changed"] and auto["type"] == "lsilogicsas", auto.debug
    assert auto["converted"] == [{"bus": 0, "from": "paravirtual", "to": "lsilogicsas"}]
    assert controllers(si, "asr-mt-01")[0][0] == "VirtualLsiLogicSASController"


def test_a_guest_not_known_to_be_ready_is_refused_in_check_mode_too(vcsim, si):
    env = vcsim.env()
    power(si, "asr-mt-01", False)
    before = device_list(si, "asr-mt-01")
    for check in (True, False):
        result = run_module(MODULE, dict(name="asr-mt-01", convert=True), env=env, check=check)
        assert result["failed"], result.debug
        assert "Hard disk 1" in result["msg"] and "may not load at boot" in result["msg"], result.debug
        assert "lsi_driver" in result["msg"] and "guest_ready: true" in result["msg"] and "Nothing was changed" in result["msg"]
    assert device_list(si, "asr-mt-01") == before and marker(si, "asr-mt-01") is None

    # The driver the linux role verified for the type vCenter gives (lsilogic) is enough.
    wrong_driver = run_module(MODULE, dict(name="asr-mt-01", convert=True, guest_drivers=["lsilogicsas"]), env=env)
    assert wrong_driver["failed"] and "LSI Logic Parallel" in wrong_driver["msg"], wrong_driver.debug
    verified = run_module(MODULE, dict(name="asr-mt-01", convert=True, guest_drivers=["lsilogic"]), env=env)
    assert verified["changed"] and verified["type"] == "lsilogic", verified.debug


def test_a_disk_at_a_unit_lsi_logic_lacks_is_refused_up_front(vcsim, si):
    env = vcsim.env()
    power(si, "asr-mt-01", False)
    vm = find_vm_object(si, "asr-mt-01")
    devices = vm_state(si, "asr-mt-01", ["config.hardware.device"])["config.hardware.device"]
    pvscsi = next(d for d in devices if isinstance(d, vim.vm.device.ParaVirtualSCSIController))
    disk = vim.vm.device.VirtualDisk(
        key=-1, controllerKey=pvscsi.key, unitNumber=20, capacityInKB=1024 * 1024,
        backing=vim.vm.device.VirtualDisk.FlatVer2BackingInfo(diskMode="persistent", thinProvisioned=True),
    )
    spec = vim.vm.ConfigSpec(deviceChange=[vim.vm.device.VirtualDeviceSpec(operation="add", fileOperation="create", device=disk)])
    wait(vm.ReconfigVM_Task(spec=spec))
    before = device_list(si, "asr-mt-01")
    for check in (True, False):
        result = run_module(MODULE, dict(name="asr-mt-01", convert=True, guest_ready=True), env=env, check=check)
        assert result["failed"], result.debug
        assert "(SCSI 0:20)" in result["msg"] and "units 0-15" in result["msg"] and "Nothing was changed" in result["msg"], result.debug
    assert device_list(si, "asr-mt-01") == before


def test_a_guest_that_does_not_boot_is_rolled_back_exactly_and_then_refused(vcsim, si):
    env = vcsim.env()
    set_extra_config(si, "asr-mt-01", {"harness.bootsOn": "paravirtual"})  # no LSI driver in this guest
    power(si, "asr-mt-01", False)
    before = device_list(si, "asr-mt-01")

    converted = run_module(MODULE, dict(name="asr-mt-01", convert=True, guest_ready=True), env=env)
    assert converted["changed"] and marker(si, "asr-mt-01") == "pending 0:paravirtual>lsilogic", converted.debug
    power(si, "asr-mt-01", True)

    check = run_module(MODULE, dict(name="asr-mt-01", confirm_boot=True), env=env, check=True)
    assert check["changed"] and check["boot"] == "pending", check.debug
    result = run_module(MODULE, dict(name="asr-mt-01", confirm_boot=True, boot_timeout=3), env=env)
    assert result["failed"] and result["boot"] == "rolledBack", result.debug
    assert "did not boot within 3 s" in result["msg"] and "put back as they were (bus 0 VMware Paravirtual" in result["msg"], result.debug
    assert device_list(si, "asr-mt-01") == before, "the rollback did not restore every device exactly"
    assert vm_state(si, "asr-mt-01", ["runtime.powerState"])["runtime.powerState"] == "poweredOn"
    assert marker(si, "asr-mt-01") == "rolledBack 0:paravirtual>lsilogic"

    # The admin's word has been proven wrong once: refused, in check mode too, nothing changed.
    power(si, "asr-mt-01", False)
    for check_mode in (True, False):
        again = run_module(MODULE, dict(name="asr-mt-01", convert=True, guest_ready=True), env=env, check=check_mode)
        assert again["failed"] and "rolled back" in again["msg"] and "Nothing was changed" in again["msg"], again.debug
    assert controllers(si, "asr-mt-01")[0][0] == "ParaVirtualSCSIController"

    # Once a guest role verified the driver (and the guest has it), the conversion runs and is confirmed.
    set_extra_config(si, "asr-mt-01", {"harness.bootsOn": "paravirtual,lsilogic"})
    fixed = run_module(MODULE, dict(name="asr-mt-01", convert=True, guest_drivers=["lsilogic"]), env=env)
    assert fixed["changed"] and marker(si, "asr-mt-01") == "pending 0:paravirtual>lsilogic", fixed.debug
    power(si, "asr-mt-01", True)
    confirmed = run_module(MODULE, dict(name="asr-mt-01", confirm_boot=True, boot_timeout=30), env=env)
    assert confirmed["changed"] and confirmed["boot"] == "confirmed" and marker(si, "asr-mt-01") is None, confirmed.debug
    assert not run_module(MODULE, dict(name="asr-mt-01", confirm_boot=True), env=env)["changed"]


def test_confirm_boot_of_a_powered_off_conversion_says_to_power_on(vcsim, si):
    env = vcsim.env()
    assert not run_module(MODULE, dict(name="asr-mt-02", confirm_boot=True), env=env)["changed"]
    power(si, "asr-mt-01", False)
    assert run_module(MODULE, dict(name="asr-mt-01", convert=True, guest_ready=True), env=env)["changed"]
    result = run_module(MODULE, dict(name="asr-mt-01", confirm_boot=True), env=env)
    assert result["failed"] and "Power it on" in result["msg"] and result["boot"] == "pending", result.debug
