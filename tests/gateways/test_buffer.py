"""The telemetry buffer numbers items once, survives restarts, and thins samples but never events when full."""

from gateways.buffer import TelemetryBuffer, merge_ranges


def test_sequence_numbers_keep_rising_across_restarts_and_acknowledgements(tmp_path):
    path = tmp_path / "buffer.sqlite3"
    buffer = TelemetryBuffer(path)
    first = [buffer.append("sample", {"n": i}) for i in range(3)]
    buffer.acknowledge(first[-1])
    buffer.close()
    reopened = TelemetryBuffer(path)
    later = reopened.append("event", {"type": "meter_lost"})
    assert first == [1, 2, 3] and later == 4


def test_pending_items_come_oldest_first_with_their_seq_and_kind(tmp_path):
    buffer = TelemetryBuffer(tmp_path / "b.sqlite3")
    buffer.append("sample", {"network": "main"})
    buffer.append("event", {"type": "meter_lost"})
    batch = buffer.pending(10)
    assert [(item["seq"], item["kind"]) for item in batch.items] == [(1, "sample"), (2, "event")]
    assert batch.items[1]["type"] == "meter_lost"


def test_unacknowledged_items_survive_a_restart(tmp_path):
    path = tmp_path / "b.sqlite3"
    buffer = TelemetryBuffer(path)
    for i in range(5):
        buffer.append("sample", {"n": i})
    buffer.acknowledge(2)
    buffer.close()
    assert [item["n"] for item in TelemetryBuffer(path).pending(10).items] == [2, 3, 4]


def test_a_full_buffer_thins_old_samples_keeps_every_event_and_reports_the_gaps(tmp_path):
    buffer = TelemetryBuffer(tmp_path / "b.sqlite3", max_items=20)
    events = [buffer.append("event", {"type": "meter_lost"}) for _ in range(3)]
    samples = [buffer.append("sample", {"n": i}) for i in range(40)]
    assert len(buffer) <= 20
    batch = buffer.pending(1000)
    kept = {item["seq"] for item in batch.items}
    assert set(events) <= kept
    assert samples[-1] in kept  # the newest data is never thinned
    dropped = {seq for first, last in batch.gaps for seq in range(first, last + 1)}
    assert dropped == set(samples) - kept  # every missing sample is declared, nothing else


def test_acknowledging_forgets_items_and_their_gaps(tmp_path):
    buffer = TelemetryBuffer(tmp_path / "b.sqlite3", max_items=10)
    for i in range(15):
        buffer.append("sample", {"n": i})
    batch = buffer.pending(1000)
    buffer.acknowledge(batch.last_seq)
    assert len(buffer) == 0
    assert buffer.pending(10).items == [] and buffer.pending(10).gaps == []


def test_touching_ranges_merge():
    assert merge_ranges([(5, 5), (2, 3), (4, 4), (8, 9)]) == [(2, 5), (8, 9)]


def test_renumbering_continues_above_a_given_number_and_keeps_the_order(tmp_path):
    buffer = TelemetryBuffer(tmp_path / "b.sqlite3")
    for i in range(3):
        buffer.append("sample", {"n": i})
    buffer.renumber_after(1000)
    assert [(item["seq"], item["n"]) for item in buffer.pending(10).items] == [(1001, 0), (1002, 1), (1003, 2)]
    assert buffer.append("event", {"type": "meter_lost"}) == 1004
    assert buffer.highest_issued_seq() == 1004


def test_a_new_buffer_has_issued_nothing(tmp_path):
    assert TelemetryBuffer(tmp_path / "b.sqlite3").highest_issued_seq() == 0


def test_discarded_items_leave_the_buffer_as_a_declared_gap(tmp_path):
    buffer = TelemetryBuffer(tmp_path / "b.sqlite3")
    for i in range(5):
        buffer.append("sample", {"n": i})
    assert buffer.discard(2, 3) == 2 and len(buffer) == 3
    batch = buffer.pending(10)
    assert [item["seq"] for item in batch.items] == [1, 4, 5] and batch.gaps == [(2, 3)]
