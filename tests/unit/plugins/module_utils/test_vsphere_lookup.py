from __future__ import annotations

import pytest
from pyVmomi import vim

from ansible_collections.siterecovery.master_target.plugins.module_utils._vsphere_client import VSphereError
from ansible_collections.siterecovery.master_target.plugins.module_utils._vsphere_lookup import (
    ManagedObject,
    escape_name,
    escaped_name_hint,
    inventory_paths,
    select_by_name,
    unescape_name,
)


def inventory():
    items = inventory_with_root()
    inventory_paths(items)
    return [item for item in items if isinstance(item.obj, vim.VirtualMachine)]


def inventory_with_root():
    return [
        ManagedObject(vim.Folder("group-d1"), dict(name="Datacenters")),
        ManagedObject(vim.Datacenter("datacenter-2"), dict(name="DC0", parent=vim.Folder("group-d1"))),
        ManagedObject(vim.Folder("group-v3"), dict(name="vm", parent=vim.Datacenter("datacenter-2"))),
        ManagedObject(vim.Folder("group-10"), dict(name="teamA", parent=vim.Folder("group-v3"))),
        ManagedObject(vim.Folder("group-11"), dict(name="teamB", parent=vim.Folder("group-v3"))),
        ManagedObject(vim.VirtualMachine("vm-1"), dict(name="dup-vm", parent=vim.Folder("group-10"))),
        ManagedObject(vim.VirtualMachine("vm-2"), dict(name="dup-vm", parent=vim.Folder("group-11"))),
        ManagedObject(vim.VirtualMachine("vm-3"), dict(name="asr-mt-01", parent=vim.Folder("group-v3"))),
    ]


def test_inventory_paths_start_at_the_datacenter():
    assert sorted(vm.path for vm in inventory()) == ["/DC0/vm/asr-mt-01", "/DC0/vm/teamA/dup-vm", "/DC0/vm/teamB/dup-vm"]


def test_inventory_paths_without_the_root_folder():
    """A ContainerView over the root folder lists everything below it, not the folder itself."""
    items = [item for item in inventory_with_root() if item.name != "Datacenters"]
    inventory_paths(items)
    assert sorted(item.path for item in items if isinstance(item.obj, vim.VirtualMachine)) == [
        "/DC0/vm/asr-mt-01", "/DC0/vm/teamA/dup-vm", "/DC0/vm/teamB/dup-vm"]


def test_select_unique_name():
    assert select_by_name(inventory(), "asr-mt-01").moid == "vm-3"


@pytest.mark.parametrize("folder", ["teamB", "vm/teamB", "/DC0/vm/teamB", "DC0/vm/teamB/"])
def test_folder_disambiguates(folder):
    assert select_by_name(inventory(), "dup-vm", folder=folder).moid == "vm-2"


def test_duplicate_name_lists_every_path():
    with pytest.raises(VSphereError) as error:
        select_by_name(inventory(), "dup-vm")
    assert "2 virtual machines are named 'dup-vm'" in error.value.msg
    assert "/DC0/vm/teamA/dup-vm, /DC0/vm/teamB/dup-vm" in error.value.msg
    assert "folder" in error.value.msg


def test_unknown_name_and_wrong_datacenter():
    with pytest.raises(VSphereError, match="No virtual machine named 'nope'"):
        select_by_name(inventory(), "nope")
    with pytest.raises(VSphereError, match="in datacenter 'DC9'"):
        select_by_name(inventory(), "asr-mt-01", datacenter="DC9")
    assert select_by_name(inventory(), "asr-mt-01", datacenter="DC0").moid == "vm-3"


@pytest.mark.parametrize(
    "typed, stored",
    [("a/b", "a%2fb"), ("a\\b", "a%5cb"), ("50%", "50%25"), ("a%2fb", "a%2fb"), ("a%2Fb", "a%2Fb"), ("100%x", "100%25x"), ("plain", "plain")],
)
def test_names_escape_as_vcenter_stores_them(typed, stored):
    assert escape_name(typed) == stored
    assert unescape_name(stored) == unescape_name(typed)


def slashed_inventory():
    items = inventory_with_root() + [ManagedObject(vim.VirtualMachine("vm-4"), dict(name="db%2f01", parent=vim.Folder("group-10")))]
    inventory_paths(items)
    return [item for item in items if isinstance(item.obj, vim.VirtualMachine)]


@pytest.mark.parametrize("name, folder", [("db/01", None), ("db/01", "teamA"), ("db%2F01", None), ("teamA/db/01", None)])
def test_a_name_typed_with_a_slash_is_told_how_vcenter_stores_it(name, folder):
    with pytest.raises(VSphereError) as error:
        select_by_name(slashed_inventory(), name, folder=folder)
    assert "vCenter stores '/' in a VM name as %2f ('\\' as %5c, '%' as %25): give 'db%2f01' (path /DC0/vm/teamA/db%2f01)." in error.value.msg
    assert select_by_name(slashed_inventory(), "db%2f01").moid == "vm-4"


def test_escape_hints_only_where_they_help():
    assert escaped_name_hint(slashed_inventory(), "plain") == ""
    assert escaped_name_hint(slashed_inventory(), "50%") == ""  # nothing stored as 50%25
    assert escaped_name_hint(slashed_inventory(), "x/y").endswith("for a VM named 'x/y', give 'x%2fy' or its path.")
