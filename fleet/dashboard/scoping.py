"""The dashboard's one scoping rule: which sites a request may see.

Everything a page shows hangs off a site (its gateways, networks, meters,
chargers, samples, incidents), so scoping the sites scopes the whole
dashboard. The rule is the admin's and the API's: members see their
organisations, superusers everything, anyone else nothing.
"""

from django.contrib.auth.mixins import LoginRequiredMixin
from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from django.urls import reverse_lazy

from fleet.dashboard.times import display_zone, viewer_time_zone
from fleet.models import Site
from fleet.services.tenancy import scope_to_organizations, user_organization_ids


def visible_sites(user) -> QuerySet[Site]:
    """The sites `user` may look at."""
    sites = Site.objects.select_related("organization")
    if not user.is_authenticated or not user.is_active:
        return sites.none()
    if user.is_superuser:
        return sites
    return scope_to_organizations(sites, user_organization_ids(user))


class OperatorScopeMixin(LoginRequiredMixin):
    """Signed-in users only; gives the view the sites they may see and 404 for any other."""

    login_url = reverse_lazy("dashboard:login")

    def visible_sites(self) -> QuerySet[Site]:
        return visible_sites(self.request.user)

    def display_zone(self, site_zone: str | None = None) -> str:
        """The zone this page's times are shown in (`times.display_zone`)."""
        return display_zone(viewer_time_zone(self.request.user), site_zone)

    def get_site(self, pk: int) -> Site:
        """The site, or 404 alike whether it does not exist or belongs to another organisation."""
        return get_object_or_404(self.visible_sites(), pk=pk)
