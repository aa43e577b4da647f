"""The site's "Plan" form and a plan's result page: asked on the page, run on the site's telemetry, shown with its charts."""

import json

import pytest
from django.urls import reverse

from fleet.models import CapacityPlan, PlanStatus
from fleet.services.plan_run import plan_run
from tests.fleet.plans.conftest import DAY_START, eager_tasks, record_days  # noqa: F401 (fixture)

pytestmark = pytest.mark.django_db

FORM = {
    "add_count": 4, "charger_size": "11kw", "sessions": "profile", "date_from": "2026-11-02", "date_to": "2026-11-03",
    "arrival_from": "17:00", "arrival_to": "20:00", "departure_from": "06:30", "departure_to": "08:00",
    "energy_low_kwh": 8, "energy_high_kwh": 20, "probability_pct": 100, "seed": 14,
}


def test_an_operator_asks_on_the_form_and_reads_the_answer_with_its_charts(
    as_user, tenant_a, eager_tasks, django_capture_on_commit_callbacks  # noqa: F811
):
    record_days(tenant_a, days=3, start=DAY_START.replace(day=1), evening_peak_a=12.0)
    client = as_user(tenant_a.operator)
    site_page = client.get(reverse("dashboard:site", args=[tenant_a.site.pk])).content.decode()
    form_url = reverse("dashboard:plan-new", args=[tenant_a.site.pk])
    assert f"{form_url}?network={tenant_a.network.pk}" in site_page

    with django_capture_on_commit_callbacks(execute=True):
        posted = client.post(form_url, {**FORM, "network": tenant_a.network.pk, "max_current_per_phase_a": 35})
    assert posted.status_code == 302, posted.content.decode()[:2000]
    plan = CapacityPlan.objects.get()
    assert posted["Location"] == reverse("dashboard:plan", args=[plan.pk])
    # Whole local days in the site's zone (Berlin, stored in UTC), the form's 11 kW as 16 A on three phases.
    assert (plan.request["from"], plan.request["to"]) == ("2026-11-01T23:00:00+00:00", "2026-11-03T23:00:00+00:00")
    added = plan.request["changes"]["add_chargers"]
    assert [(a["count"], a["max_current_a"], a["phases"]) for a in added] == [(4, 16.0, 3)]

    page = client.get(posted["Location"])
    html = page.content.decode()
    plan.refresh_from_db()
    assert plan.status == PlanStatus.DONE
    assert plan.answer.startswith("With 4 more 11 kW chargers and a 35 A fuse, ") and plan.answer in html
    chart = json.loads(html.split('id="plan-chart-data"', 1)[1].split(">", 1)[1].split("</script>", 1)[0])
    assert chart["fuse_a"] == [35.0, 35.0, 35.0] and len(chart["typical_day"]) == 96
    assert len(chart["sessions"]) == plan.result["network"]["sessions"] > 0
    assert "fleet/plan" in html and "http-equiv=\"refresh\"" not in html


def test_a_running_plan_reloads_and_a_failed_one_says_why(as_user, tenant_a):
    client = as_user(tenant_a.viewer)
    plan = CapacityPlan.objects.create(network=tenant_a.network, request={"from": DAY_START.isoformat(), "to": DAY_START.isoformat()})
    page = client.get(reverse("dashboard:plan", args=[plan.pk])).content.decode()
    assert 'http-equiv="refresh"' in page and "Queued" in page
    plan_run(plan.pk)
    page = client.get(reverse("dashboard:plan", args=[plan.pk])).content.decode()
    assert "The plan could not run: from: no grid readings" in page


def test_the_form_shows_the_planners_refusal_and_stores_nothing(as_user, tenant_a):
    client = as_user(tenant_a.operator)
    form = {**FORM, "network": tenant_a.network.pk, "energy_low_kwh": 30, "energy_high_kwh": 10}
    answer = client.post(reverse("dashboard:plan-new", args=[tenant_a.site.pk]), form)
    assert answer.status_code == 200
    assert "profile: energy_wh: high must not be below low" in answer.content.decode()
    assert not CapacityPlan.objects.exists()


def test_viewers_see_plans_but_cannot_start_one_and_other_tenants_see_nothing(as_user, tenant_a, tenant_b):
    plan = CapacityPlan.objects.create(network=tenant_a.network, request={}, status=PlanStatus.FAILED, error="x")
    viewer = as_user(tenant_a.viewer)
    form_url = reverse("dashboard:plan-new", args=[tenant_a.site.pk])
    assert "may view plans but not start them" in viewer.get(form_url).content.decode()
    assert viewer.post(form_url, {**FORM, "network": tenant_a.network.pk}).status_code == 403
    assert not CapacityPlan.objects.exclude(pk=plan.pk).exists()
    stranger = as_user(tenant_b.operator)
    assert stranger.get(reverse("dashboard:plan", args=[plan.pk])).status_code == 404
    assert stranger.get(form_url).status_code == 404
