# -*- coding: utf-8 -*-
# Copyright: (c) 2026, siterecovery.master_target contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Storage DRS and DRS VM overrides: reading them and judging the exclusion, as pure functions.

Shared by vm_migration_exclusion (which sets them), vm_preparation_info (which plans) and
failback_readiness_info (which reports).
"""

from __future__ import annotations

try:
    from pyVmomi import vim
except ImportError:  # pragma: no cover - connect() reports the missing library
    pass

# Properties of a StoragePod and of a ClusterComputeResource that hold the overrides.
POD_VM_CONFIG = "podStorageDrsEntry.storageDrsConfig.vmConfig"
POD_ENABLED = "podStorageDrsEntry.storageDrsConfig.podConfig.enabled"
POD_DEFAULT_BEHAVIOR = "podStorageDrsEntry.storageDrsConfig.podConfig.defaultVmBehavior"
POD_PATHS = ["name", POD_VM_CONFIG, POD_ENABLED, POD_DEFAULT_BEHAVIOR]
# configurationEx is declared as ComputeResourceConfigInfo; its ClusterConfigInfoEx fields
# (drsVmConfig, drsConfig with enableVmBehaviorOverrides) are read whole rather than by a sub-path
# vCenter may refuse.
CLUSTER_CONFIG = "configurationEx"
CLUSTER_PATHS = ["name", CLUSTER_CONFIG]
# vm_migration_exclusion's option that lets it switch a cluster's VM overrides on (named in texts).
ENABLE_OVERRIDES_OPTION = "enable_cluster_vm_overrides"


def override_view(info):
    """Pure: the fields of a VM override that decide the exclusion, or None when there is no override.

    Works for both StorageDrsVmConfigInfo and ClusterDrsVmConfigInfo. An unset `enabled` means
    true (the API's default); an unset `behavior` means the cluster's default automation level.
    """
    if info is None:
        return None
    return dict(enabled=info.enabled is not False, behavior=info.behavior or None)


def find_override(entries, vm_moid, key="vm"):
    """Pure: the VM's entry in a list of overrides (`vm` for Storage DRS, `key` for DRS), or None."""
    for entry in entries or []:
        ref = getattr(entry, key, None)
        if ref is not None and ref._moId == vm_moid:  # pylint: disable=protected-access
            return entry
    return None


def wanted_fields(level):
    """Pure: the override fields that exclude the VM at `level` (disabled or manual).

    `disabled` sets only enabled=false: the API says the VM is then excluded whatever the behavior,
    so an existing behavior is left as it is.
    """
    if level == "disabled":
        return dict(enabled=False)
    return dict(enabled=True, behavior="manual")


def complies(view, level):
    """Pure: whether an existing override (a view) already excludes the VM at `level`."""
    return view is not None and all(view.get(field) == value for field, value in wanted_fields(level).items())


def pod_facts(pod, vm_moid):
    """Pure: a StoragePod read with POD_PATHS as {name, enabled, default_behavior, override} for one VM."""
    return dict(
        name=pod.name,
        enabled=bool(pod.get(POD_ENABLED)),
        default_behavior=pod.get(POD_DEFAULT_BEHAVIOR),
        override=override_view(find_override(pod.get(POD_VM_CONFIG), vm_moid, key="vm")),
    )


def cluster_facts(cluster, vm_moid):
    """Pure: a cluster read with CLUSTER_PATHS as {name, enabled, default_behavior, vm_overrides_enabled,
    override} for one VM.

    `vm_overrides_enabled` is drsConfig.enableVmBehaviorOverrides (the vSphere Client's "Enable
    individual virtual machine automation levels"); unset means true, the API's default.
    """
    config = cluster.get(CLUSTER_CONFIG)
    drs = getattr(config, "drsConfig", None)
    return dict(
        name=cluster.name,
        enabled=bool(drs is not None and drs.enabled),
        default_behavior=getattr(drs, "defaultVmBehavior", None) if drs is not None else None,
        vm_overrides_enabled=getattr(drs, "enableVmBehaviorOverrides", None) is not False,
        override=override_view(find_override(getattr(config, "drsVmConfig", None), vm_moid, key="key")),
    )


def overrides_off_reason(cluster):
    """Pure: why a DRS VM override has no effect in a cluster (cluster_facts) with VM overrides switched off."""
    return (
        f"VM overrides are switched off in cluster '{cluster['name']}' (DRS setting 'Enable individual virtual machine automation levels', "
        f"enableVmBehaviorOverrides false), so DRS applies the cluster's default automation ({cluster['default_behavior'] or 'default'}) "
        "to every VM, whatever its VM override says"
    )


def overrides_switch(cluster, state, enable, vm):
    """Pure: (switch_on, refusal) for vm_migration_exclusion's DRS override of VM `vm` in a cluster (cluster_facts).

    With VM overrides switched off an override excludes nothing. With `enable`
    (ENABLE_OVERRIDES_OPTION) they are switched on, in the same reconfiguration as the override;
    without it the module refuses (`refusal` is the error), unless DRS is off there (it migrates
    nothing now; the override is stored as with DRS off) or the override is being removed.
    """
    if state == "absent" or cluster["vm_overrides_enabled"]:
        return False, None
    if enable:
        return True, None
    if not cluster["enabled"]:
        return False, None
    return False, (
        f"{overrides_off_reason(cluster)}: a DRS override cannot exclude VM {vm} from DRS migrations there. "
        f"Set {ENABLE_OVERRIDES_OPTION}: true to switch VM overrides on in cluster '{cluster['name']}' together with the override "
        "(a cluster-wide change: every VM's existing DRS override there then takes effect), or switch them on in the vSphere Client "
        "(cluster > Configure > vSphere DRS > Edit > Automation > Virtual Machine Automation)."
    )


def storage_drs_verdict(pod):
    """Pure: (status, text) for one datastore cluster holding the VM's files (pod_facts).

    Excluded only by an override with automation disabled (enabled=false): Storage DRS then neither
    moves the VM's files nor recommends it. Without one, a pod with Storage DRS off is a warning
    (turning it on would move the files), and an active one is a failure.
    """
    name, override = pod["name"], pod["override"]
    if override is not None and complies(override, "disabled"):
        return "pass", f"datastore cluster '{name}' has a Storage DRS override disabling automation for it"
    found = "an override with automation " + (override["behavior"] or "as the cluster") if override is not None else "no VM override"
    if not pod["enabled"]:
        return "warn", f"datastore cluster '{name}' has Storage DRS turned off and {found}: turning it on would let it move the VM's disks"
    return "fail", f"datastore cluster '{name}' runs Storage DRS ({pod['default_behavior'] or 'default'} by default) and has {found}"


def drs_verdict(cluster):
    """Pure: (status, text) for the DRS cluster of the VM's host (cluster_facts).

    Excluded by an override disabled or manual, while the cluster has VM overrides switched on
    (switched off, vCenter applies the cluster default to every VM, so the override counts as none).
    Without an effective one, DRS off or a manual cluster default is a warning (either can change),
    and DRS that may migrate the VM is a failure.
    """
    name, override = cluster["name"], cluster["override"]
    # .get: facts built without the flag mean the API's default, switched on.
    overrides_on = cluster.get("vm_overrides_enabled", True)
    excludes = override is not None and (complies(override, "disabled") or complies(override, "manual"))
    level = "disabled" if excludes and not override["enabled"] else "manual"
    if excludes and overrides_on:
        return "pass", f"cluster '{name}' has a DRS override setting it to {level}"
    if override is None:
        found = "no VM override"
    elif excludes:
        found = f"a DRS override setting it to {level}"
    else:
        found = f"an override with automation {override['behavior'] or 'as the cluster'}"
    if not overrides_on:
        found += (f", but {overrides_off_reason(cluster)} (switch them on with siterecovery.master_target.vm_migration_exclusion, "
                  f"{ENABLE_OVERRIDES_OPTION}: true, a cluster-wide change, or in the cluster's DRS settings)")
    if not cluster["enabled"]:
        return "warn", f"cluster '{name}' has DRS turned off and {found}: turning DRS on would let it migrate the VM"
    if cluster["default_behavior"] == "manual" and (override is None or not overrides_on):
        return "warn", f"cluster '{name}' runs DRS in manual mode by default and has {found}: a change of the default would migrate the VM"
    return "fail", f"cluster '{name}' runs DRS ({cluster['default_behavior'] or 'default'}) and has {found}"


def pods_of(datastores):
    """Pure: {pod moid: (pod ref, [datastore names])} for the datastores whose parent is a StoragePod.

    `datastores` are ManagedObjects read with name and parent.
    """
    pods = {}
    for datastore in datastores:
        parent = datastore.get("parent")
        if isinstance(parent, vim.StoragePod):
            pods.setdefault(parent._moId, (parent, []))[1].append(datastore.name)  # pylint: disable=protected-access
    return pods
