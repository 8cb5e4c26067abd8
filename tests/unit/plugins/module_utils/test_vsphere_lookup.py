from __future__ import annotations

import pytest
from pyVmomi import vim

from ansible_collections.siterecovery.master_target.plugins.module_utils._vsphere_client import VSphereError
from ansible_collections.siterecovery.master_target.plugins.module_utils._vsphere_lookup import (
    ManagedObject,
    escape_name,
    escaped_name_hint,
    folder_path_matches,
    inventory_paths,
    matching_folders,
    may_be_escaped,
    name_candidate,
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


def vapp_inventory():
    """As vCenter keeps a vApp: in a VM folder (parentFolder; its parent is a resource pool), a nested vApp in it
    (parentVApp), their VMs without a parent but with parentVApp (API reference, ManagedEntity.parent)."""
    items = inventory_with_root() + [
        ManagedObject(vim.VirtualApp("resgroup-v20"), dict(name="app1", parentFolder=vim.Folder("group-10"))),
        ManagedObject(vim.VirtualApp("resgroup-v21"), dict(name="web", parentVApp=vim.VirtualApp("resgroup-v20"))),
        ManagedObject(vim.VirtualMachine("vm-20"), dict(name="db", parentVApp=vim.VirtualApp("resgroup-v20"))),
        ManagedObject(vim.VirtualMachine("vm-21"), dict(name="web-01", parentVApp=vim.VirtualApp("resgroup-v21"))),
    ]
    return inventory_paths(items)


def test_vapps_are_part_of_their_vms_paths():
    paths = {item.moid: item.path for item in vapp_inventory()}
    assert paths["vm-20"] == "/DC0/vm/teamA/app1/db"
    assert paths["vm-21"] == "/DC0/vm/teamA/app1/web/web-01"
    assert paths["resgroup-v21"] == "/DC0/vm/teamA/app1/web"


@pytest.mark.parametrize("folder, expected", [
    ("teamA", True), ("vm/teamA", True), ("/DC0/vm/teamA", True), ("DC0/vm/teamA/", True),
    ("eamA", False), ("teamA/x", False), ("vm", False), ("DC0", False),
])
def test_folder_path_matches_the_trailing_part(folder, expected):
    assert folder_path_matches("/DC0/vm/teamA", folder) is expected


def test_matching_folders_are_folders_and_vapps_whose_path_ends_with_the_folder():
    containers = [item for item in vapp_inventory() if not isinstance(item.obj, vim.VirtualMachine)]

    def moids(*selections):
        return sorted(item.moid for item in matching_folders(containers, list(selections)))

    assert moids(dict(name="x", folder="teamA")) == ["group-10"]
    assert moids(dict(name="x", folder="vm")) == ["group-v3"]
    assert moids(dict(name="x", folder="app1/web")) == ["resgroup-v21"]
    assert moids(dict(name="x", folder="teamA"), dict(name="y", folder="/DC0/vm/teamB")) == ["group-10", "group-11"]
    assert moids(dict(name="x", folder="teamA", datacenter="DC9")) == []
    assert moids(dict(name="x", folder="DC0")) == []  # a datacenter holds no VM itself


@pytest.mark.parametrize("name, expected", [("plain", False), ("a/b", True), ("a\\b", True), ("50%", True), ("a%2fb", True), ("a%2Fb", True)])
def test_may_be_escaped(name, expected):
    assert may_be_escaped(name) is expected


@pytest.mark.parametrize("vm_name, name, expected", [
    ("asr-mt-01", "asr-mt-01", True),
    ("asr-mt-02", "asr-mt-01", False),
    ("db%2f01", "db/01", True),          # the VM the hint names
    ("db%2f01", "teamA/db/01", True),    # the typed name holds its folder
    ("x%2fdb%2f01", "db/01", True),      # its stored name ends with the typed one
    ("db%2f01", "db/02", False),
    ("db%2f01", "plain", False),         # no hint for a name without an escapable character
    ("db-01", "db/01", False),           # no escape in the VM's name: the hint never names it
])
def test_name_candidates(vm_name, name, expected):
    assert name_candidate(vm_name, name) is expected


ESCAPED_NAMES = ["db%2f01", "x%2fdb%2f01", "teamA%2fdb%2f01", "50%25", "a%5cb", "db%2F01", "plain", "dup-vm"]


@pytest.mark.parametrize("name", ["db/01", "teamA/db/01", "x/db/01", "/db/01", "01", "50%", "a\\b", "db%2f01", "b/01", "dup-vm", "nope"])
@pytest.mark.parametrize("folder", [None, "teamA", "vm/teamA", "teamB", "x"])
def test_the_candidates_give_the_answer_every_vm_would(name, folder):
    """find_vms reads paths only for the name candidates: select_by_name on them must say what it says on all VMs."""
    items = inventory_with_root() + [
        ManagedObject(vim.VirtualMachine(f"vm-{100 + index}"), dict(name=vm_name, parent=vim.Folder(folder_moid)))
        for index, (vm_name, folder_moid) in enumerate((vm_name, folder_moid) for vm_name in ESCAPED_NAMES for folder_moid in ("group-10", "group-11"))
    ]
    inventory_paths(items)
    vms = [item for item in items if isinstance(item.obj, vim.VirtualMachine)]

    def answer(records):
        try:
            return select_by_name(records, name, folder=folder).moid
        except VSphereError as error:
            return error.msg

    assert answer([vm for vm in vms if name_candidate(vm.name, name)]) == answer(vms)
