"""The dashboard's capacity plans: the "Plan" form of a site and a plan's result page.

The form posts through the API's request serializer and `plan_create`, so a
plan asked on the page is the same record, validated the same way, as one
asked over the API. The result page reads the stored result only; while the
plan runs it reloads itself every few seconds.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils import timezone
from django.views.generic import FormView, TemplateView

from fleet.api.plans import CapacityPlanRequestSerializer
from fleet.dashboard.plan_form import PlanForm
from fleet.dashboard.scoping import OperatorScopeMixin
from fleet.models import CapacityPlan, PlanStatus
from fleet.services.plan_run import plan_create
from fleet.services.tenancy import user_may_edit

RELOAD_WHILE_RUNNING_S = 2


class PlanFormView(OperatorScopeMixin, FormView):
    """Ask a capacity question about one of the site's networks (operators and admins)."""

    template_name = "fleet/dashboard/plan_form.html"
    form_class = PlanForm

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            self.site = self.get_site(kwargs["pk"])
        return super().dispatch(request, *args, **kwargs)

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        kwargs["networks"] = self.site.networks.order_by("name")
        kwargs["today"] = timezone.localdate(timezone=_zone(self.site))
        network = self.request.GET.get("network")
        if network and network.isdigit():
            kwargs.setdefault("initial", {})["network"] = int(network)
        return kwargs

    def get_context_data(self, **kwargs):
        plans = CapacityPlan.objects.filter(network__site=self.site).select_related("network")[:10]
        return super().get_context_data(
            site=self.site, plans=plans, may_edit=user_may_edit(self.request.user, self.site), **kwargs
        )

    def form_valid(self, form):
        if not user_may_edit(self.request.user, self.site):
            raise PermissionDenied("Your role in this organisation may only view plans.")
        request_body = form.to_request(self.site.time_zone)
        serializer = CapacityPlanRequestSerializer(data=request_body, context={"request": self.request})
        if not serializer.is_valid():
            for field, messages in serializer.errors.items():
                form.add_error(None, f"{field}: {_flat(messages)}")
            return self.form_invalid(form)
        plan = plan_create(serializer.validated_data["network"], serializer.validated_data["request"], user=self.request.user)
        return redirect(reverse("dashboard:plan", args=[plan.pk]))


class PlanPageView(OperatorScopeMixin, TemplateView):
    """One plan: the answer in a sentence, the typical day against the fuse, each session's energy against wanted."""

    template_name = "fleet/dashboard/plan.html"

    def get_context_data(self, **kwargs):
        plan = get_object_or_404(
            CapacityPlan.objects.select_related("network__site", "created_by"), pk=kwargs["pk"],
            network__site__in=self.visible_sites(),
        )
        running = plan.status in (PlanStatus.QUEUED, PlanStatus.RUNNING)
        return super().get_context_data(
            plan=plan, site=plan.network.site, running=running, reload_s=RELOAD_WHILE_RUNNING_S,
            chart=_chart_data(plan) if plan.status == PlanStatus.DONE else None,
            facts=_facts(plan) if plan.status == PlanStatus.DONE else None, **kwargs,
        )


def _zone(site):
    from zoneinfo import ZoneInfo

    return ZoneInfo(site.time_zone or "UTC")


def _flat(messages) -> str:
    """DRF's nested error detail as one line ("arrival_window[1]: must be ...")."""
    if isinstance(messages, dict):
        return "; ".join(f"{key}: {_flat(value)}" for key, value in messages.items())
    if isinstance(messages, list):
        return " ".join(_flat(message) for message in messages)
    return str(messages)


def _chart_data(plan: CapacityPlan) -> dict:
    """What plan.js draws: the typical day with the fuse, and each session's energy against what was wanted."""
    result = plan.result
    fuse_a = result["limits"]["max_current_per_phase_a"]
    return {
        "typical_day": result["typical_day"]["slots"],
        "fuse_a": fuse_a,
        "sessions": [
            {
                "label": f"{s['charger']} {s['arrival'][5:16].replace('T', ' ')}",
                "wanted_kwh": round(s["energy_wanted_wh"] / 1000, 2),
                "delivered_kwh": round(s["energy_delivered_wh"] / 1000, 2),
                "hypothetical": s["hypothetical"],
            }
            for s in result["sessions"]
        ],
    }


def _facts(plan: CapacityPlan) -> list[tuple[str, str]]:
    """The numbers behind the sentence, as label and value."""
    network = plan.result["network"]
    load = plan.result.get("load") or {}
    days = max(network["duration_minutes"] / 1440, 1 / 1440)
    peak = " / ".join(f"{a:.1f}" for a in network["peak_phase_current_a"])
    unmanaged = " / ".join(f"{a:.1f}" for a in network["unmanaged_peak_phase_current_a"])
    wanted_kwh = network["energy_wanted_wh"] / 1000
    delivered_kwh = network["energy_delivered_wh"] / 1000
    facts = [
        ("Window", f"{plan.request['from'][:10]} to {plan.request['to'][:10]} ({days:.1f} days)"),
        ("Sessions complete", f"{network['sessions_complete']} of {network['sessions']}"),
        ("Energy delivered", f"{delivered_kwh:.0f} of {wanted_kwh:.0f} kWh wanted"),
        ("Limited by a limit", f"{network['limited_minutes'] / 60 / days:.1f} h a day"),
        ("Peak phase current", f"{peak} A (without load management: {unmanaged} A)"),
        ("Without load management the fuse would be exceeded", f"{network['unmanaged_over_fuse_minutes'] / 60 / days:.1f} h a day"),
    ]
    for code, minutes in sorted(network["bound_minutes"].items()):
        facts.append((network["bound_text"].get(code, code).rstrip("."), f"{minutes / 60 / days:.1f} h a day"))
    if load:
        filled_pct = 100 * load["intervals_filled"] / max(load["intervals"], 1)
        facts.append((
            "House load",
            f"{load['intervals']} intervals of {load['resolution_s']:g} s, {filled_pct:.0f} % without a reading (carried forward)",
        ))
    return facts
