"""The fault soak's machinery: record the vCenter calls of a preparation, cut one, re-run, compare.

A case is (run, k, mode): the run (``first``: the preparation of a fresh master target; ``second``:
its idempotent re-run), the global number k of the request that is cut (1 = the first request of
that run, as tests/support/cutproxy.py counts them) and how it is cut (MODES). A first-run case
starts a fresh simulator, runs the playbook through a CutProxy armed at k, then runs it again
without a cut, and compares the whole simulator state (tests/support/statedump.py) with the state
an uncut run leaves (the reference). A second-run case cuts the re-run of a prepared master target
and checks that the cut run changed nothing: the state is still the reference.

Two states are compared after ``comparable()``, which rewrites only what legitimately differs
between two simulators or two runs (IGNORED says what and why); everything else must be equal.
"""

from __future__ import annotations

import datetime
import json
import os
import random
import re
import resource
import shutil
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from support.ansible import run_playbook
from support.cutproxy import CutProxy
from support.statedump import describe, dump
from support.vcsim import start_vcsim

REPO = Path(__file__).resolve().parents[2]
PREPARE_PLAYBOOK = REPO / "playbooks" / "prepare_master_target.yml"

# How a call is cut (CutProxy.arm keywords): the request never reaches vCenter; vCenter runs it and
# the whole reply is lost; vCenter runs it and only the first half of the reply arrives.
MODES = {
    "request": dict(phase="request"),
    "response": dict(phase="response"),
    "partial": dict(phase="response", partial=0.5),
}
RUNS = ("first", "second")

# The master target of the scene (tests/vcsim): asr-mt-01 with everything to fix, as in
# playbooks/inventory/demo.yml, plus vmfs-unmounted in the datastores so that a mount happens too.
# No report files: they are the controller's output, not vCenter state, and cost seconds per run.
INVENTORY = {
    "all": {
        "children": {
            "master_targets": {
                "vars": {
                    "readiness_protected_vms": ["prod-web-01", "prod-db-01"],
                    "readiness_retention_disk_min_gb": 1024,
                    "readiness_report_dir": "",
                },
                "hosts": {
                    "asr-mt-01": {
                        "ansible_connection": "local",
                        "ansible_python_interpreter": sys.executable,
                        "vsphere_vm_folder": "asr",
                        "vsphere_scsi_convert": True,
                        "vsphere_scsi_type": "lsilogicsas",
                        "vsphere_scsi_guest_ready": True,  # the scene's guest boots from any controller
                        "vsphere_power_off_allowed": True,
                        "vsphere_retention_disk_datastore": "vmfs-mt-01",
                        "vsphere_retention_disk_size_gb": 1024,
                        "vsphere_datastores": ["vmfs-prod-01", "vmfs-prod-02", "vmfs-unmounted"],
                        "vsphere_tools_timeout": 30,
                    }
                },
            },
            "master_target_guests": {"hosts": {}},
            "linux": {"hosts": {}},
            "windows": {"hosts": {}},
        }
    }
}

# The vsphere role alone, on the same inventory: what the CI sample runs (see README.md).
ROLE_PLAYBOOK = """
- name: Prepare the master targets in vCenter
  hosts: master_targets
  gather_facts: false
  roles:
    - role: siterecovery.master_target.vsphere
"""
PLAYBOOKS = {"prepare": PREPARE_PLAYBOOK, "role": ROLE_PLAYBOOK}

