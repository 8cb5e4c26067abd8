"""The vsphere role against the simulator: the scene's asr-mt-01 has every problem the role fixes.

Check mode changes nothing; a real run fixes the VM (verified with pyvmomi); a second run changes
nothing; a ParaVirtual controller without permission to convert stops the role with a clear message.
"""

from __future__ import annotations

from support.ansible import run_playbook
from support.roles import ASR_MT_01_VARS, VSPHERE_ROLE_PLAYBOOK
from support.vsphere import vm_state

PATHS = ["config.extraConfig", "config.hardware.device", "snapshot", "runtime.powerState"]


def master_target(si):
    state = vm_state(si, "asr-mt-01", PATHS)
    devices = state["config.hardware.device"]
    return dict(
        enable_uuid={o.key: o.value for o in state.get("config.extraConfig") or []}.get("disk.EnableUUID"),
        controllers=sorted(type(d).__name__.rsplit(".", 1)[-1] for d in devices if hasattr(d, "sharedBus")),
        disks=sum(1 for d in devices if type(d).__name__.endswith(".VirtualDisk")),
        snapshots=state.get("snapshot") is not None,
        power=state["runtime.powerState"],
    )


def total_changed(result):
    return sum(stat["changed"] for stat in result["stats"].values())


def test_check_mode_then_prepare_then_idempotent(vcsim, si):
    env = vcsim.env()
    before = master_target(si)
    assert before == dict(enable_uuid=None, controllers=["ParaVirtualSCSIController"], disks=2, snapshots=True, power="poweredOn")

    check = run_playbook(VSPHERE_ROLE_PLAYBOOK, env=env, extra_vars=ASR_MT_01_VARS, check=True, diff=True)
    assert not check.failed_hosts, check.debug
    assert total_changed(check) > 0, check.debug
    assert master_target(si) == before, "check mode changed the VM"

    first = run_playbook(VSPHERE_ROLE_PLAYBOOK, env=env, extra_vars=ASR_MT_01_VARS)
    assert not first.failed_hosts, first.debug
    assert master_target(si) == dict(
        enable_uuid="TRUE", controllers=["VirtualLsiLogicSASController"], disks=3, snapshots=False, power="poweredOn")

    second = run_playbook(VSPHERE_ROLE_PLAYBOOK, env=env, extra_vars=ASR_MT_01_VARS)
    assert not second.failed_hosts, second.debug
    assert total_changed(second) == 0, second.debug


def test_paravirtual_controller_without_conversion_stops_the_role(vcsim, si):
    before = master_target(si)
    result = run_playbook(VSPHERE_ROLE_PLAYBOOK, env=vcsim.env(), extra_vars=dict(ASR_MT_01_VARS, vsphere_scsi_convert=False))
    assert result.failed_hosts == ["localhost"], result.debug
    assert "vsphere_scsi_convert" in result.stdout and "ParaVirtual" in result.stdout, result.debug
    assert master_target(si) == before, "the role changed the VM before stopping"
