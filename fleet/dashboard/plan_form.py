"""The site page's "Plan" form: an installer's question in the words of a quote, turned into the API's request.

The form only gathers and converts (kW sizes to current and phases, kWh to
Wh, dates to a window); validation is the API's `CapacityPlanRequestSerializer`,
so the page and the API refuse the same things with the same messages.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from django import forms

CHARGER_SIZES = {
    # key: (label, max_current_a, phases)
    "11kw": ("11 kW (16 A, 3 phases)", 16, 3),
    "22kw": ("22 kW (32 A, 3 phases)", 32, 3),
    "7kw": ("7.4 kW (32 A, 1 phase)", 32, 1),
    "3kw": ("3.7 kW (16 A, 1 phase)", 16, 1),
}


class PlanForm(forms.Form):
    """Chargers to add, another fuse or cap, the window of history and how vehicles come and go."""

    network = forms.TypedChoiceField(coerce=int, label="Charging network")
    add_count = forms.IntegerField(min_value=0, max_value=100, initial=4, label="Chargers to add")
    charger_size = forms.ChoiceField(choices=[(k, v[0]) for k, v in CHARGER_SIZES.items()], initial="11kw", label="Each")
    max_current_per_phase_a = forms.IntegerField(
        min_value=1, max_value=4000, required=False, label="Fuse (A per phase)", help_text="Empty: as installed."
    )
    max_power_kw = forms.FloatField(min_value=0.1, required=False, label="Power cap (kW)", help_text="Empty: as installed.")
    date_from = forms.DateField(label="History from", widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(label="to (inclusive)", widget=forms.DateInput(attrs={"type": "date"}))
    sessions = forms.ChoiceField(
        choices=[
            ("profile", "drawn from the windows below, for every charger"),
            ("recorded", "as recorded for the installed chargers; drawn from the windows below for added ones"),
        ],
        initial="profile", label="Charging sessions",
    )
    arrival_from = forms.TimeField(initial=time(17, 0), label="Vehicles arrive between", widget=forms.TimeInput(attrs={"type": "time"}))
    arrival_to = forms.TimeField(initial=time(20, 0), label="and", widget=forms.TimeInput(attrs={"type": "time"}))
    departure_from = forms.TimeField(initial=time(6, 30), label="leave between", widget=forms.TimeInput(attrs={"type": "time"}))
    departure_to = forms.TimeField(initial=time(8, 0), label="and", widget=forms.TimeInput(attrs={"type": "time"}))
    energy_low_kwh = forms.FloatField(min_value=0, initial=8, label="Energy per session from (kWh)")
    energy_high_kwh = forms.FloatField(min_value=0, initial=30, label="to (kWh)")
    probability_pct = forms.IntegerField(min_value=0, max_value=100, initial=90, label="Chance of a session per charger and day (%)")
    seed = forms.IntegerField(initial=14, label="Seed", help_text="The same seed draws the same sessions.")

    def __init__(self, *args, networks=(), today=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["network"].choices = [(n.pk, n.name) for n in networks]
        if today is not None:
            self.fields["date_to"].initial = today - timedelta(days=1)
            self.fields["date_from"].initial = today - timedelta(days=30)

    INSTALLATION_FIELDS = ("network", "add_count", "charger_size", "max_current_per_phase_a", "max_power_kw")

    def installation_fields(self):
        """The fields about the installation (the page shows them as one group)."""
        return [self[name] for name in self.INSTALLATION_FIELDS]

    def history_fields(self):
        """The fields about the window of history and the vehicles."""
        return [field for field in self if field.name not in self.INSTALLATION_FIELDS]

    def to_request(self, time_zone: str) -> dict:
        """The API's request body for the cleaned data; whole local days in the site's time zone."""
        data = self.cleaned_data
        zone = ZoneInfo(time_zone or "UTC")
        changes: dict = {}
        if data["add_count"]:
            _, max_current_a, phases = CHARGER_SIZES[data["charger_size"]]
            changes["add_chargers"] = [{"count": data["add_count"], "max_current_a": max_current_a, "phases": phases}]
        if data.get("max_current_per_phase_a"):
            changes["max_current_per_phase_a"] = data["max_current_per_phase_a"]
        if data.get("max_power_kw"):
            changes["max_power_w"] = round(data["max_power_kw"] * 1000)
        return {
            "network": data["network"],
            "from": datetime.combine(data["date_from"], time(0), zone).isoformat(),
            "to": datetime.combine(data["date_to"] + timedelta(days=1), time(0), zone).isoformat(),
            "changes": changes,
            "sessions": data["sessions"],
            "profile": {
                "seed": data["seed"],
                "arrival_window": [data["arrival_from"].strftime("%H:%M"), data["arrival_to"].strftime("%H:%M")],
                "departure_window": [data["departure_from"].strftime("%H:%M"), data["departure_to"].strftime("%H:%M")],
                "energy_wh": [data["energy_low_kwh"] * 1000, data["energy_high_kwh"] * 1000],
                "probability": data["probability_pct"] / 100,
            },
        }
