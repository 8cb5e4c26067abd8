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


def _traversal(name, obj_type, path, then=()):
    spec = vmodl.query.PropertyCollector
    return spec.TraversalSpec(name=name, type=obj_type, path=path, skip=False, selectSet=[spec.SelectionSpec(name=each) for each in then])


def _down_specs():
    """Down the VM folder tree: folders' children, datacenters' VM folders, vApps' VMs and nested vApps."""
    every = ("folderChildren", "datacenterVms", "vappVms", "vappChildren")
    return [
        _traversal("folderChildren", vim.Folder, "childEntity", every),
        _traversal("datacenterVms", vim.Datacenter, "vmFolder", ["folderChildren"]),
        # VMs of a vApp hang below it (VirtualApp.vm), nested vApps below resourcePool.
        _traversal("vappVms", vim.VirtualApp, "vm"),
        _traversal("vappChildren", vim.VirtualApp, "resourcePool", ["vappVms", "vappChildren"]),
    ]


def _up_specs():
    """Up from a VM to the root folder, through its folders and datacenter. A VM of a vApp has no parent (API
    reference, ManagedEntity.parent) but parentVApp; a vApp sits in its parentVApp or, at the top, its VM folder
    (parentFolder; its `parent` is a resource pool, outside the VM folder tree)."""
    to_folder = ["folderUp", "datacenterUp"]
    to_vapp = ["vappUp", "vappFolder"]
    return [
        _traversal("vmParent", vim.VirtualMachine, "parent", to_folder),
        _traversal("vmVApp", vim.VirtualMachine, "parentVApp", to_vapp),
        _traversal("folderUp", vim.Folder, "parent", to_folder),
        _traversal("datacenterUp", vim.Datacenter, "parent", ["folderUp"]),
        _traversal("vappUp", vim.VirtualApp, "parentVApp", to_vapp),
        _traversal("vappFolder", vim.VirtualApp, "parentFolder", to_folder),
    ]


def _container_paths():
    """What inventory_paths needs of folders, datacenters and vApps."""
    return {vim.Folder: ["name", "parent"], vim.Datacenter: ["name", "parent"], vim.VirtualApp: ["name", "parentFolder", "parentVApp"]}


def _vm_tree_spec(root_folder, paths_by_type):
    """The VM folder tree from the root folder (datacenters, their VM folders, sub-folders, VMs and vApps), reporting
    `paths_by_type` ({type: paths}); objects of other types are traversed in vCenter but not sent.

    One RetrievePropertiesEx and no ContainerView (whose create and destroy cost two more round trips).
    """
    spec = vmodl.query.PropertyCollector
    return spec.FilterSpec(
        objectSet=[spec.ObjectSpec(obj=root_folder, skip=False, selectSet=_down_specs())],
        propSet=[spec.PropertySpec(type=obj_type, pathSet=list(paths)) for obj_type, paths in paths_by_type.items()],
    )


def _children_spec(containers):
    """The names of the VMs directly in each folder (childEntity) or vApp (vm) of `containers`."""
    spec = vmodl.query.PropertyCollector
    children = [_traversal(None, vim.Folder, "childEntity"), _traversal(None, vim.VirtualApp, "vm")]
    return spec.FilterSpec(
        objectSet=[spec.ObjectSpec(obj=container, skip=True, selectSet=children) for container in containers],
        propSet=[spec.PropertySpec(type=vim.VirtualMachine, pathSet=["name"])],
    )


def _vm_read_spec(vms, with_ancestors, paths):
    """`paths` of `vms`; for those in `with_ancestors` (moids) also name and place of every folder, datacenter and
    vApp above them, for their inventory paths. A VM gone meanwhile is left out of the result (not a fault)."""
    spec = vmodl.query.PropertyCollector
    up = _up_specs() if with_ancestors else []
    prop_set = [spec.PropertySpec(type=vim.VirtualMachine, pathSet=sorted(set(paths) | ({"parent", "parentVApp"} if up else set())))]
    if up:
        prop_set += [spec.PropertySpec(type=obj_type, pathSet=names) for obj_type, names in _container_paths().items()]
    return spec.FilterSpec(
        objectSet=[spec.ObjectSpec(obj=vm, selectSet=up if _moid(vm) in with_ancestors else []) for vm in vms],
        propSet=prop_set,
        reportMissingObjectsInResults=True,
    )


def _moid(ref):
    return ref._moId  # pylint: disable=protected-access


def _container(item):
    """The entity `item` sits in (see _up_specs): its parent, else its vApp, else (a top vApp) its VM folder."""
    return item.get("parent") or item.get("parentVApp") or item.get("parentFolder")


def inventory_paths(objects):
    """Set `.path` ("/DC0/vm/folder/name") on each object from the name and container of every object read.

    The root folder ("Datacenters", the only entity with no container) is not part of the path users write; a
    ContainerView over the root folder does not even list it, so it may be absent. A vApp is part of the
    path of its VMs, as a folder is ("/DC0/vm/folder/vApp/name"), as the vSphere Client shows them.
    """
    by_moid = {item.moid: item for item in objects}
    for item in objects:
        parts = []
        current = item
        while current is not None and _container(current) is not None:
            parts.append(current.name)
            current = by_moid.get(_moid(_container(current)))
        item.path = "/" + "/".join(reversed(parts))
    return objects


def folder_path_matches(folder_path, folder):
    """Pure: `folder` names the trailing part of the folder path: "asr", "vm/asr" or "/DC0/vm/asr" for "/DC0/vm/asr"."""
    folder_path = folder_path.strip("/")
    wanted = folder.strip("/")
    return folder_path == wanted or folder_path.endswith("/" + wanted)


