from __future__ import annotations

from types import SimpleNamespace

from ansible_collections.siterecovery.master_target.plugins.module_utils._vsphere_client import connection_argument_spec
from ansible_collections.siterecovery.master_target.plugins.module_utils._vsphere_module import Changes


def test_changes_records_every_field_and_diff_only_when_asked():
    changes = Changes()
    assert not changes.compare("a", 1, 1)
    assert changes.compare("b", None, "TRUE")
    assert changes.changed
    assert changes.result(SimpleNamespace(_diff=False)) == dict(changed=True)
    assert changes.result(SimpleNamespace(_diff=True))["diff"] == dict(before=dict(a=1, b=None), after=dict(a=1, b="TRUE"))


def test_connection_options_match_community_vmware():
    spec = connection_argument_spec()
    assert spec["username"]["aliases"] == ["user", "admin"]
    assert spec["password"]["aliases"] == ["pass", "pwd"] and spec["password"]["no_log"]
    assert {name: option["fallback"][1][0] for name, option in spec.items()} == dict(
        hostname="VMWARE_HOST", username="VMWARE_USER", password="VMWARE_PASSWORD", port="VMWARE_PORT",
        validate_certs="VMWARE_VALIDATE_CERTS", proxy_host="VMWARE_PROXY_HOST", proxy_port="VMWARE_PROXY_PORT",
    )
    assert spec["validate_certs"]["default"] is True and spec["port"]["default"] == 443
