"""The readiness role's reports and messages, rendered from a realistic module result (fixture).

The templates are rendered the way ``ansible.builtin.template`` renders them (Ansible's own templar,
``trim_blocks`` as the module's default, ``lstrip_blocks`` as the role's tasks ask), so the filters
and tests are Ansible's. The HTML is parsed back with the standard library's parser.
"""

from __future__ import annotations

import copy
import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
import yaml
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar, trust_as_template

REPO = Path(__file__).resolve().parents[3]
ROLE = REPO / "roles" / "readiness"
FIXTURE = REPO / "tests" / "unit" / "fixtures" / "readiness_result.json"
GENERATED = "2026-11-26 08:00:00 UTC"
EVIL = "<script>alert('x')</script> & a|b `c` *d* [e](f)"


@pytest.fixture(name="result")
def fixture_result():
    return json.loads(FIXTURE.read_text())


def render_text(text, variables):
    templar = Templar(loader=DataLoader(), variables={}).copy_with_new_env(
        searchpath=[str(ROLE / "templates")], available_variables=variables
    )
    return templar.template(
        trust_as_template(text), escape_backslashes=False, overrides=dict(trim_blocks=True, lstrip_blocks=True)
    )


def render(name, result):
    text = (ROLE / "templates" / name).read_text()
    return render_text(text, {"readiness_result": result, "readiness_generated_at": GENERATED})


