"""Dashboard views: scoping from `OperatorScopeMixin`, content from `selectors`, nothing else."""

from django.contrib.auth import views as auth_views
from django.http import HttpResponseBadRequest, JsonResponse
from django.urls import reverse, reverse_lazy
from django.utils import timezone
from django.views.generic import TemplateView, View

from fleet.dashboard import live, overview, selectors
from fleet.dashboard.scoping import OperatorScopeMixin

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
        detail = selectors.site_detail(self.get_site(kwargs["pk"]), now)
        return super().get_context_data(
            detail=detail, now=now, poll_interval_ms=POLL_INTERVAL_MS, window_s=live.LIVE_WINDOW_S, **kwargs
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
        data = live.site_live(site, timezone.now(), window_s=window_s, after_id=after_id)
        return JsonResponse(data, headers={"Cache-Control": "no-store"})

    def handle_no_permission(self):
        # A poll whose session expired gets a status code the script understands, not a login page.
        return JsonResponse({"detail": "Not signed in."}, status=403)


class DashboardLoginView(auth_views.LoginView):
    """Sign-in with the dashboard's look; any active user may sign in and then sees their organisations."""

    template_name = "fleet/dashboard/login.html"
    redirect_authenticated_user = True
    next_page = reverse_lazy("dashboard:overview")
