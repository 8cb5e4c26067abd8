from __future__ import annotations

import itertools

import pytest

from ansible_collections.siterecovery.master_target.plugins.modules.vm_power import (
    POWER_STATES,
    WANTED_STATE,
    power_plan,
    wait_for_power_state,
)

ON, OFF, SUSPENDED = "poweredOn", "poweredOff", "suspended"
TOOLS_ERROR = "VMware Tools are not running"
SUSPENDED_ERROR = "is suspended, so its guest cannot shut down"

# Every (current state, wanted, tools running, force): the action, or a fragment of the error.
PLAN = [
    # powered_on: PowerOn from off, and from suspended (it resumes); Tools and force do not matter.
    (ON, "powered_on", True, True, None, None),
    (ON, "powered_on", True, False, None, None),
    (ON, "powered_on", False, True, None, None),
    (ON, "powered_on", False, False, None, None),
    (OFF, "powered_on", True, True, "power_on", None),
    (OFF, "powered_on", True, False, "power_on", None),
    (OFF, "powered_on", False, True, "power_on", None),
    (OFF, "powered_on", False, False, "power_on", None),
    (SUSPENDED, "powered_on", True, True, "power_on", None),
    (SUSPENDED, "powered_on", True, False, "power_on", None),
    (SUSPENDED, "powered_on", False, True, "power_on", None),
    (SUSPENDED, "powered_on", False, False, "power_on", None),
    # powered_off: always the hard PowerOff, never a guest shutdown.
    (ON, "powered_off", True, True, "power_off", None),
    (ON, "powered_off", True, False, "power_off", None),
    (ON, "powered_off", False, True, "power_off", None),
    (ON, "powered_off", False, False, "power_off", None),
    (OFF, "powered_off", True, True, None, None),
    (OFF, "powered_off", True, False, None, None),
    (OFF, "powered_off", False, True, None, None),
    (OFF, "powered_off", False, False, None, None),
    (SUSPENDED, "powered_off", True, True, "power_off", None),
    (SUSPENDED, "powered_off", True, False, "power_off", None),
    (SUSPENDED, "powered_off", False, True, "power_off", None),
    (SUSPENDED, "powered_off", False, False, "power_off", None),
    # shutdown_guest: needs a running guest with Tools; force falls back to a hard power-off.
    (ON, "shutdown_guest", True, True, "shutdown_guest", None),
    (ON, "shutdown_guest", True, False, "shutdown_guest", None),
    (ON, "shutdown_guest", False, True, "power_off", None),
    (ON, "shutdown_guest", False, False, None, TOOLS_ERROR),
    (OFF, "shutdown_guest", True, True, None, None),
    (OFF, "shutdown_guest", True, False, None, None),
    (OFF, "shutdown_guest", False, True, None, None),
    (OFF, "shutdown_guest", False, False, None, None),
    # A suspended guest cannot answer, whatever Tools last reported.
    (SUSPENDED, "shutdown_guest", True, True, "power_off", None),
    (SUSPENDED, "shutdown_guest", True, False, None, SUSPENDED_ERROR),
    (SUSPENDED, "shutdown_guest", False, True, "power_off", None),
    (SUSPENDED, "shutdown_guest", False, False, None, SUSPENDED_ERROR),
]


def test_the_table_covers_every_combination_once():
    combinations = [row[:4] for row in PLAN]
    assert sorted(combinations) == sorted(itertools.product(POWER_STATES, WANTED_STATE, [True, False], [True, False]))


@pytest.mark.parametrize("current, wanted, tools_running, force, action, error", PLAN)
def test_power_plan(current, wanted, tools_running, force, action, error):
    planned, message = power_plan(current, wanted, tools_running, force)
    assert planned == action
    if error is None:
        assert message is None
    else:
        assert error in message
        assert "force: true" in message  # every refusal names the way out


def test_power_plan_error_for_tools_names_the_fix():
    message = power_plan(ON, "shutdown_guest", False, False)[1]
    assert "Start VMware Tools" in message and "power it off hard" in message


@pytest.mark.parametrize("wanted", list(WANTED_STATE))
def test_power_plan_refuses_an_unknown_power_state(wanted):
    action, message = power_plan("unknown", wanted, True, True)
    assert action is None
    assert "'unknown'" in message


class FakeClock:
    """time.monotonic and time.sleep for wait_for_power_state, without waiting."""

    def __init__(self):
        self.now = 100.0
        self.sleeps = []

    def clock(self):
        return self.now

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds


def reader(states, clock=None):
    """read_state returning `states` in turn (the last one forever), recording when it was read."""
    remaining = list(states)
    reads = []

    def read_state():
        reads.append(clock.now if clock else None)
        return remaining.pop(0) if len(remaining) > 1 else remaining[0]

    read_state.reads = reads
    return read_state


def test_wait_returns_at_once_when_already_there():
    fake = FakeClock()
    assert wait_for_power_state(reader([OFF]), OFF, 300, sleep=fake.sleep, clock=fake.clock)
    assert not fake.sleeps


def test_wait_polls_until_the_state_is_reached_with_growing_sleeps():
    fake = FakeClock()
    read_state = reader([ON, ON, ON, ON, OFF], fake)
    assert wait_for_power_state(read_state, OFF, 300, sleep=fake.sleep, clock=fake.clock)
    assert fake.sleeps == [0.05, 0.1, 0.2, 0.4]
    assert len(read_state.reads) == 5


def test_wait_sleeps_at_most_2_seconds_and_stops_at_the_deadline():
    fake = FakeClock()
    read_state = reader([ON], fake)
    assert not wait_for_power_state(read_state, OFF, 30, sleep=fake.sleep, clock=fake.clock)
    assert max(fake.sleeps) == 2.0
    assert sum(fake.sleeps) == pytest.approx(30)  # never sleeps past the deadline
    assert read_state.reads[-1] == pytest.approx(130)  # one last read at the deadline


def test_wait_with_a_short_timeout_sleeps_only_that_long():
    fake = FakeClock()
    assert not wait_for_power_state(reader([ON]), OFF, 0.1, sleep=fake.sleep, clock=fake.clock)
    assert sum(fake.sleeps) == pytest.approx(0.1)
