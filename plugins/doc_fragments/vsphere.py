# -*- coding: utf-8 -*-
# Copyright: (c) 2026, siterecovery.master_target contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    # The connection options: the same names, aliases and environment variables as
    # community.vmware, so inventories and AWX "VMware vCenter" credentials work unchanged.
    DOCUMENTATION = r"""
options:
  hostname:
    description:
      - The vCenter Server or ESXi host to connect to.
      - If not set, the value of the E(VMWARE_HOST) environment variable is used.
    type: str
  username:
    description:
      - The user name to log in with.
      - If not set, the value of the E(VMWARE_USER) environment variable is used.
    type: str
    aliases: [admin, user]
  password:
    description:
      - The password of O(username).
      - If not set, the value of the E(VMWARE_PASSWORD) environment variable is used.
    type: str
    aliases: [pass, pwd]
  port:
    description:
      - The HTTPS port of the vCenter Server or ESXi host.
      - If not set, the value of the E(VMWARE_PORT) environment variable is used.
    type: int
    default: 443
  validate_certs:
    description:
      - Whether to verify the server's TLS certificate against this machine's trust store.
      - Set to V(false) only for a server whose certificate you accept without verification.
      - If not set, the value of the E(VMWARE_VALIDATE_CERTS) environment variable is used.
    type: bool
    default: true
  proxy_host:
    description:
      - The address of an HTTP proxy to reach the server through.
      - If not set, the value of the E(VMWARE_PROXY_HOST) environment variable is used.
    type: str
  proxy_port:
    description:
      - The port of the HTTP proxy in O(proxy_host).
      - If not set, the value of the E(VMWARE_PROXY_PORT) environment variable is used.
    type: int
requirements:
  - pyvmomi >= 8.0.3.0.1
notes:
  - Session reuse (opt-in). Each task logs in to vCenter and out again. With the environment variable
    E(SITERECOVERY_VSPHERE_SESSION_CACHE=true) set where the module runs (for example with
    the play keyword C(environment)), the first task keeps its
    session and later tasks with the same O(hostname), O(port), O(username) and O(password) use it after
    checking with vCenter that it is still valid; a session that vCenter has ended means a normal login.
    This saves the login and logout round trips of every task.
  - The session id is kept in a file readable only by the user running the module (mode 0600, in a
    0700 directory), E(SITERECOVERY_VSPHERE_SESSION_CACHE_DIR), default
    C(~/.cache/siterecovery.master_target/vsphere-sessions). One file per host, port and user; it holds
    a salted digest of the password, so a changed password never reuses an old session. Whoever can
    read that file can act as that user in vCenter until the session ends (vCenter ends idle sessions,
    by default after 30 minutes), which is why the cache is off by default. The session is not logged
    out at the end of the run; remove the file, or let vCenter expire it.
"""

    # How a module selects the one VM it works on.
    VM = r"""
options:
  name:
    description:
      - The name of the virtual machine.
      - When several VMs have this name, set O(folder) or O(datacenter), or use O(uuid) or O(moid).
      - One of O(name), O(uuid) or O(moid) is required.
    type: str
  uuid:
    description:
      - The BIOS UUID of the virtual machine (C(config.uuid)), or its instance UUID when O(use_instance_uuid=true).
    type: str
  use_instance_uuid:
    description:
      - Whether O(uuid) is the instance UUID (C(config.instanceUuid)) rather than the BIOS UUID.
      - Template clones can share a BIOS UUID; the instance UUID is unique in a vCenter.
    type: bool
    default: false
  moid:
    description:
      - The managed object id of the virtual machine, for example C(vm-42).
    type: str
  folder:
    description:
      - The folder that holds the VM named O(name), to tell apart VMs of the same name.
      - Either the full path (C(/DC0/vm/asr)) or its trailing part (C(vm/asr), C(asr)).
    type: str
  datacenter:
    description:
      - The datacenter that holds the VM named O(name).
    type: str
"""

    # The attributes of every module that changes something. meta/runtime.yml's action_groups is the
    # source of truth for action_group's membership (tests/unit/test_module_docs.py checks they agree).
    ATTRIBUTES = r"""
attributes:
  action_group:
    description: Use C(group/siterecovery.master_target.vmware) in C(module_defaults) to set defaults for this module.
    support: full
    membership:
      - siterecovery.master_target.vmware
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: full
  idempotent:
    description: When run twice in a row outside check mode, with the same arguments, the second invocation indicates no change.
    support: full
"""

    # For *_info modules: they change nothing, so check mode is trivially full.
    INFO_ATTRIBUTES = r"""
attributes:
  action_group:
    description: Use C(group/siterecovery.master_target.vmware) in C(module_defaults) to set defaults for this module.
    support: full
    membership:
      - siterecovery.master_target.vmware
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
    details: This module only reads, so it runs the same in check mode.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: N/A
    details: This module changes nothing.
  idempotent:
    description: When run twice in a row outside check mode, with the same arguments, the second invocation indicates no change.
    support: full
"""
