# -*- coding: utf-8 -*-
# Copyright: (c) 2026, siterecovery.master_target contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Reading inventory state with the PropertyCollector, and finding VMs.

Every read goes through RetrievePropertiesEx: one round trip for any number of objects, and only
the properties asked for. Reading managed-object properties one accessor call at a time costs a
round trip per property per object (slow on a real vCenter with thousands of VMs).
"""

from __future__ import annotations

import re

from ansible_collections.siterecovery.master_target.plugins.module_utils._vsphere_client import VSphereError

try:
    from pyVmomi import vim, vmodl
except ImportError:  # pragma: no cover - connect() reports the missing library
    pass


def vm_selection_argument_spec():
    return dict(
        name=dict(type="str"),
        uuid=dict(type="str"),
        use_instance_uuid=dict(type="bool", default=False),
        moid=dict(type="str"),
        folder=dict(type="str"),
        datacenter=dict(type="str"),
    )


VM_SELECTION_RULES = dict(
    required_one_of=[["name", "uuid", "moid"]],
    mutually_exclusive=[["name", "uuid", "moid"]],
)


class ManagedObject:
    """A managed object reference with the properties read for it (absent = unset on the server)."""

    def __init__(self, obj, props):
        self.obj = obj
        self.props = props
        self.path = None

    @property
    def moid(self):
        return self.obj._moId  # pylint: disable=protected-access

    @property
    def name(self):
        return self.props.get("name", self.moid)

    def get(self, path, default=None):
        return self.props.get(path, default)

    def describe(self):
        return dict(name=self.name, moid=self.moid, path=self.path)


def _to_objects(object_contents):
    found = []
    for content in object_contents:
        for missing in content.missingSet or []:
            fault = missing.fault.fault if hasattr(missing.fault, "fault") else missing.fault
            if isinstance(fault, vim.fault.NoPermission):
                raise VSphereError(
                    f"The vCenter account may not read '{missing.path}' of {content.obj._moId}: it lacks the {fault.privilegeId} privilege. "
                    "Grant it at the datacenter with propagation."
                )
        found.append(ManagedObject(content.obj, {prop.name: prop.val for prop in content.propSet or []}))
    return found


def _retrieve(client, filter_spec):
    collector = client.content.propertyCollector
    result = collector.RetrievePropertiesEx([filter_spec], vmodl.query.PropertyCollector.RetrieveOptions())
    objects = []
    while result is not None:
        objects.extend(_to_objects(result.objects))
        result = collector.ContinueRetrievePropertiesEx(result.token) if result.token else None
    return objects


def read_objects(client, objects, paths):
    """Read `paths` of the given managed object references in one round trip."""
    if not objects:
        return []
    by_type = {}
    for obj in objects:
        by_type.setdefault(type(obj), []).append(obj)
    spec = vmodl.query.PropertyCollector.FilterSpec(
        objectSet=[vmodl.query.PropertyCollector.ObjectSpec(obj=obj) for obj in objects],
        propSet=[vmodl.query.PropertyCollector.PropertySpec(type=obj_type, pathSet=list(paths)) for obj_type in by_type],
    )
    try:
        return _retrieve(client, spec)
    except vmodl.fault.ManagedObjectNotFound:
        return []  # gone (or a moid that never existed): callers say what they looked for


def read_object(client, obj, paths, what=None):
    found = read_objects(client, [obj], paths)
    if not found:
        raise VSphereError(f"{what or obj._moId} no longer exists in vCenter {client.hostname}.")
    return found[0]


def reread(client, vm, paths):
    """Read `paths` of a VM found before (find_vm) again: a fresh record with the same path, or one error naming it."""
    fresh = read_object(client, vm.obj, paths, what=f"VM {vm.path}")
    fresh.path = vm.path
    return fresh


def read_inventory(client, obj_types, paths_by_type, container=None):
    """Read properties of every object of the given types below `container` (default: root folder).

    One CreateContainerView, one RetrievePropertiesEx (paged), one DestroyView: a constant number of
    round trips whatever the inventory size.
    """
    view = client.content.viewManager.CreateContainerView(container or client.content.rootFolder, list(obj_types), True)
    try:
        traverse = vmodl.query.PropertyCollector.TraversalSpec(name="view", type=vim.view.ContainerView, path="view", skip=False)
        spec = vmodl.query.PropertyCollector.FilterSpec(
            objectSet=[vmodl.query.PropertyCollector.ObjectSpec(obj=view, skip=True, selectSet=[traverse])],
            propSet=[vmodl.query.PropertyCollector.PropertySpec(type=obj_type, pathSet=list(paths_by_type[obj_type])) for obj_type in obj_types],
        )
        return _retrieve(client, spec)
    finally:
        view.DestroyView()


def _vm_tree_spec(root_folder):
    """The VM folder tree from the root folder: datacenters, their VM folders, sub-folders, VMs and vApps.

    Read with one RetrievePropertiesEx and no ContainerView (whose create and destroy cost two more
    round trips): name and parent of every VM, folder and datacenter, as read_inventory would.
    """
    spec = vmodl.query.PropertyCollector
    folder_children = spec.TraversalSpec(
        name="folderChildren", type=vim.Folder, path="childEntity", skip=False,
        selectSet=[spec.SelectionSpec(name=name) for name in ("folderChildren", "datacenterVms", "vappVms", "vappChildren")],
    )
    datacenter_vms = spec.TraversalSpec(name="datacenterVms", type=vim.Datacenter, path="vmFolder", skip=False,
                                        selectSet=[spec.SelectionSpec(name="folderChildren")])
    # VMs of a vApp hang below it (VirtualApp.vm), nested vApps below resourcePool.
    vapp_vms = spec.TraversalSpec(name="vappVms", type=vim.VirtualApp, path="vm", skip=False)
    vapp_children = spec.TraversalSpec(name="vappChildren", type=vim.VirtualApp, path="resourcePool", skip=False,
                                       selectSet=[spec.SelectionSpec(name="vappVms"), spec.SelectionSpec(name="vappChildren")])
    return spec.FilterSpec(
        objectSet=[spec.ObjectSpec(obj=root_folder, skip=False, selectSet=[folder_children, datacenter_vms, vapp_vms, vapp_children])],
        propSet=[spec.PropertySpec(type=obj_type, pathSet=["name", "parent"]) for obj_type in (vim.VirtualMachine, vim.Folder, vim.Datacenter)],
    )


def inventory_paths(objects):
    """Set `.path` ("/DC0/vm/folder/name") on each object from the name/parent of every object read.

    The root folder ("Datacenters", the only entity without a parent) is not part of the path users
    write; a ContainerView over the root folder does not even list it, so it may be absent.
    """
    by_moid = {item.moid: item for item in objects}
    for item in objects:
        parts = []
        current = item
        while current is not None and current.get("parent") is not None:
            parts.append(current.name)
            current = by_moid.get(current.get("parent")._moId)
        item.path = "/" + "/".join(reversed(parts))
    return objects


def _folder_matches(vm_path, folder):
    """`folder` names the trailing part of the VM's folder path: "asr", "vm/asr" or "/DC0/vm/asr"."""
    vm_folder = vm_path.rsplit("/", 1)[0].strip("/")
    wanted = folder.strip("/")
    return vm_folder == wanted or vm_folder.endswith("/" + wanted)


