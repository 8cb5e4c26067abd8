"""Every module's documentation, as ansible-doc renders it (DOCUMENTATION merged with its fragments).

meta/runtime.yml's ``action_groups`` is the source of truth: each vSphere module must be in the ``vmware``
group, and its ``action_group`` attribute must name exactly the groups that list it (validate-modules
checks the attribute's shape only). The attributes come from the one shared fragment
(``vsphere.attributes`` or ``vsphere.info_attributes``), never from a copy in a module; each module
has a ``seealso`` whose module links resolve, and one note naming the vCenter privileges it needs.
The guest modules (GUEST_MODULES) run in a master target's guest, not against vCenter: no action
group, no vSphere fragment, and a privileges note that says what they need in the guest.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from support.ansible import ansible_env
from support.collection import FQCN, REPO_ROOT

MODULES = sorted(path.stem for path in (REPO_ROOT / "plugins" / "modules").glob("*.py") if not path.stem.startswith("_"))
ACTION_GROUPS = yaml.safe_load((REPO_ROOT / "meta" / "runtime.yml").read_text())["action_groups"]
ATTRIBUTE_FRAGMENTS = {f"{FQCN}.vsphere.attributes", f"{FQCN}.vsphere.info_attributes"}
GUEST_MODULES = ["linux_retention_disk_info"]
VSPHERE_MODULES = [module for module in MODULES if module not in GUEST_MODULES]


def own_documentation(module: str) -> dict:
    """The module's DOCUMENTATION as written in its file, before any fragment is merged."""
    source = (REPO_ROOT / "plugins" / "modules" / f"{module}.py").read_text()
    start = source.index('DOCUMENTATION = r"""') + len('DOCUMENTATION = r"""')
    return yaml.safe_load(source[start : source.index('"""', start)])


@pytest.fixture(scope="module")
def docs() -> dict[str, dict]:
    """ansible-doc's JSON for every module, in one run: {module: doc}."""
    names = [f"{FQCN}.{module}" for module in MODULES]
    proc = subprocess.run(
        [str(Path(sys.executable).parent / "ansible-doc"), "--json", "-t", "module", *names],
        env=ansible_env(), capture_output=True, text=True, timeout=300, check=False, stdin=subprocess.DEVNULL,
    )
    assert proc.returncode == 0, proc.stderr
    rendered = json.loads(proc.stdout)
    assert sorted(rendered) == names, proc.stderr
    return {name.rsplit(".", 1)[1]: rendered[name]["doc"] for name in names}


def test_every_module_is_in_the_vmware_group():
    """The group lists every vSphere module under plugins/modules, and nothing else (a renamed module would linger)."""
    assert sorted(ACTION_GROUPS["vmware"]) == VSPHERE_MODULES


@pytest.mark.parametrize("module", VSPHERE_MODULES)
def test_action_group_attribute_matches_runtime_yml(docs, module):
    expected = sorted(f"{FQCN}.{group}" for group, members in ACTION_GROUPS.items() if module in members)
    attribute = docs[module]["attributes"]["action_group"]
    assert sorted(attribute["membership"]) == expected
    assert attribute["support"] == "full"
    for group in expected:
        assert f"C(group/{group})" in attribute["description"]


@pytest.mark.parametrize("module", VSPHERE_MODULES)
def test_attributes_come_from_the_shared_fragment(module):
    own = own_documentation(module)
    assert "attributes" not in own, f"{module} has an attributes block of its own: use a vsphere fragment"
    used = ATTRIBUTE_FRAGMENTS.intersection(own["extends_documentation_fragment"])
    assert len(used) == 1, f"{module} must extend exactly one of {sorted(ATTRIBUTE_FRAGMENTS)}, extends {sorted(used)}"
    assert (f"{FQCN}.vsphere.info_attributes" in used) == module.endswith("_info")


@pytest.mark.parametrize("module", MODULES)
def test_seealso_links_modules_of_this_collection(docs, module):
    seealso = docs[module].get("seealso") or []
    linked = [item["module"] for item in seealso if "module" in item]
    assert linked, f"{module} has no seealso link to a related module"
    for name in linked:
        assert name != f"{FQCN}.{module}", f"{module} links to itself"
        if name.startswith(f"{FQCN}."):
            assert name.rsplit(".", 1)[1] in MODULES, f"{module} links to {name}, which does not exist"


@pytest.mark.parametrize("module", VSPHERE_MODULES)
def test_one_note_names_the_privileges(docs, module):
    notes = [note for note in docs[module].get("notes") or [] if note.startswith("Privileges:")]
    assert len(notes) == 1, f"{module}: {len(notes)} notes start with 'Privileges:'"
    assert "System.Read" in notes[0], f"{module}: the privileges note must also say what reading needs (System.Read)"
    # The action group is an attribute now, not a note repeated from the connection fragment.
    assert not [note for note in docs[module].get("notes") or [] if "action group" in note]


@pytest.mark.parametrize("module", GUEST_MODULES)
def test_a_guest_module_needs_no_vcenter(docs, module):
    assert module in MODULES, f"plugins/modules/{module}.py does not exist: update GUEST_MODULES"
    assert not [group for group, members in ACTION_GROUPS.items() if module in members]
    own = own_documentation(module)
    assert not [fragment for fragment in own.get("extends_documentation_fragment") or [] if ".vsphere" in fragment]
    assert "action_group" not in docs[module]["attributes"] and "hostname" not in docs[module]["options"]
    assert docs[module]["attributes"]["check_mode"]["support"] == "full"
    notes = [note for note in docs[module].get("notes") or [] if note.startswith("Privileges:")]
    assert len(notes) == 1 and "in the guest" in notes[0], f"{module}: one note must say what it needs in the guest"


def own_return(module: str) -> dict:
    """The module's RETURN as written in its file."""
    source = (REPO_ROOT / "plugins" / "modules" / f"{module}.py").read_text()
    start = source.index('RETURN = r"""') + len('RETURN = r"""')
    return yaml.safe_load(source[start : source.index('"""', start)]) or {}


VM_RETURN = {name: own_return("vm_disk_uuid")["vm"]["contains"][name] for name in ("name", "moid", "path")}


@pytest.mark.parametrize("module", [module for module in MODULES if "vm" in own_return(module)])
def test_the_vm_return_value_has_one_shape(module):
    """Every module that returns `vm` documents its name, moid and path the same way (some add more keys)."""
    vm = own_return(module)["vm"]
    # vm_preparation_info returns it per VM in `vms` when it plans several.
    assert vm["type"] == "dict" and vm["returned"] in ("always", "when one VM is selected (not O(vms))")
    assert {name: vm.get("contains", {}).get(name) for name in VM_RETURN} == VM_RETURN
