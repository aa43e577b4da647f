"""Refused telemetry is kept on the gateway, counted across restarts, and bounded in size."""

from gateways.dead_letter import DeadLetters


def test_refused_items_are_kept_with_the_answer_and_counted_after_a_restart(tmp_path):
    path = tmp_path / "telemetry-rejected.jsonl"
    letters = DeadLetters(path)
    letters.add([{"seq": 7, "kind": "sample"}], 400, '{"field": "items[0].ts"}')
    letters.add([{"seq": 9, "kind": "event"}, {"seq": 10, "kind": "event"}], 400, "{}")
    assert letters.items == 3 and DeadLetters(path).items == 3
    assert '"seq":7' in path.read_text() and "items[0].ts" in path.read_text()


def test_a_full_file_moves_aside_once_so_storage_stays_bounded(tmp_path):
    path = tmp_path / "telemetry-rejected.jsonl"
    letters = DeadLetters(path, max_file_bytes=200)
    for seq in range(1, 30):
        letters.add([{"seq": seq, "detail": "x" * 50}], 400, "refused")
    assert path.stat().st_size <= 400 and (tmp_path / "telemetry-rejected.jsonl.1").stat().st_size <= 400
    assert letters.items == 29 and 0 < DeadLetters(path).items < 29  # the oldest generations are gone