def datacenter_matches(vm_path, datacenter):
    return vm_path.strip("/").split("/", 1)[0] == datacenter


# vCenter escapes three characters in every entity name, VM names included (vSphere Web Services API
# reference, ManagedEntity.name and VirtualMachineConfigInfo.name): "A slash is escaped as %2F or %2f.
# A backslash is escaped as %5C or %5c, and a percent is escaped as %25" (unless it starts an escape).
# The PropertyCollector returns the escaped name, so a VM created as "a/b" is named "a%2fb" here, and
# its path is ".../a%2fb": a name typed with "/" never matches.
_ESCAPES = {"/": "%2f", "\\": "%5c", "%": "%25"}
_UNESCAPES = {"2f": "/", "5c": "\\", "25": "%"}


def escape_name(name):
    """Pure: a name as vCenter stores it: 'a/b' -> 'a%2fb'; an escape already typed ('a%2fb') stays."""
    return re.sub(r"[/\\]|%(?!2[fF]|5[cC]|25)", lambda match: _ESCAPES[match.group(0)], name)


def unescape_name(name):
    """Pure: a stored name as written: 'a%2fb' -> 'a/b'."""
    return re.sub(r"%(2[fF]|5[cC]|25)", lambda match: _UNESCAPES[match.group(1).lower()], name)


