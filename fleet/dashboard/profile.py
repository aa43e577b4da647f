"""The viewer's own settings page: the time zone of every time on the dashboard."""

from __future__ import annotations

import zoneinfo
from functools import cache

from django import forms
from django.contrib import messages
from django.shortcuts import redirect
from django.views.generic import TemplateView

from fleet.dashboard.scoping import OperatorScopeMixin
from fleet.dashboard.times import viewer_time_zone
from fleet.models import OperatorProfile


@cache
def zone_choices() -> list[tuple[str, str]]:
    """Every IANA zone the server knows, with "each site's own" first."""
    return [("", "Each site's own time zone")] + [(name, name) for name in sorted(zoneinfo.available_timezones())]


class TimeZoneForm(forms.Form):
    """The viewer's time zone, or none (each site's own)."""

    time_zone = forms.ChoiceField(choices=zone_choices, required=False, label="Show times in")


class ProfileView(OperatorScopeMixin, TemplateView):
    """The signed-in person's settings."""

    template_name = "fleet/dashboard/profile.html"

    def get_context_data(self, **kwargs):
        kwargs.setdefault("zone_form", TimeZoneForm(initial={"time_zone": viewer_time_zone(self.request.user)}))
        return super().get_context_data(**kwargs)

    def post(self, request, *args, **kwargs):
        form = TimeZoneForm(request.POST)
        if not form.is_valid():
            return self.render_to_response(self.get_context_data(zone_form=form), status=400)
        OperatorProfile.objects.update_or_create(user=request.user, defaults={"time_zone": form.cleaned_data["time_zone"]})
        messages.success(request, "Time zone saved.")
        return redirect("dashboard:profile")
