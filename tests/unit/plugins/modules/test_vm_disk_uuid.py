from __future__ import annotations

import pytest
from pyVmomi import vim

from ansible_collections.siterecovery.master_target.plugins.module_utils._vsphere_devices import enable_uuid_change as desired_value
from ansible_collections.siterecovery.master_target.plugins.module_utils._vsphere_devices import enable_uuid_setting as current_setting


def options(**pairs):
    return [vim.option.OptionValue(key=key, value=value) for key, value in pairs.items()]


@pytest.mark.parametrize(
    "extra_config, expected",
    [
        (None, ("disk.EnableUUID", None)),
        (options(**{"svga.present": "TRUE"}), ("disk.EnableUUID", None)),
        (options(**{"disk.EnableUUID": "TRUE"}), ("disk.EnableUUID", "TRUE")),
        # An existing key in another case is the one to edit, never a second key.
        (options(**{"disk.enableUUID": "false"}), ("disk.enableUUID", "false")),
    ],
)
def test_current_setting(extra_config, expected):
    assert current_setting(extra_config) == expected


@pytest.mark.parametrize(
    "current, enabled, expected",
    [
        (None, True, "TRUE"),
        ("TRUE", True, None),
        ("true", True, None),
        (" True ", True, None),
        ("FALSE", True, "TRUE"),
        ("yes", True, "TRUE"),
        (None, False, None),  # missing means FALSE to ESXi
        ("TRUE", False, "FALSE"),
        ("false", False, None),
    ],
)
def test_desired_value(current, enabled, expected):
    assert desired_value(current, enabled) == expected
