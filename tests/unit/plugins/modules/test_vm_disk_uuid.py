from __future__ import annotations

import datetime

import pytest
from pyVmomi import vim

from ansible_collections.siterecovery.master_target.plugins.module_utils._vsphere_devices import (
    ENABLE_UUID_CHANGED_KEY,
    describe_enable_uuid,
    enable_uuid_changed_at,
    enable_uuid_changed_value,
    enable_uuid_is_true,
    enable_uuid_power_cycle,
    enable_uuid_setting,
    enable_uuid_writes,
)

UTC = datetime.timezone.utc
BOOT = datetime.datetime(2026, 11, 24, 10, 0, 0, tzinfo=UTC)


def options(*pairs):
    return [vim.option.OptionValue(key=key, value=value) for key, value in pairs]


@pytest.mark.parametrize(
    "extra_config, expected",
    [
        (None, ("disk.EnableUUID", None)),
        (options(("svga.present", "TRUE")), ("disk.EnableUUID", None)),
        (options(("disk.EnableUUID", "TRUE")), ("disk.EnableUUID", "TRUE")),
        # An existing key in another case is the one to edit, never a second key.
        (options(("disk.enableUUID", "false")), ("disk.enableUUID", "false")),
        # Of several, the key spelled disk.EnableUUID is kept, wherever it is stored.
        (options(("disk.enableuuid", "TRUE"), ("disk.EnableUUID", "FALSE")), ("disk.EnableUUID", "FALSE")),
        (options(("DISK.ENABLEUUID", "no"), ("disk.enableuuid", "TRUE")), ("DISK.ENABLEUUID", "no")),
        # An empty value is no setting (vCenter removes such a key).
        (options(("disk.EnableUUID", ""), ("disk.enableuuid", "TRUE")), ("disk.enableuuid", "TRUE")),
    ],
)
def test_the_setting_kept(extra_config, expected):
    assert enable_uuid_setting(extra_config) == expected


@pytest.mark.parametrize(
    "extra_config, enabled, writes",
    [
        (None, True, [("disk.EnableUUID", "TRUE")]),
        (options(("disk.EnableUUID", "TRUE")), True, []),
        (options(("disk.EnableUUID", "true")), True, []),  # any case
        (options(("Disk.EnableUUID", "True")), True, []),
        # Not exactly TRUE: ESXi is not known to read these as TRUE, so they are rewritten.
        (options(("disk.EnableUUID", " True ")), True, [("disk.EnableUUID", "TRUE")]),
        (options(("disk.EnableUUID", "TRUE ")), True, [("disk.EnableUUID", "TRUE")]),
        (options(("Disk.EnableUUID", "yes")), True, [("Disk.EnableUUID", "TRUE")]),
        (options(("disk.EnableUUID", "1")), True, [("disk.EnableUUID", "TRUE")]),
        (options(("disk.EnableUUID", "FALSE")), True, [("disk.EnableUUID", "TRUE")]),
        # Two keys differing only in case: the stray is removed first, then the kept key is written.
        (options(("disk.EnableUUID", "FALSE"), ("disk.enableuuid", "TRUE")), True, [("disk.enableuuid", ""), ("disk.EnableUUID", "TRUE")]),
        (options(("disk.enableuuid", "TRUE"), ("disk.EnableUUID", "FALSE")), True, [("disk.enableuuid", ""), ("disk.EnableUUID", "TRUE")]),
        (options(("disk.EnableUUID", "TRUE"), ("disk.enableuuid", "FALSE")), True, [("disk.enableuuid", ""), ("disk.EnableUUID", "TRUE")]),
        (options(("disk.enableuuid", "no"), ("DISK.ENABLEUUID", " TRUE")), True, [("DISK.ENABLEUUID", ""), ("disk.enableuuid", "TRUE")]),
        # Every key TRUE: ESXi reads TRUE whichever it takes, nothing to write.
        (options(("disk.EnableUUID", "TRUE"), ("disk.enableuuid", "true")), True, []),
        (None, False, []),  # missing means FALSE to ESXi
        (options(("disk.EnableUUID", "TRUE")), False, [("disk.EnableUUID", "FALSE")]),
        (options(("disk.EnableUUID", "false")), False, []),
        (options(("disk.EnableUUID", "FALSE"), ("disk.enableuuid", "TRUE")), False, [("disk.enableuuid", ""), ("disk.EnableUUID", "FALSE")]),
    ],
)
def test_writes(extra_config, enabled, writes):
    assert enable_uuid_writes(extra_config, enabled) == writes
    if enabled:
        # The one judge: "is TRUE" is "nothing to write", for the planner and the readiness check alike.
        assert enable_uuid_is_true(extra_config) is (writes == [])


