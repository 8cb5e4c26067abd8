"""scripts/awx_survey.py: argument specs -> AWX survey spec, checked against AWX's own rules."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[3]
ROLES = sorted(path.parent.parent.name for path in (REPO / "roles").glob("*/meta/argument_specs.yml"))

_spec = importlib.util.spec_from_file_location("awx_survey", REPO / "scripts" / "awx_survey.py")
awx_survey = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(awx_survey)


@pytest.mark.parametrize(
    ("option", "expected"),
    [
        (dict(type="str", description="The VM's name. More."), dict(type="text", question_name="The VM's name")),
        (dict(type="str", default="", description="x"), dict(type="text", default="")),
        (dict(type="path", default="/mnt/retention", description="x"), dict(type="text", default="/mnt/retention")),
        (dict(type="str", no_log=True, default="s3cret", description="x"), dict(type="password")),
        (dict(type="str", choices=["a", "b"], default="b", description="x"),
         dict(type="multiplechoice", choices=["a", "b"], default="b")),
        (dict(type="int", default=300, description="x"), dict(type="integer", default=300, min=0, max=None)),
        (dict(type="int", description="x"), dict(type="integer", min=0, max=None)),
        (dict(type="float", default=1, description="x"), dict(type="float", default=1.0)),
        (dict(type="list", elements="str", choices=["html", "markdown"], default=["html", "markdown"], description="x"),
         dict(type="multiselect", choices=["html", "markdown"], default="html\nmarkdown")),
    ],
)
def test_question_types(option, expected):
    item = awx_survey.question("var", option, required=False)
    assert {key: item.get(key, "<absent>") for key in expected} == expected
    assert item["variable"] == "var" and item["required"] is False
    if "default" not in expected:
        assert "default" not in item, "no default must mean no default key (AWX would apply '')"


@pytest.mark.parametrize(
    "option",
    [
        dict(type="bool", default=True, description="x"),
        dict(type="list", elements="str", default=[], description="x"),
        dict(type="dict", description="x"),
        dict(type="raw", description="x"),
        dict(type="list", elements="int", choices=[1, 2], description="x"),
    ],
)
def test_options_without_a_typed_answer_are_not_questions(option):
    # A survey answer "false" would be a string: ansible-core refuses it in a `when:`.
    assert awx_survey.question("var", option, required=False) is None


def test_templated_default_is_left_to_the_role():
    item = awx_survey.question("dir", dict(type="str", default="{{ playbook_dir }}/reports", description="Where."),
                               required=False)
    assert "default" not in item
    assert item["question_description"] == "Where. Left empty, the role's default applies: {{ playbook_dir }}/reports"


def test_markup_is_removed():
    text = "Set O(vsphere_scsi_convert=true) and V(lsilogic); see L(the docs,https://x.y) and M(ns.c.mod), C(a.b)."
    assert awx_survey.plain(text) == "Set vsphere_scsi_convert=true and lsilogic; see the docs and ns.c.mod, a.b."


@pytest.mark.parametrize("role", ROLES)
def test_every_role_gives_a_survey_awx_accepts(role):
    options = awx_survey.load_options([role])
    spec, skipped = awx_survey.survey(options, name=f"{role} role")
    assert awx_survey.awx_errors(spec) == []
    asked = {item["variable"] for item in spec["spec"]}
    assert asked | set(skipped) == {option[1] for option in options}
    for name, (_role, option) in skipped.items():
        assert option.get("type") in ("bool", "list", "dict", "raw"), name


def test_options_shared_by_roles_are_asked_once():
    options = awx_survey.load_options(["vsphere", "readiness"])
    names = [option[1] for option in options]
    assert len(names) == len(set(names))
    assert [role for role, name, _option in options if name == "vsphere_port"] == ["vsphere"]


def test_only_required_and_exclude():
    options = awx_survey.load_options(["vsphere", "readiness"])
    spec, skipped = awx_survey.survey(
        options, "Prepare", required=frozenset({"vsphere_vm_name"}),
        only=["vsphere_vm_name", "vsphere_port", "vsphere_scsi_convert", "readiness_report_dir"],
        exclude=frozenset({"readiness_report_dir"}))
    assert [(q["variable"], q["type"], q["required"]) for q in spec["spec"]] == [
        ("vsphere_vm_name", "text", True), ("vsphere_port", "integer", False)]
    assert list(skipped) == ["vsphere_scsi_convert"]
    with pytest.raises(SystemExit, match="unknown variable.*vsphere_nope"):
        awx_survey.survey(options, "Prepare", only=["vsphere_nope"])


@pytest.mark.parametrize(
    ("item", "error"),
    [
        (dict(type="checkbox"), "not an AWX question type"),
        (dict(type="integer", default="300"), "is not a int"),
        (dict(type="integer", default=True), "is not a int"),
        (dict(type="multiplechoice", choices=["a"], default="b"), "not among the choices"),
        (dict(type="multiplechoice", choices=["a", "b"], default="a\nb"), "one default at most"),
        (dict(type="multiselect"), "needs choices"),
        (dict(type="integer", min="0"), "min is not an integer"),
        (dict(type="text", required="no"), "'required' missing or not a bool"),
    ],
)
def test_awx_errors_catches_what_awx_rejects(item, error):
    question = dict(dict(question_name="Q", variable="v", required=False), **item)
    errors = awx_survey.awx_errors({"name": "", "description": "", "spec": [question]})
    assert any(error in message for message in errors), errors


def test_awx_errors_duplicate_variable_and_empty_spec():
    question = dict(question_name="Q", variable="v", required=False, type="text")
    assert any("duplicated" in e for e in awx_survey.awx_errors({"name": "", "description": "", "spec": [question] * 2}))
    assert awx_survey.awx_errors({"name": "", "description": "", "spec": []}) == ["'spec' doesn't contain any items"]


def test_main_writes_the_survey_and_the_extra_vars(tmp_path, capsys):
    survey_file, extra_vars_file = tmp_path / "survey.json", tmp_path / "extra_vars.yml"
    rc = awx_survey.main(["vsphere", "readiness", "--name", "Prepare master target", "--required", "vsphere_vm_name",
                          "--exclude", "vsphere_hostname", "--exclude", "vsphere_username",
                          "--exclude", "vsphere_password", "-o", str(survey_file), "--extra-vars", str(extra_vars_file)])
    assert rc == 0
    spec = json.loads(survey_file.read_text())
    assert spec["name"] == "Prepare master target"
    variables = [q["variable"] for q in spec["spec"]]
    assert variables[:2] == ["vsphere_vm_name", "vsphere_vm_folder"]
    assert not {"vsphere_hostname", "vsphere_username", "vsphere_password"} & set(variables)
    extra_vars = yaml.safe_load(extra_vars_file.read_text())
    assert extra_vars["vsphere_scsi_convert"] is False and extra_vars["vsphere_datastores"] == []
    # No default in the role: commented out (a null extra var would override the role's default).
    assert "readiness_master_targets" not in extra_vars
    assert "# readiness_master_targets:" in extra_vars_file.read_text()
    assert "vsphere_scsi_convert" in capsys.readouterr().err


def test_unknown_role_names_the_roles_there_are():
    with pytest.raises(SystemExit, match="not found; roles with argument specs: .*vsphere"):
        awx_survey.load_options(["nope"])
