"""Dashboard views: scoping from `OperatorScopeMixin`, content from `selectors`, nothing else."""

from django.contrib.auth import views as auth_views
from django.http import HttpResponseBadRequest, JsonResponse
from django.urls import reverse_lazy
from django.utils import timezone
from django.views.generic import TemplateView, View

from fleet.dashboard import live, selectors
from fleet.dashboard.scoping import OperatorScopeMixin

POLL_INTERVAL_MS = 3000
"""How often the site page asks for new samples; the gateways report about once a second."""


class FleetOverviewView(OperatorScopeMixin, TemplateView):
    """Every site the user may see, with its state; sites with open incidents first."""

    template_name = "fleet/dashboard/overview.html"

    def get_context_data(self, **kwargs):
        now = timezone.now()
        cards = selectors.fleet_overview(self.visible_sites(), now)
        return super().get_context_data(cards=cards, now=now, **kwargs)


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