@pytest.mark.parametrize(
    "extra_config, text",
    [
        (None, "not set"),
        (options(("disk.EnableUUID", "FALSE")), "FALSE"),
        (options(("disk.EnableUUID", " True ")), "' True '"),
        (options(("disk.enableuuid", "TRUE"), ("disk.EnableUUID", "FALSE")), "FALSE (disk.EnableUUID), TRUE (disk.enableuuid)"),
    ],
)
def test_describe(extra_config, text):
    assert describe_enable_uuid(extra_config) == text


def test_the_change_record_round_trips_in_utc():
    moment = datetime.datetime(2026, 11, 24, 11, 30, 0, 123456, tzinfo=datetime.timezone(datetime.timedelta(hours=1)))
    value = enable_uuid_changed_value(moment)
    assert value == "2026-11-24T10:30:00.123456+00:00"
    assert enable_uuid_changed_at(options((ENABLE_UUID_CHANGED_KEY, value))) == moment
    assert enable_uuid_changed_at(options((ENABLE_UUID_CHANGED_KEY, "2026-11-24T10:30:00Z"))) == datetime.datetime(2026, 11, 24, 10, 30, tzinfo=UTC)
    assert enable_uuid_changed_at(options((ENABLE_UUID_CHANGED_KEY, "yesterday"))) is None
    assert enable_uuid_changed_at(None) is None


def changed(minutes_after_boot):
    return options(("disk.EnableUUID", "TRUE"), (ENABLE_UUID_CHANGED_KEY, enable_uuid_changed_value(BOOT + datetime.timedelta(minutes=minutes_after_boot))))


@pytest.mark.parametrize(
    "extra_config, power_state, boot_time, changing, expected",
    [
        # Changed now: a running (or suspended) VM needs a power cycle, a powered-off one only its power-on.
        (None, "poweredOn", BOOT, True, True),
        (None, "suspended", BOOT, True, True),
        (None, "poweredOff", None, True, False),
        # Changed by an earlier run after the last power-on: still pending, on every run.
        (changed(5), "poweredOn", BOOT, False, True),
        (changed(0), "poweredOn", BOOT, False, True),  # the same instant: not known to be after
        (changed(5), "suspended", BOOT, False, True),  # a resume does not apply it (nor update bootTime)
        # Changed before the last power-on: in effect.
        (changed(-5), "poweredOn", BOOT, False, False),
        # Powered off now: its next power-on applies it.
        (changed(5), "poweredOff", None, False, False),
        # No record (set outside this collection): not seen.
        (options(("disk.EnableUUID", "TRUE")), "poweredOn", BOOT, False, False),
        # Running without a boot time: assume it was powered on before the recorded change.
        (changed(5), "poweredOn", None, False, True),
    ],
)
def test_power_cycle(extra_config, power_state, boot_time, changing, expected):
    assert enable_uuid_power_cycle(extra_config, power_state, boot_time, changing) is expected


def test_power_cycle_with_a_naive_boot_time_reads_it_as_utc():
    assert enable_uuid_power_cycle(changed(5), "poweredOn", BOOT.replace(tzinfo=None)) is True
    assert enable_uuid_power_cycle(changed(-5), "poweredOn", BOOT.replace(tzinfo=None)) is False
