"""Run our modules and playbooks, the way users do, and parse the results.

``run_module`` runs ONE of our modules against vCenter and returns the module's result;
``run_playbook`` runs a whole playbook with ``ansible-playbook`` and returns per-host stats and every
task's result. Both keep the raw stdout/stderr so a failing assertion can show what was said::

    result = run_module("vm_snapshots", {...}, env=vcsim.env)
    assert result["changed"], result.debug

How ``run_module`` runs the module (``via``):

* ``"direct"`` (the default for our modules): the module's own file in a Python process, its
  arguments on stdin as ``ANSIBLE_MODULE_ARGS`` with ``_ansible_check_mode`` and ``_ansible_diff``,
  which is what Ansible's module wrapper hands the module on the managed host. The module, pyVmomi
  and vCenter are the real ones; what is skipped is the controller: starting ansible-playbook,
  templating and packing the module, about 1.9 of the 2.3 CPU seconds of one task. That cost, times
  the suite's module runs, was most of the CI time.
* ``"ansible"``: one task on localhost with ``ansible-playbook`` (the ``ansible.posix.json``
  callback). Used for every module that is not ours, with ``verbosity``, with templated arguments
  (``{{ }}``), by tests of what Ansible itself adds (no_log masking in the output, module_defaults),
  and for the whole suite with ``SITERECOVERY_TEST_MODULES_VIA=ansible``. Every module also runs
  through ansible-playbook in the role and playbook tests and in molecule.

Modules run with the interpreter running pytest (the venv with pyvmomi), on the ``local``
connection, without fact gathering.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from support.collection import FQCN, REPO_ROOT, ensure_collection_tree

DEFAULT_TIMEOUT = 300
_TAIL = 6000  # characters of stdout/stderr quoted in error messages


class AnsibleRunError(AssertionError):
    """ansible-playbook did not produce a usable result (syntax error, unknown module, timeout)."""


def _tail(text: str, limit: int = _TAIL) -> str:
    text = text or ""
    return text if len(text) <= limit else f"...[{len(text) - limit} chars cut]...\n{text[-limit:]}"


class _RunInfo:
    """Raw facts of one ansible-playbook run, shared by both result types."""

    command: list[str]
    rc: int
    stdout: str
    stderr: str
    duration: float

    @property
    def debug(self) -> str:
        """A text for assertion messages: command, exit code, duration, stderr and stdout tails."""
        return (
            f"\n$ {' '.join(self.command)}\nrc={self.rc} ({self.duration:.1f}s)\n"
            f"--- stderr ---\n{_tail(self.stderr)}\n--- stdout ---\n{_tail(self.stdout)}"
        )


class ModuleResult(dict, _RunInfo):
    """The module's result dict (changed, failed, msg, diff, return values) plus the run's raw facts.

    ``dict(result)`` is exactly what the module returned (with Ansible's own keys such as
    ``invocation``, ``changed``, ``failed``); ``result.stdout``, ``result.stderr``, ``result.rc``,
    ``result.duration``, ``result.command`` and ``result.debug`` describe the run.
    """


class PlaybookResult(dict, _RunInfo):
    """``{"rc", "stats", "tasks", "plays", "stdout", "stderr"}`` for one playbook run.

    ``stats``: ``{host: {"ok", "changed", "failures", "failed", "unreachable", "skipped",
    "rescued", "ignored"}}`` (``failed`` = failures + unreachable).
    ``tasks``: a flat list ``[{"play", "task", "action", "host", "result"}, ...]`` in run order.
    """

    @property
    def failed_hosts(self) -> list[str]:
        return [host for host, stat in self["stats"].items() if stat["failed"]]


def _ansible_bin(name: str) -> str:
    """The tool next to the running interpreter (the venv), else the one on PATH."""
    candidate = Path(sys.executable).parent / name
    if candidate.exists():
        return str(candidate)
    found = shutil.which(name)
    if not found:
        raise AnsibleRunError(f"{name} not found next to {sys.executable} nor on PATH")
    return found


def ansible_env(env: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment for an Ansible subprocess: ours, our quiet/fast defaults, then ``env``."""
    collections_dir = ensure_collection_tree()
    merged = dict(os.environ)
    merged.update(
        {
            "ANSIBLE_COLLECTIONS_PATH": collections_dir,
            "ANSIBLE_STDOUT_CALLBACK": "ansible.posix.json",
            "ANSIBLE_GATHERING": "explicit",
            "ANSIBLE_RETRY_FILES_ENABLED": "0",
            "ANSIBLE_NOCOLOR": "1",
            "ANSIBLE_FORCE_COLOR": "0",
            "ANSIBLE_HOST_KEY_CHECKING": "0",
            "ANSIBLE_INVENTORY_UNPARSED_WARNING": "0",
            "ANSIBLE_LOCALHOST_WARNING": "0",
            "ANSIBLE_PYTHON_INTERPRETER": sys.executable,
            "PYTHONDONTWRITEBYTECODE": "1",
        }
    )
    # A developer's ansible.cfg or extra callbacks must not change how tests run (or slow them);
    # _run() also puts an empty ansible.cfg in the working directory.
    for key in ("ANSIBLE_CONFIG", "ANSIBLE_CALLBACKS_ENABLED", "ANSIBLE_CALLBACK_WHITELIST"):
        merged.pop(key, None)
    if env:
        merged.update({key: str(value) for key, value in env.items()})
    return merged


