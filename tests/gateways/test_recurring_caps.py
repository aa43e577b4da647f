"""Recurring caps (tariff windows): parsed naming the field, and in force by the site's wall clock across daylight saving time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from gateways.external_caps import scheduled_caps
from gateways.protocol import ConfigError, parse_site_config

WEEKDAYS = ["mon", "tue", "wed", "thu", "fri"]


def site(recurring_caps: list, time_zone: str = "Europe/Berlin", chargers: int = 0) -> dict:
    return {
        "gateway": {"id": "g", "time_zone": time_zone},
        "networks": [{"id": "n", "max_current_per_phase_a": 32, "recurring_caps": recurring_caps,
                      "meter": {"model": "carlo-gavazzi-em24", "host": "10.0.0.1"},
                      "chargers": [{"id": f"cp{i}", "driver": "simulated"} for i in range(chargers)]}],
    }


def window(**fields) -> dict:
    return {"source": "operator", "power_w": 11000, "days": WEEKDAYS, "start_time": "17:00", "end_time": "20:00", **fields}


def parsed(cap: dict, time_zone: str = "Europe/Berlin"):
    [recurring] = parse_site_config(site([cap], time_zone)).networks[0].recurring_caps
    return recurring


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def test_a_window_takes_the_gateways_zone_and_keeps_its_days_in_week_order():
    cap = parsed(window(days=["fri", "mon"], start_time="17:00:00", reason="peak tariff", id="3"))
    assert (cap.days, cap.start_time, cap.end_time, cap.time_zone) == (("mon", "fri"), "17:00", "20:00", "Europe/Berlin")
    assert parsed(window(time_zone="Europe/London")).time_zone == "Europe/London"


def test_the_config_with_recurring_caps_survives_its_own_round_trip():
    config = parse_site_config(site([window(id="3"), window(days=["sat"], start_time="22:00", end_time="06:00")]))
    assert parse_site_config(config.to_dict()) == config


@pytest.mark.parametrize(
    ("cap", "path", "message"),
    [
        (window(days=[]), "days", "non-empty list"),
        (window(days="mon"), "days", "non-empty list"),
        (window(days=["monday"]), "days", "must name days as mon, tue"),
        (window(days=["mon", "mon"]), "days", "names a day twice"),
        (window(start_time="5pm"), "start_time", "time of day such as 17:00"),
        (window(start_time=1700), "start_time", "time of day such as 17:00"),
        (window(end_time="20:00:30"), "end_time", "whole minutes"),
        (window(end_time="20:00+01:00"), "end_time", "without offset"),
        (window(end_time="17:00"), "end_time", "must differ from start_time"),
        (window(time_zone="Mars/Olympus"), "time_zone", "IANA time zone"),
        (window(source="dso"), "source", "must be one of grid_operator, operator, schedule"),
        (window(power_w=-1), "power_w", "at least 0"),
        (window(weekdays=["mon"]), "weekdays", "not a known setting"),
    ],
)
def test_bad_recurring_caps_are_refused_naming_the_field(cap, path, message):
    with pytest.raises(ConfigError) as caught:
        parse_site_config(site([cap]))
    assert caught.value.path == f"networks[0].recurring_caps[0].{path}"
    assert message in str(caught.value)


def test_too_many_recurring_caps_are_refused():
    with pytest.raises(ConfigError, match="at most 50"):
        parse_site_config(site([window()] * 51))


WEEKDAY_EVENINGS = window()
FRIDAY_NIGHT = window(days=["fri"], start_time="22:00", end_time="06:00")
SUNDAY_2_TO_3 = window(days=["sun"], start_time="02:00", end_time="03:00")


@pytest.mark.parametrize(
    ("cap", "moment", "holds"),
    [
        # Weekdays 17:00-20:00 in Berlin: 16:00Z in winter (CET), 15:00Z in summer (CEST).
        (WEEKDAY_EVENINGS, "2026-03-27T15:59", False),  # Friday 16:59 CET
        (WEEKDAY_EVENINGS, "2026-03-27T16:00", True),   # Friday 17:00 CET, start included
        (WEEKDAY_EVENINGS, "2026-03-27T18:59", True),
        (WEEKDAY_EVENINGS, "2026-03-27T19:00", False),  # 20:00 CET, end excluded
        (WEEKDAY_EVENINGS, "2026-03-28T16:30", False),  # Saturday
        (WEEKDAY_EVENINGS, "2026-03-30T15:00", True),   # Monday after the clocks went forward: 17:00 CEST
        (WEEKDAY_EVENINGS, "2026-03-30T17:59", True),
        (WEEKDAY_EVENINGS, "2026-03-30T18:00", False),  # 20:00 CEST
        (WEEKDAY_EVENINGS, "2026-10-26T15:30", False),  # Monday after they went back: 16:30 CET
        (WEEKDAY_EVENINGS, "2026-10-26T16:00", True),   # 17:00 CET
        # Past midnight: listed for Friday, it ends on Saturday morning.
        (FRIDAY_NIGHT, "2026-07-02T21:00", False),      # Thursday 23:00 CEST
        (FRIDAY_NIGHT, "2026-07-03T20:00", True),       # Friday 22:00
        (FRIDAY_NIGHT, "2026-07-04T03:59", True),       # Saturday 05:59
        (FRIDAY_NIGHT, "2026-07-04T04:00", False),      # Saturday 06:00
        (FRIDAY_NIGHT, "2026-07-04T21:00", False),      # Saturday 23:00: not listed
    ],
)
def test_a_window_holds_while_the_sites_clock_is_inside_it(cap, moment, holds):
    assert parsed(cap).in_force(utc(moment)) is holds


def minutes_in_force(cap: dict, day_start_utc: str) -> int:
    recurring, start = parsed(cap), utc(day_start_utc)
    return sum(recurring.in_force(start + timedelta(minutes=m)) for m in range(24 * 60))


def test_on_the_days_the_clock_changes_a_window_is_as_long_as_the_clock_says():
    # 29 March 2026: Berlin skips 02:00-03:00, so that window never holds; 25 October repeats it, so it holds twice.
    assert minutes_in_force(SUNDAY_2_TO_3, "2026-03-28T22:00") == 0
    assert minutes_in_force(SUNDAY_2_TO_3, "2026-10-24T22:00") == 120
    # The evening window keeps its three hours on both days, at 17:00 local whatever the offset.
    assert minutes_in_force(window(days=["sun"]), "2026-03-28T22:00") == 180
    assert minutes_in_force(window(days=["sun"]), "2026-10-24T22:00") == 180


def test_the_engine_gets_a_window_in_force_as_a_cap_with_its_reason_and_a_grid_operators_minimum():
    config = parse_site_config(site([window(id="8"), window(id="9", source="grid_operator", power_w=0)], chargers=2))
    [evening, dimmed] = scheduled_caps(config.networks[0], utc("2026-12-01T17:30"))  # Tuesday 18:30 CET
    assert (evening.source, evening.reason, evening.limit_w) == ("operator:recurring-8", "operator_cap", 11000)
    assert (dimmed.source, dimmed.reason, dimmed.limit_w) == ("grid_operator:recurring-9", "grid_operator_cap", 7560)
    assert scheduled_caps(config.networks[0], utc("2026-12-01T20:00")) == []
