"""The datastore rules moved from host_datastore_access (its own tests cover every problem code)."""

from __future__ import annotations

from pyVmomi import vim

from ansible_collections.siterecovery.master_target.plugins.module_utils._vsphere_datastores import datastore_facts, datastore_problem
from ansible_collections.siterecovery.master_target.plugins.module_utils._vsphere_lookup import ManagedObject


def test_nfs_fails_and_vmfs_mounted_read_write_passes():
    mount = vim.host.MountInfo(accessMode="readWrite", mounted=True, accessible=True)
    props = {"name": "vmfs-1", "summary.type": "VMFS", "summary.accessible": True, "summary.maintenanceMode": "normal",
             "host": [vim.Datastore.HostMount(key=vim.HostSystem("host-1"), mountInfo=mount)]}
    vmfs = datastore_facts(ManagedObject(vim.Datastore("datastore-1"), props))
    assert datastore_problem(vmfs, "host-1") is None
    assert datastore_problem(vmfs, "host-2").code == "not_attached"
    nfs = datastore_facts(ManagedObject(vim.Datastore("datastore-2"), dict(props, **{"summary.type": "NFS"})))
    assert datastore_problem(nfs, "host-1").code == "unsupported_type"
