"""Turn the roles' argument specs (roles/<role>/meta/argument_specs.yml) into an AWX survey spec.

    python scripts/awx_survey.py vsphere readiness --name "Prepare master target" \\
        --exclude vsphere_hostname --exclude vsphere_username --exclude vsphere_password \\
        --required vsphere_vm_name -o survey.json --extra-vars extra_vars.yml

The JSON is what AWX's API takes at /api/v2/job_templates/<id>/survey_spec/ (and what
awx.awx.job_template's survey_spec option takes). Each role option becomes one question, in the
order of the roles and of their argument specs; an option that several roles declare (the vCenter
connection) is asked once.

AWX survey answers arrive in the play with the question's type: text, password and single choice as
strings, integer as int, float as float, multiple choice as a list of strings. There is no boolean
type and no free list, and a string "false" is not a boolean (ansible-core 2.19 and later refuse a
string in a `when:`). Options of type bool, list without choices, dict or raw are therefore not
asked: they are listed on stderr and, with --extra-vars, written with their defaults as YAML for the
job template's Variables field (typed YAML, optionally "Prompt on launch").

Only the standard library and PyYAML (which Ansible needs anyway) are used.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]

# AWX's question types and the Python type of a default of each (awx/api/views JobTemplateSurveySpec).
AWX_TYPES = {"text": str, "textarea": str, "password": str, "multiplechoice": str, "multiselect": str,
             "integer": int, "float": float}

# Ansible documentation markup (https://docs.ansible.com/ansible/latest/dev_guide/ansible_markup.html):
# L(text,url) and R(text,ref) keep their text; the others keep their argument.
_LINK = re.compile(r"\b[LR]\(([^,()]*),[^()]*\)")
_MARKUP = re.compile(r"\b(?:RV|[IBMCUOVEP])\(([^()]*)\)")


def plain(text: str) -> str:
    """Description text without Ansible markup: O(foo=bar) -> foo=bar, L(text,url) -> text."""
    text = _LINK.sub(r"\1", text)
    text = _MARKUP.sub(r"\1", text)
    return text.replace("HORIZONTALLINE", "").strip()


def description_text(option: dict) -> str:
    description = option.get("description", "")
    if isinstance(description, list):
        description = " ".join(description)
    return plain(str(description))


def first_sentence(text: str, limit: int = 80) -> str:
    sentence = re.split(r"(?<=[.!?])\s", text, maxsplit=1)[0].rstrip(".")
    return sentence if len(sentence) <= limit else sentence[: limit - 3].rstrip() + "..."


def question(name: str, option: dict, required: bool) -> dict | None:
    """The AWX survey question for one argument-spec option, or None when no question type fits."""
    kind = option.get("type", "str")
    choices = option.get("choices")
    default = option.get("default")
    text = description_text(option)
    if isinstance(default, str) and "{{" in default:
        # A survey answer is never templated (AWX marks it unsafe): leave the role's default to the role.
        text += f" Left empty, the role's default applies: {default}"
        default = None
    # No default: no "default" key. AWX applies a question's default whenever it is valid, and ""
    # is a valid text answer that would override the role's own default.
    if kind in ("str", "path") and choices and all(isinstance(c, str) for c in choices):
        qtype, default_value = "multiplechoice", default if default in choices else None
    elif kind in ("str", "path"):
        qtype = "password" if option.get("no_log") else "text"
        default_value = None if default is None or qtype == "password" else str(default)
    elif kind == "int":
        qtype, default_value = "integer", default if isinstance(default, int) and not isinstance(default, bool) else None
    elif kind == "float":
        qtype, default_value = "float", float(default) if isinstance(default, (int, float)) else None
    elif kind == "list" and option.get("elements", "str") == "str" and choices:
        qtype = "multiselect"
        default_value = "\n".join(d for d in (default or []) if d in choices) or None
    else:
        return None
    item = {
        "question_name": first_sentence(text) or name,
        "question_description": text,
        "required": required,
        "type": qtype,
        "variable": name,
        "new_question": True,
    }
    if default_value is not None:
        item["default"] = default_value
    if qtype in ("multiplechoice", "multiselect"):
        item["choices"] = [str(c) for c in choices]
    if qtype == "integer":
        # Every integer option of the roles is a count, a size, a timeout or a port.
        item["min"], item["max"] = 0, None
    return item


def load_options(roles: list[str], roles_dir: Path = REPO / "roles", entry_point: str = "main") -> list[tuple[str, str, dict]]:
    """(role, option name, option spec) for every option of the roles' entry point, first role wins."""
    seen, options = set(), []
    for role in roles:
        path = roles_dir / role / "meta" / "argument_specs.yml"
        if not path.is_file():
            raise SystemExit(f"{path}: not found; roles with argument specs: "
                             f"{', '.join(sorted(p.parent.parent.name for p in roles_dir.glob('*/meta/argument_specs.yml')))}")
        specs = yaml.safe_load(path.read_text())["argument_specs"]
        if entry_point not in specs:
            raise SystemExit(f"{path}: no entry point {entry_point!r} (it has {', '.join(specs)})")
        for name, option in (specs[entry_point].get("options") or {}).items():
            if name not in seen:
                seen.add(name)
                options.append((role, name, option))
    return options


