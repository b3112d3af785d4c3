from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from mentoring import services
from mentoring.admin_scoping import COORDINATORS, SAFEGUARDING_LEAD, STAFF, RoleScopedAdmin
from mentoring.models import (
    LocalNetwork,
    Pairing,
    Scheme,
    SchemeMembership,
    TermsAcceptance,
    TermsVersion,
    WaitingMentee,
)


class CohortForm(forms.Form):
    network = forms.ModelChoiceField(
        queryset=LocalNetwork.objects.none(), required=False, empty_label="Every Local Network", label="Local Network"
    )


@admin.register(Scheme)
class SchemeAdmin(RoleScopedAdmin):
    view_roles = (COORDINATORS, SAFEGUARDING_LEAD)
    change_roles = (STAFF,)
    list_display = ("name", "kind", "dbs_required", "shares_contact_details", "careers_advice_in_scope", "is_open")
    prepopulated_fields = {"slug": ("name",)}
    actions = ["cohort_match"]

    def get_urls(self):
        from django.urls import path

        return [
            path("<int:pk>/cohort/", self.admin_site.admin_view(self.cohort_view), name="mentoring_scheme_cohort"),
            *super().get_urls(),
        ]

    @admin.action(description="Run cohort matching (preview first)")
    def cohort_match(self, request, queryset):
        from django.shortcuts import redirect

        return redirect("admin:mentoring_scheme_cohort", pk=queryset.first().pk)

    def cohort_view(self, request, pk: int):
        """Preview the cohort's pairs with scores and reasons; confirm to start them (R-MATCH-3)."""
        from django.core.exceptions import PermissionDenied
        from django.shortcuts import get_object_or_404, redirect
        from django.template.response import TemplateResponse

        from matching import services as matching_services

        if not self._holds(request, (COORDINATORS, STAFF)):
            raise PermissionDenied
        scheme = get_object_or_404(Scheme, pk=pk)
        networks = LocalNetwork.objects.all()
        if self.coordinator_only(request):
            networks = networks.filter(coordinators=request.user)
        form = CohortForm(request.GET or None)
        form.fields["network"].queryset = networks
        form.fields["network"].required = self.coordinator_only(request)
        if request.method == "POST":
            try:
                started, skipped = matching_services.cohort_confirm(
                    token=request.POST.get("token", ""), created_by=request.user
                )
            except ValidationError as error:
                self.message_user(request, " ".join(error.messages), messages.ERROR)
            else:
                self.message_user(request, f"Started {len(started)} pairings.", messages.SUCCESS)
                for reason in skipped:
                    self.message_user(request, f"Skipped {reason}", messages.WARNING)
                return redirect("admin:mentoring_pairing_changelist")
        preview = None
        if form.is_bound and form.is_valid():
            preview = matching_services.cohort_preview(scheme=scheme, network=form.cleaned_data["network"])
        context = {
            **self.admin_site.each_context(request),
            "title": f"Cohort matching: {scheme}",
            "scheme": scheme,
            "form": form,
            "preview": preview,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/mentoring/scheme/cohort.html", context)


@admin.register(LocalNetwork)
class LocalNetworkAdmin(RoleScopedAdmin):
    view_roles = (COORDINATORS,)
    change_roles = (STAFF,)
    list_display = ("name", "region")
    prepopulated_fields = {"slug": ("name",)}
    filter_horizontal = ("coordinators",)

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        return qs.filter(coordinators=request.user) if self.coordinator_only(request) else qs


@admin.register(SchemeMembership)
class SchemeMembershipAdmin(RoleScopedAdmin):
    view_roles = (SAFEGUARDING_LEAD,)
    change_roles = (COORDINATORS, STAFF)
    network_path = "network"
    list_display = ("user", "scheme", "role", "network", "status", "joined_at")
    list_filter = ("scheme", "role", "status", "network")
    search_fields = ("user__email", "user__first_name", "user__last_name")
    list_select_related = ("user", "scheme", "network")
    readonly_fields = ("user", "scheme", "role", "joined_at", "status_changed_at")
    fields = ("user", "scheme", "role", "network", "status", "joined_at", "status_changed_at")

    def has_add_permission(self, request):
        return False

    def save_model(self, request, obj, form, change):
        services.membership_status_set(membership=obj, status=obj.status, changed_by=request.user)


@admin.register(TermsVersion)
class TermsVersionAdmin(RoleScopedAdmin):
    view_roles = (COORDINATORS, SAFEGUARDING_LEAD)
    change_roles = (STAFF,)
    list_display = ("kind", "version", "title", "published_at")
    list_filter = ("kind",)
    readonly_fields = ("published_at", "created_at")
    actions = ["publish"]

    def get_readonly_fields(self, request, obj=None):
        # A published version is never edited: publish a new one instead.
        if obj is not None and obj.is_published:
            return ("kind", "version", "title", "summary_of_changes", "body", "published_at", "created_at")
        return self.readonly_fields

    @admin.action(description="Publish the selected versions and tell every member")
    def publish(self, request, queryset):
        for version in queryset:
            try:
                told = services.terms_publish(version=version)
            except ValidationError as error:
                self.message_user(request, "; ".join(error.messages), messages.ERROR)
            else:
                self.message_user(request, f"Published {version}; {told} members were told.", messages.SUCCESS)


@admin.register(TermsAcceptance)
class TermsAcceptanceAdmin(RoleScopedAdmin):
    view_roles = (STAFF, COORDINATORS)
    network_path = "user__memberships__network"
    list_display = ("user", "version", "accepted_at")
    list_filter = ("version",)
    list_select_related = ("user", "version")
    search_fields = ("user__email",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class ManualPairingForm(forms.ModelForm):
    """A coordinator pairs two members by hand, under the same rules as a request (R-MATCH-3)."""

    no_unmanageable_conflict = forms.BooleanField(
        label="Both have declared any conflict of interest, and none is unmanageable (R-MATCH-5)",
        error_messages={"required": "Check the conflict-of-interest declarations before you pair them."},
    )

    class Meta:
        model = Pairing
        fields = ("scheme", "mentee", "mentor")

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        try:
            with transaction.atomic():
                self.pairing = services.pairing_start(
                    mentor=cleaned["mentor"],
                    mentee=cleaned["mentee"],
                    scheme=cleaned["scheme"],
                    origin=Pairing.Origin.MANUAL,
                    created_by=self.request_user,
                )
        except ValidationError as refused:
            raise forms.ValidationError(refused.messages) from refused
        return cleaned


@admin.register(Pairing)
class PairingAdmin(RoleScopedAdmin):
    view_roles = (SAFEGUARDING_LEAD,)
    change_roles = (COORDINATORS, STAFF)
    network_path = "network"
    list_display = ("mentor", "mentee", "scheme", "network", "status", "origin", "started_at", "end_reason")
    list_filter = ("status", "origin", "scheme", "network", "end_reason")
    list_select_related = ("mentor", "mentee", "scheme", "network")
    search_fields = ("mentor__email", "mentee__email", "mentor__last_name", "mentee__last_name")
    readonly_fields = (
        "scheme",
        "mentor",
        "mentee",
        "network",
        "status",
        "origin",
        "created_by",
        "started_at",
        "ended_at",
        "end_reason",
    )

    def get_form(self, request, obj=None, **kwargs):
        if obj is None:
            # modelform_factory builds a fresh class per request (so request_user is not shared
            # between requests) and applies the coordinator's network scoping to the choices.
            form = super().get_form(request, obj, form=ManualPairingForm, fields=["scheme", "mentee", "mentor"])
            form.request_user = request.user
            return form
        return super().get_form(request, obj, **kwargs)

    def get_readonly_fields(self, request, obj=None):
        return () if obj is None else self.readonly_fields

    def get_fields(self, request, obj=None):
        return ("scheme", "mentee", "mentor", "no_unmanageable_conflict") if obj is None else self.readonly_fields

    def save_form(self, request, form, change):
        if change:
            return super().save_form(request, form, change)
        form.save_m2m = lambda: None  # nothing more to save: pairing_start did it all
        return form.pairing

    def save_model(self, request, obj, form, change):
        pass  # started by pairing_start in the form; ended through its own service


@admin.register(WaitingMentee)
class WaitingMenteeAdmin(RoleScopedAdmin):
    """Everyone waiting for a mentor, longest first; no one is silently dropped (R-MATCH-4)."""

    view_roles = (COORDINATORS, STAFF)
    network_path = "network"
    list_display = ("user", "scheme", "network", "joined_at", "days_waiting")
    list_filter = ("scheme", "network")

    def get_queryset(self, request):
        from matching.selectors import unmatched_mentees

        qs = unmatched_mentees(model=WaitingMentee)
        if self.coordinator_only(request):
            qs = qs.filter(network__coordinators=request.user)
        return qs

    @admin.display(description="days waiting")
    def days_waiting(self, obj):
        return (timezone.now() - obj.joined_at).days
