"""Sessions drawn from a profile: inside their windows, inside the series, reproducible for a seed."""

from __future__ import annotations

from datetime import time, timedelta

from planning import SessionProfile, Vehicle, generate_sessions

from .builders import START

END = START + timedelta(days=7)
IDS = ("cp1", "cp2", "cp3")


def _clock_s(moment) -> int:
    return moment.hour * 3600 + moment.minute * 60 + moment.second


def test_sessions_lie_in_their_windows_and_inside_the_series():
    profile = SessionProfile(seed=3, arrival_window=(time(17), time(20)), departure_window=(time(6, 30), time(8)), energy_wh=(5000, 9000))
    sessions = generate_sessions(profile, IDS, START, END)
    assert len(sessions) == 3 * 6  # six nights fit in seven days that start and end at midnight
    for s in sessions:
        assert 17 * 3600 <= _clock_s(s.arrival) <= 20 * 3600
        assert 6.5 * 3600 <= _clock_s(s.departure) <= 8 * 3600
        assert s.departure - s.arrival < timedelta(hours=16)
        assert START <= s.arrival and s.departure <= END
        assert 5000 <= s.energy_wh <= 9000


def test_the_same_seed_draws_the_same_sessions_and_another_seed_others():
    first = generate_sessions(SessionProfile(seed=1), IDS, START, END)
    assert generate_sessions(SessionProfile(seed=1), IDS, START, END) == first
    assert generate_sessions(SessionProfile(seed=2), IDS, START, END) != first


def test_one_more_charger_leaves_the_others_sessions_alone():
    before = generate_sessions(SessionProfile(seed=5, probability=0.6), IDS, START, END)
    after = generate_sessions(SessionProfile(seed=5, probability=0.6), (*IDS, "new"), START, END)
    assert [s for s in after if s.charger != "new"] == before


def test_probability_thins_out_the_days():
    assert generate_sessions(SessionProfile(probability=0), IDS, START, END) == []
    some = generate_sessions(SessionProfile(seed=9, probability=0.5), IDS, START, END)
    assert 0 < len(some) < 18


def test_a_window_across_midnight_and_vehicles_from_the_mix():
    profile = SessionProfile(
        seed=4, arrival_window=(time(22), time(2)), departure_window=(time(9), time(10)), vehicles=(Vehicle(1, 32), Vehicle(2, 16))
    )
    sessions = generate_sessions(profile, IDS, START, END)
    assert sessions
    for s in sessions:
        assert _clock_s(s.arrival) >= 22 * 3600 or _clock_s(s.arrival) <= 2 * 3600
        assert (s.vehicle_phases, s.vehicle_max_current_a) in {(1, 32), (2, 16)}
    for charger_id in IDS:
        mine = [s for s in sessions if s.charger == charger_id]
        assert all(a.departure <= b.arrival for a, b in zip(mine, mine[1:]))