def survey(options: list[tuple[str, str, dict]], name: str, description: str = "",
           required: frozenset[str] = frozenset(), only: list[str] | None = None,
           exclude: frozenset[str] = frozenset()) -> tuple[dict, dict]:
    """(survey spec, {option name: (role, option spec)} of the options that cannot be questions)."""
    by_name = {option_name: (role, option) for role, option_name, option in options}
    unknown = sorted((set(only or []) | set(required) | set(exclude)) - set(by_name))
    if unknown:
        raise SystemExit(f"unknown variable(s) {', '.join(unknown)}; the roles declare: {', '.join(by_name)}")
    names = only if only else [option[1] for option in options]
    spec, skipped = [], {}
    for option_name in names:
        if option_name in exclude:
            continue
        role, option = by_name[option_name]
        item = question(option_name, option, option.get("required", False) or option_name in required)
        if item is None:
            skipped[option_name] = (role, option)
        else:
            spec.append(item)
    return {"name": name, "description": description, "spec": spec}, skipped


def awx_errors(spec: dict) -> list[str]:
    """What AWX's survey_spec endpoint would reject (the checks of awx/api/views JobTemplateSurveySpec)."""
    errors = []
    for field, expected in (("name", str), ("description", str), ("spec", list)):
        if not isinstance(spec.get(field), expected):
            errors.append(f"'{field}' missing or not a {expected.__name__}")
    if errors:
        return errors
    if not spec["spec"]:
        errors.append("'spec' doesn't contain any items")
    variables = set()
    for idx, item in enumerate(spec["spec"]):
        for field in ("type", "question_name", "variable", "required"):
            expected = bool if field == "required" else str
            if not isinstance(item.get(field), expected):
                errors.append(f"question {idx}: '{field}' missing or not a {expected.__name__}")
        if item.get("variable") in variables:
            errors.append(f"question {idx}: variable {item.get('variable')} duplicated")
        variables.add(item.get("variable"))
        qtype = item.get("type")
        if qtype not in AWX_TYPES:
            errors.append(f"question {idx}: type {qtype!r} is not an AWX question type")
            continue
        default = item.get("default", "")
        if default != "" and (not isinstance(default, AWX_TYPES[qtype]) or isinstance(default, bool)):
            errors.append(f"question {idx}: default {default!r} is not a {AWX_TYPES[qtype].__name__}")
        for key in ("min", "max"):
            if item.get(key) is not None and not isinstance(item[key], int):
                errors.append(f"question {idx}: {key} is not an integer")
        if qtype in ("multiplechoice", "multiselect"):
            choices = item.get("choices")
            if not choices:
                errors.append(f"question {idx}: a {qtype} question needs choices")
                continue
            choices = choices.split("\n") if isinstance(choices, str) else choices
            defaults = [d for d in str(default).split("\n") if d] if default != "" else []
            if qtype == "multiplechoice" and len(defaults) > 1:
                errors.append(f"question {idx}: a multiplechoice question has one default at most")
            if any(d not in choices for d in defaults):
                errors.append(f"question {idx}: default {default!r} is not among the choices")
    return errors


def extra_vars_yaml(skipped: dict) -> str:
    """The options that are not questions, with their defaults, for the job template's Variables.

    JSON values are YAML. An option without a default is left commented out: a null extra var would
    override the role's own default (extra vars win over everything).
    """
    lines = ["---", "# Options that an AWX survey cannot ask with the right type (bool, list): set them here."]
    for option_name, (role, option) in skipped.items():
        lines.append(f"# {role}: {first_sentence(description_text(option), 100)}")
        default = option.get("default")
        lines.append(f"# {option_name}:" if default is None else f"{option_name}: {json.dumps(default)}")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("roles", nargs="+", help="role names under roles/ (e.g. vsphere readiness)")
    parser.add_argument("--name", default="", help="the survey's name")
    parser.add_argument("--description", default="", help="the survey's description")
    parser.add_argument("--entry-point", default="main", help="the argument spec entry point (default: main)")
    parser.add_argument("--only", action="append", metavar="VAR", help="ask only these variables, in this order")
    parser.add_argument("--exclude", action="append", default=[], metavar="VAR", help="do not ask this variable")
    parser.add_argument("--required", action="append", default=[], metavar="VAR",
                        help="make this question required (options required in the spec always are)")
    parser.add_argument("-o", "--output", type=Path, help="write the survey spec here (default: stdout)")
    parser.add_argument("--extra-vars", type=Path, metavar="FILE",
                        help="write the options that are not questions, with their defaults, as YAML here")
    parser.add_argument("--roles-dir", type=Path, default=REPO / "roles", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    options = load_options(args.roles, args.roles_dir, args.entry_point)
    spec, skipped = survey(options, args.name, args.description, frozenset(args.required), args.only,
                           frozenset(args.exclude))
    errors = awx_errors(spec)
    if errors:
        print("the survey would be rejected by AWX:\n  " + "\n  ".join(errors), file=sys.stderr)
        return 1
    text = json.dumps(spec, indent=2) + "\n"
    if args.output:
        args.output.write_text(text)
    else:
        sys.stdout.write(text)
    if skipped:
        kinds = "/".join(sorted({option.get("type", "str") for _role, option in skipped.values()}))
        print(f"not asked (no AWX question type gives a {kinds}"
              f" value): {', '.join(skipped)}; set them in the job template's variables"
              + (f" ({args.extra_vars})" if args.extra_vars else " (--extra-vars FILE writes them)"), file=sys.stderr)
    if args.extra_vars:
        args.extra_vars.write_text(extra_vars_yaml(skipped))
    return 0


if __name__ == "__main__":
    sys.exit(main())
