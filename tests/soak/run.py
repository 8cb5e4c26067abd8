"""The fault soak (issue 17): cut the connection at every vCenter call of a preparation, re-run, compare.

    python tests/soak/run.py                                  # every case: both runs, every k, every mode
    python tests/soak/run.py --modes request --jobs 2         # one mode, two cases at a time
    python tests/soak/run.py --sample 30 --seed 17 --playbook role   # the CI sample (test_soak_sample.py)
    python tests/soak/run.py --cases first-63-response,second-12-partial
    python tests/soak/run.py --rerun tests/output/soak/report.json    # the diverged cases of a report, again

Writes a JSON report (--report) and prints a table: cases run, converged, diverged (with k, mode, the
call's method and the state diff), errors, wall time. Exits 1 when a case diverged or erred.
See tests/soak/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]
if str(TESTS) not in sys.path:
    sys.path.insert(0, str(TESTS))

from soak.engine import IGNORED, MODES, PLAYBOOKS, RUNS, Case, Scene, Soak, record_reference, sample  # noqa: E402  pylint: disable=wrong-import-position

DEFAULT_REPORT = TESTS / "output" / "soak" / "report.json"


def parse_ks(text):
    """ "3,10-12" -> {3, 10, 11, 12}"""
    out = set()
    for part in filter(None, text.split(",")):
        low, _dash, high = part.partition("-")
        out.update(range(int(low), int(high or low) + 1))
    return out


def parse_case(name):
    run, k, mode = name.rsplit("-", 2)
    if run not in RUNS or mode not in MODES:
        raise argparse.ArgumentTypeError(f"a case is <run>-<k>-<mode> (run: {', '.join(RUNS)}; mode: {', '.join(MODES)}), not {name!r}")
    return Case(run, int(k), mode)


def arguments(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--playbook", choices=sorted(PLAYBOOKS), default="prepare",
                        help="prepare: playbooks/prepare_master_target.yml (default); role: the vsphere role alone (the CI sample)")
    parser.add_argument("--runs", default=",".join(RUNS), help="first (the preparation), second (the idempotent re-run), or both (default)")
    parser.add_argument("--modes", default=",".join(MODES), help=f"cut modes, comma-separated (default: {','.join(MODES)})")
    parser.add_argument("--k", type=parse_ks, help="only these request numbers, e.g. 1-20,45")
    parser.add_argument("--sample", type=int, help="a deterministic sample of N cases spread over the runs, the sequence and the modes")
    parser.add_argument("--seed", default="17", help="the sample's seed (default 17, the CI sample's)")
    parser.add_argument("--cases", type=lambda text: [parse_case(name) for name in text.split(",") if name],
                        help="these cases only, e.g. first-63-response,second-12-partial")
    parser.add_argument("--rerun", type=Path, help="run again the diverged and erred cases of this report (same playbook)")
    parser.add_argument("--jobs", type=int, default=1, help="cases run at the same time, each on its own simulator (default 1)")
    parser.add_argument("--report", type=Path, default=DEFAULT_REPORT, help=f"the JSON report (default {DEFAULT_REPORT})")
    args = parser.parse_args(argv)
    args.runs = tuple(run for run in RUNS if run in args.runs.split(","))
    args.modes = tuple(mode for mode in MODES if mode in args.modes.split(","))
    if not args.runs or not args.modes:
        parser.error("--runs and --modes need at least one known value each")
    if args.rerun:
        previous = json.loads(args.rerun.read_text())
        args.playbook = previous["playbook"]
        args.cases = [Case(**item["case"]) for item in previous["cases"] if item["verdict"] != "converged"]
    return args


def choose(reference, args):
    if args.cases is not None:
        return args.cases
    if args.sample:
        return sample(reference, args.sample, args.seed, args.runs, args.modes)
    cases = reference.cases(args.runs, args.modes)
    return [case for case in cases if args.k is None or case.k in args.k]


def unclear_message(message):
    """A failure that is not the one clear message docs/faults.md promises for a lost connection."""
    return bool(message) and ("Traceback" in message or "Unexpected error" in message)


def table(report):
    summary = report["summary"]
    lines = [
        f"fault soak, playbook {report['playbook']}: {summary['cases']} cases, {summary['converged']} converged, "
        f"{summary['diverged']} diverged, {summary['errors']} errors in {summary['wall_seconds']:.0f} s "
        f"({summary['seconds_per_case']:.1f} s per case, {report['jobs']} at a time; {summary['cpu_seconds']:.0f} CPU s; "
        f"load {report['load_before']} -> {report['load_after']} on {report['cpus']} CPUs)",
        f"sequences: first run {len(report['calls']['first'])} requests, second run {len(report['calls']['second'])} requests; "
        f"reference recorded in {report['reference_seconds']}",
    ]
    unclear = [item for item in report["cases"] if unclear_message(item["cut_message"])]
    if unclear:
        lines.append(f"{len(unclear)} cut runs failed without the promised message (a traceback or 'Unexpected error'):")
        lines += [f"  {item['case']['run']}-{item['case']['k']}-{item['case']['mode']} {item['cut_task']}: {item['cut_message'][:200]}" for item in unclear]
    bad = [item for item in report["cases"] if item["verdict"] != "converged"]
    if bad:
        lines.append(f"{'case':<24} {'verdict':<9} {'method':<34} cut task / what differs")
    for item in bad:
        case = item["case"]
        name = f"{case['run']}-{case['k']}-{case['mode']}"
        lines.append(f"{name:<24} {item['verdict']:<9} {str(item['method']):<34} {item['cut_task'] or '-'}: {(item['cut_message'] or '')[:160]}")
        for text in ([item["note"]] if item["note"] else []) + ([f"re-run failed: {item['rerun_failed'][:300]}"] if item["rerun_failed"] else []):
            lines.append(f"{'':<24} {text}")
        for line in item["diff"][:12]:
            lines.append(f"{'':<24} {line[:220]}")
    return "\n".join(lines)


def main(argv=None):
    args = arguments(argv)
    started = time.monotonic()
    load_before = [round(load, 2) for load in os.getloadavg()]
    scene = Scene(args.playbook)
    spare = []
    reference = record_reference(scene, spare)
    cases = choose(reference, args)
    print(f"reference: {len(reference.calls['first'])} + {len(reference.calls['second'])} requests "
          f"({reference.seconds}); {len(cases)} cases, {args.jobs} at a time", file=sys.stderr, flush=True)
    soak = Soak(scene, reference, spare)
    outcomes = []
    try:
        with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
            futures = [pool.submit(soak.run_case, case) for case in cases]
            for done, future in enumerate(as_completed(futures), 1):
                outcome = future.result()
                outcomes.append(outcome)
                print(f"[{done}/{len(cases)}] {outcome.case.name:<22} {outcome.verdict:<9} {str(outcome.method):<32} "
                      f"{outcome.seconds:5.1f}s {outcome.cut_task or ''}", file=sys.stderr, flush=True)
    finally:
        soak.close()
        scene.close()
    outcomes.sort(key=lambda outcome: (RUNS.index(outcome.case.run), outcome.case.k, list(MODES).index(outcome.case.mode)))
    wall = time.monotonic() - started
    report = {
        "command": " ".join([Path(sys.executable).name, "tests/soak/run.py"] + list(argv if argv is not None else sys.argv[1:])),
        "playbook": args.playbook,
        "jobs": args.jobs,
        "cpus": os.cpu_count(),
        "load_before": load_before,
        "load_after": [round(load, 2) for load in os.getloadavg()],
        "reference_seconds": reference.seconds,
        "calls": reference.calls,
        "ignored": [dict(what=what, why=why) for what, why in IGNORED],
        "summary": {
            "cases": len(outcomes),
            "converged": sum(outcome.verdict == "converged" for outcome in outcomes),
            "diverged": sum(outcome.verdict == "diverged" for outcome in outcomes),
            "errors": sum(outcome.verdict == "error" for outcome in outcomes),
            "unclear_messages": sum(unclear_message(outcome.cut_message) for outcome in outcomes),
            "wall_seconds": round(wall, 1),
            "seconds_per_case": round(sum(outcome.seconds for outcome in outcomes) / max(1, len(outcomes)), 1),
            "cpu_seconds": round(sum(outcome.cpu_seconds for outcome in outcomes), 1),
        },
        "cases": [outcome.as_dict() for outcome in outcomes],
    }
    args.report.parent.mkdir(parents=True, exist_ok=True)
    args.report.write_text(json.dumps(report, indent=1, default=str))
    print(table(report))
    print(f"report: {args.report}")
    return 0 if report["summary"]["converged"] == report["summary"]["cases"] else 1


if __name__ == "__main__":
    sys.exit(main())
