"""A clock for unit tests of waits (module_utils/_vsphere_tasks.poll): sleeps advance it at once."""

from __future__ import annotations

from ansible_collections.siterecovery.master_target.plugins.module_utils import _vsphere_tasks


class FakeClock:
    """time.monotonic and time.sleep without waiting; `poll` is _vsphere_tasks.poll on this clock
    (monkeypatch a module's `poll` with it to run the module's wait)."""

    def __init__(self):
        self.now = 100.0
        self.sleeps = []

    def clock(self):
        return self.now

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds

    def poll(self, read, done, timeout, **options):
        return _vsphere_tasks.poll(read, done, timeout, sleep=self.sleep, clock=self.clock, **options)


def reader(values, clock=None):
    """read() returning `values` in turn (the last one forever); `read.reads` holds when each read was (clock.now)."""
    remaining = list(values)
    reads = []

    def read():
        reads.append(clock.now if clock else None)
        return remaining.pop(0) if len(remaining) > 1 else remaining[0]

    read.reads = reads
    return read