# What comparable() rewrites, and why; every other value must be equal to the reference's.
IGNORED = [
    ("Datastore moids, summary.url and paths: the random number in vcsim-harness-<n> and govcsim-<...>-<n>",
     "each simulator keeps its datastores in a temporary directory of its own (an id)"),
    ("every date-time value (VM config.modified, runtime.bootTime, snapshot createTime, ...)",
     "the time of an operation differs between two runs; set or unset is still compared"),
    ("VM extraConfig siterecovery.diskEnableUUID.changed",
     "a time: compared only as before or after the VM's runtime.bootTime (was the VM power-cycled since?)"),
    ("every virtual disk's backing.uuid, and the same string anywhere else (the retention disk marker)",
     "vCenter makes a new disk's uuid up; replaced by the VM and disk it names, so the marker must still name the same disk"),
    ("the order of a datastore's host mounts (Datastore.host)",
     "a set: vcsim lists the mounts of its own local datastore in a different order in each simulator; sorted by host"),
    ("summary.freeSpace of vcsim's own local datastore (govcsim-...-LocalDS_0, no scene VM lives there)",
     "vcsim reports the free space of the machine's temporary file system, which other processes change"),
    ("the order of keyed lists (devices by label, extraConfig options, host mounts, DRS and Storage DRS overrides by key or VM)",
     "compared as sets keyed by what names each item, so that a diff names the item; their order carries no state"),
]
_RANDOM_DIR = re.compile(r"\b(vcsim-harness|govcsim-[\w-]+?)-\d+\b")
_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?([+-]\d\d:\d\d|Z)?$")
ENABLE_UUID_CHANGED = "siterecovery.diskEnableUUID.changed"
_READS = re.compile(r"GET |(Continue)?Retrieve|Query|Has|Fetch|Find|WaitFor|CurrentTime$|Login$|Logout$|CreateContainerView$|DestroyView$")
SPARES = 2  # converged simulators kept for second-run cases, which would otherwise prepare one


@dataclass(frozen=True)
class Case:
    run: str  # "first" or "second"
    k: int  # the request cut, 1 = the run's first request
    mode: str  # a key of MODES

    @property
    def name(self):
        return f"{self.run}-{self.k}-{self.mode}"


@dataclass
class Reference:
    playbook: str
    calls: dict  # run -> [(index, label)]
    state: dict  # comparable() state after an uncut preparation
    seconds: dict  # run -> wall time of the uncut run

    def method(self, case):
        calls = self.calls[case.run]
        return calls[case.k - 1][1] if 0 < case.k <= len(calls) else None

    def cases(self, runs=RUNS, modes=tuple(MODES)):
        return [Case(run, k, mode) for run in runs for k in range(1, len(self.calls[run]) + 1) for mode in modes]


@dataclass
class Outcome:
    case: Case
    method: str | None  # the method recorded at k in the reference sequence
    verdict: str = "converged"  # converged, diverged or error (the case could not be run as planned)
    cut: dict | None = None  # what the proxy cut (method, index...) or None when nothing was
    cut_task: str | None = None  # the task that failed in the cut run, and its message
    cut_message: str | None = None
    rerun_failed: str | None = None  # the re-run's failing task and message, when it failed
    rerun_changed: int | None = None
    diff: list = field(default_factory=list)  # "path: reference -> case" lines
    note: str = ""
    seconds: float = 0.0
    cpu_seconds: float = 0.0  # this process and its children (Ansible, the simulator); only exact with one case at a time

    def as_dict(self):
        out = asdict(self)
        out["case"] = asdict(self.case)
        return out


# --- state -------------------------------------------------------------------------------------------


def read_state(si):
    """The raw dump (tests/support/statedump.py): every VM, host, datastore, cluster and datastore cluster."""
    return dump(si)


def comparable(state):
    """The dump with only IGNORED rewritten (a new dict; the argument is left as it is)."""
    names = {}
    for key in sorted(state):
        obj = state[key]
        if not key.startswith("VirtualMachine:"):
            continue
        for device in (obj.get("config") or {}).get("hardware", {}).get("device", []):
            uuid = (device.get("backing") or {}).get("uuid")
            if uuid and uuid not in names:
                names[uuid] = f"<uuid of {obj.get('name')}: {device.get('deviceInfo', {}).get('label')}>"
    text = _RANDOM_DIR.sub(r"\1-<n>", json.dumps(state, sort_keys=True))
    for uuid, name in names.items():
        text = text.replace(json.dumps(uuid), json.dumps(name))
    out = json.loads(text)
    for key, obj in out.items():
        _relative_enable_uuid_time(obj)
        if key.startswith("Datastore:"):
            obj["host"] = sorted(obj.get("host") or [], key=lambda mount: mount.get("key", ""))
            if "govcsim-" in key and "freeSpace" in (obj.get("summary") or {}):
                obj["summary"]["freeSpace"] = "<free space of the machine's file system>"
    return _keyed(_without_times(out))


