"""Connectivity outages: many gateways of one organisation silent together are one incident that explains theirs.

Defaults: at least 10 gateways and 30 % of the organisation's gateways online
at the window's start, silent within 120 s; gateway grace period 120 s.
"""

import pytest

from fleet.models import Delivery, Gateway, Incident, IncidentKind, IncidentStatus, IncidentTransition, Site
from tests.fleet.alerts.conftest import at, dispatch, evaluate

pytestmark = pytest.mark.django_db


def gateways(tenant, count: int) -> list[Gateway]:
    """The tenant's gateway and more, one per site, all seen at 0."""
    made = [tenant.gateway]
    for index in range(count - 1):
        site = Site.objects.create(organization=tenant.organization, name=f"site-{index:02}")
        made.append(Gateway.objects.create(site=site, name=f"gw-{index:02}"))
    Gateway.objects.update(last_seen=at(0))
    return made


def talking(gateways: list[Gateway], seconds: float) -> None:
    Gateway.objects.filter(pk__in=[g.pk for g in gateways]).update(last_seen=at(seconds))


def run(seconds: float, quiet: list[Gateway], everyone: list[Gateway]) -> list[Delivery]:
    """At T0 + seconds, every gateway but `quiet` has just reported; evaluate, dispatch; the deliveries made."""
    talking([g for g in everyone if g not in quiet], seconds)
    evaluate(seconds)
    return list(Delivery.objects.filter(pk__in=dispatch(seconds).delivery_ids))


def outages() -> list[Incident]:
    return list(Incident.objects.filter(kind=IncidentKind.CONNECTIVITY_OUTAGE))


def test_twelve_of_twenty_gateways_silent_together_are_one_outage_told_alone(tenant_a, webhook_channel):
    fleet = gateways(tenant_a, 20)
    down = fleet[:12]
    for seconds in (30, 60, 100):
        assert run(seconds, down, fleet) == []

    told = run(125, down, fleet)  # down's last_seen (100 s ago at 30... ) crosses the 120 s grace now

    [outage] = outages()
    assert outage.status == IncidentStatus.OPEN and outage.site_id is None
    assert outage.detail == "12 of 20 gateways fell silent within 120 s"
    offline = Incident.objects.filter(kind=IncidentKind.GATEWAY_OFFLINE)
    assert offline.count() == 12 and set(offline.values_list("folded_into", flat=True)) == {outage.pk}
    [delivery] = told
    assert delivery.payload["summary"] == "1 connectivity outage of Org alpha"
    assert [facts["id"] for facts in delivery.payload["incidents"]] == [outage.pk]
    assert run(200, down, fleet) == []  # the gateways' own group stays quiet: explained by the outage


def test_the_outage_resolves_when_most_are_back_and_the_stragglers_then_speak_for_themselves(tenant_a, webhook_channel):
    fleet = gateways(tenant_a, 20)
    down = fleet[:12]
    for seconds in (30, 125):
        run(seconds, down, fleet)
    assert run(200, down[5:], fleet) == []  # 5 of 12 back: still an outage
    assert outages()[0].status == IncidentStatus.OPEN

    told = run(210, down[8:], fleet)  # 8 of 12 back: most of them

    assert outages()[0].status == IncidentStatus.RESOLVED
    stragglers = Incident.objects.filter(kind=IncidentKind.GATEWAY_OFFLINE, status=IncidentStatus.OPEN)
    assert stragglers.count() == 4 and set(stragglers.values_list("folded_into", flat=True)) == {None}
    assert sorted(d.payload["summary"] for d in told) == [
        "1 connectivity outage over of Org alpha", "4 gateways offline at 4 sites of Org alpha",
    ]
    assert IncidentTransition.objects.filter(kind="unfolded").count() == 4
    assert run(220, down[8:], fleet) == [] and len(outages()) == 1  # the stragglers are no new outage


@pytest.mark.parametrize(
    ("total", "silent", "why"),
    [
        (20, 9, "fewer than ten gateways"),
        (40, 11, "ten or more, but under 30 % of those online"),
    ],
)
def test_below_the_thresholds_each_gateway_is_its_own_incident(tenant_a, webhook_channel, total, silent, why):
    fleet = gateways(tenant_a, total)
    down = fleet[:silent]
    run(30, down, fleet)

    [delivery] = run(125, down, fleet)

    assert outages() == [], why
    assert delivery.payload["counts"]["firing"] == silent


def test_gateways_silent_long_before_do_not_make_an_outage_of_a_few_new_ones(tenant_a, webhook_channel):
    fleet = gateways(tenant_a, 20)
    run(30, fleet[:8], fleet)
    run(125, fleet[:8], fleet)  # 8 silent: each its own incident
    run(400, fleet[:11], fleet)  # 3 more, long after the first 8

    assert outages() == []
