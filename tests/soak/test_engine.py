"""The soak's comparison and sampling, without a simulator: what comparable() ignores and what it does not."""

from __future__ import annotations

import copy
import json

from soak.engine import MODES, changes_something, comparable, sample_slots, slot_case

DS = "Datastore:/tmp/vcsim-harness-111/vmfs-mt-01@folder-5"
LOCAL = "Datastore:/tmp/govcsim-DC0-LocalDS_0-222@folder-5"
UUID = "6000C297-88e5-784f-fbc7-413f06e92a6a"


def _disk(key, unit, label, uuid):
    return {"_type": "VirtualDisk", "key": key, "controllerKey": 1000, "unitNumber": unit, "deviceInfo": {"label": label},
            "backing": {"datastore": DS, "fileName": f"[vmfs-mt-01] asr-mt-01/asr-mt-01_{unit}.vmdk", "uuid": uuid}}


def raw_dump():
    """A small dump shaped like statedump.dump()'s: a prepared master target and two datastores."""
    return {
        "VirtualMachine:vm-71": {
            "name": "asr-mt-01",
            "config": {
                "modified": "2026-11-30T13:00:52.994321+00:00",
                "extraConfig": [
                    {"key": "disk.EnableUUID", "value": "TRUE"},
                    {"key": "siterecovery.diskEnableUUID.changed", "value": "2026-11-30T13:00:51.196068+00:00"},
                    {"key": "siterecovery.retentionDisk.uuid", "value": UUID},
                ],
                "hardware": {"device": [_disk(2000, 0, "Hard disk 1", "6000c299-5f63-f3c5-9c66-590ad988ab11"),
                                        _disk(2001, 2, "Hard disk 3", UUID)]},
            },
            "runtime": {"powerState": "poweredOn", "bootTime": "2026-11-30T13:00:58.000000+00:00"},
            "datastore": [DS],
        },
        DS: {"name": "vmfs-mt-01", "host": [{"key": "HostSystem:host-34"}, {"key": "HostSystem:host-21"}],
             "summary": {"url": "/tmp/vcsim-harness-111/vmfs-mt-01", "freeSpace": 1000}},
        LOCAL: {"name": "LocalDS_0", "host": [{"key": "HostSystem:host-21"}, {"key": "HostSystem:host-34"}],
                "summary": {"freeSpace": 243773784064}},
    }


def another_simulator(state):
    """The same state as another simulator and another run give it: other ids, times, uuid, free space, order."""
    text = json.dumps(state).replace("vcsim-harness-111", "vcsim-harness-999").replace("LocalDS_0-222", "LocalDS_0-333")
    text = text.replace(UUID, "6000C294-390a-d267-3ad5-b71ea8e26df2").replace("2026-11-30T13:00", "2026-12-01T09:41")
    other = json.loads(text)
    other["Datastore:/tmp/govcsim-DC0-LocalDS_0-333@folder-5"]["summary"]["freeSpace"] = 243580866560
    other["Datastore:/tmp/vcsim-harness-999/vmfs-mt-01@folder-5"]["host"].reverse()
    return other


def test_what_legitimately_differs_between_two_simulators_is_ignored():
    assert comparable(raw_dump()) == comparable(another_simulator(raw_dump()))


def test_a_second_retention_disk_a_marker_on_another_disk_and_a_vm_left_off_all_show():
    reference = comparable(raw_dump())

    second_disk = raw_dump()
    second_disk["VirtualMachine:vm-71"]["config"]["hardware"]["device"].append(_disk(2002, 3, "Hard disk 4", "6000C29a-0000"))
    assert comparable(second_disk) != reference

    other_marker = raw_dump()
    other_marker["VirtualMachine:vm-71"]["config"]["extraConfig"][2]["value"] = "6000c299-5f63-f3c5-9c66-590ad988ab11"
    assert comparable(other_marker) != reference

    left_off = raw_dump()
    left_off["VirtualMachine:vm-71"]["runtime"] = {"powerState": "poweredOff"}
    assert comparable(left_off) != reference

    shared_datastore_space = raw_dump()
    shared_datastore_space[DS]["summary"]["freeSpace"] = 999
    assert comparable(shared_datastore_space) != reference


def test_disk_enable_uuid_set_after_the_last_boot_shows():
    not_power_cycled = raw_dump()
    not_power_cycled["VirtualMachine:vm-71"]["runtime"]["bootTime"] = "2026-11-30T13:00:50.000000+00:00"
    assert comparable(not_power_cycled) != comparable(raw_dump())


def test_comparable_leaves_its_argument_as_it_was():
    state = raw_dump()
    kept = copy.deepcopy(state)
    comparable(state)
    assert state == kept


def test_the_sample_is_spread_over_the_runs_the_sequence_and_the_modes_and_is_the_same_every_time():
    slots = sample_slots(30, "17")
    assert slots == sample_slots(30, "17")
    first = [slot for slot in slots if slot[0] == "first"]
    assert len(first) == 24 and len(slots) == 30
    assert {mode: sum(slot[3] == mode for slot in first) for mode in MODES} == {mode: 8 for mode in MODES}
    reads = [(index, "RetrievePropertiesEx") for index in range(1, 151)]
    ks = [slot_case(slot, reads, "17").k for slot in first]
    assert ks == sorted(ks) and len(set(ks)) == 24
    assert all(1 + (i * 150) // 24 <= k <= ((i + 1) * 150) // 24 for i, k in enumerate(ks))
    second = [slot_case(slot, reads[:12], "17").k for slot in slots if slot[0] == "second"]
    assert second == sorted(second) and all(1 <= k <= 12 for k in second)


def test_a_stratum_with_a_change_cuts_the_change_or_the_request_after_it():
    calls = [(index, "RetrievePropertiesEx") for index in range(1, 151)]
    calls[69] = (70, "ReconfigVM_Task")
    stratum = next(i for i in range(24) if 1 + (i * 150) // 24 <= 70 <= ((i + 1) * 150) // 24)
    for seed in ("1", "2", "3", "17"):
        assert slot_case(("first", stratum, 24, "response"), calls, seed).k in (70, 71)
    assert not changes_something("RetrievePropertiesEx") and not changes_something("GET /sdk/vimServiceVersions.xml")
    assert changes_something("ReconfigVM_Task") and changes_something("MountVmfsVolume") and changes_something("ShutdownGuest")
