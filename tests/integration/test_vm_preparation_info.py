"""vm_preparation_info against the simulator: its verdict agrees with the modules it speaks for.

The vsphere role skips every step the plan reports as not needed, so a wrong "not needed" would
silently leave the VM unprepared while the role reports changed=0. These tests check, in several
states of a VM, that each step's `needed` equals "the step's module, run in check mode with the
role's arguments, would change something or fail".
"""

from __future__ import annotations

from pyVmomi import vim

from support.ansible import run_module, run_playbook
from support.roles import ASR_MT_01_VARS, VSPHERE_ROLE_PLAYBOOK
from support.vsphere import find_vm_object, wait

VM = dict(name="asr-mt-01", folder="asr")
SIZE_GB = ASR_MT_01_VARS["vsphere_retention_disk_size_gb"]
DATASTORES = ASR_MT_01_VARS["vsphere_datastores"]

# Each step and the module call the vsphere role makes for it.
MODULE_OF_STEP = {
    "disk_uuid": ("vm_disk_uuid", dict(enabled=True)),
    "snapshots": ("vm_snapshots", dict(state="absent")),
    "scsi_controllers": ("vm_scsi_controller", dict(convert=True, type="lsilogicsas", guest_ready=True)),
    "retention_disk": ("vm_retention_disk", dict(size_gb=SIZE_GB, datastore="vmfs-mt-01")),
    "datastores": ("host_datastore_access", dict(datastores=DATASTORES)),
    "migration_exclusion": ("vm_migration_exclusion", dict(state="present")),
}


def plan(env, vm=None, **overrides):
    args = dict(vm or VM, retention_disk_size_gb=SIZE_GB, retention_disk_datastore="vmfs-mt-01", datastores=DATASTORES)
    result = run_module("vm_preparation_info", dict(args, **overrides), env=env)
    assert not result.get("failed") and result["changed"] is False, result.debug
    return result


def assert_plan_agrees(env, result, vm=None, module_args=None):
    """Each step's `needed` against its module in check mode; returns {step: module result}."""
    module_args = module_args or {}
    outcomes = {}
    for name, step in result["steps"].items():
        module, args = MODULE_OF_STEP[name]
        outcome = run_module(module, dict(vm or VM, **dict(args, **module_args.get(name, {}))), env=env, check=True)
        would = bool(outcome.get("changed") or outcome.get("failed"))
        assert would == step["needed"], f"{name}: plan says needed={step['needed']} ({step['reason']}), {module} says {outcome.debug}"
        outcomes[name] = outcome
    return outcomes


def test_a_fresh_master_target_needs_every_step(vcsim):
    env = vcsim.env()
    result = plan(env)
    # The scene's prod datastores are already mounted read/write on every host.
    assert result["to_change"] == ["disk_uuid", "snapshots", "scsi_controllers", "retention_disk", "migration_exclusion"], result.debug
    assert result["vm"] == dict(name="asr-mt-01", moid=result["vm"]["moid"], path="/DC0/vm/asr/asr-mt-01", power_state="poweredOn")
    assert "ParaVirtual" in result["steps"]["scsi_controllers"]["reason"]
    assert result["steps"]["disk_uuid"]["power_cycle_required"] is True
    assert result["tools"]["running"] is True
    assert_plan_agrees(env, result)


def test_a_prepared_master_target_needs_nothing_and_each_module_agrees(vcsim):
    env = vcsim.env()
    prepared = run_playbook(VSPHERE_ROLE_PLAYBOOK, env=env, extra_vars=ASR_MT_01_VARS)
    assert not prepared.failed_hosts, prepared.debug

    result = plan(env)
    assert result["to_change"] == [], result.debug
    assert all(not step["needed"] for step in result["steps"].values()), result.debug
    assert result["steps"]["retention_disk"]["disk"]["size_gb"] == SIZE_GB
    assert [ds["name"] for ds in result["steps"]["datastores"]["datastores"]] == DATASTORES
    assert_plan_agrees(env, result)

    # The role's second run makes exactly one module call: the plan (the rest runs in the controller).
    again = run_playbook(VSPHERE_ROLE_PLAYBOOK, env=env, extra_vars=ASR_MT_01_VARS)
    assert not again.failed_hosts and sum(stat["changed"] for stat in again["stats"].values()) == 0, again.debug
    ran = [task["action"] for task in again["tasks"] if not task["result"].get("skipped")]
    assert [action for action in ran if not action.startswith("ansible.builtin.")] == ["siterecovery.master_target.vm_preparation_info"], ran
    assert set(ran) == {"ansible.builtin.validate_argument_spec", "ansible.builtin.set_fact", "siterecovery.master_target.vm_preparation_info"}, ran