def escaped_name_hint(vms, name, folder=None):
    """Pure: for a VM `name` (in `folder`) that matched nothing: ' vCenter stores ...: give ...' when it holds a
    character vCenter escapes in names ('/', '\\', '%'), or an escape in another case; else ''."""
    if escape_name(name) == name and unescape_name(name) == name:
        return ""
    typed = unescape_name("/".join(part.strip("/") for part in (folder, name) if part))
    found = [vm for vm in vms if unescape_name(vm.name) != vm.name and unescape_name(vm.path or "").endswith("/" + typed)]
    rule = "vCenter stores '/' in a VM name as %2f ('\\' as %5c, '%' as %25)"
    if found:
        return f" {rule}: give " + " or ".join(f"'{vm.name}' (path {vm.path})" for vm in sorted(found, key=lambda vm: vm.path)) + "."
    if "/" in name or "\\" in name:
        return f" {rule}: for a VM named '{name}', give '{escape_name(name)}' or its path."
    return ""


def match_by_name(vms, name, folder=None, datacenter=None):
    """Pure: the VM records named `name` (exactly, as vCenter stores it), in `folder` and `datacenter` when given."""
    matches = [vm for vm in vms if vm.name == name]
    if datacenter:
        matches = [vm for vm in matches if datacenter_matches(vm.path, datacenter)]
    if folder:
        matches = [vm for vm in matches if _folder_matches(vm.path, folder)]
    return matches


def select_by_name(vms, name, folder=None, datacenter=None):
    """Pure: the VM records whose name (and folder/datacenter, when given) match; raises unless exactly one."""
    matches = match_by_name(vms, name, folder, datacenter)
    where = "".join([f" in folder '{folder}'" if folder else "", f" in datacenter '{datacenter}'" if datacenter else ""])
    if not matches:
        raise VSphereError(
            f"No virtual machine named '{name}'{where} was found.{escaped_name_hint(vms, name, folder)} "
            "Check the name (it is case-sensitive) and the folder/datacenter options."
        )
    if len(matches) > 1:
        paths = ", ".join(sorted(vm.path for vm in matches))
        raise VSphereError(
            f"{len(matches)} virtual machines are named '{name}'{where}: {paths}. Set the folder option (or use uuid or moid) to choose one.",
            matches=sorted(vm.path for vm in matches),
        )
    return matches[0]


def _vm_by_uuid(client, params):
    uuid, instance = params["uuid"], params.get("use_instance_uuid")
    found = client.content.searchIndex.FindAllByUuid(uuid=uuid, vmSearch=True, instanceUuid=bool(instance))
    kind = "instance UUID" if instance else "BIOS UUID"
    if not found:
        raise VSphereError(f"No virtual machine with {kind} '{uuid}' was found. Check the uuid option (and use_instance_uuid).")
    if len(found) > 1:
        # Template clones can share a BIOS UUID; the instance UUID is unique.
        raise VSphereError(
            f"{len(found)} virtual machines share the {kind} '{uuid}' ({', '.join(vm._moId for vm in found)}). Select by instance UUID, name or moid."
        )
    return found[0]


def find_vm(client, params, paths=()):
    """Find the one VM the selection options name and read `paths` of it.

    Returns a ManagedObject with .props holding `paths` plus name, and .path its inventory path.
    """
    if params.get("name"):
        # Two round trips whatever the inventory size: the VM tree's names, then the chosen VM's paths.
        inventory = inventory_paths(_retrieve(client, _vm_tree_spec(client.content.rootFolder)))
        vms = [item for item in inventory if isinstance(item.obj, vim.VirtualMachine)]
        chosen = select_by_name(vms, params["name"], params.get("folder"), params.get("datacenter"))
        obj, path = chosen.obj, chosen.path
    elif params.get("uuid"):
        obj, path = _vm_by_uuid(client, params), None
    else:
        obj, path = vim.VirtualMachine(params["moid"], client.stub), None

    found = read_objects(client, [obj], sorted(set(paths) | {"name"}))
    if not found:
        raise VSphereError(f"No virtual machine with moid '{obj._moId}' was found in vCenter {client.hostname}. Check the moid option.")
    vm = found[0]
    vm.path = path or f"{vm.name} ({vm.moid})"
    return vm
