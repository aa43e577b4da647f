"""The viewer's own settings page: the time zone of every time on the dashboard, and their API tokens."""

from __future__ import annotations

import zoneinfo
from functools import cache

from django import forms
from django.contrib import messages
from django.shortcuts import redirect
from django.views.generic import TemplateView

from fleet.dashboard.scoping import OperatorScopeMixin
from fleet.dashboard.times import viewer_time_zone
from fleet.models import ApiToken, OperatorProfile
from fleet.services.api_tokens import api_token_issue, api_token_revoke


@cache
def zone_choices() -> list[tuple[str, str]]:
    """Every IANA zone the server knows, with "each site's own" first."""
    return [("", "Each site's own time zone")] + [(name, name) for name in sorted(zoneinfo.available_timezones())]


class TimeZoneForm(forms.Form):
    """The viewer's time zone, or none (each site's own)."""

    time_zone = forms.ChoiceField(choices=zone_choices, required=False, label="Show times in")


class TokenForm(forms.Form):
    """A new API token's name."""

    name = forms.CharField(max_length=100, label="Name", help_text="What the token is for, e.g. the tool that uses it.")


class ProfileView(OperatorScopeMixin, TemplateView):
    """The signed-in person's settings: time zone, and API tokens for fleet tools (each shown once)."""

    template_name = "fleet/dashboard/profile.html"

    def get_context_data(self, **kwargs):
        kwargs.setdefault("zone_form", TimeZoneForm(initial={"time_zone": viewer_time_zone(self.request.user)}))
        kwargs.setdefault("token_form", TokenForm())
        kwargs["tokens"] = ApiToken.objects.filter(user=self.request.user)
        kwargs["zone"] = self.display_zone()
        return super().get_context_data(**kwargs)

    def post(self, request, *args, **kwargs):
        action = request.POST.get("action", "time_zone")
        if action == "issue_token":
            return self._issue_token(request)
        if action == "revoke_token":
            token_id = request.POST.get("token", "")
            if token_id.isdigit() and api_token_revoke(request.user, int(token_id)):
                messages.success(request, "Token deleted; tools using it are refused from now on.")
            return redirect("dashboard:profile")
        form = TimeZoneForm(request.POST)
        if not form.is_valid():
            return self.render_to_response(self.get_context_data(zone_form=form), status=400)
        OperatorProfile.objects.update_or_create(user=request.user, defaults={"time_zone": form.cleaned_data["time_zone"]})
        messages.success(request, "Time zone saved.")
        return redirect("dashboard:profile")

    def _issue_token(self, request):
        form = TokenForm(request.POST)
        if form.is_valid() and ApiToken.objects.filter(user=request.user, name=form.cleaned_data["name"]).exists():
            form.add_error("name", "You already have a token with this name.")
        if not form.is_valid():
            return self.render_to_response(self.get_context_data(token_form=form), status=400)
        row, token = api_token_issue(request.user, form.cleaned_data["name"])
        # Rendered, never redirected: the token exists in clear only in this one answer.
        response = self.render_to_response(self.get_context_data(new_token=token, new_token_row=row))
        response["Cache-Control"] = "no-store"
        return response