def _relative_enable_uuid_time(vm):
    options = (vm.get("config") or {}).get("extraConfig") or []
    boot = (vm.get("runtime") or {}).get("bootTime")
    for option in options:
        if option.get("key") == ENABLE_UUID_CHANGED and isinstance(option.get("value"), str):
            if boot is None:
                option["value"] = "<time; the VM has no boot time>"
            else:
                before = _when(option["value"]) < _when(boot)
                option["value"] = "<time, before the VM's boot time>" if before else "<time, after the VM's boot time>"


def _when(text):
    return datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))


def _keyed(value):
    """Lists of keyed items (devices, extraConfig options, mounts, overrides) as dicts, so that a diff
    names the item (its label or key) instead of a list position; their order is not compared."""
    if isinstance(value, dict):
        return {key: _keyed(item) for key, item in value.items()}
    if not isinstance(value, list):
        return value
    items = [_keyed(item) for item in value]
    labels = [_item_key(item) for item in items]
    if items and None not in labels and len(set(labels)) == len(labels):
        return dict(zip(labels, items))
    return items


def _item_key(item):
    if not isinstance(item, dict):
        return None
    label = (item.get("deviceInfo") or {}).get("label") if isinstance(item.get("deviceInfo"), dict) else None
    for candidate in (label, item.get("key"), item.get("vm")):
        if isinstance(candidate, (str, int)) and not isinstance(candidate, bool):
            return str(candidate)
    return None


