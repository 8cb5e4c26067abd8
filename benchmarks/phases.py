#!/usr/bin/env python
"""Where the time of one module call goes: each phase timed in fresh Python processes.

    .venv/bin/python benchmarks/phases.py [--repeat 5]

Phases, in the order a module of this collection runs them (medians of --repeat fresh processes):
python start-up, `import ansible.module_utils.basic`, `import pyVmomi`, login (connect()), the VM
lookup by name (find_vm), one property read, logout; and, through ansible-playbook, the whole task
for `ansible.builtin.ping` (Ansible's floor for any module) and for vm_snapshots_info. With
SITERECOVERY_VSPHERE_SESSION_CACHE set, login shows the cached-session path.
Every SOAP request goes through the counting proxy (benchmarks/soapcount.py), per phase.
"""

from __future__ import annotations

import argparse
import json
import os
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
from support.ansible import _ansible_bin, ansible_env  # noqa: E402
from support.collection import ensure_collection_tree  # noqa: E402
from support.vcsim import Vcsim  # noqa: E402

# Runs in a fresh interpreter; prints one JSON line of phase -> seconds. Requests are counted by the
# parent between phases through a pipe handshake (the child waits for "go" after each phase).
CHILD = r"""
import json, sys, time
def mark(name):
    global last
    now = time.perf_counter()
    times[name] = now - last
    sys.stdout.write(name + "\n"); sys.stdout.flush()
    sys.stdin.readline()
    last = time.perf_counter()
times = {}
last = START
mark("script start (after the interpreter)")
import ansible.module_utils.basic
mark("import ansible.module_utils.basic")
import pyVmomi
mark("import pyVmomi")
from ansible_collections.siterecovery.master_target.plugins.module_utils import _vsphere_client, _vsphere_lookup
mark("import our module_utils")
params = json.loads(sys.argv[1])
client = _vsphere_client.connect(params)
mark("login (connect)")
vm = _vsphere_lookup.find_vm(client, params, ["snapshot", "runtime.powerState"])
mark("find_vm by name (+ its properties)")
_vsphere_lookup.read_object(client, vm.obj, ["config.hardware.device"])
mark("one more property read")
client.disconnect()
mark("logout (or keep the cached session)")
print(json.dumps(times))
"""


def run_child(params, env, proxy):
    code = f"import time; START = time.perf_counter()\n{CHILD}"
    proc = subprocess.Popen([sys.executable, "-c", code, json.dumps(params)], env=env, stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)
    requests = {}
    before = proxy.snapshot()
    while True:
        line = proc.stdout.readline()
        if not line or line.startswith("{"):
            times = json.loads(line)
            break
        now = proxy.snapshot()
        requests[line.strip()] = sum(v for k, v in (now - before).items() if k != BYTES)
        before = now
        proc.stdin.write("go\n")
        proc.stdin.flush()
    proc.wait()
    # The interpreter's own start-up, before START could be taken, is measured apart (python_floor).
    return times, requests


def python_floor(repeat):
    samples = []
    for _repeat in range(repeat):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], check=True)
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def playbook_task(module, args, env, repeat, workdir):
    """Median seconds of a one-task, one-host ansible-playbook run, and of the task alone."""
    play = [{"name": "p", "hosts": "localhost", "gather_facts": False, "tasks": [{"name": "t", module: args}]}]
    book = workdir / f"{module}.yml"
    book.write_text(json.dumps(play))
    inv = workdir / "inv.json"
    inv.write_text(json.dumps({"all": {"hosts": {"localhost": {"ansible_connection": "local", "ansible_python_interpreter": sys.executable}}}}))
    (workdir / "ansible.cfg").write_text("[defaults]\n")
    samples = []
    for _repeat in range(repeat):
        started = time.perf_counter()
        proc = subprocess.run([_ansible_bin("ansible-playbook"), "-i", str(inv), str(book)], cwd=workdir, env=env,
                              capture_output=True, text=True, check=False)
        if proc.returncode:
            raise RuntimeError(proc.stdout[-2000:] + proc.stderr[-2000:])
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--extra-vms", type=int, default=0)
    args = parser.parse_args(argv)
    collections = ensure_collection_tree()
    with tempfile.TemporaryDirectory(prefix="siterecovery-phases-") as tmp, \
            Vcsim(extra_vms=args.extra_vms, stderr=open(Path(tmp) / "vcsim.log", "w")) as sim, \
            CountingProxy(sim.host, sim.port) as proxy:
        env = dict(os.environ, PYTHONPATH=collections)
        params = dict(hostname=sim.host, port=proxy.port, username=sim.username, password=sim.password,
                      validate_certs=False, name="asr-mt-01", folder="asr")
        samples = []
        for _repeat in range(args.repeat):
            samples.append(run_child(params, env, proxy))
        phases = list(samples[0][0])
        floor = python_floor(args.repeat)
        print("| phase | median ms | SOAP requests |")
        print("| --- | ---: | ---: |")
        print(f"| interpreter start (`python -c pass`) | {floor * 1000:.0f} | 0 |")
        for phase in phases:
            ms = statistics.median(s[0][phase] for s in samples) * 1000
            print(f"| {phase} | {ms:.0f} | {samples[-1][1].get(phase, 0)} |")
        aenv = ansible_env(dict(sim.env(), VMWARE_PORT=str(proxy.port)))
        ping = playbook_task("ansible.builtin.ping", {}, aenv, args.repeat, Path(tmp))
        ours = playbook_task("siterecovery.master_target.vm_snapshots_info", {"name": "asr-mt-01", "folder": "asr"}, aenv, args.repeat, Path(tmp))
        print(f"| ansible-playbook, one ansible.builtin.ping task | {ping * 1000:.0f} | 0 |")
        print(f"| ansible-playbook, one vm_snapshots_info task | {ours * 1000:.0f} | - |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
