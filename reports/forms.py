"""The dashboard's filters (R-REPORT-1): scheme, network, country and a date range, all optional, all by GET."""

from django import forms
from django_countries import countries

from mentoring.models import LocalNetwork, Scheme


class ReportFilterForm(forms.Form):
    scheme = forms.CharField(required=False, max_length=60, help_text="A scheme's slug or number.")
    network = forms.CharField(required=False, max_length=20, label="Local Network", widget=forms.Select)
    country = forms.CharField(required=False, max_length=2, help_text="A two-letter country code, such as GB.")
    date_from = forms.DateField(required=False, label="From", help_text="A date such as 2026-01-31.")
    date_to = forms.DateField(required=False, label="To", help_text="A date such as 2026-12-31.")

    def __init__(self, *args, networks=(), **kwargs):
        """`networks`: the Local Networks the viewer may filter by, offered in the list (any id is still
        checked, so an unknown one is a clear error and another coordinator's a 404 in the view)."""
        super().__init__(*args, **kwargs)
        self.fields["network"].widget.choices = [("", "All"), *((str(n.pk), n.name) for n in networks)]

    def clean_scheme(self):
        value = self.cleaned_data["scheme"].strip()
        if not value:
            return None
        lookup = {"pk": int(value)} if value.isdigit() else {"slug": value}
        scheme = Scheme.objects.filter(**lookup).first()
        if scheme is None:
            raise forms.ValidationError("There is no scheme with that name or number.")
        return scheme

    def clean_network(self):
        value = self.cleaned_data["network"].strip()
        if not value:
            return None
        network = LocalNetwork.objects.filter(pk=int(value)).first() if value.isdigit() else None
        if network is None:
            raise forms.ValidationError("There is no Local Network with that number.")
        return network

    def clean_country(self):
        value = self.cleaned_data["country"].strip().upper()
        if not value:
            return ""
        if value not in countries:
            raise forms.ValidationError("That is not a known two-letter country code.")
        return value

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if start and end and end < start:
            self.add_error("date_to", "The date range ends before it starts.")
        return cleaned