def _folder_matches(vm_path, folder):
    return folder_path_matches(vm_path.rsplit("/", 1)[0], folder)


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


def may_be_escaped(name):
    """Pure: whether `name` holds a character vCenter escapes in names ('/', '\\', '%') or an escape."""
    return escape_name(name) != name or unescape_name(name) != name


def name_candidate(vm_name, name):
    """Pure: whether the VM named `vm_name` (as vCenter stores it) can be chosen by a lookup of `name`, or be named in
    its escaped_name_hint: then its path ends with the typed name, and its own (escaped) name is one end of the other."""
    if vm_name == name:
        return True
    stored = unescape_name(vm_name)
    if stored == vm_name or not may_be_escaped(name):
        return False
    typed = unescape_name(name.strip("/"))
    return stored == typed or stored.endswith("/" + typed) or typed.endswith("/" + stored)


def escaped_name_hint(vms, name, folder=None):
    """Pure: for a VM `name` (in `folder`) that matched nothing: ' vCenter stores ...: give ...' when it holds a
    character vCenter escapes in names ('/', '\\', '%'), or an escape in another case; else ''."""
    if not may_be_escaped(name):
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


def matching_folders(containers, selections):
    """Pure: the folders and vApps (records with .path) that hold the VMs of the selections' folder (and datacenter)
    options, by the rule of match_by_name."""
    return [
        item for item in containers
        if isinstance(item.obj, (vim.Folder, vim.VirtualApp)) and any(
            folder_path_matches(item.path, params["folder"]) and (not params.get("datacenter") or datacenter_matches(item.path, params["datacenter"]))
            for params in selections)
    ]


def _name_candidates(client, selections):
    """References of the VMs that the lookups by name of `selections` may choose or name in a hint (name_candidate).

    One round trip reading only the name of every VM; or, when every selection names its folder (and no name holds
    a character vCenter escapes, whose hint may point into other folders), two that read no VM outside those
    folders: the name and place of every folder, datacenter and vApp, then the names of the VMs directly in the
    folders (or vApps) that match.
    """
    root = client.content.rootFolder
    if all(params.get("folder") and not may_be_escaped(params["name"]) for params in selections):
        containers = inventory_paths(_retrieve(client, _vm_tree_spec(root, _container_paths())))
        folders = [item.obj for item in matching_folders(containers, selections)]
        vms = _retrieve(client, _children_spec(folders)) if folders else []
    else:
        vms = _retrieve(client, _vm_tree_spec(root, {vim.VirtualMachine: ["name"]}))
    return [vm.obj for vm in vms if any(name_candidate(vm.name, params["name"]) for params in selections)]


def _read_vms(client, vms, with_ancestors, paths):
    """{moid: record} of `vms` with `paths`, in one round trip; those in `with_ancestors` (moids) with .path set."""
    if not vms:
        return {}
    found = _retrieve(client, _vm_read_spec(vms, with_ancestors, paths))
    if with_ancestors:
        inventory_paths(found)
    return {item.moid: item for item in found if isinstance(item.obj, vim.VirtualMachine) and "name" in item.props}


def find_vms(client, selections, paths=()):
    """Find the one VM each selection (find_vm's options) names and read `paths` of them all.

    Returns one ManagedObject per selection, in order, with .props holding `paths` plus name and .path the
    inventory path (for uuid and moid: "name (moid)"); raises the error of the first selection that fails.
    Round trips whatever the inventory size and the number of selections: 1 or 2 to find the candidates for
    the names (_name_candidates), then 1 reading `paths` of every VM found and, for the candidates, the names
    of the folders above them (their paths: the choice by folder and datacenter is made on those). A uuid
    costs one SearchIndex call more each: vCenter has no search for several uuids.
    """
    wanted = sorted(set(paths) | {"name"})
    by_name = [params for params in selections if params.get("name")]
    candidates = _name_candidates(client, by_name) if by_name else []
    direct = {}  # index of a uuid or moid selection: its VM reference, or the error finding it
    for index, params in enumerate(selections):
        if params.get("name"):
            continue
        try:
            direct[index] = _vm_by_uuid(client, params) if params.get("uuid") else vim.VirtualMachine(params["moid"], client.stub)
        except VSphereError as error:
            direct[index] = error
    refs = {_moid(ref): ref for ref in candidates + [ref for ref in direct.values() if not isinstance(ref, VSphereError)]}
    records = _read_vms(client, list(refs.values()), {_moid(ref) for ref in candidates}, wanted)
    named = [records[_moid(ref)] for ref in candidates if _moid(ref) in records]

    chosen = []
    for index, params in enumerate(selections):
        if params.get("name"):
            found = select_by_name(named, params["name"], params.get("folder"), params.get("datacenter"))
        elif isinstance(direct[index], VSphereError):
            raise direct[index]
        else:
            found = records.get(_moid(direct[index]))
            if found is None:
                raise VSphereError(f"No virtual machine with moid '{_moid(direct[index])}' was found in vCenter {client.hostname}. Check the moid option.")
        vm = ManagedObject(found.obj, {key: value for key, value in found.props.items() if key in wanted})
        vm.path = found.path if params.get("name") else f"{vm.name} ({vm.moid})"
        chosen.append(vm)
    return chosen


def find_vm(client, params, paths=()):
    """Find the one VM the selection options name and read `paths` of it (find_vms with one selection).

    Returns a ManagedObject with .props holding `paths` plus name, and .path its inventory path.
    """
    return find_vms(client, [params], paths)[0]
