"""A full, comparable dump of the simulator's state, to prove that a run changed nothing (or what it changed).

    before = dump(si)
    run_module(..., check=True)
    assert_unchanged(before, dump(si))     # the message lists every path that differs

Everything is read with the PropertyCollector (``read_props_list``: one RetrievePropertiesEx per
managed object type), never through pyVmomi's property accessors. The dump covers what our modules
and roles can change:

* every VM: ``config`` (devices, extraConfig, uuids, changeVersion), ``runtime`` (power state, host,
  Tools installer), ``snapshot`` (the whole tree), ``datastore``, and where it sits (``parent``
  folder, ``resourcePool``);
* every host: its datastores and file system mounts;
* every datastore: its per-host mounts (``host``) and ``summary`` (free space: a disk added or grown);
* every cluster: ``configurationEx`` (DRS settings and DRS VM overrides, HA, rules, groups);
* every datastore cluster: ``podStorageDrsEntry`` (Storage DRS settings and VM overrides).

Values become plain JSON-like data (dicts, lists, strings, numbers): a managed object reference is
``"Type:moid"``, a data object a dict of its set properties plus ``"_type"``. Objects are keyed by
``"Type:moid"`` (names are not unique: dup-vm), with their name inside.
"""

from __future__ import annotations

import datetime
import json

from pyVmomi import VmomiSupport, vim

from support.vcsim import read_props_list

PATHS = {
    vim.VirtualMachine: ["config", "runtime", "snapshot", "datastore", "parent", "resourcePool"],
    vim.HostSystem: ["datastore", "config.fileSystemVolume"],
    vim.Datastore: ["host", "summary"],
    vim.ClusterComputeResource: ["configurationEx"],
    vim.StoragePod: ["podStorageDrsEntry", "childEntity"],
}


def plain(value):
    """A pyVmomi value as plain data; unset (None) properties of data objects are left out."""
    if isinstance(value, VmomiSupport.ManagedObject):
        return f"{value._wsdlName}:{value._moId}"  # pylint: disable=protected-access
    if isinstance(value, VmomiSupport.DataObject):
        out = {"_type": value._wsdlName}  # pylint: disable=protected-access
        for prop in value._GetPropertyList():  # pylint: disable=protected-access
            item = getattr(value, prop.name, None)
            if item is not None and not (isinstance(item, list) and not item):
                out[prop.name] = plain(item)
        return out
    if isinstance(value, (list, tuple)):
        return [plain(item) for item in value]
    if isinstance(value, (datetime.datetime, datetime.date)):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, type):
        return value.__name__
    return value


def dump(si):
    """{"Type:moid": {"name": ..., path: plain value}} for every object of the types in PATHS."""
    state = {}
    for kind, paths in PATHS.items():
        for entry in read_props_list(si, kind, paths):
            obj = entry.pop("obj")
            state[plain(obj)] = {path: plain(value) for path, value in sorted(entry.items())}
    return state


def differences(before, after, path=()):
    """Every leaf path (a tuple of keys and list indexes) whose value differs between two dumps."""
    if isinstance(before, dict) and isinstance(after, dict):
        out = []
        for key in sorted(set(before) | set(after), key=str):
            out += differences(before.get(key), after.get(key), path + (key,))
        return out
    if isinstance(before, list) and isinstance(after, list) and len(before) == len(after):
        out = []
        for index, (one, two) in enumerate(zip(before, after)):
            out += differences(one, two, path + (index,))
        return out
    return [] if before == after else [path]


def describe(before, after, limit=40):
    """A readable list of what differs, with the values, for assertion messages."""
    found = differences(before, after)
    lines = [f"{_text(path)}: {_at(before, path)} -> {_at(after, path)}" for path in found[:limit]]
    if len(found) > limit:
        lines.append(f"... and {len(found) - limit} more")
    return "\n".join(lines)


def _text(path):
    return "".join(f"[{part}]" if isinstance(part, int) else f"/{part}" for part in path) or "/"


def _at(data, path):
    for part in path:
        if isinstance(part, int):
            data = data[part] if isinstance(data, list) and part < len(data) else None
        else:
            data = data.get(part) if isinstance(data, dict) else None
    text = json.dumps(data, default=str, sort_keys=True)
    return text if len(text) <= 300 else text[:300] + "..."


def assert_unchanged(before, after, what="the run"):
    """Fail, listing every difference, unless the two dumps are equal."""
    if before != after:
        raise AssertionError(f"{what} changed the simulator's state:\n{describe(before, after)}")


def vm_named(state, name):
    """The one VM called `name` in a dump (a KeyError or an AssertionError when not exactly one)."""
    found = [item for key, item in state.items() if key.startswith("VirtualMachine:") and item.get("name") == name]
    assert len(found) == 1, f"{len(found)} VMs named {name!r} in the dump"
    return found[0]
