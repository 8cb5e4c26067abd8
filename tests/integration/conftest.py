"""Fixtures for the integration tests: a fresh vCenter simulator (tests/vcsim) per test.

Each test gets its own simulator so tests can change state freely; the default scene starts in
well under a second.
"""

from __future__ import annotations

import pytest
from support.vcsim import start_vcsim


@pytest.fixture
def vcsim():
    sim = start_vcsim(scene="default")
    try:
        yield sim
    finally:
        sim.stop()


@pytest.fixture
def si(vcsim):
    """A pyvmomi session to check the simulator's state independently of the modules."""
    return vcsim.connect()
