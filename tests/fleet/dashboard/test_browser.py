"""End to end in a real headless Chromium: sign in, open a site, and watch the live chart fill and grow.

Uses Debian's `chromium` through Python playwright (never playwright's own
browser download). Without either, the test skips and says what to install.
"""

import shutil
import threading
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import connections
from django.urls import reverse
from django.utils import timezone

from fleet.models import Incident, IncidentKind
from tests.fleet.dashboard.conftest import record_samples, report_latest_state

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCRATCH = Path("/work/scratch")
"""Where copies of the screenshots go for people to look at, if that folder exists."""

sync_api = pytest.importorskip("playwright.sync_api", reason="Python playwright is not installed (pip install playwright)")

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

DATASET_LENGTHS = """() => {
  const charts = Object.values(window.FuseGuardDashboard ? window.FuseGuardDashboard.networks : {});
  return charts.length ? charts[0].chart.data.datasets.map((d) => [d.label, d.data.length]) : null;
}"""


@pytest.fixture
def browser():
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing: apt-get install chromium")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, timeout=20_000)
        yield browser
        browser.close()


def in_own_thread(function, *args, **kwargs):
    """Run ORM work beside playwright's event loop: in a thread of its own, whose connection it closes."""

    def work():
        try:
            function(*args, **kwargs)
        finally:
            connections.close_all()

    thread = threading.Thread(target=work)
    thread.start()
    thread.join()


@pytest.fixture
def site_with_history(live_server, tenant_a):
    """A site whose network ran normally, fell back for 40 s when the meter was lost, and is normal again."""
    report_latest_state(tenant_a, reason="limited_by_phase_L1")
    now = timezone.now()
    record_samples(tenant_a, 120, end=now - timedelta(seconds=60), fallback_from=80)
    record_samples(tenant_a, 60, end=now, first_seq=1000)
    return tenant_a


def test_an_operator_watches_a_site_live(site_with_history, live_server, browser, tmp_path):
    tenant_a = site_with_history

    page = browser.new_page(viewport={"width": 1280, "height": 1100})
    errors = watch_for_errors(page)
    page.goto(live_server.url + reverse("dashboard:site", args=[tenant_a.site.pk]))
    assert reverse("dashboard:login") in page.url
    page.fill("#id_username", tenant_a.operator.username)
    page.fill("#id_password", "pw-for-tests-only")
    page.click("button[type=submit]")
    page.wait_for_url(f"**{reverse('dashboard:site', args=[tenant_a.site.pk])}")

    page.wait_for_function(
        "() => { const n = window.FuseGuardDashboard && Object.values(window.FuseGuardDashboard.networks)[0];"
        " return n && n.chart && n.chart.data.datasets[0].data.length > 0; }",
        timeout=15_000,
    )
    lengths = dict(page.evaluate(DATASET_LENGTHS))
    assert lengths["L1"] == lengths["L2"] == lengths["L3"] == 180
    assert lengths["Limit per phase"] == 2
    assert lengths["cp-alpha current"] == lengths["cp-alpha setpoint"] == 180
    assert page.evaluate("Object.values(window.FuseGuardDashboard.networks)[0].chart.options.plugins.fallbackShading.spans.length") == 1

    # A new sample arrives and the chart takes it up without a reload.
    in_own_thread(record_samples, tenant_a, 1, first_seq=5000)
    page.wait_for_function(
        "() => Object.values(window.FuseGuardDashboard.networks)[0].chart.data.datasets[0].data.length === 181",
        timeout=10_000,
    )
    assert "live" == page.get_attribute("#live-indicator", "data-state")
    assert "Limited by the maximum current of grid phase L1." in page.inner_text(f'tr[data-charger-id="{tenant_a.charger.pk}"]')
    assert errors == []

    save_screenshot(page, tmp_path / "dashboard.png")

    # The legend is two groups; the 24 h range draws one-minute means, and 10 min the live window again.
    legend = page.evaluate("Object.values(window.FuseGuardDashboard.networks)[0].chart.legend.legendItems.map((i) => i.text)")
    assert [text.split(" ")[1] for text in legend] == ["Grid", "Chargers:"]
    page.click('[data-range="24h"]')
    page.wait_for_function("() => window.FuseGuardDashboard.loadedRange === '24h'", timeout=10_000)
    buckets = page.evaluate("Object.values(window.FuseGuardDashboard.networks)[0].chart.data.datasets[0].data.length")
    assert 3 <= buckets <= 5  # 181 one-second samples over about three minutes
    page.click('[data-range="10m"]')
    page.wait_for_function(
        "() => Object.values(window.FuseGuardDashboard.networks)[0].chart.data.datasets[0].data.length === 181", timeout=10_000
    )
    # Reset zoom redraws the whole live window in place.
    page.click("#reset-zoom")
    assert page.evaluate("Object.values(window.FuseGuardDashboard.networks)[0].chart.data.datasets[0].data.length") == 181

    page.click("text=Fleet")
    card = f'[data-site-id="{tenant_a.site.pk}"]'
    page.wait_for_selector(card)
    assert "Normal" in page.inner_text(card)
    page.wait_for_function("() => window.FuseGuardOverview && window.FuseGuardOverview.polls > 0", timeout=10_000)
    assert page.inner_text('[data-count="normal"]') == "1"

    # The meter drops out: the card and the counts change in place, without a reload.
    page.evaluate("window.notReloaded = true")
    in_own_thread(report_latest_state, tenant_a, mode="fallback", meter_available=False)
    page.wait_for_function(
        f"() => document.querySelector('{card} .badge').textContent === 'Meter lost'", timeout=15_000
    )
    assert page.evaluate("window.notReloaded") is True
    assert page.inner_text('[data-count="meter_lost"]') == "1" and page.inner_text('[data-count="normal"]') == "0"

    # Search and the state filter narrow the cards in place too.
    page.fill("input[name=q]", "no-such-site")
    page.wait_for_selector("#no-match:not([hidden])", timeout=10_000)
    page.fill("input[name=q]", "alpha")
    page.click('.state-count[data-status="meter_lost"]')
    page.wait_for_selector(card, timeout=10_000)
    assert "status=meter_lost" in page.url and "q=alpha" in page.url
    save_screenshot(page, tmp_path / "dashboard-overview.png")

    # The incident the lost meter opened is acknowledged from the incidents page, in place.
    opened = []
    in_own_thread(lambda: opened.append(open_meter_incident(tenant_a)))
    page.click("nav >> text=Incidents")
    row = f'tr[data-incident-id="{opened[0].pk}"]'
    page.wait_for_selector(f"{row} .ack-form")
    page.fill(f"{row} input[name=note]", "electrician called")
    page.click(f"{row} button[type=submit]")
    page.wait_for_function("() => window.FuseGuardIncidents && window.FuseGuardIncidents.acknowledged === 1", timeout=10_000)
    assert "electrician called" in page.inner_text(row) and tenant_a.operator.username in page.inner_text(row)
    acknowledged_by = []
    in_own_thread(lambda: acknowledged_by.append(Incident.objects.get().acknowledged_by_id))
    assert acknowledged_by == [tenant_a.operator.pk]
    save_screenshot(page, tmp_path / "dashboard-incidents.png")
    assert errors == []


