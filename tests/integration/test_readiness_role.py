"""The readiness role through the project's playbooks, against the simulator's scene.

Before the preparation the scene's master target asr-mt-01 fails the checks the vsphere role fixes, and
the protected VM prod-app-nfs fails because it lives on NFS; the role writes both reports (also in
check mode), fails the play naming the failing checks, and changes nothing. After
playbooks/prepare_master_target.yml (which ends with the same check, ready for the inventory's two
protected VMs) every master target row passes and only prod-app-nfs still fails.
"""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path

from support.ansible import run_playbook
from support.vsphere import vm_state

REPO = Path(__file__).resolve().parents[2]
INVENTORY = REPO / "playbooks" / "inventory" / "demo.yml"
READINESS = REPO / "playbooks" / "failback_readiness.yml"
PREPARE = REPO / "playbooks" / "prepare_master_target.yml"
MODULE = "siterecovery.master_target.failback_readiness_info"
ALL_PROTECTED = ["prod-web-01", "prod-db-01", "prod-app-nfs"]
FIXED_BY_PREPARATION = {
    "master_target.disk_uuid",
    "master_target.snapshots",
    "master_target.scsi_controller",
    "master_target.migration_exclusion",
    "master_target.retention_disk",
}
NFS_ROW = ("protected_vm.datastore", ("prod-app-nfs", "nfs-prod-01"))


class CheckRows(HTMLParser):
    """The check rows of the report (<tr class="row-...">) as lists of cell texts; fails on bad nesting."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.rows, self.open_tags = [], []
        self._row = self._cell = None

    def handle_starttag(self, tag, attrs):
        if tag not in ("meta", "br"):
            self.open_tags.append(tag)
        if tag == "tr" and (dict(attrs).get("class") or "").startswith("row-"):
            self._row = []
        elif tag == "td" and self._row is not None:
            self._cell = []

    def handle_endtag(self, tag):
        assert self.open_tags and self.open_tags[-1] == tag, f"</{tag}> closes {self.open_tags[-1:]}"
        self.open_tags.pop()
        if tag == "td" and self._cell is not None:
            self._row.append("".join(self._cell))
            self._cell = None
        elif tag == "tr" and self._row is not None:
            self.rows.append(self._row)
            self._row = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def module_result(run):
    results = [task["result"] for task in run["tasks"] if task["action"] == MODULE]
    assert len(results) == 1, run.debug
    return results[0]


def failing(result):
    return {(row["check"], tuple(row["objects"][:2])) if row["check"] == "protected_vm.datastore" else row["check"]
            for row in result["checks"] if row["status"] == "fail"}


def assert_reports(report_dir: Path, result):
    html = (report_dir / "failback-readiness.html").read_text()
    parser = CheckRows()
    parser.feed(html)
    parser.close()
    assert parser.open_tags == [], parser.open_tags
    assert len(parser.rows) == len(result["checks"])
    assert sorted(tuple(row[:2]) for row in parser.rows) == sorted(
        (row["status"].upper(), row["check"]) for row in result["checks"])
    markdown = (report_dir / "failback-readiness.md").read_text()
    assert sum(line.startswith(("| **FAIL** | `", "| PASS | `", "| INFO | `", "| WARN | `"))
               for line in markdown.splitlines()) == len(result["checks"])


def total_changed(run):
    return sum(stat["changed"] for stat in run["stats"].values())


def test_before_and_after_the_preparation(vcsim, si, tmp_path):
    env = vcsim.env()
    snapshot_before = vm_state(si, "asr-mt-01", ["snapshot"]).get("snapshot") is not None

    # Check mode: the same verdict, the reports written, nothing changed, not failed on request.
    check = run_playbook(READINESS, inventory=INVENTORY, env=env, check=True, diff=True, extra_vars=dict(
        readiness_protected_vms=ALL_PROTECTED, readiness_report_dir=str(tmp_path / "check"),
        readiness_fail_in_check_mode=False))
    assert not check.failed_hosts, check.debug
    assert module_result(check)["ready"] is False, check.debug
    assert (tmp_path / "check" / "failback-readiness.html").is_file()
    assert total_changed(check) == 0, check.debug

    before = run_playbook(READINESS, inventory=INVENTORY, env=env, extra_vars=dict(
        readiness_protected_vms=ALL_PROTECTED, readiness_report_dir=str(tmp_path / "before")))
    assert before.failed_hosts == ["asr-mt-01"], before.debug
    result = module_result(before)
    assert result["ready"] is False
    assert failing(result) == FIXED_BY_PREPARATION | {NFS_ROW}, result["checks"]
    assert_reports(tmp_path / "before", result)
    message = before["tasks"][-1]["result"]["msg"]
    for check_id in FIXED_BY_PREPARATION | {"protected_vm.datastore"}:
        assert f"FAIL {check_id} [" in message, message
    assert "prod-app-nfs" in message and "Fix: " in message, message
    assert total_changed(before) == 0, before.debug
    assert (vm_state(si, "asr-mt-01", ["snapshot"]).get("snapshot") is not None) == snapshot_before

    # The preparation ends with the readiness check for the inventory's protected VMs: ready.
    prepare = run_playbook(PREPARE, inventory=INVENTORY, env=env, extra_vars=dict(
        readiness_report_dir=str(tmp_path / "prepared"), vsphere_retention_disk_size_gb=10,
        readiness_retention_disk_min_gb=10, vsphere_tools_timeout=30))
    assert not prepare.failed_hosts, prepare.debug
    prepared = module_result(prepare)
    assert prepared["ready"] is True, prepared["checks"]
    assert_reports(tmp_path / "prepared", prepared)

    after = run_playbook(READINESS, inventory=INVENTORY, env=env, extra_vars=dict(
        readiness_protected_vms=ALL_PROTECTED, readiness_report_dir=str(tmp_path / "after"),
        readiness_retention_disk_min_gb=10))
    assert after.failed_hosts == ["asr-mt-01"], after.debug
    result = module_result(after)
    assert failing(result) == {NFS_ROW}, result["checks"]
    assert all(row["status"] in ("pass", "info") for row in result["checks"]
               if row["master_target"] == "asr-mt-01" and row["check"].startswith("master_target.")), result["checks"]
    assert_reports(tmp_path / "after", result)