class Tables(HTMLParser):
    """Every <table> as a list of rows, each row a (class attribute, [cell texts]) pair; plus the tags seen."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tables, self.tags, self.headings = [], [], []
        self._row = self._cell = self._heading = None

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag == "table":
            self.tables.append([])
        elif tag == "tr":
            self._row = (dict(attrs).get("class", ""), [])
        elif tag in ("td", "th"):
            self._cell = []
        elif tag in ("h1", "h2"):
            self._heading = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self._row[1].append("".join(self._cell))
            self._cell = None
        elif tag == "tr" and self._row is not None:
            self.tables[-1].append(self._row)
            self._row = None
        elif tag in ("h1", "h2") and self._heading is not None:
            self.headings.append("".join(self._heading))
            self._heading = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)
        if self._heading is not None:
            self._heading.append(data)


def parse(html):
    parser = Tables()
    parser.feed(html)
    parser.close()
    return parser


def check_rows(parsed):
    """The rows of the check tables, as (status class, [status, check, objects, finding, fix])."""
    return [row for table in parsed.tables for row in table if row[0].startswith("row-")]


def md_check_rows(markdown):
    return [line for line in markdown.splitlines() if re.match(r"^\| (\*\*FAIL\*\*|PASS|INFO|WARN) \| `", line)]


def md_cells(line):
    # Split a table row on the pipes that are not escaped.
    return [cell.strip() for cell in re.split(r"(?<!\\)\|", line)[1:-1]]


def test_html_has_every_row_in_its_table_with_its_status(result):
    parsed = parse(render("failback-readiness.html.j2", result))
    rows = check_rows(parsed)
    expected = [
        (f"row-{c['status']}", [c["status"].upper(), c["check"], ", ".join(c["objects"]), c["message"], c["fix"]])
        for c in result["checks"]
    ]
    assert sorted(map(repr, rows)) == sorted(map(repr, expected))
    # One table per master target, in the module's order, then the global rows.
    assert [h for h in parsed.headings if h.startswith("Master target")] == [
        "Master target asr-mt-01: NOT ready",
        "Master target asr-mt-02: ready",
    ]
    tables = [[row for row in table if row[0].startswith("row-")] for table in parsed.tables]
    tables = [table for table in tables if table]
    per_table = [[(c["check"], c["message"]) for c in result["checks"] if c["master_target"] == name] for name in ("asr-mt-01", "asr-mt-02", None)]
    assert [[(row[1][1], row[1][3]) for row in table] for table in tables] == per_table
    # The status cell carries the colour class.
    cells = [attrs.get("class") for tag, attrs in parsed.tags if tag == "td" and "status" in attrs.get("class", "")]
    assert cells == [f"status status-{row[0][4:]}" for table in tables for row in table]


def test_html_is_self_contained_and_shows_policy_vcenter_time_and_verdict(result):
    html = render("failback-readiness.html.j2", result)
    parsed = parse(html)
    tags = {tag for tag, _attrs in parsed.tags}
    assert not tags & {"script", "link", "img", "iframe", "object"}, tags
    assert not any("src" in attrs or "href" in attrs for _tag, attrs in parsed.tags)
    assert "url(" not in html and "@import" not in html
    assert html.startswith("<!DOCTYPE html>")
    text = " ".join(cell for table in parsed.tables for _cls, cells in table for cell in cells)
    assert "15 minutes" in text and "24 hours" in text and "60 minutes" in text
    assert "VMware vCenter Server 6.5.0 (build 5973321, VirtualCenter)" in html
    assert GENERATED in html
    assert "Not ready: 6 checks fail." in html
    # The protected VMs' table.
    assert ["prod-app-nfs", "/DC0/vm/prod-app-nfs", "DC0_C0_H2", "nfs-prod-01", "2", "linux"] in [
        cells for table in parsed.tables for _cls, cells in table
    ]


def test_html_escapes_every_value(result):
    result["checks"][0]["objects"] = [EVIL]
    result["checks"][0]["message"] = EVIL
    result["checks"][0]["fix"] = EVIL
    result["checks"][0]["status"] = "<b>odd</b>"
    result["master_targets"][0]["path"] = EVIL
    result["protected_vms"][0]["name"] = EVIL
    result["vcenter"]["name"] = EVIL
    html = render("failback-readiness.html.j2", result)
    assert "<script" not in html and "<b>" not in html
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; a|b" in html
    parsed = parse(html)
    # Parsed back, the values read exactly as they were; an unknown status gets a neutral colour.
    row = check_rows(parsed)[0]
    assert row == ("row-unknown", ["<B>ODD</B>", "master_target.disk_uuid", EVIL, EVIL, EVIL])
    assert any(cells[0] == EVIL for table in parsed.tables for _cls, cells in table)


def test_markdown_has_every_row_in_its_section(result):
    markdown = render("failback-readiness.md.j2", result)
    rows = md_check_rows(markdown)
    assert len(rows) == len(result["checks"])
    for line, check in zip(rows, result["checks"]):
        cells = md_cells(line)
        status = "**FAIL**" if check["status"] == "fail" else check["status"].upper()
        assert cells == [status, f"`{check['check']}`", ", ".join(check["objects"]), check["message"], check["fix"]]
    sections = re.split(r"^## ", markdown, flags=re.M)
    titles = [section.splitlines()[0] for section in sections[1:]]
    assert titles == [
        "Master target asr-mt-01: NOT ready",
        "Master target asr-mt-02: ready",
        "Protected VMs, hosts and vCenter (not tied to one master target)",
        "Protected VMs",
        "Failback replication policy (fixed by Azure Site Recovery, not settable)",
    ]
    assert sum("`vm.found`" in line for line in md_check_rows(sections[3])) == 1
    assert "**Not ready: 6 checks fail.**" in markdown
    assert "| 6 | 2 | 3 | 13 | 24 |" in markdown
    assert "| RPO threshold | 15 minutes |" in markdown
    assert GENERATED in markdown and "VMware vCenter Server 6.5.0 (build 5973321, VirtualCenter)" in markdown


def test_markdown_escapes_table_breakers_and_html(result):
    result["checks"][0]["message"] = EVIL + "\nsecond line"
    result["checks"][0]["objects"] = ["a|b", "prod_web_01"]
    markdown = render("failback-readiness.md.j2", result)
    assert "<script" not in markdown
    line = md_check_rows(markdown)[0]
    cells = md_cells(line)
    assert len(cells) == 5, line
    assert cells[2] == "a\\|b, prod_web_01"
    assert cells[3] == (
        "&lt;script&gt;alert('x')&lt;/script&gt; &amp; a\\|b \\`c\\` \\*d\\* \\[e\\](f) second line"
    )


def test_ready_verdict_and_a_master_target_that_was_not_found(result):
    ready = copy.deepcopy(result)
    for check in ready["checks"]:
        if check["status"] == "fail":
            check["status"], check["fix"] = "pass", ""
    ready["ready"] = True
    ready["summary"].update({"fail": 0, "pass": 19})
    assert "Ready for reprotect and failback: no check fails." in render("failback-readiness.html.j2", ready)
    assert "**Ready for reprotect and failback: no check fails.**" in render("failback-readiness.md.j2", ready)

    # A master target the module did not find has a vm.found row but no entry in master_targets.
    result["checks"].append(
        dict(check="vm.found", status="fail", master_target="asr-mt-09", objects=["asr-mt-09"],
             message="No VM named asr-mt-09 was found.", fix="Correct the name in master_targets.")
    )
    parsed = parse(render("failback-readiness.html.j2", result))
    assert "Master target asr-mt-09" in parsed.headings
    assert len(check_rows(parsed)) == len(result["checks"])
    assert "\n## Master target asr-mt-09\n" in render("failback-readiness.md.j2", result)


def two_master_targets_of_one_name(result):
    """The fixture with both master targets named "mt" in two folders: the module then names them by path in each row
    (master_target) and tells them apart by moid (master_target_moid)."""
    paths = {"vm-54": "/DC0/vm/a/mt", "vm-57": "/DC0/vm/b/mt"}
    for mt in result["master_targets"]:
        mt["name"], mt["path"] = "mt", paths[mt["moid"]]
    for row in result["checks"]:
        if row["master_target_moid"]:
            row["master_target"] = paths[row["master_target_moid"]]
    return result


def test_master_targets_sharing_a_name_keep_their_section_ready_flag_and_details(result):
    shared = two_master_targets_of_one_name(result)
    parsed = parse(render("failback-readiness.html.j2", shared))
    assert [h for h in parsed.headings if h.startswith("Master target")] == [
        "Master target /DC0/vm/a/mt: NOT ready",
        "Master target /DC0/vm/b/mt: ready",
    ]
    html = render("failback-readiness.html.j2", shared)
    assert "/DC0/vm/a/mt (moid vm-54) on ESXi host DC0_C0_H0" in html and "/DC0/vm/b/mt (moid vm-57) on ESXi host DC0_C0_H1" in html
    tables = [[row for row in table if row[0].startswith("row-")] for table in parsed.tables]
    tables = [table for table in tables if table]
    assert [len(table) for table in tables[:2]] == [
        sum(c["master_target_moid"] == moid for c in shared["checks"]) for moid in ("vm-54", "vm-57")]
    markdown = render("failback-readiness.md.j2", shared)
    assert "\n## Master target /DC0/vm/a/mt: NOT ready\n" in markdown and "\n## Master target /DC0/vm/b/mt: ready\n" in markdown
    assert "/DC0/vm/b/mt (moid vm-57) on ESXi host DC0_C0_H1" in markdown


def test_the_reports_say_which_phase_was_checked(result):
    assert "Phase: before reprotect (will reprotect and failback work?)" in render("failback-readiness.html.j2", result)
    after = copy.deepcopy(result)
    after.update(phase="after_reprotect", ready=True)
    after["summary"]["fail"] = 0
    html = render("failback-readiness.html.j2", after)
    assert "Phase: after reprotect (will failback work?)" in html and "Ready for failback: no check fails." in html
    markdown = render("failback-readiness.md.j2", after)
    assert "Phase: after reprotect (will failback work?)" in markdown and "**Ready for failback: no check fails.**" in markdown


def test_the_role_passes_the_phase_and_the_replication_groups_to_the_module():
    check = role_tasks()["block"][0]
    args = check["siterecovery.master_target.failback_readiness_info"]
    assert args["phase"] == "{{ readiness_phase }}" and args["replication_groups"] == "{{ readiness_replication_groups }}"
    defaults = yaml.safe_load((ROLE / "defaults" / "main.yml").read_text())
    assert defaults["readiness_phase"] == "before_reprotect" and defaults["readiness_replication_groups"] == []
    spec = argument_spec("readiness")
    assert spec["readiness_phase"]["choices"] == ["before_reprotect", "after_reprotect"]
    assert spec["readiness_replication_groups"]["elements"] == "list"


def role_tasks():
    return yaml.safe_load((ROLE / "tasks" / "main.yml").read_text())[0]


def test_failure_lines_name_each_failing_check_and_its_fix(result):
    expression = role_tasks()["vars"]["__readiness_failures"]
    lines = render_text(expression, {"readiness_result": result})
    assert lines == [
        f"FAIL {c['check']} [{c['master_target'] or 'global'}]: {c['message']} Fix: {c['fix']}"
        for c in result["checks"]
        if c["status"] == "fail"
    ]
    assert lines[-1].startswith("FAIL vm.found [global]: No VM named prod-old-01")


def test_default_master_targets_are_the_play_hosts_vm_names():
    expression = yaml.safe_load((ROLE / "defaults" / "main.yml").read_text())["readiness_master_targets"]
    names = render_text(
        expression,
        {
            "ansible_play_hosts": ["asr-mt-01", "mt2.example.com", "mt3", "mt4"],
            "hostvars": {
                "asr-mt-01": {},
                "mt2.example.com": {"vsphere_vm_name": "asr-mt-02", "vsphere_vm_folder": "asr"},
                "mt3": {"vsphere_vm_name": "", "vsphere_vm_folder": ""},
                "mt4": {"vsphere_vm_folder": "/DC0/vm/asr/"},
            },
        },
    )
    assert names == ["asr-mt-01", "asr/asr-mt-02", "mt3", "/DC0/vm/asr/mt4"]


def argument_spec(role):
    return yaml.safe_load((REPO / "roles" / role / "meta" / "argument_specs.yml").read_text())["argument_specs"]["main"]["options"]


def test_every_default_is_documented_and_every_role_variable_is_in_the_example_inventory():
    spec = argument_spec("readiness")
    defaults = yaml.safe_load((ROLE / "defaults" / "main.yml").read_text())
    assert set(defaults) <= set(spec)
    assert all(spec[name].get("default", "unset") == defaults[name] for name in defaults if name != "readiness_master_targets")
    example = (REPO / "playbooks" / "inventory" / "example.yml").read_text()
    missing = [
        name
        for role in ("vsphere", "linux", "windows", "readiness")
        for name in argument_spec(role)
        if not re.search(rf"^\s*#?\s*{name}:", example, flags=re.M)
    ]
    assert not missing, f"playbooks/inventory/example.yml lacks {missing}"