def test_drift_after_preparation_is_seen_step_by_step(vcsim, si):
    env = vcsim.env()
    prepared = run_playbook(VSPHERE_ROLE_PLAYBOOK, env=env, extra_vars=ASR_MT_01_VARS)
    assert not prepared.failed_hosts, prepared.debug

    # Drift made outside the role: disk.EnableUUID back to FALSE, a new snapshot, the DRS override removed.
    vm = find_vm_object(si, "asr-mt-01")
    wait(vm.ReconfigVM_Task(spec=vim.vm.ConfigSpec(extraConfig=[vim.option.OptionValue(key="disk.EnableUUID", value="FALSE")])))
    wait(vm.CreateSnapshot_Task(name="drift", memory=False, quiesce=False))
    removed = run_module("vm_migration_exclusion", dict(VM, state="absent"), env=env)
    assert removed["changed"], removed.debug

    result = plan(env)
    assert result["to_change"] == ["disk_uuid", "snapshots", "migration_exclusion"], result.debug
    assert result["steps"]["snapshots"]["snapshots"] == ["drift"]
    assert_plan_agrees(env, result)

    # A larger retention disk asked for, an unmounted and an NFS datastore listed, a manual DRS override asked for.
    result = plan(env, retention_disk_size_gb=SIZE_GB + 5, datastores=["vmfs-unmounted", "nfs-prod-01"], drs_behavior="manual")
    assert {"retention_disk", "datastores", "migration_exclusion"} <= set(result["to_change"]), result.debug
    assert "nfs-prod-01" in result["steps"]["datastores"]["reason"] and "vmfs-unmounted" in result["steps"]["datastores"]["reason"]
    assert_plan_agrees(
        env,
        result,
        module_args=dict(
            retention_disk=dict(size_gb=SIZE_GB + 5, grow=True),
            datastores=dict(datastores=["vmfs-unmounted", "nfs-prod-01"]),
            migration_exclusion=dict(drs_behavior="manual"),
        ),
    )


def test_a_power_cycle_still_pending_is_said_on_every_run_until_the_vm_is_power_cycled(vcsim):
    env = vcsim.env()
    only_uuid = dict(snapshots=False, scsi_controllers=False, migration_exclusion=False)
    assert run_module("vm_disk_uuid", VM, env=env)["power_cycle_required"] is True  # asr-mt-01 runs

    # The step is done, but the running VM has not been powered on since: the plan says so, as the module does.
    pending = plan(env, **only_uuid)["steps"]["disk_uuid"]
    assert (pending["needed"], pending["power_cycle_required"]) == (False, True), pending
    assert "not in effect until a power cycle" in pending["reason"]
    assert run_module("vm_disk_uuid", VM, env=env, check=True)["power_cycle_required"] is True

    # A power-off and power-on (runtime.bootTime after the recorded change) puts it into effect.
    assert run_module("vm_power", dict(VM, state="shutdown_guest"), env=env)["changed"]
    assert plan(env, **only_uuid)["steps"]["disk_uuid"]["power_cycle_required"] is False  # off: only a power-on is needed
    assert run_module("vm_power", dict(VM, state="powered_on"), env=env)["changed"]
    done = plan(env, **only_uuid)["steps"]["disk_uuid"]
    assert (done["needed"], done["power_cycle_required"], done["reason"]) == (False, False, "disk.EnableUUID is TRUE."), done


