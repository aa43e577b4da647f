"""Dashboard views: scoping from `OperatorScopeMixin`, content from `selectors`, nothing else."""

from django.contrib.auth import views as auth_views
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseBadRequest, JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse, reverse_lazy
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.generic import TemplateView, View

from fleet.dashboard import history, incidents, live, overview, selectors
from fleet.dashboard.scoping import OperatorScopeMixin
from fleet.dashboard.times import viewer_time_zone
from fleet.models import IncidentKind
from fleet.services.incidents_acknowledge import MAX_NOTE_LENGTH, AckOutcome, incident_acknowledge
from fleet.services.tenancy import user_may_edit

POLL_INTERVAL_MS = 3000
"""How often the site page asks for new samples; the gateways report about once a second."""
OVERVIEW_POLL_INTERVAL_MS = 5000
"""How often the overview asks for its page: a 20 s meter drop-out shows on a wall screen for several polls."""


class FleetOverviewView(OperatorScopeMixin, TemplateView):
    """Every site the user may see, with its state, worst first; counts per state, search and filters, in pages."""

    template_name = "fleet/dashboard/overview.html"

    def get(self, request, *args, **kwargs):
        try:
            self.query = overview.OverviewQuery.from_params(request.GET)
        except overview.OverviewQueryError as error:
            return HttpResponseBadRequest(str(error))
        return super().get(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        now = timezone.now()
        result = overview.fleet_overview_page(self.visible_sites(), now, self.query)
        return super().get_context_data(
            result=result,
            cards=result.cards,
            query=self.query,
            all_count=sum(result.counts.values()),
            zone=self.display_zone(),
            statuses=[(status, status.label, result.counts[status]) for status in overview.STATUS_ORDER],
            now=now,
            poll_interval_ms=OVERVIEW_POLL_INTERVAL_MS,
            **kwargs,
        )


class FleetLiveView(OperatorScopeMixin, View):
    """The JSON the overview polls: the same page of cards and the counts per state, for the same filters."""

    def get(self, request):
        try:
            query = overview.OverviewQuery.from_params(request.GET)
        except overview.OverviewQueryError as error:
            return JsonResponse({error.field: [str(error)]}, status=400)
        now = timezone.now()
        result = overview.fleet_overview_page(self.visible_sites(), now, query)
        data = overview.overview_json(result, now, lambda pk: reverse("dashboard:site", args=[pk]))
        return JsonResponse(data, headers={"Cache-Control": "no-store"})

    def handle_no_permission(self):
        return JsonResponse({"detail": "Not signed in."}, status=403)


class SitePageView(OperatorScopeMixin, TemplateView):
    """One site: per network a live chart, the chargers' setpoints with their reasons, and the meter."""

    template_name = "fleet/dashboard/site.html"

    def get_context_data(self, **kwargs):
        now = timezone.now()
        site = self.get_site(kwargs["pk"])
        detail = selectors.site_detail(site, now)
        return super().get_context_data(
            detail=detail,
            incidents=incidents.site_incidents(site, self.request.user, now),
            zone=self.display_zone(site.time_zone),
            note_max_length=MAX_NOTE_LENGTH,
            now=now, poll_interval_ms=POLL_INTERVAL_MS, window_s=live.LIVE_WINDOW_S, **kwargs
        )


class SiteLiveView(OperatorScopeMixin, View):
    """The JSON the site page polls: latest states and the samples stored since the page's cursor."""

    def get(self, request, pk: int):
        site = self.get_site(pk)
        try:
            after_id = int(request.GET["after"]) if request.GET.get("after") else None
            window_s = int(request.GET.get("window_s", live.LIVE_WINDOW_S))
        except ValueError:
            return HttpResponseBadRequest("after and window_s must be whole numbers")
        data = live.site_live(site, request.user, timezone.now(), window_s=window_s, after_id=after_id)
        return JsonResponse(data, headers={"Cache-Control": "no-store"})

    def handle_no_permission(self):
        # A poll whose session expired gets a status code the script understands, not a login page.
        return JsonResponse({"detail": "Not signed in."}, status=403)


class SiteHistoryView(OperatorScopeMixin, View):
    """The JSON of the chart's long ranges (24 h, 7 days): bucket means of the site's samples."""

    def get(self, request, pk: int):
        site = self.get_site(pk)
        range_key = request.GET.get("range", "")
        if history.RANGES.get(range_key, (0, None))[1] is None:
            long_ranges = [key for key, (_, resolution_s) in history.RANGES.items() if resolution_s]
            return JsonResponse({"range": [f"One of {', '.join(long_ranges)}."]}, status=400)
        data = history.site_history(site, timezone.now(), range_key)
        return JsonResponse(data, headers={"Cache-Control": "no-store"})

    def handle_no_permission(self):
        return JsonResponse({"detail": "Not signed in."}, status=403)


class IncidentsPageView(OperatorScopeMixin, TemplateView):
    """Open and recent incidents of every site the user may see; filtered, sorted, live; acknowledged in place."""

    template_name = "fleet/dashboard/incidents.html"

    def get(self, request, *args, **kwargs):
        try:
            self.query = incidents.IncidentQuery.from_params(request.GET)
        except overview.OverviewQueryError as error:
            return HttpResponseBadRequest(str(error))
        return super().get(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        now = timezone.now()
        return super().get_context_data(
            rows=incidents.incidents_page(self.visible_sites(), self.request.user, now, self.query),
            query=self.query,
            sites=self.visible_sites().order_by("name").values_list("pk", "name"),
            kinds=IncidentKind.choices,
            states=[(state, state.capitalize()) for state in incidents.STATES],
            recent_days=incidents.RECENT_DAYS,
            zone=self.display_zone(),
            viewer_zone=viewer_time_zone(self.request.user),
            now=now,
            poll_interval_ms=OVERVIEW_POLL_INTERVAL_MS,
            note_max_length=MAX_NOTE_LENGTH,
            **kwargs,
        )


class IncidentsLiveView(OperatorScopeMixin, View):
    """The JSON the incidents page polls, for the same filters and order."""

    def get(self, request):
        try:
            query = incidents.IncidentQuery.from_params(request.GET)
        except overview.OverviewQueryError as error:
            return JsonResponse({error.field: [str(error)]}, status=400)
        now = timezone.now()
        rows = incidents.incidents_page(self.visible_sites(), request.user, now, query)
        data = {"now": now.isoformat(), "incidents": [row.as_json() for row in rows]}
        return JsonResponse(data, headers={"Cache-Control": "no-store"})

    def handle_no_permission(self):
        return JsonResponse({"detail": "Not signed in."}, status=403)


class IncidentAcknowledgeView(OperatorScopeMixin, View):
    """POST: an operator or admin takes an open incident on, with a note (the API's acknowledge, from the page)."""

    def post(self, request, pk: int):
        incident = get_object_or_404(incidents.incidents_of(self.visible_sites()), pk=pk)
        wants_json = "application/json" in request.headers.get("Accept", "")
        if not user_may_edit(request.user, incident):
            if wants_json:
                return JsonResponse({"detail": "Your role in this organisation may only view, not acknowledge."}, status=403)
            raise PermissionDenied("Your role in this organisation may only view, not acknowledge.")
        note = request.POST.get("note", "")
        if len(note) > MAX_NOTE_LENGTH:
            return JsonResponse({"note": [f"At most {MAX_NOTE_LENGTH} characters."]}, status=400)
        outcome = incident_acknowledge(incident, request.user, note)
        if not wants_json:
            return redirect(request.POST.get("next") if _is_local(request, request.POST.get("next")) else "dashboard:incidents")
        if outcome is AckOutcome.RESOLVED:
            return JsonResponse({"detail": "The incident is resolved; there is nothing to acknowledge."}, status=409)
        [row] = incidents.incident_rows([incident], request.user, timezone.now())
        return JsonResponse(row.as_json())

    def handle_no_permission(self):
        return JsonResponse({"detail": "Not signed in."}, status=403)


def _is_local(request, url: str | None) -> bool:
    """Only this server's own pages are followed after a form post (no open redirect)."""
    return bool(url) and url_has_allowed_host_and_scheme(url, allowed_hosts={request.get_host()}, require_https=request.is_secure())


class DashboardLoginView(auth_views.LoginView):
    """Sign-in with the dashboard's look; any active user may sign in and then sees their organisations."""

    template_name = "fleet/dashboard/login.html"
    redirect_authenticated_user = True
    next_page = reverse_lazy("dashboard:overview")