def _inventory_file(directory: Path) -> Path:
    path = directory / "inventory.json"
    path.write_text(
        json.dumps(
            {
                "all": {
                    "hosts": {
                        "localhost": {
                            "ansible_connection": "local",
                            "ansible_python_interpreter": sys.executable,
                        }
                    }
                }
            }
        )
    )
    return path


def _run(
    playbook: Path,
    *,
    workdir: Path,
    env: Mapping[str, str] | None,
    inventory: str | os.PathLike[str] | None,
    extra_vars: Mapping[str, Any] | None,
    check: bool,
    diff: bool,
    verbosity: int,
    timeout: float,
) -> tuple[list[str], subprocess.CompletedProcess[str], float, dict[str, Any] | None]:
    # An empty ansible.cfg in the working directory shadows ~/.ansible.cfg and /etc/ansible/ansible.cfg.
    (workdir / "ansible.cfg").write_text("[defaults]\n")
    command = [_ansible_bin("ansible-playbook"), "-i", str(inventory or _inventory_file(workdir))]
    if extra_vars:
        vars_file = workdir / "extra_vars.json"
        vars_file.write_text(json.dumps(extra_vars))
        command += ["-e", f"@{vars_file}"]
    if check:
        command.append("--check")
    if diff:
        command.append("--diff")
    if verbosity:
        command.append("-" + "v" * verbosity)
    command.append(str(playbook))
    started = time.monotonic()
    try:
        proc = subprocess.run(
            command,
            cwd=workdir,
            env=ansible_env(env),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        out = exc.stdout.decode() if isinstance(exc.stdout, bytes) else exc.stdout or ""
        err = exc.stderr.decode() if isinstance(exc.stderr, bytes) else exc.stderr or ""
        raise AnsibleRunError(
            f"ansible-playbook timed out after {timeout}s\n$ {' '.join(command)}\n"
            f"--- stderr ---\n{_tail(err)}\n--- stdout ---\n{_tail(out)}"
        ) from None
    duration = time.monotonic() - started
    return command, proc, duration, _parse_json(proc.stdout)


def _first_json(text: str, wanted) -> dict[str, Any] | None:
    """The first JSON object starting a line of `text` for which wanted(object) is true; other output is skipped."""
    for line in re.finditer(r"^\{", text, re.MULTILINE):
        try:
            document = json.JSONDecoder().raw_decode(text, line.start())[0]
        except json.JSONDecodeError:
            continue
        if isinstance(document, dict) and wanted(document):
            return document
    return None


def _parse_json(stdout: str) -> dict[str, Any] | None:
    """The json callback's document; anything printed before it (plugins' prints) is skipped."""
    return _first_json(stdout, lambda document: "plays" in document)


def _fill(result: _RunInfo, command: list[str], proc: subprocess.CompletedProcess[str], duration: float) -> None:
    result.command = command
    result.rc = proc.returncode
    result.stdout = proc.stdout
    result.stderr = proc.stderr
    result.duration = duration


def _templated(value: Any) -> bool:
    if isinstance(value, str):
        return "{{" in value or "{%" in value
    if isinstance(value, Mapping):
        return any(_templated(item) for item in value.values())
    if isinstance(value, (list, tuple)):
        return any(_templated(item) for item in value)
    return False


def modules_via(fqcn: str, args: Mapping[str, Any] | None, verbosity: int, via: str | None) -> str:
    """"direct" or "ansible" for this call (see the module docstring)."""
    if via is None:
        via = os.environ.get("SITERECOVERY_TEST_MODULES_VIA", "direct")
    if via not in ("direct", "ansible"):
        raise ValueError(f"via (or SITERECOVERY_TEST_MODULES_VIA) is direct or ansible, not {via!r}")
    if not fqcn.startswith(f"{FQCN}.") or verbosity or _templated(args):
        return "ansible"
    if not (REPO_ROOT / "plugins" / "modules" / f"{fqcn.rsplit('.', 1)[1]}.py").is_file():
        return "ansible"  # not a module of ours: Ansible says so
    return via


def run_module(
    module: str,
    args: Mapping[str, Any] | None = None,
    *,
    env: Mapping[str, str] | None = None,
    check: bool = False,
    diff: bool = False,
    timeout: float = DEFAULT_TIMEOUT,
    verbosity: int = 0,
    via: str | None = None,
) -> ModuleResult:
    """Run ``module`` once on localhost; return the module's result (see ``ModuleResult``).

    ``module`` is a short name of ours (``vm_snapshots`` -> ``siterecovery.master_target.vm_snapshots``)
    or any fully qualified name (``ansible.builtin.ping``). ``args`` are the module's options; string
    values containing ``{{ }}`` are templated (through ansible-playbook). ``env`` is added to the
    environment, e.g. the VMWARE_* variables of a simulator. ``via``: see the module docstring.

    A module failure is returned (``result["failed"]`` is true), not raised; ``AnsibleRunError`` is
    raised only when no result came back (syntax error, unknown module, timeout).
    """
    fqcn = module if "." in module else f"{FQCN}.{module}"
    if modules_via(fqcn, args, verbosity, via) == "direct":
        return _run_module_direct(fqcn, args, env=env, check=check, diff=diff, timeout=timeout)
    play = [
        {
            "name": "run_module",
            "hosts": "localhost",
            "gather_facts": False,
            "tasks": [{"name": fqcn, fqcn: dict(args or {})}],
        }
    ]
    with tempfile.TemporaryDirectory(prefix="siterecovery-run-module-") as tmp:
        workdir = Path(tmp)
        playbook = workdir / "playbook.yml"
        playbook.write_text(json.dumps(play, indent=2))  # JSON is YAML
        command, proc, duration, document = _run(
            playbook,
            workdir=workdir,
            env=env,
            inventory=None,
            extra_vars=None,
            check=check,
            diff=diff,
            verbosity=verbosity,
            timeout=timeout,
        )
    info = _RunInfo()
    _fill(info, command, proc, duration)
    try:
        host_result = document["plays"][0]["tasks"][0]["hosts"]["localhost"]  # type: ignore[index]
    except (TypeError, KeyError, IndexError):
        raise AnsibleRunError(f"ansible-playbook returned no result for {fqcn}{info.debug}") from None
    result = ModuleResult(host_result)
    _fill(result, command, proc, duration)
    return result


def _run_module_direct(fqcn: str, args: Mapping[str, Any] | None, *, env: Mapping[str, str] | None, check: bool, diff: bool,
                       timeout: float) -> ModuleResult:
    """Our module's file run by the interpreter running pytest, as Ansible's wrapper runs it on the host."""
    name = fqcn.rsplit(".", 1)[1]
    module_args = dict(args or {}, _ansible_check_mode=check, _ansible_diff=diff, _ansible_module_name=fqcn)
    command = [sys.executable, "-m", f"ansible_collections.siterecovery.master_target.plugins.modules.{name}"]
    environment = ansible_env(env)
    # The collection tree first, so that ansible_collections.siterecovery.master_target is this checkout.
    environment["PYTHONPATH"] = os.pathsep.join(filter(None, [ensure_collection_tree(), environment.get("PYTHONPATH")]))
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="siterecovery-run-module-") as tmp:
        try:
            proc = subprocess.run(command, cwd=tmp, env=environment, input=json.dumps({"ANSIBLE_MODULE_ARGS": module_args}),
                                  capture_output=True, text=True, timeout=timeout, check=False)
        except subprocess.TimeoutExpired as exc:
            out = exc.stdout.decode() if isinstance(exc.stdout, bytes) else exc.stdout or ""
            err = exc.stderr.decode() if isinstance(exc.stderr, bytes) else exc.stderr or ""
            raise AnsibleRunError(f"{fqcn} timed out after {timeout}s\n--- stderr ---\n{_tail(err)}\n--- stdout ---\n{_tail(out)}") from None
    duration = time.monotonic() - started
    result = ModuleResult(_module_output(proc))
    _fill(result, command, proc, duration)
    return result