def test_an_almost_right_powered_off_master_target(vcsim):
    env = vcsim.env()
    vm = dict(name="asr-mt-02", folder="asr")
    result = plan(env, vm=vm)
    assert result["vm"]["power_state"] == "poweredOff"
    assert not result["steps"]["disk_uuid"]["needed"] and not result["steps"]["scsi_controllers"]["needed"], result.debug
    assert not result["steps"]["snapshots"]["needed"]
    assert result["steps"]["retention_disk"]["needed"]
    assert_plan_agrees(env, result, vm=vm)


def test_steps_left_out_and_an_unknown_vm(vcsim):
    env = vcsim.env()
    result = run_module(
        "vm_preparation_info",
        dict(VM, disk_uuid=False, snapshots=False, scsi_controllers=False, migration_exclusion=False),
        env=env,
    )
    assert not result.get("failed") and result["steps"] == {} and result["to_change"] == [], result.debug

    unknown = run_module("vm_preparation_info", dict(name="no-such-vm"), env=env)
    assert unknown["failed"] and "no-such-vm" in unknown["msg"], unknown.debug


def plan_in_process(client, names):
    """(plans, SOAP requests): vm_preparation_info's plan of the named master targets in one call (its vms option),
    run in this process with the options the vsphere role gives, every request counted at the pyVmomi stub."""
    from types import SimpleNamespace

    from ansible_collections.siterecovery.master_target.plugins.modules import vm_preparation_info as module_file

    params = {name: option.get("default") for name, option in module_file.STEP_OPTIONS.items()}
    params.update({name: None for name in module_file.SELECTION}, folder="asr", retention_disk_size_gb=SIZE_GB,
                  retention_disk_datastore="vmfs-mt-01", datastores=DATASTORES,
                  vms=[dict({name: None for name in module_file.STEP_OPTIONS}, name=name, id=name, uuid=None, moid=None,
                            use_instance_uuid=None, folder=None, datacenter=None) for name in names])
    calls = []
    invoke = client.stub.InvokeMethod

    def counting(mo, info, args):
        calls.append(info.wsdlName)
        return invoke(mo, info, args)

    client.stub.InvokeMethod = counting
    try:
        result = module_file.plan_preparation(SimpleNamespace(params=params), client)
    finally:
        client.stub.InvokeMethod = invoke
    return result["vms"], calls


def test_one_call_plans_any_number_of_master_targets_with_the_same_requests():
    """Planning 6 master targets costs the requests of planning 1 (the re-run of the role: one call for the play), each
    plan equal to the one-VM plan; a VM that is not there fails only its own item."""
    from support.vcsim import start_vcsim

    from ansible_collections.siterecovery.master_target.plugins.module_utils._vsphere_client import VSphereClient

    sim = start_vcsim(scene="default", master_targets=6)
    try:
        client = VSphereClient(sim.connect(), "vcsim")
        names = [f"asr-mt-0{index}" for index in range(1, 7)]
        one, one_calls = plan_in_process(client, names[:1])
        six, six_calls = plan_in_process(client, names)
        assert [plan["id"] for plan in six] == names and not any(plan["failed"] for plan in six)
        assert six[0] == one[0]
        # The only request that grows: the guest OS descriptor of each VM whose controllers would be converted
        # (the first run only; a prepared master target has none).
        descriptors = sum(1 for plan in six if plan["steps"]["scsi_controllers"]["not_lsi"])
        assert len(six_calls) - six_calls.count("QueryConfigOptionEx") == len(one_calls) - one_calls.count("QueryConfigOptionEx"), (one_calls, six_calls)
        assert six_calls.count("QueryConfigOptionEx") == descriptors
        missing, _calls = plan_in_process(client, ["asr-mt-01", "asr-mt-99"])
        assert [plan["failed"] for plan in missing] == [False, True]
        assert "asr-mt-99" in missing[1]["msg"] and missing[0] == one[0]
    finally:
        sim.stop()
