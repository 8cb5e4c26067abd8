#!/usr/bin/env python
"""Benchmark siterecovery.master_target against community.vmware on one vCenter simulator.

    .venv/bin/python benchmarks/run.py --quick          # N=1, lookup in 100 VMs: about 2 minutes
    .venv/bin/python benchmarks/run.py                  # N=1,10,50 and lookups in 100 and 1,000 VMs

Part 1, prepare N master targets: one simulator with N master targets per side, plus 2; this
collection's role vsphere (playbooks/ours.yml) prepares asr-mt-03 .. asr-mt-N+2, the same with the
session cache the next N, the community.vmware equivalent (playbooks/community.yml) the next N.
First runs: ours, ours+cache, community. Idempotent re-runs alternate (community, ours+cache, ours,
ours, ...) so drift on this shared machine hits every side alike. --sides runs a subset.
Part 2, find one VM by name: a simulator with K extra VMs; one read-only call of each collection
(vm_snapshots_info / vmware_guest_snapshot_info on asr-mt-01), alternating, repeated.

Every request of both collections goes through benchmarks/soapcount.py, a counting HTTPS proxy on
loopback: SOAP requests are counted per method, at the same place for both.
Prints a Markdown table; --json writes every number.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path[:0] = [str(REPO / "tests"), str(HERE)]

from soapcount import BYTES, CountingProxy  # noqa: E402
from support.ansible import _ansible_bin, _parse_json, ansible_env  # noqa: E402
from support.vcsim import Vcsim  # noqa: E402

# "ours+cache": our playbook with the opt-in session cache (SITERECOVERY_VSPHERE_SESSION_CACHE=true).
SIDES = ("ours", "ours+cache", "community")
PLAYBOOK = {"ours": "ours.yml", "ours+cache": "ours.yml", "community": "community.yml"}


class BenchError(RuntimeError):
    pass


def is_module_call(action):
    """Whether a task's action is a module of a collection that talks to vCenter.

    ansible.builtin tasks (validate_argument_spec, include_tasks, set_fact, fail, debug: the role's
    own plumbing) run in the controller and are not counted, so that "module calls" compares the
    vCenter work of both sides.
    """
    return not action.startswith(("ansible.builtin.", "ansible.legacy."))


def counts(document):
    """Module calls, all task results, changed and failed of a json-callback document.

    Skipped results are not counted; a loop item is one result. "changed" and "failed" are over all
    results (an ansible.builtin.fail counts as failed).
    """
    calls = results = changed = failed = 0
    for play in document["plays"]:
        for task in play["tasks"]:
            for result in task["hosts"].values():
                items = result.get("results") if isinstance(result.get("results"), list) else [result]
                for item in items:
                    if item.get("skipped"):
                        continue
                    results += 1
                    calls += is_module_call(item.get("action") or result.get("action") or "")
                    changed += bool(item.get("changed"))
                    failed += bool(item.get("failed"))
    return dict(calls=calls, results=results, changed=changed, failed=failed)


def task_summary(document):
    """Per task: name, action, seconds (first start to last end), module calls, results, changed."""
    out = []
    for play in document["plays"]:
        for task in play["tasks"]:
            count = counts({"plays": [{"tasks": [task]}]})
            action = next((result.get("action") for result in task["hosts"].values() if result.get("action")), None)
            duration = task["task"].get("duration") or {}
            seconds = None
            if duration.get("start") and duration.get("end"):
                from datetime import datetime  # pylint: disable=import-outside-toplevel

                seconds = round((datetime.fromisoformat(duration["end"].replace("Z", "+00:00"))
                                 - datetime.fromisoformat(duration["start"].replace("Z", "+00:00"))).total_seconds(), 2)
            out.append(dict(task=task["task"]["name"], action=action, seconds=seconds, calls=count["calls"],
                            results=count["results"], changed=count["changed"]))
    return out


def first_failure(document):
    for play in document["plays"]:
        for task in play["tasks"]:
            for host, result in task["hosts"].items():
                if result.get("failed") or result.get("unreachable"):
                    return f"{task['task']['name']} on {host}: {result.get('msg')}"
    return None


class Runner:
    def __init__(self, workdir, env, proxy, forks, log):
        self.workdir, self.env, self.proxy, self.forks, self.log = workdir, env, proxy, forks, log
        (workdir / "ansible.cfg").write_text("[defaults]\n")  # shadow ~/.ansible.cfg and /etc/ansible

    def playbook(self, playbook, inventory, label, env=None):
        before = self.proxy.snapshot()
        command = [_ansible_bin("ansible-playbook"), "-i", str(inventory), "-f", str(self.forks), str(playbook)]
        cpu_before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.monotonic()
        proc = subprocess.run(command, cwd=self.workdir, env=env or self.env, stdin=subprocess.DEVNULL,
                              capture_output=True, text=True, check=False)
        seconds = time.monotonic() - started
        cpu_after = resource.getrusage(resource.RUSAGE_CHILDREN)
        # CPU of ansible-playbook and every process it waited for (workers, modules): steadier than
        # wall time on a shared machine. The simulator and the proxy are not in it.
        cpu = (cpu_after.ru_utime - cpu_before.ru_utime) + (cpu_after.ru_stime - cpu_before.ru_stime)
        soap = self.proxy.snapshot() - before
        document = _parse_json(proc.stdout)
        if document is None:
            raise BenchError(f"{label}: ansible-playbook rc={proc.returncode}, no result\n{proc.stderr[-3000:]}\n{proc.stdout[-3000:]}")
        count = counts(document)
        failed = count["failed"] + sum(stat.get("failures", 0) + stat.get("unreachable", 0) for stat in document.get("stats", {}).values())
        if failed or proc.returncode:
            raise BenchError(f"{label}: {failed} failed tasks; first: {first_failure(document)}")
        requests = sum(number for key, number in soap.items() if key != BYTES)
        row = dict(label=label, seconds=round(seconds, 2), cpu=round(cpu, 2), calls=count["calls"], results=count["results"],
                   changed=count["changed"], requests=requests, bytes=soap[BYTES], tasks=task_summary(document),
                   methods=dict(sorted((k, v) for k, v in soap.items() if k != BYTES)))
        self.log(f"  {label}: {seconds:.1f} s ({cpu:.1f} s CPU), {count['calls']} module calls ({count['results']} task results), "
                 f"{count['changed']} changed, {requests} SOAP requests")
        return row


def side_env(side, env, workdir):
    if side != "ours+cache":
        return env
    return dict(env, SITERECOVERY_VSPHERE_SESSION_CACHE="true", SITERECOVERY_VSPHERE_SESSION_CACHE_DIR=str(workdir / "sessions"))


def inventory(path, names):
    hosts = {name: dict(ansible_connection="local", ansible_python_interpreter=sys.executable) for name in names}
    path.write_text(json.dumps({"all": {"hosts": hosts}}, indent=1))
    return path


def prepare_bench(n, args, log):
    """Part 1 for N master targets per collection; returns the rows of this N."""
    sides = args.sides
    count = len(sides) * n + 2
    log(f"N={n}: simulator with {count} master targets")
    with tempfile.TemporaryDirectory(prefix="siterecovery-bench-") as tmp, \
            Vcsim(master_targets=count, stderr=open(Path(tmp) / "vcsim.log", "w")) as sim, \
            CountingProxy(sim.host, sim.port, args.latency_ms / 1000.0) as proxy:
        workdir = Path(tmp)
        env = ansible_env(dict(sim.env(), VMWARE_PORT=str(proxy.port)))
        # Each side prepares its own N master targets (asr-mt-03 onwards), all built alike.
        names = {side: [f"asr-mt-{3 + index * n + i:02d}" for i in range(n)] for index, side in enumerate(sides)}
        inventories = {side: inventory(workdir / f"{side}.json", names[side]) for side in sides}
        playbooks = {side: HERE / "playbooks" / PLAYBOOK[side] for side in sides}
        envs = {side: side_env(side, env, workdir) for side in sides}
        runner = Runner(workdir, env, proxy, args.forks, log)
        rows = {side: {} for side in sides}
        for side in sides:
            rows[side]["first"] = runner.playbook(playbooks[side], inventories[side], f"N={n} {side} first run", envs[side])
        reruns = {side: [] for side in sides}
        for repeat in range(args.reruns):
            order = sides[::-1] if repeat % 2 == 0 else sides  # A B C, then C B A, A B C, ...
            for side in order:
                reruns[side].append(runner.playbook(playbooks[side], inventories[side], f"N={n} {side} re-run {repeat + 1}", envs[side]))
        for side in sides:
            best = sorted(reruns[side], key=lambda row: row["seconds"])
            row = dict(best[len(best) // 2])  # the median run (the lower one of two)
            row["all_seconds"] = [r["seconds"] for r in reruns[side]]
            rows[side]["rerun"] = row
        return rows


def lookup_bench(k, args, log):
    """Part 2: one read-only call of each collection that finds asr-mt-01 by name among k+~12 VMs."""
    log(f"lookup: simulator with {k} extra VMs")
    plays = {
        "ours": {"siterecovery.master_target.vm_snapshots_info": {"name": "asr-mt-01", "folder": "asr"}},
        "ours+cache": {"siterecovery.master_target.vm_snapshots_info": {"name": "asr-mt-01", "folder": "asr"}},
        "community": {"community.vmware.vmware_guest_snapshot_info": {"name": "asr-mt-01", "datacenter": "DC0", "folder": "/DC0/vm/asr"}},
    }
    with tempfile.TemporaryDirectory(prefix="siterecovery-bench-") as tmp, \
            Vcsim(extra_vms=k, stderr=open(Path(tmp) / "vcsim.log", "w")) as sim, \
            CountingProxy(sim.host, sim.port, args.latency_ms / 1000.0) as proxy:
        workdir = Path(tmp)
        env = ansible_env(dict(sim.env(), VMWARE_PORT=str(proxy.port)))
        runner = Runner(workdir, env, proxy, 1, log)
        inv = workdir / "localhost.json"
        inv.write_text(json.dumps({"all": {"hosts": {"localhost": {"ansible_connection": "local", "ansible_python_interpreter": sys.executable}}}}))
        books = {}
        sides = args.sides
        for side in sides:
            task = plays[side]
            books[side] = workdir / f"lookup-{side.replace('+', '-')}.yml"
            name = next(iter(task))
            books[side].write_text(json.dumps([{"name": "lookup", "hosts": "all", "gather_facts": False, "tasks": [{"name": name, **task}]}]))
        runs = {side: [] for side in sides}
        for repeat in range(args.lookup_repeats):
            for side in (sides if repeat % 2 == 0 else sides[::-1]):
                runs[side].append(runner.playbook(books[side], inv, f"lookup K={k} {side} #{repeat + 1}", side_env(side, env, workdir)))
        rows = {}
        for side in sides:
            row = dict(runs[side][-1])  # the counts of the last call (with the cache: a warm cache)
            row["seconds"] = round(statistics.median(r["seconds"] for r in runs[side]), 2)
            row["cpu"] = round(statistics.median(r["cpu"] for r in runs[side]), 2)
            row["all_seconds"] = [r["seconds"] for r in runs[side]]
            rows[side] = row
        return rows


def ratio(a, b):
    return f"{a / b:.2f}x" if b else "-"


def per_call(row):
    return f"{row['requests'] / row['calls']:.1f}" if row["calls"] else "-"


TITLE = {"ours": "ours", "ours+cache": "ours+cache", "community": "community.vmware"}


def table(results):
    """One row per scenario: wall time, CPU time and requests per module call of each side, and the ratios."""
    sides = results["sides"]
    # community.vmware's time over each of our sides, when both were run.
    ratios = [side for side in sides if side != "community"] if "community" in sides else []
    each = " / ".join(sides)
    lines = ["| scenario | " + " | ".join(f"{TITLE[side]} s (CPU s)" for side in sides)
             + "".join(f" | community / {side}" for side in ratios)
             + f" | SOAP requests per module call: {each} | module calls | task results | changed |",
             "| --- |" + " ---: |" * (len(sides) + len(ratios) + 4)]

    def row(title, by_side):
        cells = [f"{by_side[side]['seconds']:.1f} ({by_side[side]['cpu']:.1f})" for side in sides]
        c = by_side.get("community")
        cells += [f"{ratio(c['seconds'], by_side[side]['seconds'])} (CPU {ratio(c['cpu'], by_side[side]['cpu'])})" for side in ratios]
        cells.append(" / ".join(per_call(by_side[side]) for side in sides))
        for key in ("calls", "results", "changed"):
            cells.append(" / ".join(str(by_side[side][key]) for side in sides))
        return f"| {title} | " + " | ".join(cells) + " |"

    for n, rows in results["prepare"].items():
        for phase, title in (("first", "first run"), ("rerun", "idempotent re-run")):
            lines.append(row(f"N={n} {title}", {side: rows[side][phase] for side in sides}))
    for k, rows in results["lookup"].items():
        line = row(f"find 1 VM by name, {k} extra VMs", rows)
        kib = " / ".join(f"{rows[side]['bytes'] // 1024}" for side in sides)
        lines.append(line[:-2] + f" ({kib} KiB read) |")
    return "\n".join(lines)


def methods_table(results):
    """Requests per method, per module call, for the re-runs and lookups (where the round trips go)."""
    columns = []
    for n, rows in results["prepare"].items():
        for side in results["sides"]:
            columns.append((f"N={n} re-run {side}", rows[side]["rerun"]))
    for k, rows in results["lookup"].items():
        for side in results["sides"]:
            columns.append((f"lookup {k} {side}", rows[side]))
    methods = sorted({m for _title, row in columns for m in row["methods"]})
    lines = ["| method | " + " | ".join(title for title, _row in columns) + " |", "| --- |" + " ---: |" * len(columns)]
    for method in methods:
        cells = [f"{row['methods'].get(method, 0) / row['calls']:.2f}" if row["calls"] else "-" for _title, row in columns]
        lines.append(f"| {method} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def machine():
    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    import ansible  # pylint: disable=import-outside-toplevel
    import pyVmomi  # pylint: disable=import-outside-toplevel

    cv = REPO / ".venv/lib/python3.12/site-packages/ansible_collections/community/vmware/MANIFEST.json"
    cv_version = json.loads(cv.read_text())["collection_info"]["version"] if cv.exists() else "?"
    return dict(cpu=cpu, cores=os.cpu_count(), python=platform.python_version(), kernel=platform.release(),
                ansible_core=ansible.__version__ if hasattr(ansible, "__version__") else "?",
                pyvmomi=getattr(pyVmomi, "version_info_str", "?"), community_vmware=cv_version,
                loadavg=os.getloadavg())


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--quick", action="store_true", help="N=1 and a lookup among 100 VMs only")
    parser.add_argument("--sizes", default=None, help="comma-separated N (default 1,10,50; --quick: 1)")
    parser.add_argument("--lookup-sizes", default=None, help="comma-separated extra VMs (default 100,1000; --quick: 100; 0: none)")
    parser.add_argument("--reruns", type=int, default=2, help="idempotent re-runs per collection (default 2, alternating)")
    parser.add_argument("--lookup-repeats", type=int, default=4, help="calls per collection in the lookup part (default 4)")
    parser.add_argument("--forks", type=int, default=5, help="ansible-playbook forks (default 5, Ansible's default)")
    parser.add_argument("--latency-ms", type=float, default=0.0,
                        help="added to every request at the proxy, as a network round trip to a real vCenter would (default 0)")
    parser.add_argument("--sides", default=",".join(SIDES),
                        help=f"comma-separated subset of {','.join(SIDES)} (default all; run in this order whatever the order given)")
    parser.add_argument("--json", help="write every number to this file")
    args = parser.parse_args(argv)
    wanted = [x for x in args.sides.split(",") if x]
    unknown = sorted(set(wanted) - set(SIDES))
    if unknown or not wanted:
        parser.error(f"--sides: unknown {', '.join(unknown) or 'empty list'}; choose among {', '.join(SIDES)}")
    args.sides = tuple(side for side in SIDES if side in wanted)
    sizes = [int(x) for x in (args.sizes or ("1" if args.quick else "1,10,50")).split(",") if x]
    lookups = [int(x) for x in (args.lookup_sizes or ("100" if args.quick else "100,1000")).split(",") if int(x)]

    def log(text):
        print(text, file=sys.stderr, flush=True)

    started = time.monotonic()
    results = dict(machine=machine(), command=" ".join([Path(sys.executable).name] + sys.argv), forks=args.forks, latency_ms=args.latency_ms,
                   sides=args.sides,
                   env={k: v for k, v in os.environ.items() if k.startswith("SITERECOVERY_VSPHERE")},
                   prepare={}, lookup={})
    try:
        for n in sizes:
            results["prepare"][n] = prepare_bench(n, args, log)
        for k in lookups:
            results["lookup"][k] = lookup_bench(k, args, log)
    except BenchError as error:
        log(f"benchmark failed: {error}")
        return 1
    results["seconds"] = round(time.monotonic() - started, 1)
    results["machine"]["loadavg_end"] = os.getloadavg()
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1, default=str))
    print(table(results))
    print()
    print(methods_table(results))
    print(f"\n{results['machine']}; forks={args.forks}; latency {args.latency_ms} ms per request; {results['seconds']} s in all")
    return 0


if __name__ == "__main__":
    sys.exit(main())
