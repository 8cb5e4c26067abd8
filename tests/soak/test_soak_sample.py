"""The fault soak's CI sample (issue 17): 30 cases of tests/soak/run.py, the same every run.

Each case cuts the connection to vCenter at one request of the vsphere role's run on the scene's
asr-mt-01 (the preparation, or its idempotent re-run), in one of the three ways (the request never
arrives; vCenter applies it and the reply is lost; the reply stops half-way), then runs the role
again without a cut and compares the whole simulator state with what an uncut run leaves. The
slots are spread over the sequence of requests and over the modes (engine.sample_slots); the
sequence and the reference state are recorded once per session, so a slot cuts the same call as
long as the role makes the same calls. `python tests/soak/run.py --playbook role --sample 30
--seed 17` runs exactly these cases; without --sample, every case (see README.md).

The vsphere role alone, not playbooks/prepare_master_target.yml: the playbook's extra plan play and
readiness check only read, and they would make every case about a third slower.
"""

from __future__ import annotations

import fcntl
import json

import pytest
from soak.engine import Reference, Scene, Soak, record_reference, sample_slots, slot_case

SEED = "17"
SIZE = 30
SLOTS = sample_slots(SIZE, SEED)


def _slot_id(slot):
    run, stratum, strata, mode = slot
    return f"{run}-{stratum + 1:02d}of{strata}-{mode}"


@pytest.fixture(scope="session", name="scene")
def fixture_scene():
    scene = Scene("role")
    yield scene
    scene.close()


@pytest.fixture(scope="session", name="soak")
def fixture_soak(scene, tmp_path_factory, worker_id):
    """The reference is recorded once per session: pytest-xdist's workers share it through a file,
    under a lock. The simulator it was recorded on is prepared: second-run cases reuse it."""
    spare = []
    if worker_id == "master":
        reference = record_reference(scene, spare)
    else:
        shared = tmp_path_factory.getbasetemp().parent
        path = shared / "soak-reference.json"
        with open(shared / "soak-reference.lock", "w", encoding="utf-8") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if path.exists():
                reference = Reference(**json.loads(path.read_text()))
            else:
                reference = record_reference(scene, spare)
                path.write_text(json.dumps(reference.__dict__))
    soak = Soak(scene, reference, spare)
    yield soak
    soak.close()


@pytest.mark.slow
@pytest.mark.vcsim
@pytest.mark.parametrize("slot", SLOTS, ids=[_slot_id(slot) for slot in SLOTS])
def test_a_cut_at_any_call_converges_on_the_next_run(soak, slot):
    case = slot_case(slot, soak.reference.calls[slot[0]], SEED)
    outcome = soak.run_case(case)
    assert outcome.verdict == "converged", "\n".join(
        [f"{case.name} ({outcome.method}): {outcome.verdict}. {outcome.note}",
         f"cut: {outcome.cut}; failing task of the cut run: {outcome.cut_task}: {outcome.cut_message}",
         f"re-run failed: {outcome.rerun_failed}" if outcome.rerun_failed else "re-run did not fail",
         "what differs from the uncut run (reference -> this case):"] + outcome.diff
        + [f"again: python tests/soak/run.py --playbook role --cases {case.name}"])
