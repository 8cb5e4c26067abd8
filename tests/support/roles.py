"""The vsphere role as the integration tests run it: a one-play playbook and the variables that
prepare the scene's asr-mt-01 (ParaVirtual controller converted, VM power-cycled, a 10 GB
retention disk on vmfs-mt-01, the two prod datastores)."""

from __future__ import annotations

VSPHERE_ROLE_PLAYBOOK = """
- name: Prepare the master target
  hosts: localhost
  gather_facts: false
  roles:
    - role: siterecovery.master_target.vsphere
"""

ASR_MT_01_VARS = dict(
    vsphere_vm_name="asr-mt-01",
    vsphere_vm_folder="asr",
    vsphere_scsi_convert=True,
    vsphere_scsi_type="lsilogicsas",
    vsphere_scsi_guest_ready=True,  # the scene's guests boot from any controller
    vsphere_power_off_allowed=True,
    vsphere_retention_disk_datastore="vmfs-mt-01",
    vsphere_retention_disk_size_gb=10,
    vsphere_datastores=["vmfs-prod-01", "vmfs-prod-02"],
    vsphere_tools_timeout=30,
)
