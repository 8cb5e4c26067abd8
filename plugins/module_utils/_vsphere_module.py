# -*- coding: utf-8 -*-
# Copyright: (c) 2026, siterecovery.master_target contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What every module of this collection shares: argument spec, change tracking, the entry point."""

from __future__ import annotations

import traceback

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.siterecovery.master_target.plugins.module_utils._vsphere_client import (
    CONNECTION_ERRORS,
    VSphereError,
    connect,
    connection_argument_spec,
    connection_lost,
)
from ansible_collections.siterecovery.master_target.plugins.module_utils._vsphere_lookup import (
    VM_SELECTION_RULES,
    vm_selection_argument_spec,
)


def vsphere_module(argument_spec, selects_vm=True, **kwargs):
    """An AnsibleModule with the connection options (and VM selection options) merged in."""
    spec = connection_argument_spec()
    rules = dict(kwargs)
    if selects_vm:
        spec.update(vm_selection_argument_spec())
        for rule, groups in VM_SELECTION_RULES.items():
            rules[rule] = list(groups) + list(rules.get(rule, []))
    spec.update(argument_spec)
    rules.setdefault("supports_check_mode", True)
    return AnsibleModule(argument_spec=spec, **rules)


class Changes:
    """Desired against current, field by field: gives `changed` and the `--diff` before/after.

    Every field compared is recorded, so the diff shows the whole state that was checked.
    """

    def __init__(self):
        self.before = {}
        self.after = {}

    def compare(self, field, before, after):
        self.before[field] = before
        self.after[field] = after
        return before != after

    @property
    def changed(self):
        return self.before != self.after

    def result(self, module):
        result = dict(changed=self.changed)
        if module._diff:  # pylint: disable=protected-access
            result["diff"] = dict(before=self.before, after=self.after)
        return result


def run_module(module, work):
    """Connect, run `work(module, client)` -> result dict, exit; every VSphereError becomes one fail_json."""
    try:
        client = connect(module.params)
        result = work(module, client)
    except VSphereError as error:
        module.fail_json(msg=error.msg, **error.details)
    except CONNECTION_ERRORS as error:
        # Lost after login (login failures are VSphereErrors of connect()): one message, no traceback.
        module.fail_json(msg=connection_lost(module.params, error).msg)
    except Exception as error:  # pylint: disable=broad-except
        # Last resort, so the user still gets one message instead of a bare traceback.
        module.fail_json(msg=f"Unexpected error: {type(error).__name__}: {error}", exception=traceback.format_exc())
    module.exit_json(**result)
