"""Grouped notifications, the Alertmanager's model: a burst becomes one notification per channel, with counts.

Per channel, incidents are grouped by organisation and the channel's
`group_by` labels. A new group waits group_wait to collect the burst; later
changes go out at most every group_interval; open groups repeat every
repeat_interval. The timers here are the defaults (30 s, 300 s, 4 h).
"""

import pytest
from django.core.exceptions import ValidationError

from fleet.models import ChannelKind, ChargingNetwork, Delivery, Gateway, Meter, MeterState, NotificationChannel, NotificationGroup, Site
from fleet.services.notifications_enqueue import notifications_due
from fleet.services.notifications_send import delivery_send
from tests.fleet.alerts.conftest import at, dispatch, evaluate, gateway_seen, meter_lost, meter_reading

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def default_timers(settings):
    settings.NOTIFICATIONS_GROUP_WAIT_S = 30
    settings.NOTIFICATIONS_GROUP_INTERVAL_S = 300
    settings.ALERTS_REPEAT_INTERVAL_S = 4 * 3600


def sites_with_meters(tenant, sites: int, meters_per_site: int) -> list[Meter]:
    """The tenant's organisation with more sites, each with a talking gateway (seen at 0) and its meters."""
    meters = []
    for index in range(sites):
        site = tenant.site if index == 0 else Site.objects.create(organization=tenant.organization, name=f"site-{index}")
        gateway = tenant.gateway if index == 0 else Gateway.objects.create(site=site, name=f"gw-{index}")
        gateway_seen(gateway, at(0))
        for number in range(meters_per_site):
            network = ChargingNetwork.objects.create(site=site, name=f"net-{index}-{number}", max_current_per_phase_a=32)
            meters.append(Meter.objects.create(network=network, model="carlo-gavazzi-em24", host=f"10.{index}.0.{number}"))
    Meter.objects.filter(pk=tenant.meter.pk).delete()  # the fixture's own meter stays out of the count
    return meters


def run(seconds: float) -> list[Delivery]:
    """Evaluate and dispatch at T0 + seconds (talking gateways, restored meters reading); the deliveries this made."""
    Gateway.objects.update(last_seen=at(seconds))
    MeterState.objects.filter(available=True).update(last_reading_at=at(seconds))
    evaluate(seconds)
    return list(Delivery.objects.filter(pk__in=dispatch(seconds).delivery_ids).order_by("channel_id"))


def send_all(seconds: float) -> list[str]:
    return [delivery_send(pk, now=at(seconds)) for pk in notifications_due(now=at(seconds))]


# --- a burst -----------------------------------------------------------------------------------------


def test_a_burst_is_collected_for_group_wait_and_told_once_per_channel_with_counts(
    tenant_a, webhook_channel, email_channel, webhook
):
    meters = sites_with_meters(tenant_a, sites=4, meters_per_site=5)
    for meter in meters[:12]:
        meter_lost(meter, at(0))
    assert run(10) == []  # the group is new: it waits 30 s for the rest of the burst
    for meter in meters[12:]:
        meter_lost(meter, at(15))
    assert run(20) == [] and run(39) == []

    deliveries = run(40)

    assert [d.channel_id for d in deliveries] == sorted([webhook_channel.pk, email_channel.pk])
    payload = deliveries[0].payload
    assert payload["summary"] == "20 meters lost at 4 sites of Org alpha"
    assert (payload["transition"], payload["status"]) == ("opened", "firing")
    assert payload["counts"] == {"firing": 20, "resolved": 0, "folded": 0, "new": 20, "sites": 4, "listed": 20}
    assert "incident" not in payload  # only a notification about one incident carries it
    assert payload["group"]["labels"] == {"kind": "meter_lost"}
    send_all(40)
    [body] = webhook.bodies()
    assert body["summary"] == payload["summary"] and body["sent_at"]
    assert run(50) == [] and run(200) == []


def test_the_burst_resolving_is_one_grouped_resolve_at_most_every_group_interval(tenant_a, webhook_channel):
    meters = sites_with_meters(tenant_a, sites=2, meters_per_site=5)
    for meter in meters:
        meter_lost(meter, at(0))
    run(10)
    assert len(run(40)) == 1  # opened: 10 meters
    for meter in meters[:4]:
        meter_reading(meter, at(100))
    assert run(110) == []  # the last notification was at 40: the change waits until 340
    for meter in meters[4:]:
        meter_reading(meter, at(200))
    assert run(210) == [] and run(339) == []

    [resolved] = run(340)

    payload = resolved.payload
    assert (payload["transition"], payload["status"]) == ("resolved", "resolved")
    assert payload["summary"] == "10 meters back at 2 sites of Org alpha"
    assert payload["counts"]["resolved"] == 10 and payload["counts"]["firing"] == 0
    assert not NotificationGroup.objects.get().members.exists()
    assert run(1000) == []  # nothing open: no reminder