def _summary_text(item: Any) -> Any:
    event = item.get("event") if isinstance(item, dict) else None
    return event.get("msg", item) if isinstance(event, dict) else item


def _module_output(proc: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    """The module's JSON result, shaped as ansible-playbook reports it (changed always set); a module
    that printed no JSON (a crash) is a failure with its output, as Ansible's "MODULE FAILURE"."""
    output = _first_json(proc.stdout, lambda document: True)
    if output is not None:
        output.setdefault("changed", False)
        # ansible-core 2.19+ modules send each warning as a summary object; the controller reports its message.
        if "warnings" in output:
            output["warnings"] = [_summary_text(item) for item in output["warnings"]]
        if proc.returncode != 0:
            output.setdefault("failed", True)
        return output
    return dict(failed=True, changed=False, msg="MODULE FAILURE", rc=proc.returncode, module_stdout=proc.stdout, module_stderr=proc.stderr)


def run_playbook(
    path_or_text: str | os.PathLike[str],
    *,
    env: Mapping[str, str] | None = None,
    extra_vars: Mapping[str, Any] | None = None,
    check: bool = False,
    diff: bool = False,
    verbosity: int = 0,
    inventory: str | os.PathLike[str] | None = None,
    timeout: float = DEFAULT_TIMEOUT,
) -> PlaybookResult:
    """Run a playbook (a file path, or the YAML text itself) and return a ``PlaybookResult``.

    Text is written to a temporary directory (relative paths in it resolve there); a path runs in
    place. Without ``inventory``, the inventory is ``localhost`` on the local connection with the
    current interpreter. A failing play is returned (see ``stats`` / ``failed_hosts``), not raised;
    ``AnsibleRunError`` is raised when Ansible printed no result at all (e.g. a syntax error).
    """
    with tempfile.TemporaryDirectory(prefix="siterecovery-run-playbook-") as tmp:
        workdir = Path(tmp)
        text = str(path_or_text)
        if isinstance(path_or_text, os.PathLike) or ("\n" not in text and Path(text).is_file()):
            playbook = Path(path_or_text).resolve()
        else:
            playbook = workdir / "playbook.yml"
            playbook.write_text(text)
        command, proc, duration, document = _run(
            playbook,
            workdir=workdir,
            env=env,
            inventory=inventory,
            extra_vars=extra_vars,
            check=check,
            diff=diff,
            verbosity=verbosity,
            timeout=timeout,
        )
    info = _RunInfo()
    _fill(info, command, proc, duration)
    if document is None:
        raise AnsibleRunError(f"ansible-playbook printed no JSON result{info.debug}")
    stats: dict[str, dict[str, int]] = {}
    for host, stat in document.get("stats", {}).items():
        stat = dict(stat)
        stat["failed"] = stat.get("failures", 0) + stat.get("unreachable", 0)
        stats[host] = stat
    tasks = []
    for play in document.get("plays", []):
        play_name = play.get("play", {}).get("name", "")
        for task in play.get("tasks", []):
            task_info = task.get("task", {})
            for host, host_result in task.get("hosts", {}).items():
                tasks.append(
                    {
                        "play": play_name,
                        "task": task_info.get("name", ""),
                        "action": host_result.get("action", ""),
                        "host": host,
                        "result": host_result,
                    }
                )
    result = PlaybookResult(
        rc=proc.returncode,
        stats=stats,
        tasks=tasks,
        plays=document.get("plays", []),
        stdout=proc.stdout,
        stderr=proc.stderr,
    )
    _fill(result, command, proc, duration)
    return result
