"""Admin forms that validate across a network and its inline chargers."""

from django import forms
from django.core.exceptions import ValidationError

from fleet.models.networks import charger_minimums
from fleet.services.network_limits import network_fallback_error
from fleet.validators import meter_model_keys


class MeterForm(forms.ModelForm):
    """Offers the catalog's meter models as a choice list without freezing them into migrations."""

    model = forms.ChoiceField(choices=())

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["model"].choices = [(key, key) for key in meter_model_keys()]


class ChargerInlineFormSet(forms.BaseInlineFormSet):
    """Checks the network's fallback power against the chargers as they will be after saving."""

    def clean(self) -> None:
        super().clean()
        if any(self.errors):
            return
        network = self.instance
        remaining = [
            _PendingCharger(form.cleaned_data["name"], form.cleaned_data["min_current_a"], form.cleaned_data["phases"])
            for form in self.forms
            if form.cleaned_data and not form.cleaned_data.get("DELETE")
        ]
        error = network_fallback_error(network.fallback_power_w, network.nominal_voltage_v, charger_minimums(remaining))
        if error:
            raise ValidationError(error)


class _PendingCharger:
    """A charger row from the form, not yet saved."""

    def __init__(self, name: str, min_current_a: int, phases: int):
        self.name, self.min_current_a, self.phases = name, min_current_a, phases