def _without_times(value):
    if isinstance(value, dict):
        return {key: _without_times(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_without_times(item) for item in value]
    if isinstance(value, str) and _TIME.match(value):
        return "<time>"
    return value


def diff_lines(reference, state, limit=60):
    """What differs, one "path: reference -> this case" line each."""
    if reference == state:
        return []
    return describe(reference, state, limit=limit).splitlines()


# --- running playbooks ----------------------------------------------------------------------------------


class Scene:
    """The inventory file and playbook text of a soak run, in a temporary directory of its own."""

    def __init__(self, playbook="prepare"):
        if playbook not in PLAYBOOKS:
            raise ValueError(f"playbook must be one of {sorted(PLAYBOOKS)}, not {playbook!r}")
        self.playbook_name = playbook
        self.directory = tempfile.mkdtemp(prefix="soak-scene-")
        self.inventory = os.path.join(self.directory, "inventory.json")
        with open(self.inventory, "w", encoding="utf-8") as handle:
            json.dump(INVENTORY, handle)
        self.playbook = PLAYBOOKS[playbook]

    def run(self, env):
        return run_playbook(self.playbook, env=env, inventory=self.inventory, timeout=600)

    def close(self):
        shutil.rmtree(self.directory, ignore_errors=True)


def failed_task(result):
    """(task name, message) of the first failed task of a playbook result, or (None, None)."""
    for task in result["tasks"]:
        if task["result"].get("failed"):
            return task["task"].rsplit(" : ", 1)[-1], str(task["result"].get("msg", ""))[:2000]
    return None, None


def total_changed(result):
    return sum(stat.get("changed", 0) for stat in result["stats"].values())


def _cpu():
    """CPU seconds of this process and of its children waited for so far."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _sim():
    return start_vcsim(scene="default", stderr=open(os.devnull, "w", encoding="utf-8"))  # pylint: disable=consider-using-with


def record_reference(scene, spare=None):
    """Two uncut runs on a fresh simulator, recorded: the call sequences and the state they leave.

    With a list as `spare`, the simulator is not stopped but appended to it: it is prepared, and a
    Soak given it as its spare runs second-run cases on it instead of preparing another.
    """
    sim = _sim()
    keep = False
    try:
        calls, seconds = {}, {}
        for run in RUNS:
            with CutProxy(sim.host, sim.port) as proxy:
                started = time.monotonic()
                result = scene.run(proxy.env(sim.env()))
                seconds[run] = round(time.monotonic() - started, 1)
                calls[run] = list(proxy.calls)
            task, message = failed_task(result)
            if result.failed_hosts:
                raise RuntimeError(f"the uncut {run} run failed at {task!r}: {message}{result.debug}")
            if run == "second" and total_changed(result):
                raise RuntimeError(f"the uncut second run changed something: not idempotent{result.debug}")
            state = comparable(read_state(sim.connect()))
            if run == "first":
                reference_state = state
            elif state != reference_state:
                raise RuntimeError("the uncut second run changed the state:\n" + "\n".join(diff_lines(reference_state, state)))
        keep = spare is not None
        if keep:
            spare.append(sim)
        return Reference(playbook=scene.playbook_name, calls=calls, state=reference_state, seconds=seconds)
    finally:
        if not keep:
            sim.stop()


class _Prepared(threading.local):
    """One prepared simulator per worker thread, reused by second-run cases while they change nothing."""

    sim = None


class Soak:
    """Runs cases against one reference; thread-safe (each case has its own simulator and proxy)."""

    def __init__(self, scene, reference, spare=()):
        self.scene = scene
        self.reference = reference
        self._prepared = _Prepared()
        self._spare = list(spare)  # prepared simulators no thread uses yet (record_reference's)
        self._all_prepared = list(spare)
        self._lock = threading.Lock()

    def close(self):
        with self._lock:
            for sim in self._all_prepared:
                sim.stop()
            self._all_prepared.clear()

    def run_case(self, case):
        started, cpu = time.monotonic(), _cpu()
        outcome = Outcome(case=case, method=self.reference.method(case))
        try:
            if case.run == "first":
                self._first(case, outcome)
            else:
                self._second(case, outcome)
        except Exception as error:  # pylint: disable=broad-exception-caught
            outcome.verdict, outcome.note = "error", f"{type(error).__name__}: {error}"[:4000]
            if case.run == "second":
                self._drop_prepared()
        outcome.seconds = round(time.monotonic() - started, 1)
        outcome.cpu_seconds = round(_cpu() - cpu, 1)
        return outcome

    def _cut_run(self, sim, case, outcome):
        """Run the playbook through a proxy armed at k; fill outcome's cut facts; False if no cut happened as planned."""
        with CutProxy(sim.host, sim.port) as proxy:
            proxy.arm(index=case.k, **MODES[case.mode])
            result = self.scene.run(proxy.env(sim.env()))
            calls = list(proxy.calls)
        outcome.cut = proxy.cuts[0] if proxy.cuts else None
        outcome.cut_task, outcome.cut_message = failed_task(result)
        expected = [label for _index, label in self.reference.calls[case.run][: case.k]]
        seen = [label for _index, label in calls[: case.k]]
        if outcome.cut is not None and seen == expected:
            return True
        outcome.verdict = "error"
        if len(seen) < case.k:
            outcome.note = f"the run made only {len(seen)} requests: nothing was cut at {case.k}"
        else:
            first = next((i for i, (one, two) in enumerate(zip(expected, seen)) if one != two), case.k - 1)
            outcome.note = (f"the run's requests differ from the reference's from request {first + 1} on "
                            f"({expected[first:first + 2]} recorded, {seen[first:first + 2]} in this run): the sequence is not deterministic")
        return False

    def _rerun(self, sim, outcome):
        result = self.scene.run(sim.env())
        task, message = failed_task(result)
        if result.failed_hosts:
            outcome.rerun_failed = f"{task}: {message}"
        outcome.rerun_changed = total_changed(result)
        return comparable(read_state(sim.connect()))

    def _first(self, case, outcome):
        sim = _sim()
        try:
            if not self._cut_run(sim, case, outcome):
                return
            state = self._rerun(sim, outcome)
            outcome.diff = diff_lines(self.reference.state, state)
            if outcome.diff or outcome.rerun_failed:
                outcome.verdict = "diverged"
            else:
                sim = self._keep_as_spare(sim)
        finally:
            if sim is not None:
                sim.stop()

    def _keep_as_spare(self, sim):
        """A converged simulator is a prepared one: keep a few for second-run cases (None: kept)."""
        with self._lock:
            if len(self._spare) >= SPARES:
                return sim
            self._spare.append(sim)
            self._all_prepared.append(sim)
        return None

    def _second(self, case, outcome):
        if self._prepared.sim is None:
            with self._lock:
                self._prepared.sim = self._spare.pop() if self._spare else None
        sim = self._prepared.sim
        if sim is None:
            sim = _sim()
            with self._lock:
                self._all_prepared.append(sim)
            result = self.scene.run(sim.env())
            state = comparable(read_state(sim.connect()))
            if result.failed_hosts or state != self.reference.state:
                raise RuntimeError("preparing a simulator for second-run cases did not give the reference state:\n"
                                   + "\n".join(diff_lines(self.reference.state, state)) + result.debug)
            self._prepared.sim = sim
        self._cut_run(sim, case, outcome)
        state = comparable(read_state(sim.connect()))
        outcome.diff = diff_lines(self.reference.state, state)
        if outcome.diff:
            outcome.verdict = "diverged"
            after = self._rerun(sim, outcome)
            outcome.note = "the cut re-run changed the state; a clean run after it " + (
                "restores the reference state" if after == self.reference.state else "does not restore it")
        if outcome.diff or outcome.verdict == "error":
            self._drop_prepared()

    def _drop_prepared(self):
        """This thread's simulator is not (or no longer known to be) the prepared reference: the next case prepares another."""
        sim, self._prepared.sim = self._prepared.sim, None
        if sim is not None:
            with self._lock:
                self._all_prepared.remove(sim)
            sim.stop()


# --- choosing cases ---------------------------------------------------------------------------------------


def sample_slots(n, seed, runs=RUNS, modes=tuple(MODES)):
    """n case slots (run, stratum, strata, mode), spread over the runs, the sequence and the modes.

    With both runs, a fifth of the slots (rounded down) go to the second run. Each run's sequence
    is cut into as many equal strata as it has slots; slot i picks a k in stratum i (slot_case:
    preferably a change or the request after it) and the modes take turns, starting at a mode
    chosen by the seed. Independent of the sequence, so that pytest can name the slots before
    anything is recorded.
    """
    second = n // 5 if len(runs) == 2 else (n if runs == ("second",) else 0)
    counts = {"first": n - second, "second": second}
    rng = random.Random(f"{seed}-modes")
    slots = []
    for run in runs:
        start = rng.randrange(len(modes))
        slots += [(run, i, counts[run], modes[(start + i) % len(modes)]) for i in range(counts[run])]
    return slots


def changes_something(label):
    """Whether a request may change something in vCenter (every method but the reads, the session and the views)."""
    return not _READS.match(label)


def slot_case(slot, calls, seed):
    """The Case of a slot for a run whose requests are `calls` ([(index, label)]): a k from the slot's
    stratum, drawn by the seed among the requests that change something in vCenter and the ones right
    after them (their reply read, or the wait for their task) when the stratum has any, else among all."""
    run, stratum, strata, mode = slot
    length = len(calls)
    low = min(length, 1 + (stratum * length) // strata)
    high = min(length, max(low, ((stratum + 1) * length) // strata))
    labels = [label for _index, label in calls]
    near = [k for k in range(low, high + 1) if changes_something(labels[k - 1]) or (k > 1 and changes_something(labels[k - 2]))]
    rng = random.Random(f"{seed}-{run}-{stratum}")
    return Case(run, rng.choice(near) if near else rng.randint(low, high), mode)


def sample(reference, n, seed, runs=RUNS, modes=tuple(MODES)):
    cases = [slot_case(slot, reference.calls[slot[0]], seed) for slot in sample_slots(n, seed, tuple(runs), tuple(modes))]
    return sorted(set(cases), key=lambda case: (RUNS.index(case.run), case.k, case.mode))