def open_meter_incident(tenant) -> Incident:
    """What the alert evaluation opens when the meter stays lost."""
    now = timezone.now()
    return Incident.objects.create(organization=tenant.organization, site=tenant.site, meter=tenant.meter,
                            kind=IncidentKind.METER_LOST, started_at=now - timedelta(seconds=70))


def watch_for_errors(page) -> list[str]:
    """Collect uncaught exceptions, console errors, failed requests and error answers of every page visited."""
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(f"exception: {error}"))
    page.on("console", lambda message: message.type == "error" and errors.append(f"console: {message.text}"))
    # A poll still under way when the test moves to another page is cancelled by the browser
    # (net::ERR_ABORTED): that is navigation, not a failure; every other network error counts.
    page.on("requestfailed", lambda request: request.failure != "net::ERR_ABORTED"
            and errors.append(f"failed: {request.url} {request.failure}"))
    page.on("response", lambda response: response.status >= 400 and errors.append(f"HTTP {response.status}: {response.url}"))
    return errors


def save_screenshot(page, path: Path) -> None:
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 10_000
    if SCRATCH.is_dir():
        shutil.copyfile(path, SCRATCH / path.name)


@pytest.fixture
def finished_plan(live_server, tenant_a):
    """A plan run to the end on two recorded days of the tenant's network (before the browser's event loop starts)."""
    from fleet.models import CapacityPlan, PlanStatus
    from fleet.services.plan_run import plan_run
    from tests.fleet.plans.conftest import DAY_START, record_days

    record_days(tenant_a, days=2, evening_peak_a=12.0)
    request = {
        "network": tenant_a.network.pk, "from": DAY_START.isoformat(), "to": (DAY_START + timedelta(days=2)).isoformat(),
        "changes": {"add_chargers": [{"count": 4, "max_current_a": 16, "phases": 3}]}, "profile": {"seed": 14},
    }
    plan = CapacityPlan.objects.create(network=tenant_a.network, request=request)
    assert plan_run(plan.pk) == PlanStatus.DONE
    plan.refresh_from_db()
    return plan


def test_a_finished_plan_draws_its_typical_day_and_sessions(finished_plan, tenant_a, live_server, browser, tmp_path):
    plan = finished_plan
    page = browser.new_page(viewport={"width": 1280, "height": 1100})
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(live_server.url + reverse("dashboard:plan", args=[plan.pk]))
    page.fill("#id_username", tenant_a.operator.username)
    page.fill("#id_password", "pw-for-tests-only")
    page.click("button[type=submit]")
    page.wait_for_function("() => window.FuseGuardPlan && window.FuseGuardPlan.charts.sessions", timeout=15_000)
    day = page.evaluate("window.FuseGuardPlan.charts.day.data.datasets.map((d) => [d.label, d.data.length])")
    assert [label for label, _ in day] == ["L1 peak", "L1 mean", "L2 peak", "L2 mean", "L3 peak", "L3 mean", "Fuse"]
    assert {length for _, length in day} == {96}
    sessions = page.evaluate("window.FuseGuardPlan.charts.sessions.data.datasets[1].data.length")
    assert sessions == plan.result["network"]["sessions"] > 0
    assert plan.answer in page.inner_text("#plan-answer")
    assert errors == []
    save_screenshot(page, tmp_path / "dashboard-plan.png")