def test_a_partial_recovery_is_an_update_listing_what_is_still_open_and_what_came_back(tenant_a, webhook_channel):
    meters = sites_with_meters(tenant_a, sites=1, meters_per_site=3)
    for meter in meters:
        meter_lost(meter, at(0))
    run(10)
    run(40)
    meter_reading(meters[0], at(100))

    [update] = run(340)

    assert update.transition == "updated" and update.payload["status"] == "firing"
    assert update.payload["summary"] == "Org alpha: 2 meters lost at 1 site; 1 meter back at 1 site"
    assert [facts["state"] for facts in update.payload["incidents"]] == ["firing", "firing", "resolved"]


def test_a_group_that_told_everything_and_emptied_starts_afresh_with_group_wait(tenant_a, webhook_channel):
    [meter] = sites_with_meters(tenant_a, sites=1, meters_per_site=1)
    meter_lost(meter, at(0))
    run(10)
    run(40)
    meter_reading(meter, at(100))
    run(340)  # resolved; the group is empty
    meter_lost(meter, at(2000))  # long after the flap window: a new incident

    assert run(2010) == [] and len(run(2040)) == 1


def test_open_groups_repeat_every_repeat_interval_with_everything_still_open(tenant_a, webhook_channel):
    meters = sites_with_meters(tenant_a, sites=1, meters_per_site=3)
    for meter in meters:
        meter_lost(meter, at(0))
    run(10)
    run(40)

    assert run(40 + 4 * 3600 - 1) == []
    [reminder] = run(40 + 4 * 3600)
    assert reminder.transition == "reminder" and reminder.payload["counts"]["firing"] == 3
    assert reminder.payload["counts"]["new"] == 0


# --- grouping keys and timers per channel ---------------------------------------------------------


def test_a_channel_groups_by_site_so_each_site_is_its_own_notification(tenant_a, webhook_channel):
    webhook_channel.group_by = "site, kind"
    webhook_channel.save()
    meters = sites_with_meters(tenant_a, sites=3, meters_per_site=2)
    for meter in meters:
        meter_lost(meter, at(0))
    run(10)

    deliveries = run(40)

    assert sorted(d.payload["summary"] for d in deliveries) == ["2 meters lost at 1 site of Org alpha"] * 3
    assert all(set(d.payload["group"]["labels"]) == {"site", "kind"} for d in deliveries)


def test_severity_or_nothing_at_all_puts_gateways_and_meters_in_one_group(tenant_a, webhook_channel):
    webhook_channel.group_by = ""
    webhook_channel.save()
    meters = sites_with_meters(tenant_a, sites=2, meters_per_site=1)
    meter_lost(meters[0], at(0))
    Gateway.objects.update(last_seen=at(0))
    Gateway.objects.exclude(site=tenant_a.site).update(last_seen=at(-500))  # site-1's gateway silent for long
    evaluate(10)
    dispatch(10)

    [delivery] = Delivery.objects.filter(pk__in=dispatch(40).delivery_ids)

    assert delivery.payload["summary"] == "Org alpha: 1 gateway offline at 1 site; 1 meter lost at 1 site"
    assert delivery.payload["group"]["key"] == ""


def test_a_channel_may_wait_and_collect_differently_from_the_server(tenant_a, webhook_channel):
    webhook_channel.group_wait_s = 5
    webhook_channel.save()
    [meter] = sites_with_meters(tenant_a, sites=1, meters_per_site=1)
    meter_lost(meter, at(0))
    assert run(10) == []
    assert len(run(15)) == 1


def test_grouping_keys_other_than_site_kind_and_severity_are_refused_naming_the_field(tenant_a):
    channel = NotificationChannel(organization=tenant_a.organization, name="x", kind=ChannelKind.EMAIL,
                                  email_recipients="x@alpha.example", group_by="kind,meter")
    with pytest.raises(ValidationError) as problem:
        channel.full_clean()
    assert "group_by" in problem.value.message_dict and "'meter'" in str(problem.value)


def test_a_huge_group_lists_the_first_incidents_and_counts_them_all(tenant_a, webhook_channel, settings):
    settings.NOTIFICATIONS_GROUP_MAX_LISTED = 5
    meters = sites_with_meters(tenant_a, sites=2, meters_per_site=6)
    for meter in meters:
        meter_lost(meter, at(0))
    run(10)

    [delivery] = run(40)

    assert delivery.payload["truncated"] is True and len(delivery.payload["incidents"]) == 5
    assert delivery.payload["counts"]["firing"] == 12 and delivery.payload["counts"]["listed"] == 5
