"""The state a site shows, as a table: a silent gateway beats a lost meter beats a fallback beats normal."""

from datetime import UTC, datetime, timedelta

import pytest

from fleet.dashboard.formatting import duration_text
from fleet.dashboard.status import NetworkFacts, SiteStatus, gateway_grace_period_s, site_status

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
GRACE_S = 120
FRESH = NOW - timedelta(seconds=10)
STALE = NOW - timedelta(seconds=GRACE_S + 1)

OK = NetworkFacts(mode="normal", meter_available=True)
FALLBACK = NetworkFacts(mode="fallback", meter_available=True)
LOST = NetworkFacts(mode="fallback", meter_available=False)
NEW = NetworkFacts(mode=None, meter_available=None)


@pytest.mark.parametrize(
    ("gateways_last_seen", "networks", "expected"),
    [
        # all is well
        ([FRESH], [OK], SiteStatus.NORMAL),
        ([FRESH], [OK, OK], SiteStatus.NORMAL),
        ([FRESH], [], SiteStatus.NORMAL),
        ([FRESH], [NEW], SiteStatus.NORMAL),
        ([NOW - timedelta(seconds=GRACE_S)], [OK], SiteStatus.NORMAL),
        # a network runs on its fallback power
        ([FRESH], [FALLBACK], SiteStatus.FALLBACK),
        ([FRESH], [OK, FALLBACK], SiteStatus.FALLBACK),
        # the meter is lost: more telling than the fallback it causes
        ([FRESH], [LOST], SiteStatus.METER_LOST),
        ([FRESH], [FALLBACK, LOST, OK], SiteStatus.METER_LOST),
        ([FRESH], [NetworkFacts(mode="normal", meter_available=False)], SiteStatus.METER_LOST),
        # the gateway is silent: what its networks last said may no longer hold
        ([STALE], [OK], SiteStatus.GATEWAY_OFFLINE),
        ([STALE], [LOST], SiteStatus.GATEWAY_OFFLINE),
        ([None], [OK], SiteStatus.GATEWAY_OFFLINE),
        ([FRESH, STALE], [OK], SiteStatus.GATEWAY_OFFLINE),
        ([], [OK], SiteStatus.GATEWAY_OFFLINE),
    ],
)
def test_site_status(gateways_last_seen, networks, expected):
    assert site_status(gateways_last_seen, networks, NOW, GRACE_S) is expected


def test_the_grace_period_is_the_alerts_one(settings):
    settings.ALERTS_GATEWAY_GRACE_PERIOD_S = 45
    assert gateway_grace_period_s() == 45


def test_without_the_alerts_setting_the_grace_period_is_two_minutes(settings):
    del settings.ALERTS_GATEWAY_GRACE_PERIOD_S
    assert gateway_grace_period_s() == 120


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0, "0 s"),
        (59.9, "59 s"),
        (60, "1 min"),
        (3599, "59 min"),
        (3600, "1 h"),
        (5400, "1 h 30 min"),
        (86400, "1 d"),
        (90000, "1 d 1 h"),
        (-5, "0 s"),  # a gateway clock slightly ahead of the server's
    ],
)
def test_durations_read_short_and_exact_in_the_first_minute(seconds, text):
    assert duration_text(seconds) == text
